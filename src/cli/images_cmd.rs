//! `perfgate images build|list`: local images for the docker backend where nothing can be
//! pulled; `perfgate compose`: the compose files that run those images by hand.

use super::args::{ComposeArgs, ImagesCommand};
use crate::error::Exit;
use crate::stack::images::{self as docker, ImageRecipe};
use crate::tools;

pub fn run(command: ImagesCommand) -> Exit {
    if let Err(e) = docker::daemon_available() {
        eprintln!("error: {e}");
        return Exit::StackFailed;
    }
    match command {
        ImagesCommand::Build => build(),
        ImagesCommand::List => match docker::built_images() {
            Ok(images) => {
                images.iter().for_each(|i| println!("{i}"));
                Exit::Success
            }
            Err(e) => {
                eprintln!("error: {e}");
                Exit::StackFailed
            }
        },
    }
}

fn build() -> Exit {
    let mut recipes: Vec<Result<ImageRecipe, String>> = vec![
        docker::perfgate_recipe(None).map_err(|e| format!("perfgate: {e}")),
        // The origin's image: perfgate with FFmpeg beside it.
        tools::resolve(&tools::FFMPEG, None)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                docker::perfgate_with_tool_recipe(None, &t)
                    .map_err(|e| format!("perfgate-ffmpeg: {e}"))
            }),
    ];
    for spec in docker::IMAGE_TOOLS {
        recipes.push(
            tools::resolve(spec, None)
                .map(|t| docker::tool_recipe(&t))
                .map_err(|e| e.to_string()),
        );
    }
    let mut exit = Exit::Success;
    for recipe in recipes {
        let outcome = recipe.and_then(|r| {
            docker::ensure_image(&r)
                .and_then(|(image, built)| docker::tag_latest(&r, &image).map(|_| (image, built)))
                .map(|(image, built)| (r.name, r.override_var(), image, built))
                .map_err(|e| format!("{}: {e}", r.name))
        });
        match outcome {
            Ok((name, var, image, built)) => {
                let how = if built { "built" } else { "present" };
                println!("{name:<15} {image} ({how}; override with {var})");
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit = Exit::StackFailed;
            }
        }
    }
    exit
}

pub fn compose(args: ComposeArgs) -> Exit {
    let mut exit = Exit::Success;
    for path in &args.specs {
        let spec = match crate::spec::load(path) {
            Ok(spec) => spec,
            Err(e) => {
                eprintln!("{e}");
                return Exit::InvalidSpec;
            }
        };
        match crate::stack::write_compose(&spec, &args.out) {
            Ok(file) => println!("{}", file.display()),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                exit = Exit::StackFailed;
            }
        }
    }
    exit
}

//! Docker without a registry, below both backends: talking to the daemon through the `docker`
//! CLI (`engine`), local `HOST:PORT` addresses in generated text (`addresses`), building local
//! images from binaries perfgate already has (`build`, `recipes`), and images standing in for
//! tools this machine lacks (`tool_images`); for the docker backend, `auto`'s choice and
//! `perfgate images build`.

mod addresses;
mod build;
mod engine;
mod recipes;
mod tool_images;

pub use addresses::rewrite_local_addresses;
pub use build::{ImageRecipe, built_images, ensure_image, latest_tag, override_var, tag_latest};
pub use engine::{daemon_available, docker};
pub use recipes::{IMAGE_TOOLS, perfgate_recipe, perfgate_with_tool_recipe, tool_recipe};
pub use tool_images::find_tool_image;

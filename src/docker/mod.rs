//! Docker without a registry: talking to the daemon through the `docker` CLI (`engine`), and
//! building local images from binaries perfgate already has (`images`), for the docker backend
//! and `perfgate images build`.

mod engine;
pub mod images;
mod recipes;

pub use engine::{DockerError, daemon_available, docker};
pub use images::{ImageRecipe, built_images, ensure_image};
pub use recipes::{BINARY_IN_IMAGE, IMAGE_TOOLS, perfgate_recipe, tool_recipe};

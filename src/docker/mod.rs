//! Docker without a registry: talking to the daemon through the `docker` CLI (`engine`), and
//! building local images from binaries perfgate already has (`images`), for the docker backend
//! and `perfgate images build`.

mod addresses;
pub mod compose;
mod engine;
pub mod images;
mod recipes;
mod tool_images;

pub use addresses::rewrite_local_addresses;
pub use engine::{DockerError, daemon_available, docker};
pub use images::{ImageRecipe, built_images, ensure_image, tag_latest};
pub use recipes::{
    BINARY_IN_IMAGE, IMAGE_TOOLS, perfgate_recipe, perfgate_with_tool_recipe, tool_recipe,
};
pub use tool_images::find_tool_image;

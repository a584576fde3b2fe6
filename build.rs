//! Records the optimisation level perfgate itself is compiled at (`PERFGATE_OPT_LEVEL`), so a
//! run can refuse to blame a service for the latency of an unoptimised load engine
//! (`load::http::build`). Cargo gives a build script the level of the package being built,
//! profile overrides such as `[profile.dev.package."*"] opt-level = 3` included.

fn main() {
    let level = std::env::var("OPT_LEVEL").unwrap_or_default();
    println!("cargo:rustc-env=PERFGATE_OPT_LEVEL={level}");
    println!("cargo:rerun-if-changed=build.rs");
}

//! Quickstart end-to-end benchmark (`cargo bench --bench quickstart`); logic in
//! `perfgate::bench::quickstart`. Updates the "quickstart" section of docs/performance.md.

fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    perfgate::bench::quickstart::main(
        std::path::Path::new(env!("CARGO_BIN_EXE_perfgate")),
        root,
        &root.join("docs/performance.md"),
    )
}

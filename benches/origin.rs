//! HLS origin benchmark (`cargo bench --bench origin`); logic in `perfgate::bench::origin`.
//! Updates the "origin" section of docs/performance.md.

fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    perfgate::bench::origin::main(
        std::path::Path::new(env!("CARGO_BIN_EXE_perfgate")),
        &root.join("docs/performance.md"),
    )
}

//! OpenTelemetry pipeline benchmark entry point (`cargo bench --bench otel_pipeline`); logic in
//! `perfgate::bench::otel`. Updates the "OpenTelemetry pipeline" section of docs/performance.md.

fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    perfgate::bench::otel::main(
        std::path::Path::new(env!("CARGO_BIN_EXE_perfgate")),
        root,
        &root.join("docs/performance.md"),
    )
}

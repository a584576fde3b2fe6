//! HTTP engine benchmark entry point (`cargo bench --bench http_engine`); logic in
//! `perfgate::bench::http`. Updates the "HTTP engine" section of docs/performance.md.

fn main() -> anyhow::Result<()> {
    let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/performance.md");
    perfgate::bench::http::main(&doc)
}

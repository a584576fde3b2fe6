//! Replication benchmark (`cargo bench --bench replicate`); logic in
//! `perfgate::bench::replicate`. Updates the "replicate" section of docs/performance.md.

fn main() -> anyhow::Result<()> {
    let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/performance.md");
    perfgate::bench::replicate::main(&doc)
}

//! Verdict fidelity benchmark (`cargo bench --bench fidelity`); logic in
//! `perfgate::bench::fidelity`. Writes docs/fidelity.md. Long: 20 trials per design and case
//! take over an hour; `PERFGATE_FIDELITY_TRIALS=3` gives a quick look.

fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    perfgate::bench::fidelity::main(
        std::path::Path::new(env!("CARGO_BIN_EXE_perfgate")),
        &root.join("docs/fidelity.md"),
    )
}

//! Swarm benchmark entry point (`cargo bench --bench swarm`); logic in `perfgate::bench::swarm`.
//! Updates the "swarm" section of docs/performance.md. The bench binary re-executes itself as
//! the live HLS origin: the test source of tests/it/support/hls.rs at 640x360 in 2 s segments.

#[allow(dead_code, reason = "the benchmark uses only the live source")]
#[path = "../tests/it/support/hls.rs"]
mod hls;

use std::io::Write;

fn main() -> anyhow::Result<()> {
    if std::env::var_os(perfgate::bench::swarm::ORIGIN_ENV).is_some() {
        return serve_origin();
    }
    let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/performance.md");
    perfgate::bench::swarm::main(&doc, std::process::Command::new(std::env::current_exe()?))
}

/// Serves the live origin until its stdin closes (the benchmark ended or died); prints its URL
/// once it lists segments. Returning drops the source, which kills its encoder.
fn serve_origin() -> anyhow::Result<()> {
    let ffmpeg = hls::ffmpeg().map_err(|why| anyhow::anyhow!("no FFmpeg: {why}"))?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let source = hls::HlsSource::live_with(&ffmpeg, "640x360", 2).await?;
        let mut out = std::io::stdout();
        writeln!(out, "{}", source.url())?;
        out.flush()?;
        let stdin_closed = tokio::task::spawn_blocking(|| {
            std::io::copy(&mut std::io::stdin(), &mut std::io::sink())
        });
        let _ = stdin_closed.await;
        drop(source);
        Ok(())
    })
}

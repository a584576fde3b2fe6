//! A stack for one test: started in a fresh folder under a heavy slot, torn down whatever the
//! test returned.

use std::path::Path;
use std::time::{Duration, Instant};

use perfgate::prom::PromClient;
use perfgate::spec;
use perfgate::stack::{self, RunningStack, StackOptions};

use super::slots;

/// Starts `spec`'s stack in a fresh folder (Prometheus would reload an earlier run's TSDB),
/// runs `test` against it and stops it whatever `test` returned.
pub fn with_stack(spec: &str, test: impl AsyncFnOnce(&RunningStack) -> Result<(), String>) {
    let _turn = slots::heavy();
    let spec = spec::parse(spec, Path::new("replicate-test.yaml")).expect("spec");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::Builder::new()
            .prefix("replicate-test-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("run dir");
        let options = StackOptions {
            run_dir: dir.path().to_path_buf(),
            host_executable: Some(env!("CARGO_BIN_EXE_perfgate").into()),
            ..StackOptions::default()
        };
        let stack = stack::start(&spec, &options).await.expect("stack up");
        let result = test(&stack).await;
        stack.shutdown().await.expect("teardown");
        result.unwrap_or_else(|e| panic!("{e}"));
    });
}

/// `http://` and the address of `service`'s HTTP port.
pub fn base_url(stack: &RunningStack, service: &str) -> String {
    format!(
        "http://{}",
        stack.http_endpoint(service).expect("service endpoint")
    )
}

/// Polls `query` on `client` until it returns `want` series, under a deadline.
pub async fn wait_series(client: &PromClient, query: &str, want: usize) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = client.query(query, None).await.map(|v| v.series.len());
        if got.as_ref().is_ok_and(|n| *n == want) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("`{query}`: wanted {want} series, got {got:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

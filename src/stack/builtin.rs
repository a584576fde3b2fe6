//! Built-in services (the demo API, the OTLP adapter, the HLS origin) run as real child processes of perfgate's own executable:
//! the process backend re-executes the current binary with `PERFGATE_BUILTIN` set, and every
//! entry point (the CLI, the test harness) calls `dispatch_from_env` first. That works the same
//! for the `perfgate` binary, the `specs` harness and a user crate's own harness.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::demo_api::{DemoApiConfig, OtlpExport};
use crate::origin::OriginConfig;
use crate::otlp::AdapterConfig;

const BUILTIN: &str = "PERFGATE_BUILTIN";
const DEMO_API_ARGS: &str = "PERFGATE_DEMO_API";
/// `ENDPOINT INTERVAL_MS SERVICE_NAME INSTANCE` when the demo API exports over OTLP.
const DEMO_API_OTLP: &str = "PERFGATE_DEMO_API_OTLP";
const ADAPTER_ARGS: &str = "PERFGATE_OTLP_ADAPTER";
/// The built-in that only holds a network namespace open (the docker backend's pod).
pub const POD: &str = "pod";

/// The environment that makes perfgate's own image run built-in `which`.
pub(crate) fn builtin_env(which: &str) -> (&'static str, String) {
    (BUILTIN, which.to_owned())
}
/// The origin's `OriginConfig` as JSON.
const ORIGIN_ARGS: &str = "PERFGATE_ORIGIN";

/// The executable that hosts built-in services: `$PERFGATE_BIN`, else the running binary.
pub fn host_executable() -> std::io::Result<PathBuf> {
    match std::env::var_os("PERFGATE_BIN").filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => std::env::current_exe(),
    }
}

/// A built-in service's environment: perfgate told to be `which`, with its config.
fn builtin(
    which: &'static str,
    config: impl IntoIterator<Item = (&'static str, String)>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([(BUILTIN.to_owned(), which.to_owned())]);
    env.extend(config.into_iter().map(|(k, v)| (k.to_owned(), v)));
    env
}

/// Variables a built-in reads only when they are set: not inherited from perfgate's own
/// environment (the process backend clears those the plan does not set).
pub(crate) const OPTIONAL_VARS: &[&str] = &[DEMO_API_OTLP];

/// The environment of the demo API with `config`: `LISTEN SEED LATENCY ERROR [CPU]`, the CPU
/// factor only when it is not 1 (so compose files of specs without it stay as they were).
pub(crate) fn demo_api(config: &DemoApiConfig) -> BTreeMap<String, String> {
    let mut args = format!(
        "{} {} {} {}",
        config.listen, config.seed, config.latency_factor, config.error_factor
    );
    if config.cpu_factor != 1.0 {
        args.push_str(&format!(" {}", config.cpu_factor));
    }
    let otlp = config.otlp.as_ref().map(|otlp| {
        let value = format!(
            "{} {} {} {}",
            otlp.endpoint,
            otlp.interval.as_millis(),
            otlp.service_name,
            otlp.instance
        );
        (DEMO_API_OTLP, value)
    });
    builtin("demo-api", [(DEMO_API_ARGS, args)].into_iter().chain(otlp))
}

/// The environment of the OTLP → Prometheus adapter with `config`.
pub(crate) fn adapter(config: &AdapterConfig) -> BTreeMap<String, String> {
    let mut args = config.listen.to_string();
    if let Some(url) = &config.remote_write {
        args.push(' ');
        args.push_str(url);
    }
    builtin("otlp-to-prometheus", [(ADAPTER_ARGS, args)])
}

/// The environment of the HLS origin (which starts FFmpeg itself) with `config`.
pub(crate) fn origin(config: &OriginConfig) -> BTreeMap<String, String> {
    builtin("ffmpeg-origin", [(ORIGIN_ARGS, config.to_json())])
}

/// If this process was started as a built-in service (or as a run's keeper: see
/// `reaper::keep_from_env`), runs it and returns its exit code.
pub fn dispatch_from_env() -> Option<ExitCode> {
    if let Some(code) = crate::reaper::keep_from_env() {
        return Some(code);
    }
    let which = std::env::var_os(BUILTIN)?;
    Some(run_builtin(&which))
}

fn run_builtin(which: &OsString) -> ExitCode {
    let result = match which.to_str() {
        Some("demo-api") => parse_demo_api().and_then(crate::demo_api::run),
        Some("otlp-to-prometheus") => parse_adapter().and_then(crate::otlp::run),
        Some(POD) => hold_network_namespace(),
        Some("ffmpeg-origin") => parse_origin().and_then(crate::origin::run),
        _ => Err(anyhow::anyhow!("unknown built-in service {which:?}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("perfgate built-in service failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Does nothing until SIGTERM or Ctrl-C: the docker backend's pod container, whose network
/// namespace (loopback, published ports) every service container of a run shares.
fn hold_network_namespace() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(crate::serve::serve_until_signalled(
        |stop| async move {
            stop.await;
            Ok(())
        },
        Duration::ZERO,
    ))?;
    Ok(())
}

fn parse_origin() -> anyhow::Result<OriginConfig> {
    let raw = std::env::var(ORIGIN_ARGS)?;
    Ok(OriginConfig::from_json(&raw)?)
}

/// `LISTEN [REMOTE_WRITE_URL]`.
fn parse_adapter() -> anyhow::Result<AdapterConfig> {
    let raw = std::env::var(ADAPTER_ARGS)?;
    let mut words = raw.split_whitespace();
    let listen = words
        .next()
        .ok_or_else(|| anyhow::anyhow!("{ADAPTER_ARGS} lacks the listen address"))?
        .parse()?;
    Ok(AdapterConfig {
        listen,
        remote_write: words.next().map(str::to_owned),
    })
}

fn parse_demo_api() -> anyhow::Result<DemoApiConfig> {
    let raw = std::env::var(DEMO_API_ARGS)?;
    demo_api_config(&raw, std::env::var(DEMO_API_OTLP).ok().as_deref())
}

/// The demo API's config from its two variables (see [`demo_api`]).
fn demo_api_config(raw: &str, otlp: Option<&str>) -> anyhow::Result<DemoApiConfig> {
    let mut words = raw.split_whitespace();
    let mut next = |what: &str| {
        words
            .next()
            .ok_or_else(|| anyhow::anyhow!("{DEMO_API_ARGS} lacks {what}"))
    };
    let listen = next("listen address")?.parse()?;
    let seed = next("seed")?.parse()?;
    let latency_factor = next("latency factor")?.parse()?;
    let error_factor = next("error factor")?.parse()?;
    let cpu_factor = match words.next() {
        Some(word) => crate::spec::check_cpu_factor(word.parse()?).map_err(anyhow::Error::msg)?,
        None => 1.0,
    };
    Ok(DemoApiConfig {
        listen,
        seed,
        latency_factor,
        error_factor,
        cpu_factor,
        otlp: otlp.map(parse_otlp).transpose()?,
    })
}

fn parse_otlp(raw: &str) -> anyhow::Result<OtlpExport> {
    let mut words = raw.split_whitespace();
    let mut next = |what: &str| {
        words
            .next()
            .ok_or_else(|| anyhow::anyhow!("{DEMO_API_OTLP} lacks {what}"))
    };
    Ok(OtlpExport {
        endpoint: next("endpoint")?.to_owned(),
        interval: Duration::from_millis(next("interval")?.parse()?),
        service_name: next("service name")?.to_owned(),
        instance: next("instance")?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(config: &DemoApiConfig) -> (String, DemoApiConfig) {
        let env = demo_api(config);
        let args = env.get(DEMO_API_ARGS).cloned().unwrap_or_default();
        let parsed = demo_api_config(&args, env.get(DEMO_API_OTLP).map(String::as_str))
            .expect("parses back");
        (args, parsed)
    }

    #[test]
    fn the_demo_api_config_survives_its_environment() {
        let mut config = DemoApiConfig {
            listen: "127.0.0.1:9000".parse().expect("addr"),
            seed: 42,
            latency_factor: 1.0,
            error_factor: 0.5,
            cpu_factor: 1.0,
            otlp: Some(OtlpExport {
                endpoint: "http://127.0.0.1:4318".into(),
                interval: Duration::from_millis(1500),
                service_name: "api".into(),
                instance: "127.0.0.1:9000".into(),
            }),
        };
        // A factor of 1 is left out, so compose files of specs without it do not change.
        let (args, parsed) = round_trip(&config);
        assert_eq!(args, "127.0.0.1:9000 42 1 0.5");
        assert_eq!(parsed, config);
        config.cpu_factor = 1.2;
        config.otlp = None;
        let (args, parsed) = round_trip(&config);
        assert_eq!(args, "127.0.0.1:9000 42 1 0.5 1.2");
        assert_eq!(parsed, config);
    }

    #[test]
    fn a_bad_cpu_factor_is_refused() {
        let err = demo_api_config("127.0.0.1:9000 1 1 1 0", None).expect_err("0 is refused");
        assert!(err.to_string().contains("`cpu_factor` must be"), "{err}");
    }
}

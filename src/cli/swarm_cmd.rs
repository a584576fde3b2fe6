//! `perfgate swarm`: the swarm engine without a spec — N FFmpeg clients pulling an HLS URL,
//! a live view, its `/metrics` on a port if asked, and a final summary table.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use super::args::SwarmArgs;
use super::swarm_view::SwarmView;
use crate::error::Exit;
use crate::load::swarm::{self, RestartPolicy, SwarmConfig, SwarmOutcome, SwarmProgress};
use crate::load::watching;
use crate::load::{EngineMetrics, serve_metrics};
use crate::report::swarm_table;
use crate::spec::{parse_duration, parse_duration_range, parse_rate};
use crate::tools;

pub fn run(args: SwarmArgs) -> Exit {
    let (config, runtime) = match super::config_and_runtime(config(&args)) {
        Ok(ready) => ready,
        Err(exit) => return exit,
    };
    let view = SwarmView::new(args.quiet, config.duration);
    let result = runtime.block_on(async {
        let metrics = Arc::new(EngineMetrics::new());
        let (_stop, exporter) = match args.metrics_port {
            Some(port) => {
                let listener = tokio::net::TcpListener::bind(crate::stack::loopback(port))
                    .await
                    .map_err(|e| format!("--metrics-port {port}: {e}"))?;
                if !args.quiet {
                    eprintln!("metrics: http://{}/metrics", crate::stack::loopback(port));
                }
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let server = serve_metrics(listener, Arc::clone(&metrics), async {
                    let _ = stopped.await;
                });
                (Some(stop), Some(tokio::spawn(server)))
            }
            None => (None, None),
        };
        let (tx, rx) = tokio::sync::watch::channel(SwarmProgress::default());
        let engine = swarm::run("swarm", &config, &metrics.swarm, Some(tx));
        let outcome = watching(engine, rx, |p| {
            if let Some(v) = &view {
                v.update(p);
            }
        })
        .await
        .map_err(|e| e.to_string());
        drop(exporter);
        outcome
    });
    if let Some(v) = view {
        v.finish();
    }
    match result {
        Ok(outcome) => {
            eprintln!("{}", swarm_table(&outcome, std::io::stderr().is_terminal()));
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&outcome).unwrap_or_default()
                );
            }
            exit(&outcome)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::RunFailed
        }
    }
}

/// A swarm in which a client was left failed, or none ever played, did not run as asked.
fn exit(outcome: &SwarmOutcome) -> Exit {
    if outcome.clients_failed > 0 || outcome.clients_started == 0 {
        Exit::RunFailed
    } else {
        Exit::Success
    }
}

fn config(args: &SwarmArgs) -> Result<SwarmConfig, String> {
    let duration =
        |flag: &str, text: &str| parse_duration(text).map_err(|e| format!("--{flag}: {e}"));
    let (backoff_min, backoff_max) =
        parse_duration_range(&args.backoff).map_err(|e| format!("--backoff: {e}"))?;
    let config = SwarmConfig {
        ramp: parse_rate(&args.ramp)
            .map_err(|e| format!("--ramp: {e}"))?
            .per_second(),
        duration: duration("duration", &args.duration)?,
        stall_after: duration("stall-after", &args.stall_after)?,
        restart: RestartPolicy {
            max: args.restart_max,
            backoff_min,
            backoff_max,
        },
        decode: args.decode,
        per_client_metrics: args.per_client_metrics,
        allow_external: args.allow_external,
        ..SwarmConfig::new(PathBuf::new(), args.url.clone(), args.clients)
    };
    // Flags first: a bad one should not wait for FFmpeg to be provisioned.
    config.validate().map_err(|e| e.to_string())?;
    let ffmpeg =
        tools::resolve(&tools::FFMPEG, args.ffmpeg.as_deref()).map_err(|e| e.to_string())?;
    Ok(SwarmConfig {
        ffmpeg: ffmpeg.path,
        ..config
    })
}

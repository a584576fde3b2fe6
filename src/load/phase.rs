//! The one seam between a run and its engines: a spec phase is prepared against the running
//! stack (addresses, URLs, tools) into a [`PhaseRun`], which runs, reports progress as
//! [`EngineProgress`] and returns the phase's [`PhaseOutcome`]. `run.rs` knows no engine; a new
//! phase kind is one engine folder plus one arm here.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::freshness::{self, FreshnessConfig, FreshnessError, FreshnessOutcome};
use super::http::{self, HttpConfig, HttpError, HttpPhaseOutcome, HttpProgress};
use super::progress::{EngineProgress, watching};
use super::replicate::{self, ReplicateConfig, ReplicateError, ReplicateProgress};
use super::swarm::{self, SwarmConfig, SwarmError, SwarmProgress};
use super::{EngineMetrics, PhaseOutcome};
use crate::prom::PromClient;
use crate::spec::{Endpoint, FreshnessPhase, Phase, PhaseKind, ReplicatePhase};

/// What a phase may ask of the running stack.
pub(crate) trait StackView {
    /// The HTTP address of `service`, if it has one.
    fn http_endpoint(&self, service: &str) -> Option<SocketAddr>;
    /// `text` with every `{{SERVICE}}` replaced by that service's URL.
    fn expand_urls(&self, text: &str) -> Result<String, String>;
}

/// Why a phase could not run.
#[derive(Debug, thiserror::Error)]
#[error("phase `{phase}`: {source}")]
pub(crate) struct PhaseError {
    pub phase: String,
    #[source]
    pub source: EngineError,
}

/// What broke in a phase: its setup or its engine.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EngineError {
    #[error("service `{0}` has no HTTP endpoint")]
    NoHttpEndpoint(String),
    #[error("no `prometheus` service to query")]
    NoPrometheus,
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Freshness(#[from] FreshnessError),
    #[error(transparent)]
    Replicate(#[from] ReplicateError),
    #[error(transparent)]
    Swarm(#[from] SwarmError),
}

/// What earlier phases left for later ones: every finished `http` phase (its target and
/// outcome) and when the last one ended, which a `freshness` phase waits for.
pub(crate) struct LoadHistory {
    http_done: Vec<(String, HttpPhaseOutcome)>,
    last_http_end: Instant,
}

impl LoadHistory {
    pub(crate) fn new() -> Self {
        Self {
            http_done: Vec::new(),
            last_http_end: Instant::now(),
        }
    }
}

/// A phase ready to run: its engine's configuration, resolved against the stack.
pub(crate) enum PhaseRun<'a> {
    Http {
        /// The target service, which later `freshness` phases count the responses of.
        service: &'a str,
        config: Box<HttpConfig>,
    },
    Freshness {
        phase: &'a FreshnessPhase,
        client: &'a PromClient,
    },
    Replicate {
        config: Box<ReplicateConfig>,
        hold: Duration,
    },
    Swarm {
        config: Box<SwarmConfig>,
    },
    Pause(Duration),
}

/// Creates the series of every phase that needs them before the first scrape: they are then
/// not new during the phase, and `increase()` over the phase starts from a sample at zero.
pub(crate) fn declare_series(metrics: &EngineMetrics, phases: &[Phase]) {
    for phase in phases {
        match &phase.kind {
            PhaseKind::Replicate(_) => {
                metrics.replicate.phase(&phase.name);
            }
            PhaseKind::Swarm(s) => {
                metrics
                    .swarm
                    .create(&phase.name, s.clients, s.per_client_metrics)
            }
            _ => {}
        }
    }
}

impl<'a> PhaseRun<'a> {
    /// Resolves `phase` against the running stack: addresses, URLs, the Prometheus to query,
    /// the FFmpeg to run.
    pub(crate) async fn prepare(
        phase: &'a Phase,
        stack: &impl StackView,
        prometheus: Option<&'a PromClient>,
    ) -> Result<Self, PhaseError> {
        let failed = |source: EngineError| PhaseError {
            phase: phase.name.clone(),
            source,
        };
        let endpoint = |service: &str| {
            stack
                .http_endpoint(service)
                .ok_or_else(|| failed(EngineError::NoHttpEndpoint(service.to_owned())))
        };
        Ok(match &phase.kind {
            PhaseKind::Http(http) => {
                let config = HttpConfig::from_phase(http, endpoint(&http.target)?);
                Self::Http {
                    service: &http.target,
                    config: Box::new(config.map_err(|e| failed(e.into()))?),
                }
            }
            PhaseKind::Freshness(f) => Self::Freshness {
                phase: f,
                client: prometheus.ok_or_else(|| failed(EngineError::NoPrometheus))?,
            },
            PhaseKind::Pause(d) => Self::Pause(*d),
            PhaseKind::Replicate(r) => Self::Replicate {
                config: Box::new(replicate_config(r, &endpoint).map_err(failed)?),
                hold: r.hold,
            },
            PhaseKind::Swarm(s) => {
                let url = stack
                    .expand_urls(&s.url)
                    .map_err(|e| failed(EngineError::Setup(e)))?;
                let ffmpeg = swarm::find_ffmpeg()
                    .await
                    .map_err(|e| failed(EngineError::Setup(e)))?;
                Self::Swarm {
                    config: Box::new(SwarmConfig::from_phase(s, url, ffmpeg)),
                }
            }
        })
    }

    /// Runs the phase named `name` to its end, handing each progress snapshot to `observe`.
    /// A pause has no outcome.
    pub(crate) async fn run(
        self,
        name: &str,
        metrics: &EngineMetrics,
        history: &mut LoadHistory,
        mut observe: impl FnMut(EngineProgress),
    ) -> Result<Option<PhaseOutcome>, PhaseError> {
        let failed = |source: EngineError| PhaseError {
            phase: name.to_owned(),
            source,
        };
        let outcome = match self {
            Self::Http { service, config } => {
                let (tx, rx) = watch::channel(HttpProgress::default());
                let engine = http::run(name, *config, metrics, Some(tx));
                let progress = |p: &HttpProgress| observe(EngineProgress::Http(p.clone()));
                let outcome = watching(engine, rx, progress)
                    .await
                    .map_err(|e| failed(e.into()))?;
                history.last_http_end = Instant::now();
                history
                    .http_done
                    .push((service.to_owned(), outcome.clone()));
                PhaseOutcome::Http(outcome)
            }
            Self::Freshness { phase, client } => {
                let outcome = run_freshness(name, phase, client, history, metrics).await;
                PhaseOutcome::Freshness(outcome.map_err(|e| failed(e.into()))?)
            }
            Self::Pause(d) => {
                tokio::time::sleep(d).await;
                return Ok(None);
            }
            Self::Replicate { config, hold } => {
                let (tx, rx) = watch::channel(ReplicateProgress::default());
                let engine = replicate::run(name, &config, &metrics.replicate, Some(tx));
                let progress =
                    |p: &ReplicateProgress| observe(EngineProgress::Replicate(p.clone()));
                let outcome = watching(engine, rx, progress)
                    .await
                    .map_err(|e| failed(e.into()))?;
                tokio::time::sleep(hold).await;
                PhaseOutcome::Replicate(outcome)
            }
            Self::Swarm { config } => {
                let (tx, rx) = watch::channel(SwarmProgress::default());
                let engine = swarm::run(name, &config, &metrics.swarm, Some(tx));
                let progress = |p: &SwarmProgress| observe(EngineProgress::Swarm(p.clone()));
                let outcome = watching(engine, rx, progress)
                    .await
                    .map_err(|e| failed(e.into()))?;
                PhaseOutcome::Swarm(outcome)
            }
        };
        Ok(Some(outcome))
    }
}

/// A replicate phase's engine configuration, its `from`/`to` services resolved to URLs.
fn replicate_config(
    phase: &ReplicatePhase,
    endpoint: &impl Fn(&str) -> Result<SocketAddr, PhaseError>,
) -> Result<ReplicateConfig, EngineError> {
    let url = |e: &Endpoint, path: &str| match e {
        Endpoint::Url(u) => Ok(u.clone()),
        Endpoint::Service(s) => endpoint(s)
            .map(|addr| format!("http://{addr}{path}"))
            .map_err(|e| e.source),
    };
    let (from, to) = (url(&phase.from, "")?, url(&phase.to, "/api/v1/write")?);
    Ok(ReplicateConfig::from_phase(phase, from, to)?)
}

async fn run_freshness(
    name: &str,
    phase: &FreshnessPhase,
    client: &PromClient,
    history: &LoadHistory,
    metrics: &EngineMetrics,
) -> Result<FreshnessOutcome, FreshnessError> {
    let done = history.http_done.iter().map(|(t, o)| (t.as_str(), o));
    let config = FreshnessConfig::from_phase(phase, done, history.last_http_end);
    freshness::run(name, &config, client, &metrics.freshness).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::spec::{HttpPhase, Method, Rate, WeightedRequest};

    /// A stack with one HTTP service, `api`.
    struct OneService(SocketAddr);

    impl StackView for OneService {
        fn http_endpoint(&self, service: &str) -> Option<SocketAddr> {
            (service == "api").then_some(self.0)
        }

        fn expand_urls(&self, text: &str) -> Result<String, String> {
            Ok(text.replace("{{api}}", &format!("http://{}", self.0)))
        }
    }

    fn http(target: &str) -> Phase {
        Phase {
            name: "steady".into(),
            kind: PhaseKind::Http(HttpPhase {
                target: target.into(),
                rate: Rate(10.0),
                ramp: None,
                duration: Duration::from_millis(100),
                max_in_flight: 4,
                timeout: Duration::from_secs(1),
                mix: vec![WeightedRequest {
                    weight: 1,
                    method: Method::Get,
                    path: "/".into(),
                    json: None,
                    headers: BTreeMap::new(),
                }],
                auth: None,
            }),
            delivery: None,
        }
    }

    #[tokio::test]
    async fn a_phase_is_resolved_against_the_stack_or_says_what_is_missing() {
        let stack = OneService("127.0.0.1:9".parse().unwrap());
        let phase = http("api");
        let prepared = PhaseRun::prepare(&phase, &stack, None).await.unwrap();
        assert!(matches!(prepared, PhaseRun::Http { service: "api", .. }));
        let phase = http("web");
        let Err(e) = PhaseRun::prepare(&phase, &stack, None).await else {
            panic!("`web` has no endpoint");
        };
        assert_eq!(
            e.to_string(),
            "phase `steady`: service `web` has no HTTP endpoint"
        );
    }

    #[tokio::test]
    async fn a_pause_runs_for_its_length_and_has_no_outcome() {
        let stack = OneService("127.0.0.1:9".parse().unwrap());
        let phase = Phase {
            name: "rest".into(),
            kind: PhaseKind::Pause(Duration::from_millis(20)),
            delivery: None,
        };
        let prepared = PhaseRun::prepare(&phase, &stack, None).await.unwrap();
        let started = Instant::now();
        let mut history = LoadHistory::new();
        let metrics = EngineMetrics::new();
        let outcome = prepared.run("rest", &metrics, &mut history, |_| {}).await;
        assert!(matches!(outcome, Ok(None)));
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
}

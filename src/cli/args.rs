//! Command-line arguments (clap derive).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::demo_api::DemoApiConfig;

#[derive(Debug, Parser)]
#[command(
    name = "perfgate",
    version,
    about = "Declarative performance gates: YAML spec → real stack → load → PromQL verdicts"
)]
pub struct Cli {
    /// More log output (-v info, -vv debug); PERFGATE_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring a spec's stack up, drive its load phases, judge its assertions, tear it down.
    Run(RunArgs),
    /// Check specs without running them (PromQL checked by a real Prometheus unless --offline).
    Validate(ValidateArgs),
    /// List the test cases (`<spec>::<assertion>`) that specs turn into.
    List(SpecArgs),
    /// Resolve (and provision if needed) the external tools perfgate uses; print what was found.
    Tools(ToolsArgs),
    /// Run the built-in demo API in the foreground.
    DemoApi(DemoApiArgs),
    /// Copy series from a Prometheus into a remote-write endpoint, multiplied over labels.
    Replicate(Box<ReplicateArgs>),
    /// Run a `compare:` spec as A/A (base against base) and report, per claim, the noise and
    /// the smallest shift it can detect; flags tolerances tighter than the noise allows.
    Calibrate(CalibrateArgs),
    /// Compare two runs (report folders or report.json files): values, changes, verdicts.
    Diff(DiffArgs),
    /// Write a docker compose file (and the generated configs) that brings a spec's stack up
    /// by hand, with the docker backend's images and layout.
    Compose(ComposeArgs),
    /// Local Docker images of perfgate and its tools, for the docker backend without a registry.
    #[command(subcommand)]
    Images(ImagesCommand),
    /// Pull an HLS stream with a supervised swarm of FFmpeg clients; live view and summary.
    Swarm(Box<SwarmArgs>),
    /// Remove what killed runs left behind (every run does this first): process groups of runs
    /// whose keeper died with them, containers and networks labelled with a gone owner of this
    /// host; says what it removed.
    Clean,
}

#[derive(Debug, Args)]
pub struct SwarmArgs {
    /// The HLS playlist URL (loopback only unless --allow-external).
    #[arg(long)]
    pub url: String,
    /// FFmpeg clients.
    #[arg(long, default_value_t = 10)]
    pub clients: u32,
    /// Client starts per second (`10/s`, `600/m`) or `max` (all at once).
    #[arg(long, default_value = "10/s")]
    pub ramp: String,
    /// From the first start to stopping every client.
    #[arg(long, default_value = "60s")]
    pub duration: String,
    /// A client whose media time has not advanced for this long is stalled and restarted.
    #[arg(long, default_value = "5s")]
    pub stall_after: String,
    /// Restarts per client before it counts as failed.
    #[arg(long, default_value_t = 3)]
    pub restart_max: u32,
    /// Back-off before the first restart .. at most (doubling per restart).
    #[arg(long, default_value = "1s..30s")]
    pub backoff: String,
    /// Decode the media (about 1.5 % of a core per 360p client) instead of copying packets.
    #[arg(long)]
    pub decode: bool,
    /// Also export `perfgate_swarm_client_*{client="N"}` series.
    #[arg(long)]
    pub per_client_metrics: bool,
    /// Serve the swarm's Prometheus metrics on 127.0.0.1:PORT/metrics while it runs.
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// Allow a URL that is not on loopback (an external origin you are allowed to load).
    #[arg(long)]
    pub allow_external: bool,
    /// The FFmpeg to run (default: `$PERFGATE_FFMPEG`, PATH, perfgate's tool cache, else
    /// provisioned into that cache).
    #[arg(long)]
    pub ffmpeg: Option<PathBuf>,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No live view.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Spec files.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Folder for `<spec>.yaml` and `<spec>/` (the project keeps its own in compose/).
    #[arg(long, default_value = "compose")]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build (or find) an image for perfgate itself and each tool it provisions.
    Build,
    /// List the images perfgate built that the Docker daemon holds.
    List,
}

#[derive(Debug, Args)]
pub struct ToolsArgs {
    /// Only these tools (`prometheus`, `ffmpeg`); default: every one.
    #[arg(value_name = "TOOL")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReplicateArgs {
    /// Base URL of the Prometheus API to read from (loopback only).
    #[arg(long)]
    pub from: String,
    /// Remote-write URL, or a Prometheus base URL (`/api/v1/write` is appended).
    #[arg(long)]
    pub to: String,
    /// Series selector; repeat for several (default: every metric).
    #[arg(long = "match", value_name = "SELECTOR")]
    pub matchers: Vec<String>,
    /// Metric-name regex (anchored) to skip; repeatable.
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,
    /// History read per series.
    #[arg(long, default_value = "5m")]
    pub lookback: String,
    /// Resolution of the history read.
    #[arg(long, default_value = "15s")]
    pub step: String,
    /// Replication label: NAME=COUNT (values 0..COUNT-1) or NAME=V1,V2; repeatable. Copies are
    /// the cartesian product.
    #[arg(long, value_name = "NAME=VALUES")]
    pub label: Vec<String>,
    /// Samples per second, or `max`.
    #[arg(long, default_value = "max")]
    pub rate: String,
    /// Samples per request.
    #[arg(long, default_value_t = 2000)]
    pub batch: usize,
    /// Parallel senders.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Keep the source timestamps instead of moving each metric's newest sample to now.
    #[arg(long)]
    pub keep_timestamps: bool,
    /// Compute and report what would be sent; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Extra header on every write, NAME=VALUE; repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub header: Vec<String>,
    /// Environment variable holding a bearer token.
    #[arg(long, value_name = "VAR")]
    pub bearer_token_env: Option<String>,
    /// Upper bound on the whole replication.
    #[arg(long, default_value = "5m")]
    pub timeout: String,
    /// End the replication once the receiver has refused every connection (refused, reset,
    /// unreachable) this long [default: 10s]; HTTP errors, 5xx included, are answers.
    #[arg(long, value_name = "DURATION")]
    pub give_up_after: Option<String>,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress line.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older run: a report folder or its report.json.
    pub old: PathBuf,
    /// The newer run.
    pub new: PathBuf,
}

#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Spec files.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Spec files, run one after another.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Only judge assertions whose `<spec>::<id>` contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Report folder root (default: $PERFGATE_OUT, else target/perfgate).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No live progress, even on a terminal.
    #[arg(long)]
    pub quiet: bool,
    /// Save this run as baseline NAME (beside the spec, in `baselines/<spec>/NAME.json`) for
    /// `within X of baseline` assertions; saved only when the run did not break.
    #[arg(long, value_name = "NAME", value_parser = crate::verdict::check_baseline_name)]
    pub save_baseline: Option<String>,
    /// Judge `within X of baseline` assertions against baseline NAME (default:
    /// $PERFGATE_BASELINE, else `main`).
    #[arg(long, value_name = "NAME", value_parser = crate::verdict::check_baseline_name)]
    pub baseline: Option<String>,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// A spec with a `compare:` section.
    pub spec: PathBuf,
    /// Pairs to run (default: the spec's `repeat:`); more pairs measure the noise better.
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=50))]
    pub repeat: Option<u32>,
    /// The time a comparison may take: the detectable shift is also given for it.
    #[arg(long, default_value = "2m", value_parser = crate::spec::parse_duration)]
    pub budget: std::time::Duration,
    /// Report folder root (default: $PERFGATE_OUT, else target/perfgate).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No live progress, even on a terminal.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    /// Skip checking the PromQL of assertions against a real Prometheus.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct DemoApiArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 1.0)]
    pub latency_factor: f64,
    #[arg(long, default_value_t = 1.0)]
    pub error_factor: f64,
    /// Multiplies the CPU work of GET /api/work (about 2 ms per unit at 1.0; > 0, ≤ 100).
    #[arg(long, default_value_t = 1.0, value_parser = parse_cpu_factor)]
    pub cpu_factor: f64,
}

fn parse_cpu_factor(raw: &str) -> Result<f64, String> {
    let factor: f64 = raw
        .parse()
        .map_err(|_| format!("`{raw}` is not a number"))?;
    crate::spec::check_cpu_factor(factor)
}

impl DemoApiArgs {
    pub fn into_config(self) -> DemoApiConfig {
        DemoApiConfig {
            listen: self.listen,
            seed: self.seed,
            latency_factor: self.latency_factor,
            error_factor: self.error_factor,
            cpu_factor: self.cpu_factor,
            otlp: None,
        }
    }
}

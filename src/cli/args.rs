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
    Tools,
    /// Run the built-in demo API in the foreground.
    DemoApi(DemoApiArgs),
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
}

impl DemoApiArgs {
    pub fn into_config(self) -> DemoApiConfig {
        DemoApiConfig {
            listen: self.listen,
            seed: self.seed,
            latency_factor: self.latency_factor,
            error_factor: self.error_factor,
            otlp: None,
        }
    }
}

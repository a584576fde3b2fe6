//! Renderings of engine outcomes, all in one place: the phase table's one-line account of every
//! phase kind, and the summaries the engines' own subcommands print.

mod line;
mod replicate;
mod swarm;

pub(crate) use line::phase_line;
pub use replicate::replicate_summary;
pub use swarm::swarm_table;

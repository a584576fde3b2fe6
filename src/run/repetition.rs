//! One repetition of a spec's phases, shared by `repeat:` runs and comparisons: the phases run,
//! the wait for a scrape after them, every assertion asked over its window in them, and their
//! records renamed after the repetition (`steady (run 2)`, `steady (candidate 3)`).

use super::error::RunError;
use super::phases::{phase_of, run_phases, span, wait_scraped_after};
use super::progress::ProgressEvent;
use crate::load::EngineMetrics;
use crate::prom::PromClient;
use crate::report::{PhaseRecord, RunRecord, Verdict};
use crate::spec::Spec;
use crate::stack::RunningStack;
use crate::verdict::ask;

/// Where a repetition runs and reports.
pub(super) struct Repetition<'a, N> {
    pub stack: &'a mut RunningStack,
    pub client: &'a PromClient,
    pub metrics: &'a EngineMetrics,
    pub notify: &'a N,
}

impl<N: Fn(ProgressEvent)> Repetition<'_, N> {
    /// Runs `spec`'s phases once into `record`; every assertion's verdict over this repetition,
    /// in the spec's order. The phases' records are then named `<phase> (<label>)`.
    pub async fn run(
        &mut self,
        spec: &Spec,
        record: &mut RunRecord,
        label: &str,
    ) -> Result<Vec<Verdict>, RunError> {
        let settle = self.stack.scrape_interval();
        let first = record.phases.len();
        run_phases(spec, self.stack, Some(self.client), self.metrics, record, self.notify).await?;
        let this = &mut record.phases[first..];
        let end = this.last().map_or(record.started_at, |p| p.window.end);
        wait_scraped_after(self.client, end, settle)
            .await
            .map_err(RunError::NotScraped)?;
        let whole = span(this, record.started_at);
        let mut verdicts = Vec::with_capacity(spec.assertions.len());
        for assertion in &spec.assertions {
            let phase = phase_of(assertion, this);
            verdicts.push(ask(self.client, assertion, phase, whole, settle).await);
        }
        for phase in this.iter_mut() {
            phase.name = PhaseRecord::repetition_name(&phase.name, label);
        }
        Ok(verdicts)
    }
}

//! A `repeat: N` run: the spec's phases run N times on one stack, every assertion asked at the
//! end of each run's window, then judged on the values of all runs together
//! (`verdict::judge_repeated`): one disturbed run can neither pass nor fail a gate on its own.

use super::error::RunError;
use super::progress::ProgressEvent;
use super::repetition::Repetition;
use crate::report::{RunRecord, Verdict};
use crate::spec::Spec;
use crate::verdict::judge_repeated;

/// The seed of the bootstrap intervals: fixed, so a record judges the same way every time.
const SEED: u64 = 0x5EED;

/// The runs of a repeated spec on a running stack, then every assertion's verdict.
pub(super) async fn drive_repeated(
    spec: &Spec,
    mut repetition: Repetition<'_, impl Fn(ProgressEvent)>,
    record: &mut RunRecord,
) -> Result<(), RunError> {
    let mut runs: Vec<Vec<Verdict>> = vec![Vec::new(); spec.assertions.len()];
    for run in 1..=spec.repeat {
        let verdicts = repetition.run(spec, record, &format!("run {run}")).await?;
        for (all, verdict) in runs.iter_mut().zip(verdicts) {
            all.push(verdict);
        }
    }
    record.verdicts.extend(
        spec.assertions
            .iter()
            .zip(runs)
            .filter_map(|(assertion, verdicts)| judge_repeated(assertion, verdicts, SEED)),
    );
    Ok(())
}

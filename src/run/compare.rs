//! A `compare:` run: on one stack holding the base and the candidate side by side, the spec's
//! phases run once per repetition against one of them, pair after pair, the order within each
//! pair drawn from the spec's seed (A B, B A, …), so drift on the machine falls on both alike.
//! Each `candidate … base` assertion is asked at the end of every repetition's window and judged
//! on the paired values; every other assertion is judged on each candidate repetition.

use std::collections::BTreeMap;
use std::fmt;

use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};

use super::error::RunError;
use super::progress::ProgressEvent;
use super::repetition::Repetition;
use crate::prom::{Sample, Series};
use crate::report::{RunRecord, Verdict, Window};
use crate::spec::{Assertion, Comparison, Expectation, PhaseKind, Spec, Versus};
use crate::verdict::{first_not_passed, judge_versus};

/// Which build a repetition loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Variant {
    Base,
    Candidate,
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Variant::Base => "base",
            Variant::Candidate => "candidate",
        })
    }
}

/// Every repetition in the order it runs: `(pair, variant)`, both variants of a pair next to
/// each other, which goes first drawn from `seed` (deterministic for a seed).
pub(super) fn schedule(repeat: u32, seed: u64) -> Vec<(u32, Variant)> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..repeat)
        .flat_map(|pair| {
            let base_first: bool = rng.random();
            let order = if base_first {
                [Variant::Base, Variant::Candidate]
            } else {
                [Variant::Candidate, Variant::Base]
            };
            order.map(|v| (pair, v))
        })
        .collect()
}

/// The spec whose load phases hit `variant`: HTTP phases aimed at the compared service are
/// aimed at its candidate copy for the candidate.
fn aimed_at(spec: &Spec, comparison: &Comparison, variant: Variant) -> Spec {
    let mut aimed = spec.clone();
    if variant == Variant::Candidate {
        for phase in &mut aimed.phases {
            if let PhaseKind::Http(http) = &mut phase.kind
                && http.target == comparison.service
            {
                http.target.clone_from(&comparison.candidate_service);
            }
        }
    }
    aimed
}

/// What the repetitions measured for one assertion.
struct Measured<'a> {
    assertion: &'a Assertion,
    claim: Option<Versus>,
    /// One value per pair and variant, with the time it was asked at.
    base: BTreeMap<u32, Sample>,
    candidate: BTreeMap<u32, Sample>,
    /// Absolute assertions: each candidate repetition's verdict.
    verdicts: Vec<Verdict>,
}

/// The repetitions of a comparison on a running stack, then every assertion's verdict.
pub(super) async fn drive_comparison(
    spec: &Spec,
    comparison: &Comparison,
    mut repetition: Repetition<'_, impl Fn(ProgressEvent)>,
    record: &mut RunRecord,
) -> Result<(), RunError> {
    let mut measured: Vec<Measured> = spec
        .assertions
        .iter()
        .map(|assertion| Measured {
            assertion,
            claim: match assertion.expect {
                Expectation::Versus(v) => Some(v),
                _ => None,
            },
            base: BTreeMap::new(),
            candidate: BTreeMap::new(),
            verdicts: Vec::new(),
        })
        .collect();
    for (pair, variant) in schedule(comparison.repeat, comparison.seed) {
        let aimed = aimed_at(spec, comparison, variant);
        let label = format!("{variant} {}", pair + 1);
        let verdicts = repetition.run(&aimed, record, &label).await?;
        for (m, verdict) in measured.iter_mut().zip(verdicts) {
            m.record(pair, variant, verdict);
        }
    }
    let seed = comparison.seed;
    record
        .verdicts
        .extend(measured.into_iter().filter_map(|m| m.verdict(seed)));
    Ok(())
}

impl Measured<'_> {
    fn record(&mut self, pair: u32, variant: Variant, verdict: Verdict) {
        if self.claim.is_none() {
            if variant == Variant::Candidate {
                self.verdicts.push(verdict);
            }
            return;
        }
        // One series, one value: anything else cannot be paired (and makes the claim
        // INCONCLUSIVE through a NaN, never a pass).
        let value = match verdict.series.as_slice() {
            [one] => one.samples.last().copied(),
            _ => None,
        }
        .unwrap_or(Sample {
            t: verdict.evaluated_at,
            v: f64::NAN,
        });
        match variant {
            Variant::Base => self.base.insert(pair, value),
            Variant::Candidate => self.candidate.insert(pair, value),
        };
    }

    /// The assertion's verdict over every repetition.
    fn verdict(self, seed: u64) -> Option<Verdict> {
        let Some(claim) = self.claim else {
            // Judged on each candidate repetition on its own.
            return first_not_passed(self.verdicts);
        };
        let values = |m: &BTreeMap<u32, Sample>| m.values().map(|s| s.v).collect::<Vec<f64>>();
        let (base, candidate) = (values(&self.base), values(&self.candidate));
        let (outcome, measured) = judge_versus(claim, &base, &candidate, seed);
        let series = |variant: Variant, m: BTreeMap<u32, Sample>| Series {
            labels: BTreeMap::from([("variant".to_owned(), variant.to_string())]),
            samples: m.into_values().collect(),
        };
        let a = self.assertion;
        let times = || self.base.values().chain(self.candidate.values()).map(|s| s.t);
        let window = Window {
            start: times().fold(f64::INFINITY, f64::min),
            end: times().fold(0.0, f64::max),
        };
        Some(Verdict {
            id: a.id.clone(),
            name: a.name.clone(),
            query: a.query.clone(),
            spec_query: a.query.clone(),
            during: a.during.clone(),
            window,
            evaluated_at: window.end,
            expectation: format!("{claim}: {measured}"),
            mode: "paired repetitions".to_owned(),
            series: vec![series(Variant::Base, self.base), series(Variant::Candidate, self.candidate)],
            outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_runs_both_variants_side_by_side_in_a_seeded_order() {
        let order = schedule(20, 7);
        assert_eq!(order.len(), 40);
        for (i, pair) in order.chunks(2).enumerate() {
            assert_eq!((pair[0].0, pair[1].0), (i as u32, i as u32));
            assert_ne!(pair[0].1, pair[1].1);
        }
        let base_first = order
            .chunks(2)
            .filter(|p| p[0].1 == Variant::Base)
            .count();
        assert!((4..=16).contains(&base_first), "{base_first} of 20");
        assert_eq!(schedule(20, 7), order, "the same seed, the same order");
        assert_ne!(schedule(20, 8), order);
    }
}

//! The noise guard: a phase measured while the machine was disturbed cannot fail a gate. On a
//! shared 2-core CI runner, latency in a window follows contention (issue 13: p99's correlation
//! with the engine's dispatch-lag p99 was 0.96, with CPU steal 0.93), so a FAIL whose window's
//! phase broke a limit below becomes INCONCLUSIVE and says why. A PASS stays a PASS: contention
//! only makes a service look slower, fewer and more failing, so what held despite it holds
//! (and a comparison's claim carries its noise in its interval). ERROR stays ERROR; INCONCLUSIVE
//! stays as it was.

use crate::report::{Outcome, PhaseNoise, PhaseRecord, RunRecord, Verdict};

/// Dispatch-lag p99 above which a phase is disturbed, in ms. Quiet windows measured on the
/// 2-core runner stay below 1.5 ms; 5 ms is over three times that, and as long as the whole
/// quiet p99 of a ~2 ms-per-request service (pinned at 4.95–5 ms): a dispatcher that late means
/// the load generator, not the service, is what the latency figures show.
pub const MAX_DISPATCH_LAG_P99_MS: f64 = 5.0;

/// Steal above which a phase is disturbed, percent of all cores. A tenth of the CPU taken by
/// other guests slows a CPU-bound service by about as much as the regressions a gate looks for
/// (+10 % to +20 %), and steal tracked p99 nearly as closely as the lag did (0.93).
pub const MAX_STEAL_PERCENT: f64 = 10.0;

/// perfgate's own CPU above which a phase is disturbed, percent of one core. The engine's
/// dispatcher and response handling share the process; near a full core its own queueing shows
/// up as latency, and on two cores it leaves the service barely one.
pub const MAX_PERFGATE_CPU_PERCENT: f64 = 90.0;

/// The limits `noise` breaks, one sentence each (empty: a quiet phase).
pub fn disturbances(noise: &PhaseNoise) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(lag) = noise.dispatch_lag_p99_ms
        && lag > MAX_DISPATCH_LAG_P99_MS
    {
        out.push(format!(
            "dispatch lag p99 {lag:.1} ms above the {MAX_DISPATCH_LAG_P99_MS} ms limit"
        ));
    }
    if noise.steal_percent > MAX_STEAL_PERCENT {
        out.push(format!(
            "CPU steal {:.1} % above the {MAX_STEAL_PERCENT} % limit",
            noise.steal_percent
        ));
    }
    if noise.perfgate_cpu_percent > MAX_PERFGATE_CPU_PERCENT {
        out.push(format!(
            "perfgate's own CPU {:.0} % of a core above the {MAX_PERFGATE_CPU_PERCENT} % limit",
            noise.perfgate_cpu_percent
        ));
    }
    out
}

/// `outcome` judged on phases of which those named in `disturbed` (phase, its broken limits)
/// were disturbed: a FAIL becomes INCONCLUSIVE, with its own reasons kept after the noise; PASS,
/// ERROR and INCONCLUSIVE, or no disturbed phase, are left as they are.
pub fn guard(outcome: Outcome, disturbed: &[(&str, &[String])]) -> Outcome {
    if disturbed.is_empty() {
        return outcome;
    }
    let measured = match outcome {
        Outcome::Fail { reasons } => reasons,
        kept => return kept,
    };
    let mut reasons: Vec<String> = disturbed
        .iter()
        .map(|(phase, limits)| {
            format!(
                "phase `{phase}`: {}; the machine was too busy to judge latency",
                limits.join(", ")
            )
        })
        .collect();
    reasons.extend(measured.into_iter().map(|r| format!("measured anyway: {r}")));
    Outcome::Inconclusive { reasons }
}

/// Whether `phase` is one `verdict` was judged on: its `during:` phase (in a comparison, that
/// phase in every repetition: `steady (base 1)`), or any phase for a whole-run assertion.
fn judged_on(verdict: &Verdict, phase: &PhaseRecord) -> bool {
    let Some(during) = &verdict.during else {
        return true;
    };
    phase.is_of(during)
}

/// Every FAIL of `record` whose window's phase was disturbed made INCONCLUSIVE.
pub fn apply_noise_guard(record: &mut RunRecord) {
    let phases = &record.phases;
    // A delivery verdict is about the load, not the service: a busy machine is its reason.
    for verdict in record.verdicts.iter_mut().filter(|v| !v.is_delivery()) {
        let disturbed: Vec<(&str, &[String])> = phases
            .iter()
            .filter(|p| judged_on(verdict, p))
            .filter_map(disturbed)
            .collect();
        let outcome = std::mem::replace(&mut verdict.outcome, Outcome::Pass);
        verdict.outcome = guard(outcome, &disturbed);
    }
}

/// The phases of `record` the noise guard found disturbed, with the limits each broke.
pub fn disturbed_phases(record: &RunRecord) -> Vec<(&str, &[String])> {
    record.phases.iter().filter_map(disturbed).collect()
}

/// A phase's name and broken limits, when it broke any.
fn disturbed(phase: &PhaseRecord) -> Option<(&str, &[String])> {
    let noise = phase.noise.as_ref().filter(|n| !n.disturbed.is_empty())?;
    Some((phase.name.as_str(), noise.disturbed.as_slice()))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::report::Window;

    fn noise(lag: Option<f64>, steal: f64, own: f64) -> PhaseNoise {
        PhaseNoise {
            cpu_busy_percent: 50.0,
            steal_percent: steal,
            iowait_percent: 0.0,
            load_average: 1.0,
            perfgate_cpu_percent: own,
            dispatch_lag_p99_ms: lag,
            disturbed: Vec::new(),
        }
    }

    #[rstest]
    #[case::quiet(noise(Some(1.2), 0.5, 20.0), &[])]
    #[case::at_the_limits(noise(Some(5.0), 10.0, 90.0), &[])]
    #[case::not_http(noise(None, 0.0, 10.0), &[])]
    #[case::lagging(noise(Some(12.34), 0.0, 20.0), &["dispatch lag p99 12.3 ms above the 5 ms limit"])]
    #[case::stolen(noise(Some(1.0), 23.45, 20.0), &["CPU steal 23.4 % above the 10 % limit"])]
    #[case::everything(
        noise(Some(7.0), 11.0, 150.0),
        &[
            "dispatch lag p99 7.0 ms above the 5 ms limit",
            "CPU steal 11.0 % above the 10 % limit",
            "perfgate's own CPU 150 % of a core above the 90 % limit",
        ]
    )]
    fn limits_broken(#[case] noise: PhaseNoise, #[case] expected: &[&str]) {
        assert_eq!(disturbances(&noise), expected);
    }

    fn lag() -> Vec<String> {
        vec!["dispatch lag p99 12.3 ms above the 5 ms limit".to_owned()]
    }

    const NOISY: &str =
        "phase `steady`: dispatch lag p99 12.3 ms above the 5 ms limit; the machine was too busy to judge latency";

    #[rstest]
    #[case::pass_quiet(Outcome::Pass, false, Outcome::Pass)]
    #[case::fail_quiet(
        Outcome::Fail { reasons: vec!["p99 0.2 > 0.1".into()] },
        false,
        Outcome::Fail { reasons: vec!["p99 0.2 > 0.1".into()] }
    )]
    #[case::pass_noisy(Outcome::Pass, true, Outcome::Pass)]
    #[case::fail_noisy(
        Outcome::Fail { reasons: vec!["p99 0.2 > 0.1".into()] },
        true,
        Outcome::Inconclusive { reasons: vec![NOISY.into(), "measured anyway: p99 0.2 > 0.1".into()] }
    )]
    #[case::error_stays(
        Outcome::Error { message: "bad query".into() },
        true,
        Outcome::Error { message: "bad query".into() }
    )]
    #[case::inconclusive_stays(
        Outcome::Inconclusive { reasons: vec!["interval straddles".into()] },
        true,
        Outcome::Inconclusive { reasons: vec!["interval straddles".into()] }
    )]
    fn guarded_outcome(#[case] outcome: Outcome, #[case] noisy: bool, #[case] expected: Outcome) {
        let limits = lag();
        let disturbed: Vec<(&str, &[String])> = if noisy {
            vec![("steady", limits.as_slice())]
        } else {
            Vec::new()
        };
        assert_eq!(guard(outcome, &disturbed), expected);
    }

    fn phase(name: &str, disturbed: bool) -> PhaseRecord {
        let mut noise = noise(Some(if disturbed { 12.3 } else { 1.0 }), 0.0, 20.0);
        noise.disturbed = disturbances(&noise);
        PhaseRecord {
            name: name.into(),
            kind: "http".into(),
            window: Window { start: 0.0, end: 1.0 },
            load: None,
            noise: Some(noise),
        }
    }

    fn verdict(id: &str, during: Option<&str>) -> Verdict {
        let too_slow = Outcome::Fail {
            reasons: vec!["too slow".into()],
        };
        Verdict::judged(id, during, too_slow)
    }

    fn record(phases: Vec<PhaseRecord>, verdicts: Vec<Verdict>) -> RunRecord {
        let mut record = RunRecord::minimal("r");
        record.phases = phases;
        record.verdicts = verdicts;
        record
    }

    #[test]
    fn a_verdict_is_guarded_by_its_own_phase_or_every_phase_when_it_has_none() {
        let mut r = record(
            vec![phase("warmup", false), phase("steady", true)],
            vec![
                verdict("on_warmup", Some("warmup")),
                verdict("on_steady", Some("steady")),
                verdict("whole", None),
                verdict("prefix_only", Some("stead")),
            ],
        );
        apply_noise_guard(&mut r);
        let word = |id: &str| r.verdict(id).unwrap().outcome.word();
        assert_eq!(word("on_warmup"), "FAIL");
        assert_eq!(word("on_steady"), "INCONCLUSIVE");
        assert_eq!(word("whole"), "INCONCLUSIVE");
        assert_eq!(word("prefix_only"), "FAIL");
        assert_eq!(disturbed_phases(&r), vec![("steady", lag().as_slice())]);
    }

    #[test]
    fn a_comparison_claim_is_inconclusive_when_any_repetition_of_its_phase_was_disturbed() {
        let mut r = record(
            vec![
                phase("steady (base 1)", false),
                phase("steady (candidate 1)", false),
                phase("steady (candidate 2)", true),
                phase("steady (base 2)", false),
                phase("cool (base 2)", true),
            ],
            vec![verdict("claim", Some("steady")), verdict("cooling", Some("other"))],
        );
        apply_noise_guard(&mut r);
        let claim = r.verdict("claim").unwrap();
        let Outcome::Inconclusive { reasons } = &claim.outcome else {
            panic!("{:?}", claim.outcome);
        };
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].starts_with("phase `steady (candidate 2)`: dispatch lag p99 12.3 ms"));
        assert_eq!(reasons[1], "measured anyway: too slow");
        assert_eq!(r.verdict("cooling").unwrap().outcome.word(), "FAIL");
    }
}

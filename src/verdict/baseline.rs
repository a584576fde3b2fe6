//! Baselines: a saved run record (`perfgate run --save-baseline NAME`) that `within X of
//! baseline` and `at most X above/below baseline` assertions are judged against, so a gate can
//! follow the last accepted run. Baselines are kept per spec file, and a baseline whose query
//! differs from the assertion's is not compared with.

use std::path::{Path, PathBuf};

use super::distribution::{judge_distributions, runs_of};
use crate::prom::Series;
use crate::report::{BaselineRef, Outcome, RunRecord, Verdict, format_value, read_record};
use crate::spec::{Expectation, SeriesMode, Side, Spec, Tolerance};

/// The baseline judged against when `perfgate run --baseline` names none: `$PERFGATE_BASELINE`,
/// else `main`.
pub fn baseline_name() -> String {
    std::env::var("PERFGATE_BASELINE")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "main".to_owned())
}

/// `<spec folder>/baselines/<spec file stem>/<name>.json`: beside the spec, so accepted
/// baselines can be checked in; keyed by the file, so two specs sharing a `name` never share a
/// baseline. Under `$PERFGATE_BASELINES` the key is the spec's path made a file name
/// (`specs/api.yaml` → `specs_api`).
pub fn baseline_path(spec_path: &Path, name: &str) -> PathBuf {
    let shared = std::env::var_os("PERFGATE_BASELINES").filter(|v| !v.is_empty());
    let stem = spec_path.with_extension("");
    let (root, key) = match shared {
        // One folder for every spec: the key is the spec's whole path.
        Some(root) => {
            let cwd = std::env::current_dir().unwrap_or_default();
            let relative = stem.strip_prefix(&cwd).unwrap_or(&stem);
            (PathBuf::from(root), relative.to_string_lossy().into_owned())
        }
        None => (
            spec_path.parent().unwrap_or(Path::new("")).join("baselines"),
            stem.file_name()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
        ),
    };
    root.join(crate::spec::units::slug(&key))
        .join(format!("{name}.json"))
}

/// A baseline name is a file name: letters, digits, `-`, `_`, `.` (no path tricks).
pub fn check_baseline_name(name: &str) -> Result<String, String> {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if name.is_empty() || !plain || name.starts_with('.') {
        return Err(format!(
            "invalid baseline name `{name}` (hint: letters, digits, `-`, `_`, `.`)"
        ));
    }
    Ok(name.to_owned())
}

/// Saves `record` as baseline `name` of its spec; returns where.
/// Why `record` must not become a baseline, if it must not: its run broke, or a phase did not
/// deliver its load (values measured under less load than asked would mislead later runs).
pub fn unfit_for_baseline(record: &RunRecord) -> Option<String> {
    if record.failure.is_some() {
        return Some("the run broke".to_owned());
    }
    let undelivered: Vec<&str> = record
        .verdicts
        .iter()
        .filter(|v| v.is_delivery() && !v.outcome.passed())
        .filter_map(|v| v.during.as_deref())
        .collect();
    (!undelivered.is_empty()).then(|| {
        format!("phase `{}` did not deliver its load", undelivered.join("`, `"))
    })
}

pub fn save_baseline(record: &RunRecord, name: &str) -> std::io::Result<PathBuf> {
    check_baseline_name(name).map_err(std::io::Error::other)?;
    let path = baseline_path(&record.spec_path, name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    std::fs::write(&path, json)?;
    Ok(path)
}

/// Which saved baseline a run is judged against, and whether it is the one being saved.
#[derive(Debug, Clone)]
pub struct BaselineChoice {
    pub name: String,
    /// The run is being saved as `name`: with no earlier `name` it is judged against itself
    /// (the baseline it becomes), the way a first snapshot is accepted.
    pub saving: bool,
}

impl BaselineChoice {
    /// `--baseline` when given; else the baseline being saved (judged against its previous
    /// version, as criterion's `--save-baseline` does); else `$PERFGATE_BASELINE` or `main`.
    pub fn new(baseline: Option<&str>, save_as: Option<&str>) -> Self {
        match (baseline, save_as) {
            (Some(name), save) => Self {
                name: name.to_owned(),
                saving: save == Some(name),
            },
            (None, Some(save)) => Self {
                name: save.to_owned(),
                saving: true,
            },
            (None, None) => Self {
                name: baseline_name(),
                saving: false,
            },
        }
    }
}

/// Re-judges every baseline verdict of `record` against the saved baseline `choice.name`.
pub fn apply_baseline(spec: &Spec, record: &mut RunRecord, choice: &BaselineChoice) {
    let uses = |e: &Expectation| matches!(e, Expectation::NearBaseline(..));
    if !spec.assertions.iter().any(|a| uses(&a.expect)) {
        return;
    }
    let name = choice.name.clone();
    let path = baseline_path(&spec.path, &name);
    let saved = read_record(&path).ok();
    let baseline = saved.or_else(|| choice.saving.then(|| record.clone()));
    record.baseline = Some(BaselineRef {
        name: name.clone(),
        path: path.clone(),
        run_id: baseline.as_ref().map(|b| b.run_id.clone()),
    });
    for assertion in &spec.assertions {
        let Expectation::NearBaseline(tolerance, side) = assertion.expect else {
            continue;
        };
        let Some(verdict) = record.verdicts.iter_mut().find(|v| v.id == assertion.id) else {
            continue;
        };
        if matches!(verdict.outcome, Outcome::Error { .. }) || verdict.series.is_empty() {
            continue;
        }
        if assertion.mode == SeriesMode::Aggregate && verdict.series.len() > 1 {
            continue;
        }
        let Some(base) = baseline.as_ref() else {
            verdict.outcome = Outcome::Error {
                message: format!(
                    "no baseline `{name}` at {} (hint: `perfgate run --save-baseline {name} {}`)",
                    path.display(),
                    spec.path.display()
                ),
            };
            continue;
        };
        judge_against(verdict, base, &name, Bound { tolerance, side });
    }
}

/// How far from the baseline, and on which side, a value may go.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub tolerance: Tolerance,
    pub side: Side,
}

/// Judges `verdict` against its namesake in `base`: missing or asked with another query, the
/// comparison cannot be made.
fn judge_against(verdict: &mut Verdict, base: &RunRecord, name: &str, bound: Bound) {
    match base.verdict(&verdict.id) {
        None => {
            verdict.outcome = Outcome::Error {
                message: format!(
                    "baseline `{name}` (run {}) has no verdict `{}`; save a new baseline",
                    base.run_id, verdict.id
                ),
            };
        }
        Some(old) if !same_query(old, verdict) => {
            verdict.outcome = Outcome::Inconclusive {
                reasons: vec![format!(
                    "baseline `{name}` (run {}) was measured with another query (`{}`); save a new baseline to compare this one",
                    base.run_id,
                    old.spec_query.trim()
                )],
            };
        }
        Some(old) => match (runs_of(old), runs_of(verdict)) {
            (Some(before), Some(now)) => judge_distributions(
                verdict,
                (bound.tolerance, bound.side),
                &before,
                &now,
                &base.run_id,
            ),
            _ => rejudge(verdict, bound, &old.series, &base.run_id),
        },
    }
}

/// Whether both verdicts were asked with the query the spec wrote (a baseline saved before
/// records kept it cannot tell, and is trusted).
fn same_query(old: &Verdict, new: &Verdict) -> bool {
    old.spec_query.is_empty() || old.spec_query.trim() == new.spec_query.trim()
}

/// Every point of `verdict` must stay within `bound` of its series' baseline value.
pub fn rejudge(verdict: &mut Verdict, bound: Bound, old: &[Series], run: &str) {
    let Bound { tolerance, side } = bound;
    let expectation = Expectation::NearBaseline(tolerance, side);
    let mut reasons = Vec::new();
    let mut shown = None;
    for s in &verdict.series {
        let matched = old
            .iter()
            .find(|o| o.labels == s.labels)
            .or_else(|| (old.len() == 1 && verdict.series.len() == 1).then(|| &old[0]));
        let Some(base) = matched.and_then(|o| o.samples.last()).map(|p| p.v) else {
            reasons.push(format!("{} has no value in the baseline", s.label_string()));
            continue;
        };
        shown.get_or_insert(base);
        for p in &s.samples {
            if !side.accepts(tolerance, base, p.v) {
                reasons.push(format!(
                    "{} {} is not {} {}",
                    s.label_string(),
                    format_value(p.v),
                    expectation.to_string().replace("baseline", "the baseline"),
                    format_value(base)
                ));
            }
        }
    }
    if let (Some(base), 1) = (shown, verdict.series.len()) {
        verdict.expectation = format!("{expectation} {} (run {run})", format_value(base));
    }
    verdict.outcome = if reasons.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail { reasons }
    };
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::prom::Sample;
    use crate::report::Window;

    fn series(v: f64) -> Vec<Series> {
        vec![Series {
            labels: BTreeMap::new(),
            samples: vec![Sample { t: 0.0, v }],
        }]
    }

    fn verdict(v: f64) -> Verdict {
        Verdict {
            id: "p99".into(),
            name: "p99".into(),
            query: "q".into(),
            spec_query: "q".into(),
            during: None,
            window: Window {
                start: 0.0,
                end: 1.0,
            },
            evaluated_at: 1.0,
            expectation: "within 10% of baseline".into(),
            mode: "aggregate, at end".into(),
            series: series(v),
            outcome: Outcome::Fail { reasons: vec![] },
        }
    }

    const WITHIN_10: Bound = Bound {
        tolerance: Tolerance::Relative(0.1),
        side: Side::Both,
    };

    #[test]
    fn within_the_tolerance_of_the_baseline_passes() {
        let mut v = verdict(0.105);
        rejudge(&mut v, WITHIN_10, &series(0.1), "r1");
        assert!(v.outcome.passed(), "{:?}", v.outcome);
        assert_eq!(v.expectation, "within 10% of baseline 0.1 (run r1)");
        let mut v = verdict(0.2);
        rejudge(&mut v, WITHIN_10, &series(0.1), "r1");
        let Outcome::Fail { reasons } = &v.outcome else {
            panic!("expected a failure")
        };
        assert!(reasons[0].contains("0.2 is not within 10% of the baseline 0.1"));
    }

    #[test]
    fn a_one_sided_bound_lets_an_improvement_pass_and_fails_the_other_way() {
        let above = Bound {
            side: Side::Above,
            ..WITHIN_10
        };
        let below = Bound {
            side: Side::Below,
            ..WITHIN_10
        };
        // (bound, baseline, new value, passes)
        let table = [
            (WITHIN_10, 1.0, 0.5, false),
            (above, 1.0, 0.5, true),
            (above, 1.0, 1.09, true),
            (above, 1.0, 1.2, false),
            (below, 1.0, 2.0, true),
            (below, 1.0, 0.95, true),
            (below, 1.0, 0.8, false),
        ];
        for (bound, base, new, passes) in table {
            let mut v = verdict(new);
            rejudge(&mut v, bound, &series(base), "r1");
            assert_eq!(v.outcome.passed(), passes, "{bound:?} {base} → {new}");
        }
        let mut v = verdict(1.2);
        rejudge(&mut v, above, &series(1.0), "r1");
        assert_eq!(v.expectation, "at most 10% above baseline 1 (run r1)");
        let Outcome::Fail { reasons } = &v.outcome else {
            panic!("expected a failure")
        };
        assert!(reasons[0].contains("1.2 is not at most 10% above the baseline 1"));
    }

    fn record(run_id: &str, verdicts: Vec<Verdict>) -> RunRecord {
        let mut r = RunRecord::minimal(run_id);
        r.verdicts = verdicts;
        r
    }

    #[test]
    fn a_baseline_asked_with_another_query_is_not_compared() {
        let base = record("r0", vec![verdict(0.1)]);
        let mut v = verdict(0.1);
        v.spec_query = "histogram_quantile(0.99, q)".into();
        judge_against(&mut v, &base, "main", WITHIN_10);
        let Outcome::Inconclusive { reasons } = &v.outcome else {
            panic!("expected inconclusive, got {:?}", v.outcome)
        };
        assert!(reasons[0].contains("another query (`q`)"), "{reasons:?}");
        let mut same = verdict(0.3);
        judge_against(&mut same, &base, "main", WITHIN_10);
        assert!(matches!(same.outcome, Outcome::Fail { .. }));
    }

    #[test]
    fn saving_compares_with_the_baseline_being_saved_unless_told_otherwise() {
        let choice = BaselineChoice::new(None, Some("b2"));
        assert_eq!((choice.name.as_str(), choice.saving), ("b2", true));
        let choice = BaselineChoice::new(Some("main"), Some("b2"));
        assert_eq!((choice.name.as_str(), choice.saving), ("main", false));
        let choice = BaselineChoice::new(Some("main"), None);
        assert_eq!((choice.name.as_str(), choice.saving), ("main", false));
    }

    #[test]
    fn baselines_are_kept_per_spec_file_not_per_spec_name() {
        let a = baseline_path(Path::new("specs/api.yaml"), "main");
        let b = baseline_path(Path::new("specs/api-v2.yaml"), "main");
        if std::env::var_os("PERFGATE_BASELINES").is_none() {
            assert_eq!(a, Path::new("specs/baselines/api/main.json"));
        }
        assert_ne!(a, b);
    }
}

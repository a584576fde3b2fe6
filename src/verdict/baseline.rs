//! Baselines: a saved run record (`perfgate run --save-baseline NAME`) that `within X of
//! baseline` assertions are judged against, so a gate can follow the last accepted run.

use std::path::{Path, PathBuf};

use crate::prom::Series;
use crate::report::{BaselineRef, Outcome, RunRecord, Verdict, format_value, read_record};
use crate::spec::{Expectation, SeriesMode, Spec, Tolerance};

/// The baseline judged against when `perfgate run --baseline` names none: `$PERFGATE_BASELINE`,
/// else `main`.
pub fn baseline_name() -> String {
    std::env::var("PERFGATE_BASELINE")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "main".to_owned())
}

/// `$PERFGATE_BASELINES/<spec>/<name>.json`, else `<spec folder>/baselines/<spec>/<name>.json`:
/// beside the spec, so accepted baselines can be checked in.
pub fn baseline_path(spec_path: &Path, spec: &str, name: &str) -> PathBuf {
    let root = std::env::var_os("PERFGATE_BASELINES")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || {
                spec_path
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join("baselines")
            },
            PathBuf::from,
        );
    root.join(spec).join(format!("{name}.json"))
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
pub fn save_baseline(record: &RunRecord, name: &str) -> std::io::Result<PathBuf> {
    check_baseline_name(name).map_err(std::io::Error::other)?;
    let path = baseline_path(&record.spec_path, &record.spec, name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    std::fs::write(&path, json)?;
    Ok(path)
}

/// Re-judges every `within X of baseline` verdict of `record` against the saved baseline `name`.
pub fn apply_baseline(spec: &Spec, record: &mut RunRecord, name: &str) {
    let uses = |e: &Expectation| matches!(e, Expectation::NearBaseline(_));
    if !spec.assertions.iter().any(|a| uses(&a.expect)) {
        return;
    }
    let name = name.to_owned();
    let path = baseline_path(&spec.path, &spec.name, &name);
    let baseline = read_record(&path).ok();
    record.baseline = Some(BaselineRef {
        name: name.clone(),
        path: path.clone(),
        run_id: baseline.as_ref().map(|b| b.run_id.clone()),
    });
    for assertion in &spec.assertions {
        let Expectation::NearBaseline(tolerance) = assertion.expect else {
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
        match base.verdict(&verdict.id) {
            Some(old) => rejudge(verdict, tolerance, &old.series, &base.run_id),
            None => {
                verdict.outcome = Outcome::Error {
                    message: format!(
                        "baseline `{name}` (run {}) has no verdict `{}`; save a new baseline",
                        base.run_id, verdict.id
                    ),
                };
            }
        }
    }
}

/// Every point of `verdict` must be within `tolerance` of its series' baseline value.
pub fn rejudge(verdict: &mut Verdict, tolerance: Tolerance, old: &[Series], run: &str) {
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
            if !tolerance.accepts(base, p.v) {
                reasons.push(format!(
                    "{} {} is not within {tolerance} of the baseline {}",
                    s.label_string(),
                    format_value(p.v),
                    format_value(base)
                ));
            }
        }
    }
    if let (Some(base), 1) = (shown, verdict.series.len()) {
        verdict.expectation = format!(
            "within {tolerance} of baseline {} (run {run})",
            format_value(base)
        );
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

    #[test]
    fn within_the_tolerance_of_the_baseline_passes() {
        let mut v = verdict(0.105);
        rejudge(&mut v, Tolerance::Relative(0.1), &series(0.1), "r1");
        assert!(v.outcome.passed(), "{:?}", v.outcome);
        assert_eq!(v.expectation, "within 10% of baseline 0.1 (run r1)");
        let mut v = verdict(0.2);
        rejudge(&mut v, Tolerance::Relative(0.1), &series(0.1), "r1");
        let Outcome::Fail { reasons } = &v.outcome else {
            panic!("expected a failure")
        };
        assert!(reasons[0].contains("0.2 is not within 10% of the baseline 0.1"));
    }
}

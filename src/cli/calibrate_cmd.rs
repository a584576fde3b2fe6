//! `perfgate calibrate SPEC`: runs a `compare:` spec as A/A (the candidate replaced by the base)
//! and prints, per claim, the noise of the paired ratios, the smallest shift the spec's design
//! and a time budget detect, and whether the claim's tolerance is tighter than that.

#[cfg(test)]
use std::path::Path;
use std::time::Duration;

use super::args::CalibrateArgs;
use super::run_cmd::{options, runtime};
use crate::error::Exit;
use crate::report::{RunRecord, format_value};
use crate::run::run_spec;
use crate::spec::{self, Expectation, Spec};
use crate::verdict::{Calibration, calibrate};

pub fn run(args: CalibrateArgs) -> Exit {
    let spec = match aa_spec(&args) {
        Ok(spec) => spec,
        Err(exit) => return exit,
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(exit) => return exit,
    };
    let opts = options(args.out.clone(), args.quiet);
    println!(
        "perfgate: calibrating {} ({}): the base against itself, {} pairs",
        spec.name,
        args.spec.display(),
        spec.comparison.as_ref().map_or(0, |c| c.repeat)
    );
    let record = runtime.block_on(run_spec(&spec, &opts));
    if let Some(f) = &record.failure {
        eprintln!("error: {}", f.message);
        return record.exit();
    }
    print_calibrations(&spec, &record, args.budget);
    println!("report: {}", record.report_dir.display());
    Exit::Success
}

/// The spec with its candidate made a copy of the base, so every pair is A/A.
fn aa_spec(args: &CalibrateArgs) -> Result<Spec, Exit> {
    let mut spec = spec::load(&args.spec).map_err(|e| {
        eprintln!("{e}");
        Exit::InvalidSpec
    })?;
    let Some(comparison) = spec.comparison.as_mut() else {
        eprintln!(
            "{}: calibrate needs a spec with `compare:` (see docs/spec.md, \"Comparing two builds\")",
            args.spec.display()
        );
        return Err(Exit::InvalidSpec);
    };
    if let Some(repeat) = args.repeat {
        comparison.repeat = repeat;
    }
    let services = &mut spec.stack.services;
    if let Some(mut base) = services.get(&comparison.service).cloned() {
        base.name.clone_from(&comparison.candidate_service);
        services.insert(comparison.candidate_service.clone(), base);
    }
    Ok(spec)
}

/// One paragraph per claim.
fn print_calibrations(spec: &Spec, record: &RunRecord, budget: Duration) {
    let repeat = spec.comparison.as_ref().map_or(0, |c| c.repeat);
    let phases: f64 = record.phases.iter().map(|p| p.window.seconds()).sum();
    let pair_time = Duration::from_secs_f64(phases / f64::from(repeat.max(1)));
    for assertion in &spec.assertions {
        let Expectation::Versus(claim) = assertion.expect else {
            continue;
        };
        let ratios = record
            .verdict(&assertion.id)
            .map(|v| match v.series.as_slice() {
                [base, candidate] => base
                    .samples
                    .iter()
                    .zip(&candidate.samples)
                    .map(|(b, c)| c.v / b.v)
                    .collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        println!("\n{} ({claim})", assertion.name);
        match calibrate(claim, &ratios, repeat, pair_time, budget) {
            Ok(c) => print_one(&c, claim.tolerance, repeat, pair_time, budget),
            Err(e) => println!("  no calibration: {e}"),
        }
    }
}

fn print_one(c: &Calibration, tolerance: f64, repeat: u32, pair_time: Duration, budget: Duration) {
    let pct = |v: f64| format!("{}%", format_value((v * 1000.0).round() / 10.0));
    println!(
        "  noise: A/A ratios spread {} (sd of ln ratio, {} pairs)",
        pct(c.ratio_cv),
        c.pairs
    );
    println!(
        "  detectable at repeat {repeat}: {} ({:.0}s of load per pair)",
        pct(c.detectable_at_repeat),
        pair_time.as_secs_f64()
    );
    println!(
        "  detectable in {:.0}s: {} ({} pairs)",
        budget.as_secs_f64(),
        pct(c.detectable_in_budget),
        c.pairs_in_budget
    );
    if c.too_tight {
        let needed = c
            .pairs_needed
            .map_or("more than 200".to_owned(), |n| n.to_string());
        println!(
            "  TOO TIGHT: {} is below what {repeat} pairs can tell from noise; use at least {} or repeat: {needed}",
            pct(tolerance),
            pct(c.detectable_at_repeat)
        );
    } else {
        println!("  ok: {} is above the noise", pct(tolerance));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_candidate_becomes_a_copy_of_the_base() {
        let args = CalibrateArgs {
            spec: Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/specs/compare/regression.yaml"),
            repeat: Some(7),
            budget: Duration::from_secs(60),
            out: None,
            quiet: true,
        };
        let original = spec::load(&args.spec).unwrap();
        let services = &original.stack.services;
        assert_ne!(services["api"].kind, services["api-candidate"].kind);
        let aa = aa_spec(&args).unwrap();
        let services = &aa.stack.services;
        assert_eq!(services["api"].kind, services["api-candidate"].kind);
        assert_eq!(services["api-candidate"].name, "api-candidate");
        assert_eq!(aa.comparison.unwrap().repeat, 7);
    }

    #[test]
    fn a_spec_without_compare_is_refused() {
        let args = CalibrateArgs {
            spec: Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/quickstart.yaml"),
            repeat: None,
            budget: Duration::from_secs(60),
            out: None,
            quiet: true,
        };
        assert_eq!(aa_spec(&args).err(), Some(Exit::InvalidSpec));
    }
}

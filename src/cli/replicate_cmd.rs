//! `perfgate replicate`: the replication engine without a spec — read series from a Prometheus,
//! multiply them over labels and remote-write them, with a progress line (a spinner on a
//! terminal, a plain line every few seconds elsewhere) and a final summary.

use std::time::Duration;

use super::args::ReplicateArgs;
use super::progress::LineProgress;
use crate::error::Exit;
use crate::load::replicate::{
    self, LabelSpace, ReplicateConfig, ReplicateMetrics, ReplicateProgress, anchored, progress_line,
};
use crate::load::watching;
use crate::prom::remote_write::RetryPolicy;
use crate::report::replicate_summary;
use crate::spec::{Auth, HeaderText, parse_duration, parse_rate};

pub fn run(args: ReplicateArgs) -> Exit {
    let (config, runtime) = match super::config_and_runtime(config(&args)) {
        Ok(ready) => ready,
        Err(exit) => return exit,
    };
    let mut progress = LineProgress::new("replicate", args.quiet);
    let result = runtime.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(ReplicateProgress::default());
        let metrics = ReplicateMetrics::new();
        let engine = replicate::run("replicate", &config, &metrics, Some(tx));
        watching(engine, rx, |p| {
            progress.show(Duration::from_millis(p.elapsed_ms), || progress_line(p));
        })
        .await
    });
    progress.finish();
    match result {
        Ok(outcome) => {
            eprint!("{}", replicate_summary(&outcome));
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&outcome).unwrap_or_default()
                );
            }
            if outcome.samples_dropped > 0 || outcome.timed_out {
                Exit::RunFailed
            } else {
                Exit::Success
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::RunFailed
        }
    }
}

fn config(args: &ReplicateArgs) -> Result<ReplicateConfig, String> {
    let duration =
        |flag: &str, text: &str| parse_duration(text).map_err(|e| format!("--{flag}: {e}"));
    let mut headers = Vec::new();
    for h in &args.header {
        let (k, v) = h
            .split_once('=')
            .ok_or_else(|| format!("--header `{h}`: expected NAME=VALUE"))?;
        headers.push((k.trim().to_owned(), HeaderText::plain(v.trim())));
    }
    if let Some(var) = &args.bearer_token_env {
        let token = HeaderText::from_env(var).map_err(|e| format!("--bearer-token-env: {e}"))?;
        headers.push(("Authorization".into(), Auth::Bearer(token).header()?));
    }
    let exclude = args
        .exclude
        .iter()
        .map(|p| anchored(p).map_err(|e| format!("--exclude `{p}`: {e}")))
        .collect::<Result<_, _>>()?;
    let labels = args
        .label
        .iter()
        .map(|l| parse_label(l))
        .collect::<Result<Vec<_>, _>>()?;
    let rate = parse_rate(&args.rate)
        .map_err(|e| format!("--rate: {e}"))?
        .per_second();
    let to = if args.to.ends_with("/write") || args.to.contains("/api/") {
        args.to.clone()
    } else {
        format!("{}/api/v1/write", args.to.trim_end_matches('/'))
    };
    Ok(ReplicateConfig {
        source: args.from.trim_end_matches('/').to_owned(),
        target: to,
        headers,
        matchers: if args.matchers.is_empty() {
            vec![r#"{__name__=~".+"}"#.into()]
        } else {
            args.matchers.clone()
        },
        exclude,
        lookback: duration("lookback", &args.lookback)?,
        step: duration("step", &args.step)?,
        labels: LabelSpace::new(labels)?,
        rate: Some(rate).filter(|r| r.is_finite()),
        batch: args.batch.max(1),
        concurrency: args.concurrency.clamp(1, 64),
        time_shift: !args.keep_timestamps,
        dry_run: args.dry_run,
        timeout: duration("timeout", &args.timeout)?,
        retry: RetryPolicy {
            give_up_after: match &args.give_up_after {
                Some(text) => duration("give-up-after", text)?,
                None => RetryPolicy::default().give_up_after,
            },
            ..RetryPolicy::default()
        },
    })
}

/// `cluster=3` (a count: values 0, 1, 2) or `replica=a,b` (a list).
fn parse_label(text: &str) -> Result<(String, Vec<String>), String> {
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--label `{text}`: expected NAME=COUNT or NAME=V1,V2"))?;
    let values = match values.parse::<u32>() {
        Ok(0) => return Err(format!("--label `{text}`: the count must be at least 1")),
        Ok(n) => LabelSpace::counted(n),
        Err(_) => values.split(',').map(|v| v.trim().to_owned()).collect(),
    };
    let name = name.trim().to_owned();
    if values.iter().any(String::is_empty) {
        return Err(format!(
            "--label `{text}`: {}",
            crate::spec::empty_label_value(&name)
        ));
    }
    Ok((name, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_counts_or_lists() {
        assert_eq!(
            parse_label("cluster=3").expect("count"),
            ("cluster".into(), vec!["0".into(), "1".into(), "2".into()])
        );
        assert_eq!(
            parse_label("replica=a,b").expect("list"),
            ("replica".into(), vec!["a".into(), "b".into()])
        );
        assert!(parse_label("cluster=0").is_err());
        for empty in ["rwc=,x", "rwc=", "rwc=a,,b", "rwc=a, "] {
            let err = parse_label(empty).expect_err(empty);
            assert!(err.contains("has an empty value"), "{err}");
        }
        assert!(parse_label("cluster").is_err());
    }
}

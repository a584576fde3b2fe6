//! `latency_buckets:`: the upper bounds of the client-side latency histogram
//! (`perfgate_http_latency_seconds`), as durations. The default (`serve::LATENCY_BUCKETS`, 100 µs
//! to 10 s in 1-2.5-5 steps) is coarse where a quiet service's latencies sit: a p99 pinned at a
//! bucket edge looks stable when it is not, and `histogram_quantile` moves by a whole bucket
//! when a value crosses one. A spec that gates on PromQL quantiles of the client histogram
//! sets edges around its own latencies (the `client:` statistics need no buckets: they are
//! exact).
//!
//! ```yaml
//! latency_buckets: [1ms, 1.5ms, 2ms, 2.5ms, 3ms, 4ms, 5ms, 7.5ms, 10ms, 25ms, 100ms, 1s]
//! ```

use serde_yaml_ng::Value;

use super::decode::Ctx;
use super::locate::YamlPath;
use super::number::parse_number;

/// The most buckets a histogram may have: each is a series per endpoint and phase.
const MAX_LATENCY_BUCKETS: usize = 64;

/// The buckets written at `at` (seconds, strictly increasing), reporting every problem;
/// `None` when there are none written or they are invalid.
pub(crate) fn latency_buckets(ctx: &mut Ctx, written: &[Value], at: &YamlPath) -> Option<Vec<f64>> {
    if written.len() > MAX_LATENCY_BUCKETS {
        ctx.at_key(
            at,
            format!("{} latency buckets; at most {MAX_LATENCY_BUCKETS}", written.len()),
        );
        return None;
    }
    let mut bounds = Vec::with_capacity(written.len());
    let mut ok = !written.is_empty();
    if written.is_empty() {
        ctx.at_key(at, "`latency_buckets` is empty").hint =
            Some("list upper bounds such as `[1ms, 2ms, 5ms, 10ms]`, or leave the key out".to_owned());
    }
    for (i, value) in written.iter().enumerate() {
        let item = at.index(i);
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let Some(seconds) = ctx.check(&item, bound_seconds(&text)) else {
            ok = false;
            continue;
        };
        if let Some(&last) = bounds.last()
            && seconds <= last
        {
            ctx.at_value(&item, format!("bucket `{text}` is not above the one before it"))
                .hint = Some("list the bounds in increasing order, each once".to_owned());
            ok = false;
        }
        bounds.push(seconds);
    }
    ok.then_some(bounds)
}

/// A bucket bound in seconds: a positive decimal with a unit, `250us`, `2.5ms`, `1s`.
fn bound_seconds(text: &str) -> Result<f64, String> {
    let units = [("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)];
    let parsed = units.iter().find_map(|(unit, scale)| {
        let number = text.trim().strip_suffix(unit)?;
        Some(parse_number(number.trim()).map(|n| n * scale))
    });
    match parsed {
        Some(Some(v)) if v > 0.0 && v.is_finite() => Ok(v),
        Some(Some(_)) => Err(format!("bucket `{text}` must be above zero")),
        _ if parse_number(text.trim()).is_some() => {
            Err(format!("bucket `{text}` has no unit (hint: write `{}ms` or `{}s`)", text.trim(), text.trim()))
        }
        _ => Err(format!(
            "invalid bucket `{text}` (hint: a duration such as `250us`, `2.5ms` or `1s`)"
        )),
    }
}

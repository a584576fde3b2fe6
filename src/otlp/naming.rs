//! Prometheus's documented OTLP naming rules (Prometheus 2.53 `otlptranslator`, with suffixes):
//! metric names split into alphanumeric tokens, unit and `per` suffixes, `_total` for monotonic
//! sums, `_ratio` for unit-`1` gauges; label names with every other character replaced by `_`.

/// What kind of series a metric becomes, as far as naming is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    /// A monotonic cumulative sum: gets `_total`.
    Counter,
    /// A gauge or a non-monotonic sum: gets `_ratio` when its unit is `1`.
    Gauge,
    /// Histograms and summaries: unit suffix only (then `_bucket`/`_sum`/`_count`).
    Other,
}

fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn clean(s: &str) -> String {
    tokens(s).join("_")
}

fn main_unit(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

fn per_unit(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// The Prometheus metric name of an OTLP metric (before `_bucket`/`_sum`/`_count`).
pub(crate) fn metric_name(name: &str, unit: &str, kind: NameKind) -> String {
    let mut parts = tokens(name);
    let mut units = unit.splitn(2, '/');
    let main = units.next().unwrap_or("").trim();
    if !main.is_empty() && !main.contains(['{', '}']) {
        let suffix = clean(main_unit(main));
        if !suffix.is_empty() && !parts.contains(&suffix) {
            parts.push(suffix);
        }
    }
    if let Some(per) = units.next().map(str::trim)
        && !per.is_empty()
        && !per.contains(['{', '}'])
    {
        let suffix = clean(per_unit(per));
        if !suffix.is_empty() && !parts.contains(&suffix) {
            parts.push("per".into());
            parts.push(suffix);
        }
    }
    match kind {
        NameKind::Counter => {
            parts.retain(|p| p != "total");
            parts.push("total".into());
        }
        NameKind::Gauge if unit == "1" => {
            parts.retain(|p| p != "ratio");
            parts.push("ratio".into());
        }
        _ => {}
    }
    let joined = parts.join("_");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// A Prometheus label name for an OTLP attribute key.
pub(crate) fn label_name(key: &str) -> String {
    if key.is_empty() {
        return String::new();
    }
    let mapped: String = key
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    if mapped.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{mapped}")
    } else if mapped.starts_with('_') && !mapped.starts_with("__") {
        format!("key{mapped}")
    } else {
        mapped
    }
}

/// A float as Prometheus writes it in `le` and `quantile` labels.
pub(crate) fn float_label(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "http.server.request.duration",
        "s",
        NameKind::Other,
        "http_server_request_duration_seconds"
    )]
    #[case(
        "http_request_duration",
        "s",
        NameKind::Other,
        "http_request_duration_seconds"
    )]
    #[case("http_requests", "{request}", NameKind::Counter, "http_requests_total")]
    #[case("requests_total", "", NameKind::Counter, "requests_total")]
    #[case("total.requests", "", NameKind::Counter, "requests_total")]
    #[case("orders", "{order}", NameKind::Counter, "orders_total")]
    #[case(
        "system.memory.usage",
        "By",
        NameKind::Gauge,
        "system_memory_usage_bytes"
    )]
    #[case("cpu.utilization", "1", NameKind::Gauge, "cpu_utilization_ratio")]
    #[case("cpu.utilization", "1", NameKind::Counter, "cpu_utilization_total")]
    #[case("net.io", "By/s", NameKind::Counter, "net_io_bytes_per_second_total")]
    #[case("latency_seconds", "s", NameKind::Other, "latency_seconds")]
    #[case("temp", "Cel", NameKind::Gauge, "temp_celsius")]
    #[case("2xx.responses", "", NameKind::Counter, "_2xx_responses_total")]
    #[case(
        "weird__name--x",
        "custom unit",
        NameKind::Gauge,
        "weird_name_x_custom_unit"
    )]
    #[case("queue", "%", NameKind::Gauge, "queue_percent")]
    fn metric_names(
        #[case] name: &str,
        #[case] unit: &str,
        #[case] kind: NameKind,
        #[case] want: &str,
    ) {
        assert_eq!(metric_name(name, unit, kind), want);
    }

    #[rstest]
    #[case("http.method", "http_method")]
    #[case("service.instance.id", "service_instance_id")]
    #[case("0day", "key_0day")]
    #[case("_private", "key_private")]
    #[case("__reserved", "__reserved")]
    #[case("a-b/c", "a_b_c")]
    fn label_names(#[case] key: &str, #[case] want: &str) {
        assert_eq!(label_name(key), want);
    }

    #[test]
    fn floats_in_labels() {
        assert_eq!(float_label(0.005), "0.005");
        assert_eq!(float_label(10.0), "10");
        assert_eq!(float_label(1e-5), "0.00001");
        assert_eq!(float_label(f64::INFINITY), "+Inf");
    }
}

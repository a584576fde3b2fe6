//! The wall clock on the ground floor: unix seconds now, their UTC rendering and the compact
//! stamp run ids start with. Every layer may use it (engines, reports, the run).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the unix epoch (0.0 if the clock is before it).
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `2026-11-23 10:49:50.123 UTC` without a date-time crate: civil-from-days arithmetic.
pub fn unix_to_utc(t: f64) -> String {
    let millis = (t * 1000.0).round() as i64;
    let (secs, ms) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{ms:03} UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Unix time `t` as a compact UTC stamp: `2026-11-23 10:49:50.123 UTC` → `20261123T104950.123Z`.
pub(crate) fn compact_stamp(t: f64) -> String {
    let compact: String = unix_to_utc(t)
        .trim_end_matches(" UTC")
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ' ')
        .map(|c| if c == ' ' { 'T' } else { c })
        .collect();
    format!("{compact}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0.0, "1970-01-01 00:00:00.000 UTC")]
    #[case(1_795_430_990.123, "2026-11-23 10:49:50.123 UTC")]
    #[case(951_782_400.0, "2000-02-29 00:00:00.000 UTC")]
    fn renders_utc(#[case] t: f64, #[case] expected: &str) {
        assert_eq!(unix_to_utc(t), expected);
    }

    #[test]
    fn stamps_are_compact() {
        assert_eq!(compact_stamp(1_795_430_990.123), "20261123T104950.123Z");
    }
}

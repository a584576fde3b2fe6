//! Whether the HTTP engine measures latency as it would in a release build. A user's crate
//! running gates under plain `cargo test` compiles perfgate unoptimised, and the engine's own
//! work then shows up as the service's latency (the same nginx spec: client p99 4.9 ms under
//! `perfgate run`, 11–35 ms under `cargo test`). An HTTP phase of such a build fails its
//! delivery verdict with the profile override that fixes it, unless `PERFGATE_UNOPTIMISED=accept`
//! says the latency figures are not what is gated (perfgate's own test suite).

/// The opt-level perfgate was compiled at (`build.rs`).
const OPT_LEVEL: &str = env!("PERFGATE_OPT_LEVEL");
/// The environment variable that accepts an unoptimised engine.
pub const ACCEPT_VAR: &str = "PERFGATE_UNOPTIMISED";

/// Why this build's HTTP engine cannot be trusted with latency, if it cannot.
pub fn unoptimised() -> Option<String> {
    let accepted = std::env::var(ACCEPT_VAR).is_ok_and(|v| v == "accept");
    refusal(OPT_LEVEL, accepted)
}

fn refusal(opt_level: &str, accepted: bool) -> Option<String> {
    (opt_level == "0" && !accepted).then(|| {
        format!(
            "perfgate was compiled without optimisation (opt-level 0), so its HTTP engine's own work would be measured as the service's latency (hint: add `[profile.dev.package.\"*\"] opt-level = 3` to your Cargo.toml, or run `cargo test --release`; `{ACCEPT_VAR}=accept` measures anyway)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unoptimised_build_not_accepted_is_refused() {
        assert!(refusal("0", false).is_some_and(|r| r.contains("opt-level = 3")));
        assert_eq!(refusal("0", true), None);
        for level in ["1", "2", "3", "s", "z"] {
            assert_eq!(refusal(level, false), None, "opt-level {level}");
        }
    }
}

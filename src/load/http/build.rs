//! Whether the HTTP engine measures latency as it would in a release build. A user's crate
//! running gates under plain `cargo test` compiles perfgate unoptimised, and the engine's own
//! work then shows up as the service's latency (the same nginx spec: client p99 4.9 ms under
//! `perfgate run`, 11–35 ms under `cargo test`). An HTTP phase of such a build fails its
//! delivery verdict with the profile override that fixes it, unless `PERFGATE_UNOPTIMISED=accept`
//! says the latency figures are not what is gated (perfgate's own test suite). A debug build
//! (debug assertions on) stands for an unoptimised one: a build script reading the opt-level
//! made nested cargo runs in tests rebuild perfgate (its `OUT_DIR` in their environment).

/// Whether perfgate was compiled as a debug build (debug assertions on: the dev profile's
/// default, which also compiles it unoptimised).
const DEBUG_BUILD: bool = cfg!(debug_assertions);
/// The environment variable that accepts an unoptimised engine.
pub const ACCEPT_VAR: &str = "PERFGATE_UNOPTIMISED";

/// Why this build's HTTP engine cannot be trusted with latency, if it cannot.
pub fn unoptimised() -> Option<String> {
    let accepted = std::env::var(ACCEPT_VAR).is_ok_and(|v| v == "accept");
    refusal(DEBUG_BUILD, accepted)
}

fn refusal(debug_build: bool, accepted: bool) -> Option<String> {
    (debug_build && !accepted).then(|| {
        format!(
            "perfgate was compiled without optimisation (a debug build), so its HTTP engine's own work would be measured as the service's latency (hint: add `[profile.dev.package.\"*\"]` with `opt-level = 3` and `debug-assertions = false` to your Cargo.toml, or run `cargo test --release`; `{ACCEPT_VAR}=accept` measures anyway)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unoptimised_build_not_accepted_is_refused() {
        assert!(refusal(true, false).is_some_and(|r| r.contains("opt-level = 3")));
        assert_eq!(refusal(true, true), None);
        assert_eq!(refusal(false, false), None);
    }
}

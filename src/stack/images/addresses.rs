//! Local `HOST:PORT` addresses in generated text (arguments, environment values, configs): the
//! one scanner behind the docker backend's listen-address rewrite and compose's port renumbering.

use std::sync::LazyLock;

use regex::{Captures, Regex};

static LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(127\.0\.0\.1|0\.0\.0\.0|localhost):(\d+)").expect("a valid pattern")
});

/// `text` with every local `HOST:PORT` replaced by what `rewrite(host, port)` gives; addresses
/// it answers `None` for (and ports out of range) are kept as written.
pub fn rewrite_local_addresses(
    text: &str,
    rewrite: impl Fn(&str, u16) -> Option<String>,
) -> String {
    LOCAL
        .replace_all(text, |c: &Captures<'_>| {
            c[2].parse::<u16>()
                .ok()
                .and_then(|port| rewrite(&c[1], port))
                .unwrap_or_else(|| c[0].to_owned())
        })
        .into_owned()
}

//! Tool versions as printed by `--version`, and their ordering.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Version {
    /// Finds the first `MAJOR.MINOR.PATCH` after the word `version` (Prometheus: `prometheus,
    /// version 2.53.3+ds1 (branch: …)`), or anywhere when that word is absent.
    pub fn find_in(text: &str) -> Option<Version> {
        let from = text.find("version").map_or(0, |i| i + "version".len());
        text[from..]
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .find_map(Self::parse)
    }

    fn parse(word: &str) -> Option<Version> {
        let mut parts = word.split('.').map(|p| p.parse::<u32>().ok());
        match (parts.next(), parts.next(), parts.next()) {
            (Some(Some(a)), Some(Some(b)), Some(Some(c))) => Some(Version(a, b, c)),
            _ => None,
        }
    }

    /// Runs `binary FLAG` (`--version`, FFmpeg's `-version`) and reads the version from stdout
    /// or stderr.
    pub fn of_binary(binary: &Path, flag: &str) -> Result<Version, String> {
        let command = format!("{} {flag}", binary.display());
        let out = duct::cmd(binary, [flag])
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| format!("could not run `{command}`: {e}"))?;
        Self::in_output(&command, &out)
    }

    /// The version a version-printing `command` wrote to stdout or stderr.
    pub fn in_output(command: &str, out: &std::process::Output) -> Result<Version, String> {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Self::find_in(&text).ok_or_else(|| {
            format!(
                "`{command}` printed no version: {}",
                text.lines().next().unwrap_or("")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "prometheus, version 2.53.3+ds1 (branch: debian/sid)",
        Some(Version(2, 53, 3))
    )]
    #[case(
        "prometheus, version 2.42.0+ds (branch: debian/sid, revision: 1)",
        Some(Version(2, 42, 0))
    )]
    #[case("ffmpeg version 5.1.6-0+deb12u1 Copyright", Some(Version(5, 1, 6)))]
    #[case(
        "ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright (c) 2000-2026",
        Some(Version(9, 0, 2))
    )]
    #[case("no numbers here", None)]
    #[case("version 2.5", None)]
    fn finds_versions(#[case] text: &str, #[case] expected: Option<Version>) {
        assert_eq!(Version::find_in(text), expected);
    }

    #[test]
    fn orders_numerically() {
        assert!(Version(2, 33, 0) < Version(2, 42, 0));
        assert!(Version(2, 9, 0) < Version(2, 10, 0));
        assert!(Version(3, 0, 0) > Version(2, 99, 99));
    }
}

//! The backends a stack can run on, and a run's decision between them (made by `choose`).

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Process,
    Docker,
}

/// The backend a run uses, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendDecision {
    pub backend: Backend,
    /// "" when the spec asked for it; otherwise `$PERFGATE_BACKEND` or auto's reason.
    pub reason: String,
}

impl std::fmt::Display for BackendDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.backend {
            Backend::Process => "process",
            Backend::Docker => "docker",
        };
        match self.reason.as_str() {
            "" => write!(f, "{name} backend"),
            why => write!(f, "{name} backend ({why})"),
        }
    }
}

impl BackendDecision {
    pub(crate) fn new(backend: Backend, reason: impl Into<String>) -> Self {
        Self {
            backend,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_reads_as_the_backend_and_why() {
        let auto = BackendDecision::new(Backend::Docker, "auto: not on this machine: x");
        assert_eq!(
            auto.to_string(),
            "docker backend (auto: not on this machine: x)"
        );
        assert_eq!(
            BackendDecision::new(Backend::Process, "").to_string(),
            "process backend"
        );
    }
}

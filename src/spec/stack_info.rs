//! What the rest of the validator knows of a spec's stack: the services that parsed, every
//! name written, and which ports of a service speak HTTP.

use super::model::{Service, Stack};

/// The validated stack, plus what later passes need to know about services that failed.
pub(crate) struct StackInfo {
    pub(crate) stack: Stack,
    /// Every service name written, valid or not (so references to a broken service are not
    /// reported a second time).
    pub(crate) names: Vec<String>,
}

/// The HTTP-capable ports of a service, by name.
pub(crate) fn http_ports(service: &Service) -> Vec<&str> {
    service
        .kind
        .ports()
        .into_iter()
        .filter(|p| p.http)
        .map(|p| p.name)
        .collect()
}

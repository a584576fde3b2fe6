//! The address perfgate's own endpoints (the load engines' `/metrics`) listen on so that
//! containers reach them.

use std::net::{IpAddr, Ipv4Addr};

use super::container::docker_error;
use crate::stack::choose::require_daemon;
use crate::stack::error::StackError;
use crate::stack::images;

/// The address perfgate's own endpoints listen on so that containers reach them: the default
/// bridge's gateway (the host's side of Docker's network), or the subnet's first address when
/// the daemon does not record a gateway.
pub fn host_address_for_containers() -> Result<IpAddr, StackError> {
    require_daemon()?;
    let out = images::docker(&[
        "network",
        "inspect",
        "bridge",
        "--format",
        "{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}",
    ])
    .map_err(|e| docker_error("stack")(e.to_string()))?;
    gateway_of(&out).ok_or_else(|| {
        docker_error("stack")(format!("no gateway for the default bridge in `{out}`"))
    })
}

fn gateway_of(inspected: &str) -> Option<IpAddr> {
    let mut words = inspected.split_whitespace();
    let first = words.next()?;
    if let Ok(ip) = first.parse() {
        return Some(ip);
    }
    let (network, _) = first.split_once('/')?;
    let network: Ipv4Addr = network.parse().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(u32::from(network) + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_is_recorded_or_the_subnets_first_address() {
        assert_eq!(
            gateway_of("172.18.0.1 172.18.0.0/16"),
            "172.18.0.1".parse().ok()
        );
        assert_eq!(gateway_of(" 172.17.0.0/16"), "172.17.0.1".parse().ok());
        assert_eq!(gateway_of(""), None);
    }
}

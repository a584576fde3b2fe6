//! TEMPORARY stub until the engine branch lands.
#[derive(Debug, Clone)]
pub struct DemoApiConfig { pub listen: std::net::SocketAddr, pub seed: u64, pub latency_factor: f64, pub error_factor: f64 }
pub fn run(_c: DemoApiConfig) -> anyhow::Result<()> { todo!() }

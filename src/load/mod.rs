//! TEMPORARY stub until the engine branch lands.
use std::sync::Arc;
pub struct EngineMetrics;
impl Default for EngineMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineMetrics { pub fn new() -> Self { Self } }
pub async fn serve_metrics(_l: tokio::net::TcpListener, _m: Arc<EngineMetrics>, _s: impl std::future::Future<Output = ()> + Send + 'static) {}
pub mod http {
    #[derive(Debug, Default, Clone)]
    pub struct HttpProgress;
    impl std::fmt::Display for HttpProgress { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "") } }
    #[derive(Debug, serde::Serialize)]
    pub struct HttpPhaseOutcome;
    pub async fn run_phase(_n: &str, _p: &crate::spec::HttpPhase, _t: std::net::SocketAddr, _m: &super::EngineMetrics, _pr: Option<tokio::sync::watch::Sender<HttpProgress>>) -> Result<HttpPhaseOutcome, String> { todo!() }
}

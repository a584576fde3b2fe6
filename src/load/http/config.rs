//! A spec's `http:` phase and its resolved target → what the engine runs: the checked bounds,
//! the arrival schedule, the weighted mix and its requests prepared once.

use std::net::SocketAddr;
use std::time::Duration;

use super::client::PreparedRequest;
use super::engine::MixPicker;
use super::error::HttpError;
use crate::load::Schedule;
use crate::spec::HttpPhase;

/// Far above any sensible concurrency, and below tokio's semaphore limit.
const MAX_IN_FLIGHT_LIMIT: usize = 1_000_000;

/// One HTTP phase, ready to run.
pub struct HttpConfig {
    /// A loopback address.
    pub(crate) target: SocketAddr,
    pub(crate) schedule: Schedule,
    pub(crate) picker: MixPicker,
    pub(crate) requests: Vec<PreparedRequest>,
    pub(crate) duration: Duration,
    pub(crate) max_in_flight: usize,
    /// Per request.
    pub(crate) timeout: Duration,
    /// Arrivals per second asked for; `None` in closed loop.
    pub(crate) requested_rate: Option<f64>,
}

impl HttpConfig {
    /// Checks `phase` (a loopback `target`, bounds) and prepares its schedule and requests.
    pub fn from_phase(phase: &HttpPhase, target: SocketAddr) -> Result<Self, HttpError> {
        if !target.ip().is_loopback() {
            return Err(HttpError::NonLoopbackTarget(target));
        }
        if phase.max_in_flight == 0 || phase.max_in_flight > MAX_IN_FLIGHT_LIMIT {
            return Err(HttpError::InvalidPhase(format!(
                "max_in_flight must be between 1 and {MAX_IN_FLIGHT_LIMIT}, got {}",
                phase.max_in_flight
            )));
        }
        if phase.timeout.is_zero() {
            return Err(HttpError::InvalidPhase("timeout must be positive".into()));
        }
        let schedule = Schedule::new(phase.rate, phase.ramp, phase.duration)
            .map_err(HttpError::InvalidPhase)?;
        let picker = MixPicker::new(phase.mix.iter().map(|r| r.weight))?;
        let requests = phase
            .mix
            .iter()
            .map(|r| PreparedRequest::new(r, target, phase.auth.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let requested_rate = (!schedule.is_closed_loop()).then_some(phase.rate.per_second());
        Ok(Self {
            target,
            schedule,
            picker,
            requests,
            duration: phase.duration,
            max_in_flight: phase.max_in_flight,
            timeout: phase.timeout,
            requested_rate,
        })
    }
}

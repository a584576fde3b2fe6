//! What one run of a phase delivered, read from its engine's own outcome: the observed values a
//! `<phase>::delivered` verdict shows, and the limits (`spec::Delivery`) the run fell short of.

use crate::load::freshness::FreshnessOutcome;
use crate::load::http::HttpPhaseOutcome;
use crate::load::replicate::ReplicateOutcome;
use crate::load::swarm::SwarmOutcome;
use crate::load::{PhaseOutcome, Schedule};
pub(super) use crate::report::percent;
use crate::report::{DeliveryCheck, PhaseRecord};
use crate::spec::{Delivery, FreshnessPhase, HttpPhase, Phase, PhaseKind};

/// One run's account: `(check, value)` pairs observed, and one sentence per limit broken.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Account {
    pub observed: Vec<(DeliveryCheck, f64)>,
    pub shortfalls: Vec<String>,
}

impl Account {
    fn observe(&mut self, check: DeliveryCheck, value: f64) {
        self.observed.push((check, value));
    }

    fn short(&mut self, why: String) {
        self.shortfalls.push(why);
    }
}

/// What `run` (a run of `phase`) delivered against `limits`; `None`: it has no outcome to read.
pub(super) fn account(phase: &Phase, limits: &Delivery, run: &PhaseRecord) -> Option<Account> {
    let outcome = run.load.as_ref()?;
    let account = match (&phase.kind, outcome) {
        (PhaseKind::Http(spec), PhaseOutcome::Http(o)) => {
            let own_cpu = run.noise.as_ref().map(|n| n.perfgate_cpu_percent);
            http(spec, limits, o, own_cpu)
        }
        (PhaseKind::Replicate(_), PhaseOutcome::Replicate(o)) => replicate(limits, o),
        (PhaseKind::Swarm(_), PhaseOutcome::Swarm(o)) => swarm(limits, o),
        (PhaseKind::Freshness(spec), PhaseOutcome::Freshness(o)) => freshness(spec, o),
        _ => return None,
    };
    Some(account)
}

/// Requests answered against those planned (open model), requests without a response, and how
/// late the generator sent.
fn http(spec: &HttpPhase, limits: &Delivery, o: &HttpPhaseOutcome, own_cpu: Option<f64>) -> Account {
    let mut account = Account::default();
    let planned = Schedule::new(spec.rate, spec.ramp, spec.duration)
        .ok()
        .filter(|s| !s.is_closed_loop())
        .map(|s| s.max_arrivals());
    if let Some(planned) = planned.filter(|p| *p > 0) {
        let share = o.completed as f64 / planned as f64;
        account.observe(DeliveryCheck::Answered, share);
        if share < limits.rate {
            let dropped = match o.dropped {
                0 => String::new(),
                n => format!("; {n} not sent: `max_in_flight` requests were outstanding"),
            };
            account.short(format!(
                "answered {} of {planned} planned requests ({}, below the {} asked): {:.1}/s of {}/s{dropped}",
                o.completed,
                percent(share),
                percent(limits.rate),
                o.achieved_rate,
                spec.rate.per_second(),
            ));
        }
    }
    transport_errors(limits, o, &mut account);
    if let Some(why) = crate::load::http::unoptimised() {
        account.short(why);
    }
    if let Some(lag) = &o.dispatch_lag {
        account.observe(DeliveryCheck::SendLag, lag.p99);
        if lag.p99 > limits.send_lag.as_secs_f64() {
            let cpu = own_cpu.map_or(String::new(), |c| format!(", perfgate's own CPU {c:.0} % of a core"));
            account.short(format!(
                "the load generator fell behind its schedule: send lag p99 {:.1} ms above the {} ms limit{cpu}",
                lag.p99 * 1e3,
                limits.send_lag.as_millis(),
            ));
        }
    }
    account
}

/// Requests sent that ended without a response: timeouts, refused and broken connections.
fn transport_errors(limits: &Delivery, o: &HttpPhaseOutcome, account: &mut Account) {
    let e = &o.errors;
    let failed = e.timeout + e.connect + e.io;
    if o.sent == 0 {
        account.short("no request was sent".to_owned());
        return;
    }
    let share = failed as f64 / o.sent as f64;
    account.observe(DeliveryCheck::NoResponse, share);
    if share > limits.transport_errors {
        account.short(format!(
            "{failed} of {} requests got no response ({}, above the {} allowed): {} timeout, {} connect, {} io",
            o.sent,
            percent(share),
            percent(limits.transport_errors),
            e.timeout,
            e.connect,
            e.io,
        ));
    }
}

/// Samples dropped, a source with nothing to copy, the timeout running out.
fn replicate(limits: &Delivery, o: &ReplicateOutcome) -> Account {
    let mut account = Account::default();
    account.observe(DeliveryCheck::Dropped, o.samples_dropped as f64);
    if o.samples_dropped > limits.dropped {
        let why: Vec<String> = o.dropped.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let message = o.messages.first().map_or(String::new(), |m| format!("; {m}"));
        account.short(format!(
            "{} samples dropped ({}), above the {} allowed{message}",
            o.samples_dropped,
            why.join(", "),
            limits.dropped,
        ));
    }
    if o.source_series == 0 {
        account.short("the source had no series to copy (check `match:` and `lookback:`)".to_owned());
    }
    if o.timed_out {
        account.short("the phase ran out of its `timeout:` before it copied everything".to_owned());
    }
    account
}

/// Clients that started against those asked for.
fn swarm(limits: &Delivery, o: &SwarmOutcome) -> Account {
    let mut account = Account::default();
    let share = if o.clients == 0 {
        1.0
    } else {
        f64::from(o.clients_started) / f64::from(o.clients)
    };
    account.observe(DeliveryCheck::ClientsStarted, share);
    if share < limits.clients {
        account.short(format!(
            "{} of {} clients started ({}, below the {} asked); {} failed for good",
            o.clients_started,
            o.clients,
            percent(share),
            percent(limits.clients),
            o.clients_failed,
        ));
    }
    account
}

/// Whether the load's requests became queryable before the timeout.
fn freshness(spec: &FreshnessPhase, o: &FreshnessOutcome) -> Account {
    let mut account = Account::default();
    match o.lag_seconds {
        Some(lag) => account.observe(DeliveryCheck::Freshness, lag),
        None => {
            let seen = o.observed.map_or("nothing".to_owned(), |v| format!("{v}"));
            let error = o.last_error.as_ref().map_or(String::new(), |e| format!("; last error: {e}"));
            account.short(format!(
                "the load's {} requests were not all queryable within {:?}: the query saw {seen}{error}",
                o.expected, spec.timeout,
            ));
        }
    }
    account
}

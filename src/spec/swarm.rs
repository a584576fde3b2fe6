//! Validation of `swarm:` phases: the client kind, the URL (loopback, `{{SERVICE}}`
//! placeholders naming services with an HTTP port), counts, units and bounds.

use std::time::Duration;

use super::decode::Ctx;
use super::limits::{
    DEFAULT_MEDIA_WINDOW, MIN_MEDIA_WINDOW, MIN_STALL_AFTER, RestartPolicy, check_at_least,
    check_clients, check_restarts, check_swarm_duration,
};
use super::locate::YamlPath;
use super::model::{Rate, SwarmPhase};
use super::placeholders::{check_url_placeholders, expand};
use super::raw::RawSwarm;
use super::services::StackInfo;
use super::units::parse_duration_range;

const CLIENT_KINDS: [&str; 1] = ["ffmpeg-hls"];
const DEFAULT_RAMP: Rate = Rate(10.0);
const DEFAULT_STALL_AFTER: Duration = Duration::from_secs(5);

pub(crate) fn swarm_phase(
    ctx: &mut Ctx,
    raw: RawSwarm,
    at: &YamlPath,
    stack: &StackInfo,
) -> Option<SwarmPhase> {
    let ok = clients_ok(ctx, &raw, at, stack);
    let ramp = match &raw.ramp {
        Some(text) => ctx.rate(&at.key("ramp"), &text.0),
        None => Some(DEFAULT_RAMP),
    };
    let duration = ctx
        .duration(&at.key("duration"), &raw.duration.0)
        .and_then(|d| ctx.check(&at.key("duration"), check_swarm_duration(d).map(|()| d)));
    let stall_after = at_least(
        ctx,
        &at.key("stall_after"),
        raw.stall_after.as_ref().map(|t| t.0.as_str()),
        DEFAULT_STALL_AFTER,
        MIN_STALL_AFTER,
        "FFmpeg reports progress twice a second",
    );
    let media_window = at_least(
        ctx,
        &at.key("media_window"),
        raw.media_window.as_ref().map(|t| t.0.as_str()),
        DEFAULT_MEDIA_WINDOW,
        MIN_MEDIA_WINDOW,
        "the speed is measured between segment-sized steps",
    );
    let (restart_max, backoff) = restart(ctx, &raw, &at.key("restart"));
    if !ok {
        return None;
    }
    Some(SwarmPhase {
        url: raw.url,
        clients: raw.clients,
        ramp: ramp?,
        duration: duration?,
        stall_after: stall_after?,
        restart_max: restart_max?,
        backoff: backoff?,
        decode: raw.decode.unwrap_or(false),
        per_client_metrics: raw.per_client_metrics.unwrap_or(false),
        media_window: media_window?,
    })
}

/// A known client kind, a loopback URL and a client count within bounds.
fn clients_ok(ctx: &mut Ctx, raw: &RawSwarm, at: &YamlPath, stack: &StackInfo) -> bool {
    let mut ok = true;
    if let Some(client) = &raw.client
        && !CLIENT_KINDS.contains(&client.as_str())
    {
        ctx.unknown_name(&at.key("client"), "swarm client", client, &CLIENT_KINDS);
        ok = false;
    }
    ok &= url(ctx, &raw.url, &at.key("url"), stack);
    if let Err(message) = check_clients(raw.clients) {
        ctx.at_value(&at.key("clients"), message);
        ok = false;
    }
    ok
}

/// `restart:`'s `max` (at most `MAX_RESTARTS`) and `backoff` range, defaults filled in.
fn restart(
    ctx: &mut Ctx,
    raw: &RawSwarm,
    restart_at: &YamlPath,
) -> (Option<u32>, Option<(Duration, Duration)>) {
    let defaults = RestartPolicy::default();
    let restart_max = raw
        .restart
        .as_ref()
        .and_then(|r| r.max)
        .unwrap_or(defaults.max);
    let max = ctx.check(
        &restart_at.key("max"),
        check_restarts(restart_max).map(|()| restart_max),
    );
    let backoff = match raw.restart.as_ref().and_then(|r| r.backoff.as_ref()) {
        Some(text) => ctx.check(&restart_at.key("backoff"), parse_duration_range(&text.0)),
        None => Some((defaults.backoff_min, defaults.backoff_max)),
    };
    (max, backoff)
}

/// The URL's placeholders name services with an HTTP port, and it reaches loopback.
fn url(ctx: &mut Ctx, text: &str, at: &YamlPath, stack: &StackInfo) -> bool {
    if !check_url_placeholders(ctx, stack, at, text) {
        return false;
    }
    let example = expand(text, |_| Some("http://127.0.0.1:8080".to_owned()));
    if crate::prom::remote_write::check_loopback(&example).is_ok() {
        return true;
    }
    ctx.at_value(
        at,
        format!("a swarm in a spec loads loopback URLs only, not `{text}`"),
    )
    .hint = Some(
        "point it at a service, e.g. `{{origin}}/live.m3u8`; an external origin takes `perfgate swarm --allow-external`"
            .to_owned(),
    );
    false
}

/// An optional duration above zero and at least `min`.
fn at_least(
    ctx: &mut Ctx,
    path: &YamlPath,
    text: Option<&str>,
    default: Duration,
    min: Duration,
    why: &str,
) -> Option<Duration> {
    let d = ctx.optional_duration(path, text, default)?;
    if let Err(message) = check_at_least(&super::decode::key_name(path), d, min) {
        ctx.at_value(path, message).hint = Some(why.to_owned());
        return None;
    }
    Some(d)
}

//! The recording receiver: a loopback HTTP server that keeps every request exactly as it came
//! (method, path, headers, raw body, arrival time) and answers from a script, so the rules can
//! be checked on the wire and the retry rules driven by the answers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub body: &'static str,
}

impl Answer {
    pub const fn status(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            body: "",
        }
    }

    pub const fn with_body(status: u16, body: &'static str) -> Self {
        Self {
            status,
            retry_after: None,
            body,
        }
    }
}

/// How the receiver answers: `first` in order, then `then` for every later request, or never
/// (`None`: the request is held open and no answer ever comes).
#[derive(Debug, Clone)]
pub struct Script {
    pub first: Vec<Answer>,
    pub then: Option<Answer>,
}

impl Script {
    /// `answer` to every request.
    pub fn always(answer: Answer) -> Self {
        Self {
            first: vec![],
            then: Some(answer),
        }
    }
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    log: Vec<Recorded>,
    script: VecDeque<Answer>,
    then: Option<Answer>,
}

/// A running receiver; it stops with the test's runtime.
pub struct Receiver {
    /// The remote-write URL to give perfgate.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub async fn start(script: Script) -> Self {
        let state = Arc::new(Mutex::new(State {
            log: Vec::new(),
            script: script.first.into(),
            then: script.then,
        }));
        let kept = Arc::clone(&state);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&kept);
                async move { answer(&state, method, uri, headers, body).await }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/api/v1/write"),
            state,
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("lock").log.clone()
    }
}

async fn answer(
    state: &Mutex<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let next = {
        let mut state = state.lock().expect("lock");
        state.log.push(Recorded {
            method,
            path: uri.path().to_owned(),
            headers,
            body,
            at: Instant::now(),
        });
        state.script.pop_front().or_else(|| state.then.clone())
    };
    let Some(answer) = next else {
        return std::future::pending().await;
    };
    let status = StatusCode::from_u16(answer.status).expect("status");
    let mut response = (status, answer.body).into_response();
    if let Some(after) = answer.retry_after {
        response
            .headers_mut()
            .insert("retry-after", after.parse().expect("header value"));
    }
    response
}

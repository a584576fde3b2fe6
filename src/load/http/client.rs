//! The HTTP engine's client side: requests prepared once per phase, hyper http1 keep-alive
//! connections (pooled for the open model, owned by each worker in closed loop), and one
//! request/response exchange classified into a status or an error kind.

use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{HeaderMap, Request, Uri};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;

use crate::spec::{Auth, Method, WeightedRequest};

use super::error::HttpError;
use super::token::FreshToken;

pub(crate) type Connection = SendRequest<Full<Bytes>>;

/// Why a request produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No full response within the phase's per-request timeout.
    Timeout,
    /// The TCP connect or the HTTP handshake failed.
    Connect,
    /// The connection failed while sending the request or reading the response.
    Io,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Io => "io",
        }
    }
}

/// One mix entry, turned into everything needed to build its request cheaply on every arrival.
#[derive(Debug)]
pub(crate) struct PreparedRequest {
    pub method: Method,
    /// The path without its query: the `endpoint` label, bounded by the spec's mix.
    pub endpoint: String,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    /// `auth: { jwt: … }`: the token, renewed before it expires.
    token: Option<FreshToken>,
}

impl PreparedRequest {
    /// `auth`: the phase's `auth:`, sent as the `Authorization` header.
    pub fn new(request: &WeightedRequest, target: SocketAddr, auth: Option<&Auth>) -> Result<Self, HttpError> {
        let invalid = |reason: String| HttpError::InvalidRequest {
            method: request.method.as_str(),
            path: request.path.clone(),
            reason,
        };
        if !request.path.starts_with('/') {
            return Err(invalid("the path must start with `/`".into()));
        }
        let uri: Uri = request.path.parse().map_err(|e| invalid(format!("{e}")))?;
        let mut headers = HeaderMap::new();
        // hyper's low-level client sends headers verbatim; HTTP/1.1 requires a Host.
        let host =
            HeaderValue::try_from(target.to_string()).map_err(|e| invalid(format!("{e}")))?;
        headers.insert(HOST, host);
        let body = match &request.json {
            Some(json) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Bytes::from(serde_json::to_vec(json).map_err(|e| invalid(format!("{e}")))?)
            }
            None => Bytes::new(),
        };
        // A JWT is renewed per request (`token`); other credentials are one fixed header.
        let (token, authorization) = match auth {
            Some(Auth::Jwt(jwt)) => (Some(FreshToken::new(jwt).map_err(invalid)?), None),
            Some(fixed) => {
                let header = fixed.header().map_err(invalid)?;
                (None, Some(("Authorization".to_owned(), header)))
            }
            None => (None, None),
        };
        let fixed = authorization.as_ref().map(|(name, text)| (name, text));
        for (name, text) in request.headers.iter().chain(fixed) {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|e| invalid(format!("header `{name}`: {e}")))?;
            // The error never shows the value (it may be a secret).
            let mut value = HeaderValue::try_from(text.expose())
                .map_err(|e| invalid(format!("header `{name}`: {e}")))?;
            // `Debug` of the prepared request prints `Sensitive` instead.
            value.set_sensitive(text.is_secret());
            headers.insert(name, value);
        }
        let endpoint = uri.path().to_owned();
        Ok(Self {
            method: request.method,
            endpoint,
            uri,
            headers,
            body,
            token,
        })
    }

    fn build(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = match self.method {
            Method::Get => hyper::Method::GET,
            Method::Post => hyper::Method::POST,
            Method::Put => hyper::Method::PUT,
            Method::Delete => hyper::Method::DELETE,
        };
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        if let Some(token) = &self.token {
            request.headers_mut().insert(AUTHORIZATION, token.header());
        }
        request
    }
}

/// Opens a keep-alive http1 connection; its driver task ends when the handle is dropped.
pub(crate) async fn connect(target: SocketAddr) -> Result<Connection, ErrorKind> {
    let stream = TcpStream::connect(target)
        .await
        .map_err(|_| ErrorKind::Connect)?;
    // Requests are small and latency-bound; Nagle would only delay them.
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| ErrorKind::Connect)?;
    tokio::spawn(async move {
        // A connection error surfaces on the next request through the sender; nothing to do here.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Waits until `connection` can take a request. A kept-alive connection the server has since
/// closed fails here, before anything was sent, so the caller may safely reconnect once.
pub(crate) async fn ready(connection: &mut Connection) -> Result<(), ErrorKind> {
    connection.ready().await.map_err(|_| ErrorKind::Io)
}

/// Sends `request` on a ready `connection` and reads the whole response body; returns the status.
pub(crate) async fn exchange(
    connection: &mut Connection,
    request: &PreparedRequest,
) -> Result<u16, ErrorKind> {
    let response = connection
        .send_request(request.build())
        .await
        .map_err(|_| ErrorKind::Io)?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    // Drain frame by frame: latency is to the last byte, and nothing needs to be kept.
    while let Some(frame) = body.frame().await {
        frame.map_err(|_| ErrorKind::Io)?;
    }
    Ok(status)
}

/// Idle keep-alive connections shared by the open model's request tasks. It never holds more
/// than `max_in_flight` connections, since each task checks out at most one.
pub(crate) struct Pool {
    target: SocketAddr,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    pub fn new(target: SocketAddr) -> Self {
        Self {
            target,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection that is still open (`true`: reused), or a new one.
    pub async fn checkout(&self) -> Result<(Connection, bool), ErrorKind> {
        loop {
            let candidate = match self.idle.lock() {
                Ok(mut idle) => idle.pop(),
                Err(_) => None,
            };
            match candidate {
                Some(connection) if !connection.is_closed() => return Ok((connection, true)),
                Some(_) => continue,
                None => return Ok((connect(self.target).await?, false)),
            }
        }
    }

    /// Returns a connection after a clean exchange; a failed one is dropped (reconnect later).
    pub fn checkin(&self, connection: Connection) {
        if connection.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(connection);
        }
    }
}

/// One request through the pool: the connection goes back only after a clean exchange.
pub(crate) async fn pooled_exchange(
    pool: &Pool,
    request: &PreparedRequest,
) -> Result<u16, ErrorKind> {
    let (mut connection, reused) = pool.checkout().await?;
    if ready(&mut connection).await.is_err() {
        if !reused {
            return Err(ErrorKind::Io);
        }
        connection = connect(pool.target).await?;
        ready(&mut connection).await?;
    }
    let status = exchange(&mut connection, request).await?;
    pool.checkin(connection);
    Ok(status)
}

#[cfg(test)]
mod auth_tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::spec::HeaderText;

    #[test]
    fn auth_becomes_a_sensitive_authorization_header() {
        let request = WeightedRequest {
            weight: 1,
            method: Method::Get,
            path: "/".into(),
            json: None,
            headers: BTreeMap::from([("X-Org".to_owned(), HeaderText::plain("a"))]),
        };
        let auth = Auth::Bearer(HeaderText::plain("tok-123"));
        let target: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let prepared = PreparedRequest::new(&request, target, Some(&auth)).unwrap();
        let built = prepared.build();
        assert_eq!(built.headers()["authorization"], "Bearer tok-123");
        assert_eq!(built.headers()["x-org"], "a");
        assert!(!format!("{prepared:?}").contains("tok-123"), "{prepared:?}");
    }
}

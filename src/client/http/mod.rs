//! The API client: bearer authentication, at most one refresh per request when
//! the access token has expired, and error answers turned into [`ApiError`].
//!
//! Requests go to paths built from segments, so an id typed by a person can
//! never reach another route.

mod problem;

use std::time::Duration;

use chrono::Utc;
use reqwest::{Method, Response, StatusCode, Url};
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::session::{Session, SessionError, SessionFile, Tokens};

pub use self::problem::Problem;

/// How the CLI shows a failed command: one line, except that an api
/// problem keeps its own indented lines (one per `path: message`, then the
/// hint); every piece of those is sanitized, so no other text breaks lines.
pub fn error_text(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let problem = e
        .chain()
        .any(|c| matches!(c.downcast_ref::<ApiError>(), Some(ApiError::Problem(_))));
    if problem {
        text
    } else {
        text.replace('\n', " ")
    }
}

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stream may stay silent (the api sends a keep-alive every 15 s).
const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

const LOGIN: &[&str] = &["api", "v1", "auth", "login"];
const REFRESH: &[&str] = &["api", "v1", "auth", "refresh"];
const LOGOUT: &[&str] = &["api", "v1", "auth", "logout"];

/// How requests are authenticated.
#[derive(Debug)]
pub enum Auth {
    /// Not at all (login).
    None,
    /// A fixed API token (`OPSC_TOKEN`); never refreshed.
    Token(SecretString),
    /// The stored session, refreshed and saved back when its access token expires.
    Session {
        /// The tokens.
        session: Session,
        /// Where refreshed tokens are saved.
        file: SessionFile,
    },
}

/// A request failed. Every variant displays as one line without secrets,
/// except a problem listing input errors: one more line for each.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The api answered with an error.
    #[error("{0}")]
    Problem(Problem),
    /// Nothing usable answered.
    #[error("cannot reach the api at {url}: {cause}")]
    Transport {
        /// The base URL.
        url: String,
        /// The innermost cause, e.g. "Connection refused".
        cause: String,
    },
    /// The answer was not what the contract says.
    #[error("unexpected answer from the api: {0}")]
    Unexpected(String),
    /// The session no longer works (expired, revoked or logged out elsewhere).
    #[error("the session has expired or was revoked: run `opsconductor login`")]
    SessionExpired,
    /// The api URL is not an http(s) base URL.
    #[error("invalid api URL {url:?}: {reason}")]
    BadUrl {
        /// What was given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A path segment (an id) would change the route.
    #[error("invalid id {0:?}")]
    BadSegment(String),
    /// Saving refreshed tokens failed.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// One request, kept whole so it can be sent again after a refresh.
struct Call<'a> {
    method: Method,
    path: &'a [&'a str],
    query: &'a [(&'a str, String)],
    body: Option<&'a Value>,
    /// A body sent as given, with its content type (instead of `body`).
    raw: Option<(&'a str, &'a [u8])>,
    /// Extra request headers.
    headers: &'a [(String, String)],
    /// A long-lived answer (a stream): no overall time limit, only an idle one.
    streaming: bool,
}

/// A request sent as given (`opsconductor api`, documents in YAML): any
/// method, a body with its content type, extra headers.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path, one element per segment.
    pub path: &'a [&'a str],
    /// Query pairs.
    pub query: &'a [(&'a str, String)],
    /// The body and its content type.
    pub body: Option<(&'a str, &'a [u8])>,
    /// Extra request headers (`Authorization` is the client's own).
    pub headers: &'a [(String, String)],
}

/// A client of one api.
#[derive(Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    streaming: reqwest::Client,
    base: Url,
    auth: Auth,
}

impl ApiClient {
    /// A client of the api at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, auth: Auth) -> Result<Self, ApiError> {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .user_agent(concat!("opsconductor-cli/", env!("CARGO_PKG_VERSION")))
        };
        let built =
            |e: reqwest::Error| ApiError::Unexpected(format!("cannot build the HTTP client: {e}"));
        let http = builder().timeout(REQUEST_TIMEOUT).build().map_err(built)?;
        let streaming = builder()
            .read_timeout(STREAM_IDLE_TIMEOUT)
            .build()
            .map_err(built)?;
        Ok(Self {
            http,
            streaming,
            base: parse_base(base)?,
            auth,
        })
    }

    /// The api's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `GET path?query`, decoded.
    pub async fn get<T: DeserializeOwned>(
        &mut self,
        path: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let call = Call {
            method: Method::GET,
            path,
            query,
            body: None,
            raw: None,
            headers: &[],
            streaming: false,
        };
        decode(self.call(&call).await?).await
    }

    /// `GET path` whose answer is a long-lived stream (Server-Sent Events):
    /// the response once its head arrived, to read with `chunk()`.
    pub async fn stream(
        &mut self,
        path: &[&str],
        headers: &[(String, String)],
    ) -> Result<Response, ApiError> {
        let call = Call {
            method: Method::GET,
            path,
            query: &[],
            body: None,
            raw: None,
            headers,
            streaming: true,
        };
        self.call(&call).await
    }

    /// `method path` with a JSON body, decoded.
    pub async fn send<T: DeserializeOwned>(
        &mut self,
        method: Method,
        path: &[&str],
        body: &Value,
    ) -> Result<T, ApiError> {
        let call = Call {
            method,
            path,
            query: &[],
            body: Some(body),
            raw: None,
            headers: &[],
            streaming: false,
        };
        decode(self.call(&call).await?).await
    }

    /// `DELETE path`, expecting no body.
    pub async fn delete(&mut self, path: &[&str]) -> Result<(), ApiError> {
        let call = Call {
            method: Method::DELETE,
            path,
            query: &[],
            body: None,
            raw: None,
            headers: &[],
            streaming: false,
        };
        self.call(&call).await.map(drop)
    }

    /// Sends `req` as given; the answer whatever its status (a 401 after a
    /// refresh is still [`ApiError::SessionExpired`]).
    pub async fn raw(&mut self, req: RawRequest<'_>) -> Result<Response, ApiError> {
        let call = Call {
            method: req.method.clone(),
            path: req.path,
            query: req.query,
            body: None,
            raw: req.body,
            headers: req.headers,
            streaming: false,
        };
        self.answer(&call).await
    }

    /// A failure while reading a stream, as one line naming the api.
    pub fn stream_error(&self, error: &reqwest::Error) -> ApiError {
        transport(&self.base, error)
    }

    /// `POST /api/v1/auth/login` with `{username, password, totp_code?}`.
    pub async fn login(&self, body: &Value) -> Result<Tokens, ApiError> {
        let response = self.post_unauthenticated(LOGIN, body).await?;
        decode(ok_or_problem(response).await?).await
    }

    /// `POST /api/v1/auth/logout`: revokes the refresh token.
    pub async fn logout(&self, refresh_token: &SecretString) -> Result<(), ApiError> {
        let body = json!({ "refresh_token": refresh_token.expose_secret() });
        let response = self.post_unauthenticated(LOGOUT, &body).await?;
        ok_or_problem(response).await.map(drop)
    }

    /// Sends `call`, refreshing the session once if its access token has
    /// expired (known before, or answered 401).
    async fn call(&mut self, call: &Call<'_>) -> Result<Response, ApiError> {
        ok_or_problem(self.answer(call).await?).await
    }

    /// As [`Self::call`], but any answer but a lasting 401 is returned as is.
    async fn answer(&mut self, call: &Call<'_>) -> Result<Response, ApiError> {
        let mut refreshed = false;
        if let Auth::Session { session, .. } = &self.auth
            && session.access_expired(Utc::now())
        {
            self.refresh().await?;
            refreshed = true;
        }
        let mut response = self.send_once(call).await?;
        if response.status() == StatusCode::UNAUTHORIZED
            && matches!(self.auth, Auth::Session { .. })
        {
            if refreshed {
                // Even a fresh pair is refused: the session was revoked.
                return Err(ApiError::SessionExpired);
            }
            self.refresh().await?;
            response = self.send_once(call).await?;
            if response.status() == StatusCode::UNAUTHORIZED {
                return Err(ApiError::SessionExpired);
            }
        }
        Ok(response)
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<Response, ApiError> {
        let mut url = self.url(call.path)?;
        if !call.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(call.query.iter().map(|(k, v)| (k, v)));
        }
        let client = if call.streaming {
            &self.streaming
        } else {
            &self.http
        };
        let mut request = client.request(call.method.clone(), url);
        let bearer = match &self.auth {
            Auth::None => None,
            Auth::Token(t) => Some(t),
            Auth::Session { session, .. } => Some(&session.access_token),
        };
        if let Some(token) = bearer {
            request = request.bearer_auth(token.expose_secret());
        }
        for (name, value) in call.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        if let Some((content_type, bytes)) = call.raw {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes.to_vec());
        }
        request.send().await.map_err(|e| transport(&self.base, &e))
    }

    async fn post_unauthenticated(
        &self,
        path: &[&str],
        body: &Value,
    ) -> Result<Response, ApiError> {
        self.http
            .post(self.url(path)?)
            .json(body)
            .send()
            .await
            .map_err(|e| transport(&self.base, &e))
    }

    /// Trades the refresh token for a new pair and saves it.
    ///
    /// Holds the session's lock meanwhile: a refresh token works once and
    /// the api revokes the whole session when one is reused, so a second
    /// command that finds a newer pair on disk adopts it instead.
    async fn refresh(&mut self) -> Result<(), ApiError> {
        let url = self.url(REFRESH)?;
        let Auth::Session { session, file } = &mut self.auth else {
            return Ok(());
        };
        let _lock = file.lock()?;
        if let Some(stored) = file.load()?
            && stored.url == session.url
            && stored.refresh_token.expose_secret() != session.refresh_token.expose_secret()
        {
            *session = stored;
            if !session.access_expired(Utc::now()) {
                return Ok(());
            }
        }
        let body = json!({ "refresh_token": session.refresh_token.expose_secret() });
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport(&self.base, &e))?;
        let status = response.status();
        if status.is_success() {
            let tokens: Tokens = decode(response).await?;
            session.update(tokens, Utc::now());
            file.save(session)?;
            Ok(())
        } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST {
            Err(ApiError::SessionExpired)
        } else {
            Err(ApiError::Problem(Problem::from_response(response).await))
        }
    }

    /// The base URL plus `path`, each element one segment (`/` is encoded).
    fn url(&self, path: &[&str]) -> Result<Url, ApiError> {
        // `url` drops `.` and `..` segments, which would change the route.
        if let Some(bad) = path.iter().find(|s| matches!(**s, "" | "." | "..")) {
            return Err(ApiError::BadSegment((*bad).to_owned()));
        }
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        Ok(url)
    }
}

/// Checks an api base URL: http or https, a host, no query or fragment.
pub fn parse_base(base: &str) -> Result<Url, ApiError> {
    let bad = |reason: &str| ApiError::BadUrl {
        url: base.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(base).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(bad("a host is required"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("no query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("no credentials in the URL"));
    }
    Ok(url)
}

/// A transport failure as one line naming the api and the innermost cause.
fn transport(base: &Url, error: &reqwest::Error) -> ApiError {
    let cause = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        innermost(error)
    };
    ApiError::Transport {
        url: base.as_str().trim_end_matches('/').to_owned(),
        cause,
    }
}

async fn ok_or_problem(response: Response) -> Result<Response, ApiError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(ApiError::Problem(Problem::from_response(response).await))
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ApiError::Unexpected(innermost(&e)))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Unexpected(e.to_string()))
}

/// The last error of the source chain: the one a person can act on.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

#[cfg(test)]
mod tests;

//! The client against a scripted HTTP server: refresh, retry and error lines.

use std::sync::{Arc, Mutex};

use std::os::unix::fs::PermissionsExt as _;

use chrono::Duration as Delta;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// A request the fake server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    bearer: Option<String>,
    body: String,
}

/// Answers each connection with the next scripted reply, then closes it.
struct Fake {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(replies: Vec<(u16, &'static str)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            for (status, body) in replies {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let request = read_request(&mut sock).await;
                log.lock().unwrap().push(request);
                let reason = StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("X");
                let kind = if status < 400 {
                    "application/json"
                } else {
                    "application/problem+json"
                };
                let head = format!(
                    "HTTP/1.1 {status} {reason}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        });
        Self { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn read_request(sock: &mut TcpStream) -> Seen {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the request ended");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap().split(' ');
    let method = first.next().unwrap().to_owned();
    let path = first.next().unwrap().to_owned();
    let mut length = 0;
    let mut bearer = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "authorization" => bearer = value.trim().strip_prefix("Bearer ").map(str::to_owned),
            _ => {}
        }
    }
    while buf.len() < head_end + length {
        let n = sock.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the body ended");
        buf.extend_from_slice(&chunk[..n]);
    }
    Seen {
        method,
        path,
        bearer,
        body: String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string(),
    }
}

const NEW_PAIR: &str =
    r#"{"access_token":"a2","refresh_token":"r2","token_type":"Bearer","expires_in":900}"#;

fn session(url: &str, access_valid_for: Delta) -> Session {
    Session {
        url: url.to_owned(),
        username: "admin".to_owned(),
        access_token: SecretString::from("a1"),
        refresh_token: SecretString::from("r1"),
        access_expires_at: Utc::now() + access_valid_for,
    }
}

fn client_with_session(
    fake: &Fake,
    access_valid_for: Delta,
) -> (ApiClient, SessionFile, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = SessionFile::new(dir.path().join("session.json"));
    let s = session(&fake.base, access_valid_for);
    file.save(&s).unwrap();
    let auth = Auth::Session {
        session: s,
        file: file.clone(),
    };
    (ApiClient::new(&fake.base, auth).unwrap(), file, dir)
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_first_and_the_new_pair_saved() {
    let fake = Fake::start(vec![(200, NEW_PAIR), (200, r#"{"ok":true}"#)]).await;
    let (mut api, file, _dir) = client_with_session(&fake, Delta::minutes(-1));
    let got: Value = api.get(&["api", "v1", "users"], &[]).await.unwrap();
    assert_eq!(got, json!({"ok": true}));

    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/api/v1/auth/refresh")
    );
    assert_eq!(seen[0].body, r#"{"refresh_token":"r1"}"#);
    assert_eq!(seen[0].bearer, None, "the refresh call carries no bearer");
    assert_eq!(seen[1].path, "/api/v1/users");
    assert_eq!(seen[1].bearer.as_deref(), Some("a2"));

    let stored = file.load().unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "a2");
    assert_eq!(stored.refresh_token.expose_secret(), "r2");
    assert!(!stored.access_expired(Utc::now()));
    assert!(!file.too_open());
    let lock = file.path().with_file_name("session.json.lock");
    assert_eq!(
        std::fs::metadata(lock).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries_once() {
    let unauthorized = r#"{"type":"https://opsconductor.dev/problems/unauthorized","title":"Unauthorized","status":401,"detail":"The token has expired."}"#;
    let fake = Fake::start(vec![
        (401, unauthorized),
        (200, NEW_PAIR),
        (401, unauthorized),
    ])
    .await;
    let (mut api, _file, _dir) = client_with_session(&fake, Delta::minutes(10));
    let e = api
        .get::<Value>(&["api", "v1", "users"], &[])
        .await
        .unwrap_err();
    assert!(matches!(e, ApiError::SessionExpired), "{e:?}");
    let seen = fake.seen();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/api/v1/users", "/api/v1/auth/refresh", "/api/v1/users"]
    );
    assert_eq!(seen[0].bearer.as_deref(), Some("a1"));
    assert_eq!(seen[2].bearer.as_deref(), Some("a2"));
}

#[tokio::test]
async fn a_refused_refresh_asks_to_log_in_again() {
    let fake = Fake::start(vec![(401, r#"{"title":"Unauthorized","status":401}"#)]).await;
    let (mut api, _file, _dir) = client_with_session(&fake, Delta::minutes(-1));
    let e = api.delete(&["api", "v1", "users", "7"]).await.unwrap_err();
    assert!(matches!(e, ApiError::SessionExpired), "{e:?}");
    assert!(e.to_string().contains("run `opsconductor login`"));
    assert_eq!(fake.seen().len(), 1, "the request itself is not sent");
}

#[tokio::test]
async fn a_pair_another_command_saved_is_adopted_without_refreshing() {
    let fake = Fake::start(vec![
        (401, r#"{"title":"Unauthorized","status":401}"#),
        (204, ""),
    ])
    .await;
    let (mut api, file, _dir) = client_with_session(&fake, Delta::minutes(10));
    // Another command refreshed meanwhile: the file holds a newer pair, and
    // sending the spent refresh token again would get the session revoked.
    let mut newer = session(&fake.base, Delta::minutes(10));
    newer.update(serde_json::from_str(NEW_PAIR).unwrap(), Utc::now());
    file.save(&newer).unwrap();

    api.delete(&["api", "v1", "users", "7"]).await.unwrap();
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "no refresh call: {seen:?}");
    assert_eq!(
        (seen[1].method.as_str(), seen[1].bearer.as_deref()),
        ("DELETE", Some("a2"))
    );
}

#[tokio::test]
async fn an_api_token_is_sent_as_is_and_never_refreshed() {
    let fake = Fake::start(vec![(
        403,
        r#"{"title":"Forbidden","status":403,"detail":"Admins only."}"#,
    )])
    .await;
    let mut api = ApiClient::new(&fake.base, Auth::Token(SecretString::from("opsc_tok"))).unwrap();
    let body = json!({"username": "x"});
    let e = api
        .send::<Value>(Method::POST, &["api", "v1", "users"], &body)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "Forbidden: Admins only.");
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].bearer.as_deref(), Some("opsc_tok"));
    assert_eq!(seen[0].body, r#"{"username":"x"}"#);
    assert!(
        !format!("{api:?}").contains("opsc_tok"),
        "Debug hides the token"
    );
}

#[tokio::test]
async fn login_reports_mfa_required_and_sends_no_bearer() {
    let fake = Fake::start(vec![(
        401,
        r#"{"type":"https://opsconductor.dev/problems/mfa-required","title":"Code required","status":401}"#,
    )])
    .await;
    let api = ApiClient::new(&fake.base, Auth::None).unwrap();
    let Err(ApiError::Problem(p)) = api.login(&json!({"username": "a", "password": "b"})).await
    else {
        panic!("expected a problem");
    };
    assert!(p.is_mfa_required());
    assert_eq!(fake.seen()[0].path, "/api/v1/auth/login");
    assert_eq!(fake.seen()[0].bearer, None);
}

#[tokio::test]
async fn nothing_listening_is_one_line_naming_the_url() {
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut api = ApiClient::new(&base, Auth::Token(SecretString::from("opsc_tok"))).unwrap();
    let e = api
        .get::<Value>(&["api", "v1", "users"], &[])
        .await
        .unwrap_err();
    let line = e.to_string();
    assert!(
        line.starts_with(&format!("cannot reach the api at {base}: ")),
        "{line}"
    );
    assert!(!line.contains('\n') && !line.contains("opsc_tok"), "{line}");
}

#[test]
fn problems_read_as_one_line() {
    let p = Problem::from_parts(
        StatusCode::TOO_MANY_REQUESTS,
        Some(30),
        br#"{"type":"x/too-many","title":"Too Many Requests","status":429,"detail":"Too many attempts."}"#,
    );
    assert_eq!(
        p.to_string(),
        "Too Many Requests: Too many attempts. (retry after 30 s)"
    );

    let p = Problem::from_parts(StatusCode::BAD_GATEWAY, None, b"<html>proxy</html>");
    assert_eq!(p.to_string(), "Bad Gateway");

    let p = Problem::from_parts(
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        br#"{"title":"Internal Server Error","status":500,"request_id":"req-1"}"#,
    );
    assert_eq!(p.to_string(), "Internal Server Error (request id req-1)");

    let p = Problem::from_parts(
        StatusCode::BAD_REQUEST,
        None,
        br#"{"title":"Bad\nRequest","status":400,"detail":"\u001b[31mred"}"#,
    );
    assert!(!p.to_string().contains(['\n', '\u{1b}']), "{p}");
    assert!(!p.is_mfa_required());
}

#[test]
fn ids_cannot_change_the_route() {
    let api = ApiClient::new("http://h:1/opsc/", Auth::None).unwrap();
    let url = api.url(&["api", "v1", "users", "a/b?c#d"]).unwrap();
    assert_eq!(url.as_str(), "http://h:1/opsc/api/v1/users/a%2Fb%3Fc%23d");
    for bad in ["..", ".", ""] {
        assert!(matches!(
            api.url(&["api", "v1", "users", bad]),
            Err(ApiError::BadSegment(_))
        ));
    }
}

#[test]
fn base_urls_are_checked() {
    assert!(parse_base("http://127.0.0.1:8080").is_ok());
    assert!(parse_base("https://ops.example/prefix").is_ok());
    for bad in [
        "127.0.0.1:8080",
        "ftp://h",
        "http://h/?q=1",
        "http://u:p@h",
        "nonsense",
    ] {
        assert!(parse_base(bad).is_err(), "{bad}");
    }
}

//! The console as the api serves it (embedded, or from `http.console_dir`)
//! and the console's cookie sign-in, against the real api.

use reqwest::Method;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

use crate::harness::{ApiServer, TEST_ADMIN_PASSWORD};

const MARK: (&str, &str) = ("X-OpsConductor-Console", "1");

fn header_of(h: &HeaderMap, name: header::HeaderName) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A fake build: an index and one hashed asset.
fn dist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("assets")).expect("assets dir");
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><div id=\"root\"></div><script type=\"module\" src=\"/assets/app-4f2a.js\"></script>",
    )
    .expect("index");
    std::fs::write(dir.path().join("assets/app-4f2a.js"), "console.log(1)").expect("asset");
    std::fs::write(dir.path().join("favicon.svg"), "<svg/>").expect("favicon");
    dir
}

#[tokio::test]
async fn a_console_folder_is_served_with_routes_falling_back_to_the_index() {
    let dir = dist();
    let path = dir.path().display().to_string();
    let api = ApiServer::start(&[("OPSC_HTTP_CONSOLE_DIR", &path)]).await;
    let get = |p: &str| api.req(Method::GET, p, None).send();

    let res = get("/").await.expect("GET /");
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert!(header_of(&h, header::CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header_of(&h, header::CACHE_CONTROL), "no-cache");
    assert!(header_of(&h, header::CONTENT_SECURITY_POLICY).contains("default-src 'self'"));
    assert!(res.text().await.unwrap_or_default().contains("id=\"root\""));

    for route in [
        "/jobs",
        "/runs/0190c0de-0000-7000-8000-000000000000",
        "/admin/audit?x=1",
    ] {
        let res = get(route).await.expect("client route");
        assert_eq!(res.status(), 200, "{route}");
        assert!(
            res.text().await.unwrap_or_default().contains("id=\"root\""),
            "{route}"
        );
    }

    let res = get("/assets/app-4f2a.js").await.expect("asset");
    assert_eq!(res.status(), 200);
    assert_eq!(
        header_of(res.headers(), header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert!(header_of(res.headers(), header::CONTENT_TYPE).starts_with("text/javascript"));
    assert_eq!(get("/favicon.svg").await.expect("favicon").status(), 200);

    // Missing files are 404, never the index; /api/ stays problem+json.
    for missing in [
        "/assets/gone-1234.js",
        "/robots.txt",
        "/assets/nested/route",
    ] {
        let res = get(missing).await.expect("missing");
        assert_eq!(res.status(), 404, "{missing}");
    }
    for api_path in ["/api/v1/nope", "/api/nope", "/api"] {
        let res = get(api_path).await.expect("api 404");
        assert_eq!(res.status(), 404, "{api_path}");
        assert!(
            header_of(res.headers(), header::CONTENT_TYPE).starts_with("application/problem+json"),
            "{api_path}"
        );
    }
    // Nothing outside the folder, however the path is spelled.
    for escape in [
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%5c..%5cx",
    ] {
        let res = get(escape).await.expect("escape");
        let body = res.text().await.unwrap_or_default();
        assert!(!body.contains("root:"), "{escape}: {body}");
    }
    let res = api
        .req(Method::POST, "/jobs", None)
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 404, "only GET and HEAD reach the console");
    api.stop().await;
}

#[tokio::test]
async fn the_embedded_console_is_compressed_revalidated_or_explains_how_to_build_it() {
    let api = ApiServer::start(&[]).await;
    let res = api
        .req(Method::GET, "/", None)
        .header(header::ACCEPT_ENCODING, "identity")
        .send()
        .await
        .expect("GET /");
    assert_eq!(res.status(), 200);
    let etag = header_of(res.headers(), header::ETAG);
    let body = res.text().await.unwrap_or_default();
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console/dist/index.html");
    if !built.is_file() {
        assert!(
            body.contains("built without the web console") && body.contains("npm run build"),
            "{body}"
        );
        api.stop().await;
        return;
    }
    assert!(body.contains("id=\"root\""), "the embedded index: {body}");
    assert!(!etag.is_empty(), "the index has an ETag");
    let again = api
        .req(Method::GET, "/", None)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("revalidate");
    assert_eq!(again.status(), 304);

    let script = body
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the index names its script")
        .to_owned();
    assert!(script.starts_with("/assets/"), "{script}");
    let res = api
        .req(Method::GET, &script, None)
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("script");
    assert_eq!(res.status(), 200);
    assert_eq!(header_of(res.headers(), header::CONTENT_ENCODING), "gzip");
    assert_eq!(
        header_of(res.headers(), header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    api.stop().await;
}

/// The console sign-in's answer: status, body and the `Set-Cookie` value.
async fn console_call(
    api: &ApiServer,
    path: &str,
    cookie: Option<&str>,
    body: Option<Value>,
    marked: bool,
) -> (u16, Value, Option<String>) {
    let mut r = api.req(Method::POST, &format!("/api/v1/auth/console/{path}"), None);
    if marked {
        r = r.header(MARK.0, MARK.1);
    }
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, format!("opsc_console_refresh={c}"));
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.expect("console auth call");
    let status = res.status().as_u16();
    let set = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        set,
    )
}

fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn console_sign_in_keeps_the_refresh_token_in_a_strict_http_only_cookie() {
    let api = ApiServer::start(&[]).await;
    let creds = json!({"username": "admin", "password": TEST_ADMIN_PASSWORD});

    // Without the console's header: refused, nothing issued.
    let (s, body, set) = console_call(&api, "login", None, Some(creds.clone()), false).await;
    assert_eq!(s, 400, "{body}");
    assert!(set.is_none());
    let (s, body, _) = console_call(
        &api,
        "login",
        None,
        Some(json!({"username": "admin", "password": "wrong-password-1"})),
        true,
    )
    .await;
    assert_eq!(s, 401, "{body}");

    let (s, body, set) = console_call(&api, "login", None, Some(creds), true).await;
    assert_eq!(s, 200, "{body}");
    assert!(
        body["refresh_token"].is_null(),
        "no refresh token in the body: {body}"
    );
    let access = body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let set = set.expect("a refresh cookie");
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/api/v1/auth/console",
    ] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    let first = cookie_value(&set);
    assert!(!first.is_empty());
    assert_eq!(
        api.call(Method::GET, "/api/v1/auth/verify", Some(&access), None)
            .await
            .0,
        200
    );

    // Refresh rotates the cookie; the old one again is theft and ends it all.
    let (s, body, none) = console_call(&api, "refresh", None, None, true).await;
    assert_eq!(
        (s, none.as_deref().is_some_and(|c| c.contains("Max-Age=0"))),
        (401, true),
        "{body}"
    );
    let (s, body, _) = console_call(&api, "refresh", Some(&first), None, false).await;
    assert_eq!(s, 400, "refresh needs the header too: {body}");
    let (s, body, set) = console_call(&api, "refresh", Some(&first), None, true).await;
    assert_eq!(s, 200, "{body}");
    assert!(body["access_token"].is_string() && body["refresh_token"].is_null());
    let second = cookie_value(&set.expect("a rotated cookie"));
    assert_ne!(second, first);
    let (s, _, set) = console_call(&api, "refresh", Some(&first), None, true).await;
    assert_eq!(s, 401, "a reused cookie is refused");
    assert!(set.is_some_and(|c| c.contains("Max-Age=0")), "and cleared");
    let (s, _, _) = console_call(&api, "refresh", Some(&second), None, true).await;
    assert_eq!(s, 401, "the whole session ended with the reuse");

    // Sign-out ends the session and clears the cookie.
    let (_, body, set) = console_call(
        &api,
        "login",
        None,
        Some(json!({"username": "admin", "password": TEST_ADMIN_PASSWORD})),
        true,
    )
    .await;
    let token = cookie_value(&set.expect("cookie"));
    assert!(body["access_token"].is_string());
    let (s, _, set) = console_call(&api, "logout", Some(&token), None, true).await;
    assert_eq!(s, 204);
    assert!(set.is_some_and(|c| c.contains("Max-Age=0")));
    let (s, _, _) = console_call(&api, "refresh", Some(&token), None, true).await;
    assert_eq!(s, 401, "signed out");
    let (s, _, _) = console_call(&api, "logout", None, None, true).await;
    assert_eq!(s, 204, "signing out twice is harmless");
    api.stop().await;
}

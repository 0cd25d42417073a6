//! The web console at `/`: the files `npm run build` made in
//! `console/dist`, embedded at compile time (see `build.rs`) or, with
//! `http.console_dir`, read from a folder at run time.
//!
//! Hashed files under `assets/` are cached for a year, immutably;
//! `index.html` is revalidated on every load (so a new build is picked up
//! at once). Any other path that names no file and has no file extension
//! is a client-side route and gets `index.html`. `/api/…` paths never come
//! here: they answer problem+json 404 (see [`crate::http::router`]).

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::http::problem;

/// One embedded file.
#[derive(Debug)]
struct Asset {
    /// Path under `dist/`, e.g. `assets/index-3f2a.js`.
    path: &'static str,
    media_type: &'static str,
    /// A strong validator from the content.
    etag: &'static str,
    body: &'static [u8],
    /// The body gzipped, when that is smaller.
    gzip: Option<&'static [u8]>,
}

static EMBEDDED: &[Asset] = include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// Where the console's files come from.
#[derive(Debug, Clone)]
pub enum Console {
    /// Compiled into the binary (maybe empty: no console was built).
    Embedded,
    /// Read from this folder on each request (development, tests).
    Dir(PathBuf),
}

/// The page a binary built without the console serves at `/`.
const NOT_BUILT: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>OpsConductor</title></head>
<body><main>
<h1>OpsConductor</h1>
<p>The API is running, but this binary was built without the web console.</p>
<p>To add it: run <code>npm ci &amp;&amp; npm run build</code> in <code>console/</code>, then
<code>cargo build</code> again (the build embeds <code>console/dist</code>), or point
<code>OPSC_HTTP_CONSOLE_DIR</code> at a built <code>console/dist</code>.
<code>./deploy/quickstart.sh</code> does all of it.</p>
<p>The API reference is at <a href=\"/api/docs\">/api/docs</a>.</p>
</main></body></html>
";

impl Console {
    /// From the typed settings.
    pub fn from_config(dir: Option<&Path>) -> Self {
        dir.map_or(Self::Embedded, |d| Self::Dir(d.to_path_buf()))
    }

    /// Whether this binary carries a built console.
    pub fn embedded() -> bool {
        EMBEDDED.iter().any(|a| a.path == "index.html")
    }

    /// Answers a request for a path outside `/api/`.
    pub async fn serve(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return problem::not_found(method.clone(), uri.clone(), headers.clone())
                .await
                .into_response();
        }
        let Some(rel) = relative(uri.path()) else {
            return problem::not_found(method.clone(), uri.clone(), headers.clone())
                .await
                .into_response();
        };
        let found = match self {
            Self::Embedded => embedded(&rel, headers),
            Self::Dir(dir) => from_dir(dir, &rel).await,
        };
        if let Some(res) = found {
            return res;
        }
        let route_like = !rel.rsplit('/').next().unwrap_or("").contains('.');
        if route_like && !rel.starts_with("assets/") {
            let index = match self {
                Self::Embedded => embedded("index.html", headers),
                Self::Dir(dir) => from_dir(dir, "index.html").await,
            };
            return index.unwrap_or_else(not_built);
        }
        problem::not_found(method.clone(), uri.clone(), headers.clone())
            .await
            .into_response()
    }
}

/// The path under `dist/`, `index.html` for `/`; `None` for anything that
/// could leave the folder.
fn relative(path: &str) -> Option<String> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() {
        return Some("index.html".to_owned());
    }
    let ok = Path::new(rel)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    (ok && !rel.contains('\\')).then(|| rel.to_owned())
}

fn cache_control(rel: &str) -> &'static str {
    if rel.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.trim().split(';');
            parts.next().is_some_and(|e| e.trim() == "gzip")
                && !parts.any(|q| q.trim().replace(' ', "") == "q=0")
        })
}

fn embedded(rel: &str, headers: &HeaderMap) -> Option<Response> {
    let asset = EMBEDDED.iter().find(|a| a.path == rel)?;
    let base = [
        (header::CACHE_CONTROL, cache_control(rel)),
        (header::ETAG, asset.etag),
        (header::VARY, "accept-encoding"),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == asset.etag));
    if fresh {
        return Some((StatusCode::NOT_MODIFIED, base).into_response());
    }
    let mut res = match asset.gzip.filter(|_| accepts_gzip(headers)) {
        Some(gz) => {
            let mut res = (base, Body::from(gz)).into_response();
            res.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            res
        }
        None => (base, Body::from(asset.body)).into_response(),
    };
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.media_type),
    );
    Some(res)
}

fn media_type_of(rel: &str) -> &'static str {
    match rel.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn from_dir(dir: &Path, rel: &str) -> Option<Response> {
    let path = dir.join(rel);
    let meta = tokio::fs::metadata(&path).await.ok()?;
    if !meta.is_file() {
        return None;
    }
    let bytes = tokio::fs::read(&path).await.ok()?;
    Some(
        (
            [
                (header::CONTENT_TYPE, media_type_of(rel)),
                (header::CACHE_CONTROL, cache_control(rel)),
            ],
            bytes,
        )
            .into_response(),
    )
}

fn not_built() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        NOT_BUILT,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_folder() {
        assert_eq!(relative("/").as_deref(), Some("index.html"));
        assert_eq!(relative("/jobs/new").as_deref(), Some("jobs/new"));
        assert_eq!(relative("/assets/a-1.js").as_deref(), Some("assets/a-1.js"));
        assert_eq!(relative("/../etc/passwd"), None);
        assert_eq!(relative("/assets/../../x"), None);
        assert_eq!(relative("/a\\..\\b"), None);
    }

    #[test]
    fn gzip_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&h));
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("x-gzip"));
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn hashed_files_are_immutable_and_the_index_is_revalidated() {
        assert_eq!(
            cache_control("assets/index-abc.js"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control("index.html"), "no-cache");
    }
}

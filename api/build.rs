//! Embeds the built console (`console/dist`, made by `npm run build`) into
//! the api: every file with its media type, a gzip copy when that is
//! smaller, and a strong ETag. Without a built console the table is empty
//! and `/` says how to build it, so a machine without Node still builds.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use sha2::{Digest, Sha256};

fn media_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let console = manifest.join("../console");
    let dist = console.join("dist");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    // Watching a missing path would rerun this script on every build; the
    // console folder changes when dist/ appears.
    if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
    } else if console.is_dir() {
        println!("cargo:rerun-if-changed={}", console.display());
    }

    let mut found = Vec::new();
    if dist.join("index.html").is_file() {
        files(&dist, &mut found);
    }
    found.sort();
    let mut table = String::from("&[\n");
    for (i, path) in found.iter().enumerate() {
        let rel = path
            .strip_prefix(&dist)
            .expect("under dist")
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = fs::read(path).expect("read a console file");
        let hex = format!("{:x}", Sha256::digest(&bytes));
        let etag = format!("\"{}\"", &hex[..20]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let gz_expr = if gz.len() + 64 < bytes.len() {
            let gz_path = out_dir.join(format!("console-{i}.gz"));
            fs::write(&gz_path, &gz).expect("write gzip copy");
            format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
        } else {
            "None".to_owned()
        };
        let _ = writeln!(
            table,
            "    Asset {{ path: {rel:?}, media_type: {:?}, etag: {etag:?}, body: include_bytes!({:?}), gzip: {gz_expr} }},",
            media_type(path),
            path.display().to_string()
        );
    }
    table.push(']');
    fs::write(out_dir.join("console_assets.rs"), table).expect("write console_assets.rs");
}

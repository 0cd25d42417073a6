//! Running `playwright test` in `console/`: its prerequisites, which spec
//! files, and its output streamed as it comes (the last lines kept for the
//! failure message).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::Command;

/// How long every journey together may take.
const WHOLE_RUN: Duration = Duration::from_secs(30 * 60);
/// Lines of Playwright's output kept for the failure message.
const TAIL_LINES: usize = 200;
const HOW: &str = "run the suite with ./deploy/test.sh, which installs Debian's chromium, \
                   runs `npm ci` and `npm run build` in console/";

/// What the browser run needs, found on this machine.
#[derive(Debug)]
pub struct Prerequisites {
    /// The `console/` folder of this checkout.
    pub console: PathBuf,
    /// The Chromium binary (`CHROMIUM`, default `/usr/bin/chromium`).
    pub chromium: PathBuf,
}

impl Prerequisites {
    /// The prerequisites, or what is missing and how to get it.
    pub fn check() -> Result<Self, String> {
        let console = Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
        let chromium = std::env::var_os("CHROMIUM")
            .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
        let mut missing = Vec::new();
        if !console.join("dist/index.html").is_file() {
            missing.push(format!(
                "the built console ({}/dist/index.html): `npm run build` in console/",
                console.display()
            ));
        }
        if !console.join("node_modules/.bin/playwright").is_file() {
            missing.push(format!(
                "Playwright ({}/node_modules): `npm ci` in console/",
                console.display()
            ));
        }
        if !chromium.is_file() {
            missing.push(format!(
                "Chromium ({}): `apt-get install chromium` (or set CHROMIUM)",
                chromium.display()
            ));
        }
        if missing.is_empty() {
            Ok(Self { console, chromium })
        } else {
            Err(format!(
                "the browser journeys cannot run; missing:\n  - {}\n{HOW}",
                missing.join("\n  - ")
            ))
        }
    }
}

/// The spec files to run: those `OPSC_CONSOLE_SPECS` names (`shell,jobs`
/// means `e2e/shell.spec.ts` and `e2e/jobs.spec.ts`), else all.
#[derive(Debug)]
pub struct Specs(Vec<String>);

impl Specs {
    /// Reads `OPSC_CONSOLE_SPECS`; a name without a spec file is an error
    /// listing the ones there are.
    pub fn from_env(console: &Path) -> Result<Self, String> {
        let Ok(list) = std::env::var("OPSC_CONSOLE_SPECS") else {
            return Ok(Self(Vec::new()));
        };
        let mut files = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let ok = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            let file = format!("e2e/{name}.spec.ts");
            if !ok || !console.join(&file).is_file() {
                return Err(format!(
                    "OPSC_CONSOLE_SPECS names {name:?}, which has no console/{file}; there are: {}",
                    available(console).join(", ")
                ));
            }
            files.push(file);
        }
        Ok(Self(files))
    }
}

fn available(console: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(console.join("e2e"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".spec.ts"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// Whether every journey passed.
    pub passed: bool,
    /// The exit status, as a sentence.
    pub status: String,
    /// The last lines Playwright printed.
    pub tail: String,
}

/// Runs `playwright test` in `console/` against the installation the
/// fixture file describes, printing its output line by line.
pub async fn run(pre: &Prerequisites, specs: &Specs, fixture: &Path) -> Outcome {
    let mut cmd = Command::new(pre.console.join("node_modules/.bin/playwright"));
    cmd.arg("test")
        .args(&specs.0)
        .current_dir(&pre.console)
        .env("OPSC_E2E_FIXTURE", fixture)
        .env("CHROMIUM", &pre.chromium)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .env("FORCE_COLOR", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                passed: false,
                status: format!("playwright did not start: {e}"),
                tail: HOW.to_owned(),
            };
        }
    };
    let lines = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn AsyncRead + Send + Unpin>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn AsyncRead + Send + Unpin>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| tokio::spawn(echo(stream, lines.clone())))
    .collect();
    let status = match tokio::time::timeout(WHOLE_RUN, child.wait()).await {
        Ok(Ok(s)) if s.success() => None,
        Ok(Ok(s)) => Some(format!("playwright exited with {s}")),
        Ok(Err(e)) => Some(format!("waiting for playwright failed: {e}")),
        Err(_) => {
            let _ = child.kill().await;
            Some(format!(
                "playwright still ran after {WHOLE_RUN:?} and was killed"
            ))
        }
    };
    for r in readers {
        let _ = r.await;
    }
    let tail = lines
        .lock()
        .map(|l| l.iter().cloned().collect::<Vec<_>>().join("\n"))
        .unwrap_or_default();
    Outcome {
        passed: status.is_none(),
        status: status.unwrap_or_else(|| "passed".to_owned()),
        tail,
    }
}

async fn echo(stream: Box<dyn AsyncRead + Send + Unpin>, keep: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("{line}");
        if let Ok(mut k) = keep.lock() {
            if k.len() == TAIL_LINES {
                k.pop_front();
            }
            k.push_back(line);
        }
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

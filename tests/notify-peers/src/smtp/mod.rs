//! [`SmtpPeer`]: the real SMTP server `aiosmtpd` (Python, from the test
//! venv), started per test on a free loopback port with STARTTLS, implicit
//! TLS or none and optional authentication, with a certificate made for
//! the test by its own CA (see [`SmtpPeer::ca_pem`]).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use mail_parser::MimeHeaders as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde::Deserialize;
use tokio::process::{Child, Command};

const SCRIPT: &str = include_str!("peer.py");

/// How the peer secures SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP.
    None,
    /// STARTTLS offered and required before MAIL.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Implicit,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct SmtpMessage {
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub rcpt_to: Vec<String>,
    /// The raw message as received.
    pub raw: String,
    /// Whether the session was under TLS when the message came.
    pub tls: bool,
    /// The user the session authenticated as.
    pub auth_user: Option<String>,
    /// `Subject:`, decoded.
    pub subject: Option<String>,
    /// `Message-ID:` without the angle brackets.
    pub message_id: Option<String>,
    /// The raw `From:` / `To:` header values.
    pub from_header: Option<String>,
    /// The raw `To:` header value.
    pub to_header: Option<String>,
    /// The `text/plain` part, decoded.
    pub text: Option<String>,
    /// The `text/html` part, decoded (only when the message has one).
    pub html: Option<String>,
    /// The top-level content type, e.g. `multipart/alternative`.
    pub content_type: Option<String>,
}

#[derive(Deserialize)]
struct Record {
    mail_from: String,
    rcpt_tos: Vec<String>,
    data: String,
    tls: bool,
    auth_user: Option<String>,
}

/// A running aiosmtpd; stopped when dropped.
#[derive(Debug)]
pub struct SmtpPeer {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    ca_pem: Option<String>,
}

/// The Python of the test venv: `OPSC_TEST_PYTHON`, else
/// `$OPSCONDUCTOR_TEST_VENV/bin/python`, else the default venv of
/// `deploy/lib/services.sh`, else `python3`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("OPSC_TEST_PYTHON") {
        return p.into();
    }
    if let Some(v) = std::env::var_os("OPSCONDUCTOR_TEST_VENV") {
        return PathBuf::from(v).join("bin/python");
    }
    let state = std::env::var_os("OPSCONDUCTOR_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_STATE_HOME").map(|s| PathBuf::from(s).join("opsconductor"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/opsconductor"))
        });
    if let Some(p) = state.map(|s| s.join("test-venv/bin/python"))
        && p.exists()
    {
        return p;
    }
    "python3".into()
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A CA and a server certificate for `localhost` and `127.0.0.1`:
/// (CA PEM, server certificate PEM, server key PEM).
pub fn test_certificates() -> anyhow::Result<(String, String, String)> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "OpsConductor test CA");
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &issuer)?;
    Ok((ca.pem(), cert.pem(), key.serialize_pem()))
}

impl SmtpPeer {
    /// Starts aiosmtpd on a free loopback port and waits until it listens.
    pub async fn start(tls: SmtpTls, auth: Option<(&str, &str)>) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("peer.py");
        std::fs::write(&script, SCRIPT)?;
        let out = dir.path().join("messages");
        std::fs::create_dir(&out)?;
        let port = free_port()?;
        let mut cmd = Command::new(python());
        cmd.arg(&script).arg(&out).arg(port.to_string());
        let mut ca_pem = None;
        match tls {
            SmtpTls::None => {
                cmd.arg("none");
            }
            SmtpTls::Starttls | SmtpTls::Implicit => {
                let (ca, cert, key) = test_certificates()?;
                let cert_path = dir.path().join("server.pem");
                let key_path = dir.path().join("server.key");
                std::fs::write(&cert_path, cert)?;
                std::fs::write(&key_path, key)?;
                cmd.arg(if tls == SmtpTls::Starttls {
                    "starttls"
                } else {
                    "implicit"
                })
                .arg(&cert_path)
                .arg(&key_path);
                ca_pem = Some(ca);
            }
        }
        if let Some((user, pass)) = auth {
            cmd.arg(user).arg(pass);
        }
        let log = std::fs::File::create(dir.path().join("peer.log"))?;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {} (aiosmtpd)", python().display()))?;
        let ready = out.join("ready");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !ready.exists() {
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(dir.path().join("peer.log")).unwrap_or_default();
                bail!("aiosmtpd exited ({status}): {log}");
            }
            if tokio::time::Instant::now() > deadline {
                bail!("aiosmtpd did not start within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        std::fs::remove_file(&ready)?;
        Ok(Self {
            child,
            dir,
            port,
            ca_pem,
        })
    }

    /// The port (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host to connect to.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The PEM of the CA that signed the server's certificate (TLS modes).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The server's log (aiosmtpd's stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("peer.log")).unwrap_or_default()
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> anyhow::Result<Vec<SmtpMessage>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("messages"))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let r: Record = serde_json::from_slice(&std::fs::read(&p)?)?;
                Ok(parse(r))
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived (or `timeout` passed) and
    /// returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> anyhow::Result<Vec<SmtpMessage>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let m = self.messages()?;
            if m.len() >= n {
                return Ok(m);
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "{} message(s) after {timeout:?}, wanted {n}; log: {}",
                    m.len(),
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn parse(r: Record) -> SmtpMessage {
    let parsed = mail_parser::MessageParser::default().parse(r.data.as_bytes());
    let (subject, message_id, from_header, to_header, text, html, content_type) = match &parsed {
        Some(m) => {
            let ct = m.content_type().map(|c| match c.subtype() {
                Some(sub) => format!("{}/{sub}", c.ctype()),
                None => c.ctype().to_owned(),
            });
            let has_html = m.html_body_count() > 0
                && m.html_part(0)
                    .and_then(|p| p.content_type())
                    .is_some_and(|c| c.subtype() == Some("html"));
            (
                m.subject().map(str::to_owned),
                m.message_id().map(str::to_owned),
                m.header_raw("From").map(|s| s.trim().to_owned()),
                m.header_raw("To").map(|s| s.trim().to_owned()),
                m.body_text(0).map(|s| s.into_owned()),
                if has_html {
                    m.body_html(0).map(|s| s.into_owned())
                } else {
                    None
                },
                ct,
            )
        }
        None => (None, None, None, None, None, None, None),
    };
    SmtpMessage {
        mail_from: r.mail_from,
        rcpt_to: r.rcpt_tos,
        raw: r.data,
        tls: r.tls,
        auth_user: r.auth_user,
        subject,
        message_id,
        from_header,
        to_header,
        text,
        html,
        content_type,
    }
}

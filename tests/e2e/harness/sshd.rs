//! A real OpenSSH `sshd` of the test's own on a loopback port, with key and
//! password logins and the SFTP subsystem, killed on drop.
//!
//! It logs in the machine's test account (`OPSC_TEST_SSH_USER`, password
//! `OPSC_TEST_SSH_PASSWORD`, both set up by `deploy/test.sh`) and reads
//! authorised keys from its own folder, so nothing on the machine changes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Passphrase of [`Sshd::key_protected`].
pub const KEY_PASSPHRASE: &str = "correct horse battery staple";

/// A running sshd and the client keys it trusts.
#[derive(Debug)]
pub struct Sshd {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The test account.
    pub user: String,
    /// The test account's password.
    pub password: String,
    dir: tempfile::TempDir,
    child: Option<Child>,
    host_key_generation: u32,
    max_sessions: u32,
    ignore_signals: bool,
}

fn sshd_binary() -> PathBuf {
    std::env::var("OPSC_TEST_SSHD").map_or_else(|_| PathBuf::from("/usr/sbin/sshd"), PathBuf::from)
}

fn keygen(path: &Path, kind: &[&str], passphrase: &str) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("pub"));
    let status = Command::new("ssh-keygen")
        .args(kind)
        .args(["-q", "-N", passphrase, "-C", "opsconductor-test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen {kind:?} failed");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

impl Sshd {
    /// Generates keys, writes the configuration and starts sshd.
    pub async fn start() -> Self {
        Self::start_as(100, false).await
    }

    /// An sshd that refuses the SSH `signal` request, as OpenSSH does for
    /// root logins ("session signalling requires privilege separation")
    /// and for forced commands: every command runs through `ForceCommand`,
    /// which `eval`s the requested command in the login shell, so commands
    /// behave as usual but SFTP is not available. At most `max_sessions`
    /// open channels per connection (`MaxSessions`).
    pub async fn start_ignoring_signals(max_sessions: u32) -> Self {
        Self::start_as(max_sessions, true).await
    }

    async fn start_as(max_sessions: u32, ignore_signals: bool) -> Self {
        let user = std::env::var("OPSC_TEST_SSH_USER").unwrap_or_else(|_| "opsc-test".to_owned());
        let password = std::env::var("OPSC_TEST_SSH_PASSWORD")
            .expect("OPSC_TEST_SSH_PASSWORD (run the suite with deploy/test.sh)");
        let dir = tempfile::tempdir().expect("sshd dir");
        set_mode(dir.path(), 0o755);
        let p = dir.path();
        keygen(&p.join("client_plain"), &["-t", "ed25519"], "");
        keygen(
            &p.join("client_protected"),
            &["-t", "ed25519"],
            KEY_PASSPHRASE,
        );
        keygen(
            &p.join("client_rsa_pem"),
            &["-t", "rsa", "-b", "3072", "-m", "PEM"],
            "",
        );
        keygen(&p.join("client_untrusted"), &["-t", "ed25519"], "");
        let authorized: String = ["client_plain", "client_protected", "client_rsa_pem"]
            .iter()
            .map(|k| std::fs::read_to_string(p.join(format!("{k}.pub"))).expect("public key"))
            .collect();
        std::fs::write(p.join("authorized_keys"), authorized).expect("authorized_keys");
        set_mode(&p.join("authorized_keys"), 0o644);
        let mut sshd = Self {
            port: super::free_port(),
            user,
            password,
            dir,
            child: None,
            host_key_generation: 0,
            max_sessions,
            ignore_signals,
        };
        sshd.new_host_key();
        sshd.resume().await;
        sshd
    }

    fn host_key_path(&self) -> PathBuf {
        self.dir.path().join("host_ed25519")
    }

    fn new_host_key(&mut self) {
        self.host_key_generation += 1;
        keygen(&self.host_key_path(), &["-t", "ed25519"], "");
    }

    /// A client private key (OpenSSH or PEM text).
    fn key(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).expect("client key")
    }

    /// An authorised Ed25519 key without passphrase.
    pub fn key_plain(&self) -> String {
        self.key("client_plain")
    }

    /// An authorised Ed25519 key protected by [`KEY_PASSPHRASE`].
    pub fn key_protected(&self) -> String {
        self.key("client_protected")
    }

    /// An authorised RSA key in PEM (PKCS#1) format.
    pub fn key_rsa_pem(&self) -> String {
        self.key("client_rsa_pem")
    }

    /// A valid key the server does not trust.
    pub fn key_untrusted(&self) -> String {
        self.key("client_untrusted")
    }

    /// The host key's `SHA256:` fingerprint as OpenSSH prints it.
    pub fn host_fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(self.host_key_path().with_extension("pub"))
            .output()
            .expect("ssh-keygen -l");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .expect("fingerprint")
            .to_owned()
    }

    /// The host public key line (`ssh-ed25519 AAAA… comment`).
    pub fn host_public_key(&self) -> String {
        std::fs::read_to_string(self.host_key_path().with_extension("pub")).expect("host key")
    }

    /// Restarts sshd on the same port with a freshly generated host key.
    pub async fn change_host_key(&mut self) {
        self.stop();
        self.new_host_key();
        self.resume().await;
    }

    /// Stops sshd (the port then refuses connections).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts sshd again and waits until it accepts connections.
    pub async fn resume(&mut self) {
        let p = self.dir.path();
        let config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {host}\nPidFile none\nUsePAM no\n\
             PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             AuthorizedKeysFile {keys}\nStrictModes no\nPermitRootLogin no\nAllowUsers {user}\n\
             Subsystem sftp internal-sftp\nMaxStartups 500:30:1000\nMaxSessions {max_sessions}\n\
             MaxAuthTries 6\nLoginGraceTime 30\nLogLevel VERBOSE\n{force}",
            port = self.port,
            host = self.host_key_path().display(),
            keys = p.join("authorized_keys").display(),
            user = self.user,
            max_sessions = self.max_sessions,
            force = if self.ignore_signals {
                "ForceCommand eval \"$SSH_ORIGINAL_COMMAND\"\n"
            } else {
                ""
            },
        );
        std::fs::write(p.join("sshd_config"), config).expect("sshd_config");
        let _ = std::fs::create_dir_all("/run/sshd");
        let log = std::fs::File::create(p.join(format!("sshd-{}.log", self.host_key_generation)))
            .expect("sshd log");
        let child = Command::new(sshd_binary())
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(p.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd (is openssh-server installed? run deploy/test.sh)");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        super::wait_until("sshd accepts connections", Duration::from_secs(10), || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.is_ok() }
        })
        .await;
    }

    /// The listening sshd's process id (its connections run in child
    /// processes of it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// sshd's log so far, for failure messages.
    pub fn log(&self) -> String {
        let mut text = String::new();
        for g in 1..=self.host_key_generation {
            text.push_str(
                &std::fs::read_to_string(self.dir.path().join(format!("sshd-{g}.log")))
                    .unwrap_or_default(),
            );
        }
        text
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

//! A test SSH server whose SFTP subsystem serves a fixed tree, sending the
//! names it was given exactly as given — `../escape`, `a/b`, names with
//! NUL — as a hostile or broken target would. It speaks the real wire
//! format (russh's server, russh-sftp's SFTP v3 framing), so the workers'
//! real client is what the tests exercise. Command execution is refused,
//! as on an SFTP-only account.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use russh::keys::PrivateKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, Server as _, Session};
use russh::{Channel, ChannelId};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use tokio::sync::Mutex;

/// One node of the served tree.
#[derive(Debug, Clone)]
pub enum Node {
    /// A directory listing these names, verbatim.
    Dir(Vec<String>),
    /// A file with these bytes.
    File(Vec<u8>),
}

/// The served tree: absolute path → node. A listed name need not have a
/// node of its own (it is shown as a file of 0 bytes).
pub type Tree = BTreeMap<String, Node>;

/// A running peer; stops when dropped.
#[derive(Debug)]
pub struct SftpPeer {
    port: u16,
    host_key: russh::keys::PublicKey,
    task: tokio::task::JoinHandle<()>,
    _keys: tempfile::TempDir,
}

impl Drop for SftpPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SftpPeer {
    /// Starts on a free loopback port; `user` logs in with `password`.
    pub async fn start(user: &str, password: &str, tree: Tree) -> anyhow::Result<Self> {
        let keys = tempfile::tempdir()?;
        let key_path = keys.path().join("host_ed25519");
        let made = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key_path)
            .status()?;
        anyhow::ensure!(made.success(), "ssh-keygen failed");
        let key: PrivateKey = russh::keys::load_secret_key(&key_path, None)?;
        let host_key = key.public_key().clone();
        let config = Arc::new(russh::server::Config {
            keys: vec![key],
            auth_rejection_time: std::time::Duration::from_millis(10),
            auth_rejection_time_initial: Some(std::time::Duration::ZERO),
            ..Default::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let mut server = Peer {
            user: user.to_owned(),
            password: password.to_owned(),
            tree: Arc::new(tree),
        };
        let task = tokio::spawn(async move {
            let _ = server.run_on_socket(config, &listener).await;
        });
        Ok(Self {
            port,
            host_key,
            task,
            _keys: keys,
        })
    }

    /// Its host key (to pin).
    pub fn host_key(&self) -> &russh::keys::PublicKey {
        &self.host_key
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }
}

#[derive(Clone)]
struct Peer {
    user: String,
    password: String,
    tree: Arc<Tree>,
}

impl russh::server::Server for Peer {
    type Handler = Connection;

    fn new_client(&mut self, _: Option<SocketAddr>) -> Connection {
        Connection {
            peer: self.clone(),
            channels: Arc::default(),
        }
    }
}

struct Connection {
    peer: Peer,
    channels: Arc<Mutex<BTreeMap<ChannelId, Channel<Msg>>>>,
}

impl russh::server::Handler for Connection {
    type Error = anyhow::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if user == self.peer.user && password == self.peer.password {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.lock().await.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // As a host without a shell for this account: the command is not found.
        session.channel_success(channel)?;
        session.extended_data(channel, 1, b"sh: command not found\n".to_vec())?;
        session.exit_status_request(channel, 127)?;
        session.eof(channel)?;
        session.close(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let taken = self.channels.lock().await.remove(&channel);
        match taken {
            Some(ch) if name == "sftp" => {
                session.channel_success(channel)?;
                let handler = Sftp {
                    tree: self.peer.tree.clone(),
                    listed: Vec::new(),
                };
                tokio::spawn(russh_sftp::server::run(ch.into_stream(), handler));
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }
}

/// The SFTP side of one channel.
struct Sftp {
    tree: Arc<Tree>,
    /// Directory handles already listed (the next read is the end).
    listed: Vec<String>,
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".to_owned(),
        language_tag: "en-US".to_owned(),
    }
}

impl Sftp {
    fn attrs(&self, path: &str) -> Option<FileAttributes> {
        let mut a = FileAttributes::empty();
        a.mtime = Some(1_700_000_000);
        a.atime = Some(1_700_000_000);
        match self.tree.get(path) {
            Some(Node::Dir(_)) => {
                a.permissions = Some(0o040_755);
                a.size = Some(4096);
            }
            Some(Node::File(bytes)) => {
                a.permissions = Some(0o100_644);
                a.size = Some(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
            }
            None => return None,
        }
        Some(a)
    }
}

impl russh_sftp::server::Handler for Sftp {
    type Error = StatusCode;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: std::collections::HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        Ok(Name {
            id,
            files: vec![File::dummy(path)],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let attrs = self.attrs(&path).ok_or(StatusCode::NoSuchFile)?;
        Ok(Attrs { id, attrs })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        self.stat(id, path).await
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        self.stat(id, handle).await
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        match self.tree.get(&path) {
            Some(Node::Dir(_)) => {
                self.listed.retain(|h| *h != path);
                Ok(Handle { id, handle: path })
            }
            _ => Err(StatusCode::NoSuchFile),
        }
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        if self.listed.contains(&handle) {
            return Err(StatusCode::Eof);
        }
        let Some(Node::Dir(names)) = self.tree.get(&handle) else {
            return Err(StatusCode::NoSuchFile);
        };
        self.listed.push(handle.clone());
        let files = names
            .iter()
            .map(|n| {
                let child = format!("{}/{n}", handle.trim_end_matches('/'));
                let attrs = self.attrs(&child).unwrap_or_else(|| {
                    let mut a = FileAttributes::empty();
                    a.permissions = Some(0o100_644);
                    a.size = Some(0);
                    a.mtime = Some(1_700_000_000);
                    a
                });
                File::new(n.clone(), attrs)
            })
            .collect();
        Ok(Name { id, files })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        if pflags.contains(OpenFlags::WRITE) {
            return Err(StatusCode::PermissionDenied);
        }
        match self.tree.get(&filename) {
            Some(Node::File(_)) => Ok(Handle {
                id,
                handle: filename,
            }),
            _ => Err(StatusCode::NoSuchFile),
        }
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(Node::File(bytes)) = self.tree.get(&handle) else {
            return Err(StatusCode::Failure);
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start >= bytes.len() {
            return Err(StatusCode::Eof);
        }
        let end = bytes.len().min(start + len as usize);
        Ok(Data {
            id,
            data: bytes[start..end].to_vec(),
        })
    }

    async fn close(&mut self, id: u32, _handle: String) -> Result<Status, Self::Error> {
        Ok(ok(id))
    }
}

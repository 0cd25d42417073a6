//! Channels beyond a plain command on a [`Session`]: a subsystem as a byte
//! stream (SFTP), and a command fed from a reader (copies without SFTP).

use russh::ChannelMsg;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use super::session::{Output, Session};

/// Why a subsystem could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SubsystemError {
    /// The server answered the request with a failure (e.g. no
    /// `Subsystem sftp` line in its configuration).
    #[error("the server refused the {0} subsystem")]
    Refused(String),
    /// The connection failed.
    #[error("SSH: {0}")]
    Ssh(#[from] russh::Error),
}

fn append(buf: &mut Vec<u8>, data: &[u8], cap: usize) {
    let room = cap.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

impl Session {
    /// Opens a channel running subsystem `name` (e.g. `sftp`) and returns it
    /// as a byte stream; dropping the stream closes the channel.
    pub async fn subsystem(
        &self,
        name: &str,
    ) -> Result<impl AsyncRead + AsyncWrite + Unpin + Send + 'static, SubsystemError> {
        let mut channel = self.handle.channel_open_session().await?;
        channel.request_subsystem(true, name).await?;
        loop {
            match channel.wait().await {
                Some(ChannelMsg::Success) => break,
                Some(ChannelMsg::Failure) | None => {
                    return Err(SubsystemError::Refused(name.to_owned()));
                }
                Some(_) => {}
            }
        }
        Ok(channel.into_stream())
    }

    /// Runs `command` with `input` as its standard input (then end of file),
    /// keeping at most `cap` bytes of each output stream. `Ok(None)` when
    /// `cancel` fired: the remote command is then killed and the channel
    /// closed.
    ///
    /// When the command exits before reading all of `input`, sending stops
    /// and its output and exit status are returned as they are.
    pub async fn exec_input(
        &self,
        command: &str,
        input: &mut (dyn AsyncRead + Unpin + Send),
        cap: usize,
        cancel: &CancellationToken,
    ) -> Result<Option<Output>, russh::Error> {
        let channel = self.handle.channel_open_session().await?;
        channel.exec(true, command).await?;
        let (mut read, write) = channel.split();
        let send = async {
            write.data(&mut *input).await?;
            write.eof().await
        };
        tokio::pin!(send);
        let mut sending = true;
        let mut send_error = None;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut exit_code = None;
        loop {
            tokio::select! {
                sent = &mut send, if sending => {
                    sending = false;
                    if let Err(e) = sent {
                        // The input failed (or the command is gone): stop the
                        // command rather than let it see a truncated input.
                        send_error = Some(e);
                        let _ = write.signal(russh::Sig::KILL).await;
                        let _ = write.close().await;
                    }
                }
                msg = read.wait() => match msg {
                    None => break,
                    Some(ChannelMsg::Data { data }) => append(&mut stdout, &data, cap),
                    Some(ChannelMsg::ExtendedData { data, .. }) => append(&mut stderr, &data, cap),
                    Some(ChannelMsg::ExitStatus { exit_status }) => exit_code = Some(exit_status),
                    Some(_) => {}
                },
                () = cancel.cancelled() => {
                    let _ = write.signal(russh::Sig::KILL).await;
                    let _ = write.close().await;
                    return Ok(None);
                }
            }
        }
        if let Some(e) = send_error
            && matches!(exit_code, None | Some(0))
        {
            return Err(e);
        }
        Ok(Some(Output {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            exit_code,
        }))
    }
}

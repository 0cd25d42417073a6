//! A subsystem (SFTP) on a channel of a [`Session`], as a byte stream.

use russh::ChannelMsg;
use tokio::io::{AsyncRead, AsyncWrite};

use super::session::Session;

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
}

//! Commands that a step runs on a target and that cancel and timeouts must
//! stop there: each runs in a process group of its own (see [`super::group`]),
//! and stopping it means a second channel running `kill` on that group.
//!
//! A command whose future is dropped (a step timeout drops the step) is
//! stopped in the background; one that is cancelled is stopped before the
//! call returns, and the call says whether that worked.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use russh::client::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Sig};
use tokio::io::AsyncRead;
use tokio_util::sync::CancellationToken;

use super::group::{self, Group, Marker};
use super::session::{Output, Session};
use crate::exec::output::OutputSink;

/// How long a cancelled command may take to report its group.
const REPORT_WAIT: Duration = Duration::from_secs(3);
/// How long the server may take to end a command on the `signal` request
/// when the kill channel failed.
const SIGNAL_WAIT: Duration = Duration::from_secs(2);
/// How long the kill channel may take in all (its script waits up to
/// 2 × [`group::GRACE_SECS`]).
const KILL_WAIT: Duration = Duration::from_secs(10);
/// Standard error kept of the kill script.
const KILL_STDERR_CAP: usize = 1024;

/// A command for [`Session::exec_stream`] and [`Session::exec_input`].
#[derive(Debug, Clone, Copy)]
pub struct RemoteCommand<'a> {
    /// Shell text for the login shell (values already quoted).
    pub line: &'a str,
    /// Run it, and stop it, through `sudo -n`.
    pub sudo: bool,
}

impl RemoteCommand<'_> {
    /// The text sent to the server.
    pub fn text(&self) -> String {
        group::as_user(&group::wrap(self.line), self.sudo)
    }
}

/// How a command run with a cancellation token ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended<T> {
    /// It ended by itself.
    Finished(T),
    /// It was cancelled and its processes on the target are gone.
    Stopped,
    /// It was cancelled, but its processes could not be confirmed stopped:
    /// why (never a secret).
    NotStopped(String),
}

/// A command under way; stops its group in the background when dropped
/// before it ended or was stopped.
struct Running {
    session: Arc<Session>,
    read: Option<ChannelReadHalf>,
    write: Arc<ChannelWriteHalf<Msg>>,
    marker: Marker,
    /// Events read while waiting for the group report.
    queued: VecDeque<Event>,
    sudo: bool,
    /// The channel delivered its end.
    closed: bool,
    /// The command's exit status came.
    exited: bool,
    /// Whether dropping it must stop the command.
    armed: bool,
}

/// One message of a running command, its standard output filtered.
enum Event {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exit(u32),
    Other,
}

impl Running {
    async fn start(
        session: &Arc<Session>,
        command: RemoteCommand<'_>,
    ) -> Result<Self, russh::Error> {
        let (read, write) = session.handle.channel_open_session().await?.split();
        let mut running = Self {
            session: session.clone(),
            read: Some(read),
            write: Arc::new(write),
            marker: Marker::default(),
            queued: VecDeque::new(),
            sudo: command.sudo,
            closed: false,
            exited: false,
            armed: true,
        };
        // Armed before the request: a drop while it is under way still stops it.
        if let Err(e) = running.write.exec(true, command.text()).await {
            running.armed = false;
            return Err(e);
        }
        Ok(running)
    }

    /// The next message; `None` at the end of the channel (held-back output
    /// then comes first).
    async fn next(&mut self) -> Option<Event> {
        if let Some(event) = self.queued.pop_front() {
            return Some(event);
        }
        if self.closed {
            return None;
        }
        let msg = match self.read.as_mut() {
            Some(read) => read.wait().await,
            None => None,
        };
        self.event(msg)
    }

    /// `msg` as an event; at the end of the channel the output held back.
    fn event(&mut self, msg: Option<ChannelMsg>) -> Option<Event> {
        Some(match msg {
            None => {
                self.closed = true;
                self.armed = false;
                let held = self.marker.finish();
                if held.is_empty() {
                    return None;
                }
                Event::Stdout(held)
            }
            Some(ChannelMsg::Data { data }) => Event::Stdout(self.marker.feed(&data)),
            Some(ChannelMsg::ExtendedData { data, .. }) => Event::Stderr(data.to_vec()),
            Some(ChannelMsg::ExitStatus { exit_status }) => {
                // The command is over: what it left running is its business.
                self.exited = true;
                self.armed = false;
                Event::Exit(exit_status)
            }
            Some(ChannelMsg::ExitSignal { .. }) => {
                self.exited = true;
                self.armed = false;
                Event::Other
            }
            Some(_) => Event::Other,
        })
    }

    /// Stops the command: the `signal` request (honoured by some servers),
    /// then its process group killed over a second channel. When that
    /// fails, it counts as stopped only if the server ended the command on
    /// the signal request (OpenSSH signals the session's whole group).
    async fn stop(&mut self) -> Result<(), String> {
        self.armed = false;
        if self.exited {
            return Ok(());
        }
        let _ = self.write.signal(Sig::TERM).await;
        let mut result = self.kill_group().await;
        if result.is_err() {
            let _ = self.write.signal(Sig::KILL).await;
            if self.await_end(SIGNAL_WAIT).await {
                result = Ok(());
            }
        }
        let _ = self.write.close().await;
        result
    }

    /// The reported process group killed over a second channel.
    async fn kill_group(&mut self) -> Result<(), String> {
        match self.await_group().await {
            Some(Group::Known(pgid)) => self.kill(pgid).await,
            Some(Group::Pending) => Err(format!(
                "the target did not report the command's process group within {}s",
                REPORT_WAIT.as_secs()
            )),
            Some(Group::Unavailable) => {
                Err("the target did not report the command's process group".to_owned())
            }
            // The channel ended before any report: nothing runs, unless
            // the connection broke.
            None if self.session.is_open() => Ok(()),
            None => Err("the connection to the target is gone".to_owned()),
        }
    }

    /// Whether the server reports the command's end (exit status or
    /// signal) within `within`; a channel that just ends may be a broken
    /// connection. What it reads meanwhile is queued.
    async fn await_end(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while !self.exited {
            let Some(read) = self.read.as_mut().filter(|_| !self.closed) else {
                return false;
            };
            let Ok(msg) = tokio::time::timeout_at(deadline, read.wait()).await else {
                return false;
            };
            if let Some(event) = self.event(msg) {
                self.queued.push_back(event);
            }
        }
        true
    }

    /// The reported group; `None` when the channel ended without a report.
    /// What it reads meanwhile is queued for [`Self::next`].
    async fn await_group(&mut self) -> Option<Group> {
        let deadline = tokio::time::Instant::now() + REPORT_WAIT;
        loop {
            match self.marker.group() {
                Group::Known(pgid) => return Some(Group::Known(pgid)),
                Group::Unavailable if self.closed => return None,
                Group::Unavailable => return Some(Group::Unavailable),
                Group::Pending if self.closed => return None,
                Group::Pending => {}
            }
            let read = self.read.as_mut()?;
            let Ok(msg) = tokio::time::timeout_at(deadline, read.wait()).await else {
                return Some(Group::Pending);
            };
            if let Some(event) = self.event(msg) {
                self.queued.push_back(event);
            }
        }
    }

    /// Runs the kill script for `pgid` on a new channel.
    async fn kill(&self, pgid: u32) -> Result<(), String> {
        let Some(script) = group::kill_script(pgid) else {
            return Err(format!("the target reported process group {pgid}"));
        };
        if !self.session.is_open() {
            return Err("the connection to the target is gone".to_owned());
        }
        let text = group::as_user(&script, self.sudo);
        match tokio::time::timeout(KILL_WAIT, run_collecting(&self.session, &text)).await {
            Err(_) => Err(format!(
                "kill did not answer within {}s",
                KILL_WAIT.as_secs()
            )),
            Ok(Err(e)) => Err(format!("cannot run kill on the target: {e}")),
            Ok(Ok((Some(0), _))) => Ok(()),
            Ok(Ok((code, stderr))) => {
                let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                Err(match (code, first.trim()) {
                    (Some(c), "") => format!("kill exited with {c}"),
                    (Some(c), m) => format!("{m} (kill exited with {c})"),
                    (None, "") => "kill ended without an exit status".to_owned(),
                    (None, m) => m.to_owned(),
                })
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut rest = Self {
            session: self.session.clone(),
            read: self.read.take(),
            write: self.write.clone(),
            marker: std::mem::take(&mut self.marker),
            queued: VecDeque::new(),
            sudo: self.sudo,
            closed: self.closed,
            exited: self.exited,
            armed: false,
        };
        self.armed = false;
        rt.spawn(async move {
            match rest.stop().await {
                Ok(()) => tracing::info!("Stopped the remote command of an abandoned step."),
                Err(reason) => tracing::warn!(
                    %reason,
                    "The remote command of an abandoned step could not be stopped."
                ),
            }
        });
    }
}

/// Runs `text` (not wrapped) to its end; exit status and standard error.
async fn run_collecting(
    session: &Session,
    text: &str,
) -> Result<(Option<u32>, String), russh::Error> {
    let mut channel = session.handle.channel_open_session().await?;
    channel.exec(true, text).await?;
    let (mut code, mut stderr) = (None, Vec::new());
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::ExtendedData { data, .. } => append(&mut stderr, &data, KILL_STDERR_CAP),
            ChannelMsg::ExitStatus { exit_status } => code = Some(exit_status),
            _ => {}
        }
    }
    Ok((code, String::from_utf8_lossy(&stderr).into_owned()))
}

fn append(buf: &mut Vec<u8>, data: &[u8], cap: usize) {
    let room = cap.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

/// What a cancelled command's stop came to.
fn stopped<T>(result: Result<(), String>) -> Ended<T> {
    match result {
        Ok(()) => Ended::Stopped,
        Err(why) => Ended::NotStopped(why),
    }
}

impl Session {
    /// Runs `command`, streaming its output into `sink`. On `cancel` (and
    /// when the future is dropped) its process group on the target is
    /// stopped. Finished with the exit status, when the server sent one.
    pub async fn exec_stream(
        self: &Arc<Self>,
        command: RemoteCommand<'_>,
        sink: &OutputSink,
        cancel: &CancellationToken,
    ) -> Result<Ended<Option<u32>>, russh::Error> {
        use opsc_proto::events::OutputStream;
        let mut running = Running::start(self, command).await?;
        let mut exit = None;
        loop {
            tokio::select! {
                event = running.next() => match event {
                    None => break,
                    Some(Event::Stdout(data)) if !data.is_empty() => sink.chunk(OutputStream::Stdout, &data).await,
                    Some(Event::Stderr(data)) => sink.chunk(OutputStream::Stderr, &data).await,
                    Some(Event::Exit(code)) => exit = Some(code),
                    Some(_) => {}
                },
                () = cancel.cancelled() => return Ok(stopped(running.stop().await)),
            }
        }
        Ok(Ended::Finished(exit))
    }

    /// Runs `command` with `input` as its standard input (then end of file),
    /// keeping at most `cap` bytes of each output stream. On `cancel` (and
    /// when the future is dropped) its process group on the target is
    /// stopped.
    ///
    /// When the command exits before reading all of `input`, sending stops
    /// and its output and exit status are returned as they are. When the
    /// input fails, the command is stopped rather than left with a
    /// truncated input, and the error returned.
    pub async fn exec_input(
        self: &Arc<Self>,
        command: RemoteCommand<'_>,
        input: &mut (dyn AsyncRead + Unpin + Send),
        cap: usize,
        cancel: &CancellationToken,
    ) -> Result<Ended<Output>, russh::Error> {
        let mut running = Running::start(self, command).await?;
        let write = running.write.clone();
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
                        // The input failed, or the command is gone: stop it
                        // rather than let it see a truncated input, then
                        // read what it said to its end.
                        send_error = Some(e);
                        let _ = running.stop().await;
                    }
                }
                event = running.next() => match event {
                    None => break,
                    Some(Event::Stdout(data)) => append(&mut stdout, &data, cap),
                    Some(Event::Stderr(data)) => append(&mut stderr, &data, cap),
                    Some(Event::Exit(code)) => exit_code = Some(code),
                    Some(Event::Other) => {}
                },
                () = cancel.cancelled() => return Ok(stopped(running.stop().await)),
            }
        }
        if let Some(e) = send_error
            && matches!(exit_code, None | Some(0))
        {
            return Err(e);
        }
        Ok(Ended::Finished(Output {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            exit_code,
        }))
    }
}

//! A running command: a thread of its own writing to stdout and stderr as it
//! goes, which a Receive reads while it runs and a Signal stops.
//!
//! Output is handed out when the command has ended or is blocked (in
//! `Start-Sleep`), never in the middle of a burst of writes, so what one
//! Receive returns does not depend on thread timing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// `STATUS_CONTROL_C_EXIT`: the exit code of a process stopped by Ctrl+C.
pub(crate) const CTRL_C_EXIT: i32 = -1_073_741_510;

#[derive(Debug, Default)]
struct State {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Blocked (sleeping): what it wrote so far may go out.
    blocked: bool,
    exit: Option<i32>,
}

impl State {
    fn has_output(&self) -> bool {
        !self.stdout.is_empty() || !self.stderr.is_empty()
    }
}

/// What one Receive hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// Output written since the last Receive; the command still runs.
    Output { stdout: Vec<u8>, stderr: Vec<u8> },
    /// The command ended with this exit code and everything was received.
    Done(i32),
}

/// Where a command runs: its account, environment and current directory.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub user: String,
    /// Variables by upper-case name: (name as set, value).
    pub env: BTreeMap<String, (String, String)>,
    /// Full path of the current directory.
    pub cwd: String,
}

impl Context {
    pub(crate) fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(&name.to_ascii_uppercase())
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn set_var(&mut self, name: &str, value: Option<String>) {
        let key = name.to_ascii_uppercase();
        match value {
            Some(v) => {
                self.env.insert(key, (name.to_owned(), v));
            }
            None => {
                self.env.remove(&key);
            }
        }
    }
}

/// The running command, as the shell keeps it.
#[derive(Debug)]
pub(crate) struct Process {
    state: Arc<watch::Sender<State>>,
    stop: CancellationToken,
}

/// The command's side: where it writes, and how it learns it must stop.
#[derive(Debug)]
pub(crate) struct Console {
    state: Arc<watch::Sender<State>>,
    stop: CancellationToken,
}

impl Console {
    pub(crate) fn out(&self, bytes: &[u8]) {
        self.state
            .send_modify(|s| s.stdout.extend_from_slice(bytes));
    }

    pub(crate) fn err(&self, bytes: &[u8]) {
        self.state
            .send_modify(|s| s.stderr.extend_from_slice(bytes));
    }

    /// Whether a signal asked it to stop.
    pub(crate) fn stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Sleeps; `false` when a signal cut the sleep short.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        self.state.send_modify(|s| s.blocked = true);
        let until = std::time::Instant::now() + d;
        let mut finished = true;
        while std::time::Instant::now() < until {
            if self.stop.is_cancelled() {
                finished = false;
                break;
            }
            let left = until.saturating_duration_since(std::time::Instant::now());
            std::thread::sleep(left.min(Duration::from_millis(10)));
        }
        self.state.send_modify(|s| s.blocked = false);
        finished
    }
}

/// Sets an exit code even when the command's thread panics.
struct EndGuard(Arc<watch::Sender<State>>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0.send_modify(|s| {
            if s.exit.is_none() {
                s.stderr
                    .extend_from_slice(b"The command crashed in the WinRM test peer.\r\n");
                s.exit = Some(1);
            }
        });
    }
}

impl Process {
    /// Starts `work` on a thread of its own; it returns the exit code.
    /// `stop` (a child of the peer's shutdown) ends it early.
    pub(crate) fn spawn(
        stop: CancellationToken,
        work: impl FnOnce(&Console) -> i32 + Send + 'static,
    ) -> Arc<Process> {
        let (tx, _) = watch::channel(State::default());
        let state = Arc::new(tx);
        let console = Console {
            state: Arc::clone(&state),
            stop: stop.clone(),
        };
        tokio::task::spawn_blocking(move || {
            let guard = EndGuard(Arc::clone(&console.state));
            let code = work(&console);
            console.state.send_modify(|s| s.exit = Some(code));
            drop(guard);
        });
        Arc::new(Process { state, stop })
    }

    /// Waits up to `timeout` for something to hand out; `None` when nothing
    /// came (the caller answers `w:TimedOut`).
    pub(crate) async fn receive(&self, timeout: Duration) -> Option<Chunk> {
        let mut rx = self.state.subscribe();
        let ready = rx.wait_for(|s| s.exit.is_some() || (s.blocked && s.has_output()));
        match tokio::time::timeout(timeout, ready).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return None,
        }
        let mut chunk = None;
        self.state.send_modify(|s| {
            chunk = Some(if s.has_output() {
                Chunk::Output {
                    stdout: std::mem::take(&mut s.stdout),
                    stderr: std::mem::take(&mut s.stderr),
                }
            } else {
                Chunk::Done(s.exit.unwrap_or(1))
            });
        });
        chunk
    }

    /// Asks the command to stop (a Ctrl+C or terminate signal, a deleted
    /// shell); it ends at its next statement or during its sleep.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }

    /// Whether it still runs.
    pub(crate) fn running(&self) -> bool {
        self.state.borrow().exit.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn output_goes_out_when_the_command_blocks_then_ends() {
        let p = Process::spawn(CancellationToken::new(), |c| {
            c.out(b"a\r\n");
            c.sleep(Duration::from_millis(200));
            c.out(b"b\r\n");
            3
        });
        let t = Duration::from_secs(5);
        assert_eq!(
            p.receive(t).await,
            Some(Chunk::Output {
                stdout: b"a\r\n".to_vec(),
                stderr: Vec::new()
            })
        );
        assert_eq!(
            p.receive(t).await,
            Some(Chunk::Output {
                stdout: b"b\r\n".to_vec(),
                stderr: Vec::new()
            })
        );
        assert_eq!(p.receive(t).await, Some(Chunk::Done(3)));
        assert!(!p.running());
    }

    #[tokio::test]
    async fn a_stop_cuts_a_sleep_short_and_silence_times_out() {
        let p = Process::spawn(CancellationToken::new(), |c| {
            if c.sleep(Duration::from_secs(60)) {
                0
            } else {
                CTRL_C_EXIT
            }
        });
        assert_eq!(p.receive(Duration::from_millis(100)).await, None);
        p.stop();
        assert_eq!(
            p.receive(Duration::from_secs(5)).await,
            Some(Chunk::Done(CTRL_C_EXIT))
        );
    }
}

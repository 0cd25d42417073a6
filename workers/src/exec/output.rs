//! Captured output of one step on one target: split into lines, secrets
//! redacted, published live to `<p>.log.<run_id>.<step>`, kept (capped) for
//! later steps' templates, and cut with an explicit marker at the cap.
//!
//! A line longer than [`MAX_LINE`] is published in pieces, but kept whole in
//! the captured text, so a long JSON document printed on one line still
//! parses for `steps.<id>.json`.
//!
//! Each line's JetStream acknowledgement is awaited as it comes, by a task
//! of the sink ([`Acker`]): an acknowledgement not awaited holds one of the
//! client's 5,000 in-flight permits, so holding them all to the step's end
//! stopped a step at its 5,000th line (and every step of the worker with
//! it). [`OutputSink::finish`] still waits until every line is stored.

use std::sync::Mutex;

use opsc_proto::CloudEvent;
use opsc_proto::events::{OutputLine, OutputStream};
use opsc_runtime::bus::Bus;
use opsc_runtime::bus::Pending;
use uuid::Uuid;

use crate::template::needles;

/// Longest line kept; longer lines are split.
const MAX_LINE: usize = 16 * 1024;

#[derive(Default)]
struct State {
    partial: [Vec<u8>; 2],
    line_no: u64,
    bytes: usize,
    truncated: bool,
    stdout: String,
    stderr: String,
    acker: Option<Acker>,
    publish_failed: bool,
}

/// Awaits the acknowledgements of a sink's lines in order, as they come.
struct Acker {
    pending: tokio::sync::mpsc::UnboundedSender<Pending>,
    done: tokio::task::JoinHandle<()>,
}

impl Acker {
    fn start() -> Self {
        let (pending, mut rx) = tokio::sync::mpsc::unbounded_channel::<Pending>();
        let done = tokio::spawn(async move {
            while let Some(ack) = rx.recv().await {
                if let Err(e) = ack.ack().await {
                    tracing::warn!(error = %e, "Output line not acknowledged.");
                }
            }
        });
        Self { pending, done }
    }
}

/// The output sink of one step execution.
pub struct OutputSink {
    /// `None`: capture only (see [`OutputSink::capture_only`]).
    bus: Option<Bus>,
    subject: String,
    run_id: Uuid,
    step_id: String,
    target_id: Option<Uuid>,
    cap: usize,
    /// Every form of the secrets to replace, longest first.
    needles: Vec<String>,
    state: Mutex<State>,
}

impl std::fmt::Debug for OutputSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputSink")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// What a step printed, after it finished.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// Standard output (redacted, capped).
    pub stdout: String,
    /// Standard error (redacted, capped).
    pub stderr: String,
    /// The cap cut the output.
    pub truncated: bool,
    /// Lines published (the last `line_no`).
    pub lines: u64,
}

/// The needles of `secrets` (see [`needles`]).
fn needles_of(secrets: &[String]) -> Vec<String> {
    let s: Vec<&str> = secrets.iter().map(String::as_str).collect();
    needles(&s)
}

/// Replaces every occurrence of each needle in `buf` by `***`.
fn replace_all(buf: &mut Vec<u8>, needles: &[String]) {
    for n in needles {
        let n = n.as_bytes();
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        let mut found = false;
        while i < buf.len() {
            if buf[i..].starts_with(n) {
                out.extend_from_slice(b"***");
                i += n.len();
                found = true;
            } else {
                out.push(buf[i]);
                i += 1;
            }
        }
        if found {
            *buf = out;
        }
    }
}

fn index(stream: OutputStream) -> usize {
    match stream {
        OutputStream::Stdout => 0,
        OutputStream::Stderr => 1,
    }
}

impl OutputSink {
    /// A sink for `step_id` on `target_id` of `run_id`, keeping `cap` bytes.
    pub fn new(
        bus: Bus,
        run_id: Uuid,
        step_id: &str,
        target_id: Option<Uuid>,
        cap: usize,
        secrets: &[String],
    ) -> Self {
        Self {
            subject: bus.subjects.step_log(&run_id.to_string(), step_id),
            bus: Some(bus),
            run_id,
            step_id: step_id.to_owned(),
            target_id,
            cap,
            needles: needles_of(secrets),
            state: Mutex::default(),
        }
    }

    /// A sink that captures, redacts and caps exactly like [`OutputSink::new`]
    /// but publishes nothing: for running a step type outside a run (tests).
    pub fn capture_only(step_id: &str, cap: usize, secrets: &[String]) -> Self {
        Self {
            bus: None,
            subject: String::new(),
            run_id: Uuid::nil(),
            step_id: step_id.to_owned(),
            target_id: None,
            cap,
            needles: needles_of(secrets),
            state: Mutex::default(),
        }
    }

    /// `text` with every secret of this sink replaced, for error texts that
    /// may quote a setting.
    pub fn redact(&self, text: &str) -> String {
        self.needles
            .iter()
            .fold(text.to_owned(), |acc, n| acc.replace(n.as_str(), "***"))
    }

    /// True once the cap cut the output: later lines are dropped.
    pub fn is_full(&self) -> bool {
        self.state.lock().map(|s| s.truncated).unwrap_or(true)
    }

    /// Appends raw bytes of `stream`; complete lines are emitted.
    pub async fn chunk(&self, stream: OutputStream, bytes: &[u8]) {
        let lines = {
            let Ok(mut s) = self.state.lock() else { return };
            let buf = &mut s.partial[index(stream)];
            buf.extend_from_slice(bytes);
            let mut lines = Vec::new();
            while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                lines.push((line, true));
            }
            while buf.len() > MAX_LINE {
                // A secret must not be cut in two: what is buffered is
                // redacted first, and the last bytes that could begin one
                // stay for the next piece.
                replace_all(buf, &self.needles);
                if buf.len() <= MAX_LINE {
                    break;
                }
                let keep = self.needles.first().map_or(0, |n| n.len() - 1);
                let mut cut = MAX_LINE.min(buf.len().saturating_sub(keep)).max(1);
                while cut > 0 && buf[cut] & 0xC0 == 0x80 {
                    cut -= 1;
                }
                let cut = if cut == 0 { MAX_LINE } else { cut };
                lines.push((buf.drain(..cut).collect(), false));
            }
            lines
        };
        for (line, ends) in lines {
            self.piece(stream, &String::from_utf8_lossy(&line), ends)
                .await;
        }
    }

    /// Emits one line (without its end).
    pub async fn line(&self, stream: OutputStream, text: &str) {
        self.piece(stream, text, true).await;
    }

    /// Emits a line, or a piece of a long line (`ends` false), which is
    /// published on its own but captured without a line end.
    async fn piece(&self, stream: OutputStream, text: &str, ends: bool) {
        // NUL (binary output) cannot be stored as text: it shows as U+FFFD.
        let text = self.redact(text).replace('\0', "\u{FFFD}");
        let (line_no, marker) = {
            let Ok(mut s) = self.state.lock() else { return };
            if s.truncated {
                return;
            }
            s.bytes += text.len() + 1;
            if s.bytes > self.cap {
                s.truncated = true;
                s.line_no += 1;
                (s.line_no, true)
            } else {
                s.line_no += 1;
                let keep = match stream {
                    OutputStream::Stdout => &mut s.stdout,
                    OutputStream::Stderr => &mut s.stderr,
                };
                keep.push_str(&text);
                if ends {
                    keep.push('\n');
                }
                (s.line_no, false)
            }
        };
        let text = if marker {
            format!("[opsconductor: output truncated at {} bytes]", self.cap)
        } else {
            text
        };
        self.publish(OutputLine {
            run_id: self.run_id,
            step_id: self.step_id.clone(),
            target_id: self.target_id,
            line_no,
            stream: if marker { OutputStream::Stderr } else { stream },
            text,
        })
        .await;
    }

    async fn publish(&self, line: OutputLine) {
        let Some(bus) = &self.bus else { return };
        let event = CloudEvent::new(bus.source.clone(), line);
        match bus.send(&event).await {
            Ok(ack) => {
                if let Ok(mut s) = self.state.lock() {
                    let acker = s.acker.get_or_insert_with(Acker::start);
                    // The acker ends only once `finish` took it.
                    let _ = acker.pending.send(ack);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, subject = %self.subject, "Output line not published.");
                if let Ok(mut s) = self.state.lock() {
                    s.publish_failed = true;
                }
            }
        }
    }

    /// Emits unterminated last lines, waits until JetStream stored every
    /// line, and returns what was captured.
    pub async fn finish(&self) -> Captured {
        for stream in [OutputStream::Stdout, OutputStream::Stderr] {
            let rest = self
                .state
                .lock()
                .map(|mut s| std::mem::take(&mut s.partial[index(stream)]))
                .unwrap_or_default();
            if !rest.is_empty() {
                self.line(stream, &String::from_utf8_lossy(&rest)).await;
            }
        }
        let acker = self.state.lock().ok().and_then(|mut s| s.acker.take());
        if let Some(Acker { pending, done }) = acker {
            drop(pending);
            if let Err(e) = done.await {
                tracing::warn!(error = %e, "The output acknowledgements were not all awaited.");
            }
        }
        self.state
            .lock()
            .map(|s| Captured {
                stdout: s.stdout.clone(),
                stderr: s.stderr.clone(),
                truncated: s.truncated,
                lines: s.line_no,
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_secret_across_the_cut_of_a_long_line_is_still_redacted() {
        let secret = "straddling-secret-value";
        let sink = OutputSink::capture_only("s", 1 << 20, &[secret.to_owned()]);
        // The secret begins 5 bytes before the 16 KiB cut and arrives in
        // two chunks split inside it.
        let line = "x".repeat(MAX_LINE - 5) + secret + &"y".repeat(MAX_LINE);
        let (a, b) = line.as_bytes().split_at(MAX_LINE - 5 + 7);
        sink.chunk(OutputStream::Stdout, a).await;
        sink.chunk(OutputStream::Stdout, b).await;
        sink.chunk(OutputStream::Stdout, b"\n").await;
        let out = sink.finish().await;
        assert!(!out.stdout.contains("straddl") && !out.stdout.contains("secret-value"));
        assert_eq!(out.stdout.replace('\n', ""), line.replace(secret, "***"));
    }

    #[tokio::test]
    async fn a_long_line_is_kept_whole_and_redacted() {
        let sink = OutputSink::capture_only("s", 1 << 20, &["hush-123".to_owned()]);
        let line: String = (0..5000).map(|i| format!("é{i}€")).collect::<String>() + "hush-123";
        assert!(line.len() > 2 * MAX_LINE);
        for part in line.as_bytes().chunks(1000) {
            sink.chunk(OutputStream::Stdout, part).await;
        }
        sink.chunk(OutputStream::Stdout, b"\nnext").await;
        let out = sink.finish().await;
        assert_eq!(out.stdout, line.replace("hush-123", "***") + "\nnext\n");
        assert!(!out.truncated);
    }

    #[tokio::test]
    async fn the_cap_cuts_and_marks() {
        let sink = OutputSink::capture_only("s", 10, &[]);
        sink.line(OutputStream::Stdout, "12345").await;
        assert!(!sink.is_full());
        sink.line(OutputStream::Stdout, "67890").await;
        assert!(sink.is_full());
        let out = sink.finish().await;
        assert_eq!(out.stdout, "12345\n");
        assert!(out.truncated);
    }
}

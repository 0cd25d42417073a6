//! The shell text that puts a remote command in a process group of its own
//! and reports that group, the filter that takes the report out of the
//! command's standard output, and the script that stops the group.
//!
//! Why: closing an SSH channel does not end a command that has no
//! pseudo-terminal, and OpenSSH ignores the `signal` channel request in
//! many setups ("session signalling requires privilege separation"). So a
//! command first prints `<<opsc-pgid:N>>` on standard output, and a cancel
//! runs [`kill_script`] for group `N` on a second channel.
//!
//! The wrapper runs in the login shell, as a plain command did: the command
//! text is one shell-quoted word `eval`ed after the report, so its quoting,
//! standard input, output and exit status are untouched. OpenSSH starts
//! every session's shell as a session (and so process group) leader; where a
//! shell is not one (e.g. under `sudo` without `use_pty`), `setsid -w` makes
//! a new group; without it the wrapper reports `none`.

use crate::template::shell_quote;

/// What the report line starts with.
const OPEN: &[u8] = b"<<opsc-pgid:";
/// What the report line ends with.
const CLOSE: &[u8] = b">>\n";
/// Output held back while looking for the report: the report comes first,
/// after whatever the login shell's start-up files print.
const LOOK_LIMIT: usize = 4096;
/// Longest value between [`OPEN`] and [`CLOSE`].
const VALUE_LIMIT: usize = 12;

/// `line` wrapped so that it reports its process group first.
pub fn wrap(line: &str) -> String {
    format!(
        "opsc_c={quoted}\n\
         opsc_g=\n\
         if [ -r /proc/$$/stat ]; then read -r opsc_r opsc_r opsc_r opsc_r opsc_g opsc_r </proc/$$/stat; \
         else opsc_g=$(ps -o pgid= -p $$ 2>/dev/null); fi\n\
         if [ \"$opsc_g\" -eq $$ ] 2>/dev/null; then printf '<<opsc-pgid:%s>>\\n' $$\n\
         elif setsid -w true >/dev/null 2>&1; then unset opsc_g opsc_r; \
         exec setsid -w sh -c 'printf \"<<opsc-pgid:%s>>\\n\" $$; eval \"shift\n$1\"' sh \"$opsc_c\"\n\
         else printf '<<opsc-pgid:none>>\\n'; fi\n\
         unset opsc_g opsc_r\n\
         eval \"unset opsc_c\n$opsc_c\"",
        quoted = shell_quote(line)
    )
}

/// `command` through `sudo -n` when asked.
pub fn as_user(command: &str, sudo: bool) -> String {
    if sudo {
        format!("sudo -n -- sh -c {}", shell_quote(command))
    } else {
        command.to_owned()
    }
}

/// Seconds [`kill_script`] waits after SIGTERM before SIGKILL, and then for
/// the group to vanish.
pub const GRACE_SECS: u32 = 2;

/// The script that stops process group `pgid`: SIGTERM, up to
/// [`GRACE_SECS`] for it to exit, then SIGKILL. It exits 0 when the group is
/// gone (also when it was gone already), 2 when it may not be signalled, 3
/// when it survives SIGKILL; the reason is on standard error. `None` for a
/// group that must never be signalled (0 and 1: the caller's own group and
/// every process).
pub fn kill_script(pgid: u32) -> Option<String> {
    if pgid <= 1 {
        return None;
    }
    let ticks = GRACE_SECS * 10;
    Some(format!(
        "g={pgid}\n\
         [ \"$g\" -gt 1 ] || exit 4\n\
         if ! e=$(kill -s TERM -- -$g 2>&1); then\n\
         case $e in *ermi*) echo \"not permitted to signal process group $g\" >&2; exit 2;; esac\n\
         exit 0\n\
         fi\n\
         n=0\n\
         while kill -s 0 -- -$g 2>/dev/null; do\n\
         n=$((n+1)); if [ $n -gt {ticks} ]; then kill -s KILL -- -$g 2>/dev/null; break; fi\n\
         sleep 0.1 2>/dev/null || sleep 1\n\
         done\n\
         n=0\n\
         while kill -s 0 -- -$g 2>/dev/null; do\n\
         n=$((n+1)); if [ $n -gt {ticks} ]; then echo \"process group $g survived SIGKILL\" >&2; exit 3; fi\n\
         sleep 0.1 2>/dev/null || sleep 1\n\
         done\n\
         exit 0"
    ))
}

/// What the command reported about its process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Nothing yet.
    Pending,
    /// Its process group.
    Known(u32),
    /// It reported none, or its output began without a report.
    Unavailable,
}

/// Takes the report line out of a command's standard output.
#[derive(Debug)]
pub struct Marker {
    held: Vec<u8>,
    group: Group,
}

impl Default for Marker {
    fn default() -> Self {
        Self {
            held: Vec::new(),
            group: Group::Pending,
        }
    }
}

impl Marker {
    /// What is known of the group.
    pub fn group(&self) -> Group {
        self.group
    }

    /// Takes `data` (the next standard output bytes); what to pass on.
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        if self.group != Group::Pending {
            return data.to_vec();
        }
        self.held.extend_from_slice(data);
        match find(&self.held, OPEN) {
            Some(start) => {
                let value_at = start + OPEN.len();
                match find(&self.held[value_at..], CLOSE) {
                    Some(len) if len <= VALUE_LIMIT => {
                        let value = &self.held[value_at..value_at + len];
                        self.group = parse(value);
                        let mut out = self.held[..start].to_vec();
                        out.extend_from_slice(&self.held[value_at + len + CLOSE.len()..]);
                        self.held.clear();
                        out
                    }
                    None if self.held.len() - value_at <= VALUE_LIMIT + CLOSE.len() => Vec::new(),
                    _ => self.give_up(),
                }
            }
            None if self.held.len() > LOOK_LIMIT => self.give_up(),
            None => Vec::new(),
        }
    }

    /// At the end of the output: what was still held back.
    pub fn finish(&mut self) -> Vec<u8> {
        if self.group == Group::Pending {
            self.group = Group::Unavailable;
        }
        std::mem::take(&mut self.held)
    }

    fn give_up(&mut self) -> Vec<u8> {
        self.group = Group::Unavailable;
        std::mem::take(&mut self.held)
    }
}

/// The group in a report value: digits above 1, else none.
fn parse(value: &[u8]) -> Group {
    std::str::from_utf8(value)
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|g| *g > 1)
        .map_or(Group::Unavailable, Group::Known)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;

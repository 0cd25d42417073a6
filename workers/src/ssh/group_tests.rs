//! The report filter on its own, and the wrapper and kill script run by
//! this machine's real shells (`sh`, and `bash` where installed).

use std::io::Write as _;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Group, Marker, kill_script, wrap};

/// Feeds `chunks`; what passed and the group.
fn filter(chunks: &[&[u8]]) -> (Vec<u8>, Group) {
    let mut m = Marker::default();
    let mut out = Vec::new();
    for c in chunks {
        out.extend(m.feed(c));
    }
    out.extend(m.finish());
    (out, m.group())
}

#[test]
fn the_report_is_taken_out_wherever_the_chunks_split() {
    let text: &[u8] = b"<<opsc-pgid:4242>>\nhello\nworld\n";
    for cut in 0..text.len() {
        let (out, group) = filter(&[&text[..cut], &text[cut..]]);
        assert_eq!(out, b"hello\nworld\n", "cut at {cut}");
        assert_eq!(group, Group::Known(4242), "cut at {cut}");
    }
    let bytewise: Vec<&[u8]> = text.chunks(1).collect();
    assert_eq!(
        filter(&bytewise),
        (b"hello\nworld\n".to_vec(), Group::Known(4242))
    );
}

#[test]
fn noise_before_the_report_is_kept_and_later_lookalikes_pass() {
    let (out, group) = filter(&[b"motd line\n<<opsc-pgid:77>>\nout <<opsc-pgid:5>>\n"]);
    assert_eq!(out, b"motd line\nout <<opsc-pgid:5>>\n");
    assert_eq!(group, Group::Known(77));
}

#[test]
fn none_garbage_and_dangerous_groups_are_unavailable() {
    for (text, rest) in [
        (&b"<<opsc-pgid:none>>\nx"[..], &b"x"[..]),
        (b"<<opsc-pgid:0>>\n", b""),
        (b"<<opsc-pgid:1>>\n", b""),
        (b"<<opsc-pgid:-5>>\n", b""),
        (b"<<opsc-pgid:99999999999>>\n", b""),
    ] {
        assert_eq!(
            filter(&[text]),
            (rest.to_vec(), Group::Unavailable),
            "{text:?}"
        );
    }
    // An opening without its end within a few bytes is not a report.
    let odd = b"<<opsc-pgid:12345678901234567890>>\n";
    assert_eq!(filter(&[odd]), (odd.to_vec(), Group::Unavailable));
}

#[test]
fn output_without_a_report_is_held_briefly_then_passed_whole() {
    let mut m = Marker::default();
    assert!(m.feed(b"no report here\n").is_empty(), "held while looking");
    assert_eq!(m.group(), Group::Pending);
    let big = vec![b'x'; 5000];
    let out = m.feed(&big);
    assert_eq!(out.len(), 15 + 5000, "given up past the look limit");
    assert_eq!(m.group(), Group::Unavailable);
    assert_eq!(m.feed(b"more"), b"more");
    let (out, group) = filter(&[b"short and done"]);
    assert_eq!(
        (out.as_slice(), group),
        (&b"short and done"[..], Group::Unavailable)
    );
}

#[test]
fn no_kill_script_for_group_0_or_1() {
    assert!(kill_script(0).is_none());
    assert!(kill_script(1).is_none());
    let script = kill_script(4242).unwrap();
    assert!(script.starts_with("g=4242\n"), "{script}");
}

/// Shells to try: the machine's `sh` and, when present, `bash`.
fn shells() -> Vec<&'static str> {
    ["sh", "bash"]
        .into_iter()
        .filter(|s| {
            Command::new(s)
                .arg("-c")
                .arg(":")
                .status()
                .is_ok_and(|st| st.success())
        })
        .collect()
}

/// Runs the wrapped `line` with `shell -c` as the leader of a new process
/// group (as sshd starts a session's shell), feeding `input`; (pid, stdout,
/// stderr, exit code).
fn run_wrapped(
    shell: &str,
    line: &str,
    input: &[u8],
    leader: bool,
) -> (u32, Vec<u8>, String, Option<i32>) {
    let mut cmd = Command::new(shell);
    cmd.arg("-c")
        .arg(wrap(line))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if leader {
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        pid,
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn the_wrapper_keeps_quoting_streams_stdin_and_exit_status() {
    let line = "printf '%s|' \"a b\" 'c'\"'\"'d' \"$0\"; echo; cat; echo err >&2; exit 7";
    for shell in shells() {
        for leader in [true, false] {
            let (pid, stdout, stderr, code) = run_wrapped(shell, line, b"from stdin\n", leader);
            let mut m = Marker::default();
            let mut passed = m.feed(&stdout);
            passed.extend(m.finish());
            assert_eq!(
                m.group(),
                Group::Known(pid),
                "{shell} leader={leader}: {stdout:?}"
            );
            let zero = if leader { shell } else { "sh" };
            assert_eq!(
                String::from_utf8_lossy(&passed),
                format!("a b|c'd|{zero}|\nfrom stdin\n"),
                "{shell} leader={leader}"
            );
            assert_eq!(stderr, "err\n", "{shell} leader={leader}");
            assert_eq!(code, Some(7), "{shell} leader={leader}");
        }
    }
}

#[test]
fn the_wrappers_variables_do_not_reach_the_command() {
    for shell in shells() {
        for leader in [true, false] {
            let (_, stdout, _, code) = run_wrapped(
                shell,
                "echo \"[$#${opsc_c-unset}${opsc_g-unset}${opsc_r-unset}]\"",
                b"",
                leader,
            );
            let mut m = Marker::default();
            let mut passed = m.feed(&stdout);
            passed.extend(m.finish());
            assert_eq!(passed, b"[0unsetunsetunset]\n", "{shell} leader={leader}");
            assert_eq!(code, Some(0));
        }
    }
}

/// Starts the wrapped `line` as a group leader and waits until it has
/// printed `ready` (so whatever it set up before, such as a trap, is in
/// place before a test signals it); the child and its group.
fn start_group(line: &str) -> (std::process::Child, u32) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(wrap(line))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut m = Marker::default();
    let mut buf = [0_u8; 256];
    let mut passed = Vec::new();
    while m.group() == Group::Pending || !passed.ends_with(b"ready\n") {
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(n > 0, "no report or no ready line");
        passed.extend(m.feed(&buf[..n]));
    }
    let Group::Known(pgid) = m.group() else {
        panic!("no group: {:?}", m.group());
    };
    // Never signal anything but the group this test made.
    assert_eq!(pgid, child.id(), "the child leads its own group");
    (child, pgid)
}

/// Runs the kill script for `pgid` while reaping `child` (an unreaped
/// child would keep the group alive as a zombie); the script's exit code
/// and standard error, and the signal that ended the child.
fn kill_group(child: &mut std::process::Child, pgid: u32) -> (Option<i32>, String, Option<i32>) {
    let killer = std::thread::spawn(move || {
        let out = Command::new("sh")
            .arg("-c")
            .arg(kill_script(pgid).unwrap())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    });
    let signal = child.wait().unwrap().signal();
    let (code, stderr) = killer.join().unwrap();
    (code, stderr, signal)
}

#[test]
fn the_kill_script_ends_the_group_with_term_then_kill() {
    let (mut child, pgid) = start_group("echo ready; sleep 60 & sleep 60");
    assert_eq!(
        kill_group(&mut child, pgid),
        (Some(0), String::new(), Some(15)),
        "SIGTERM suffices"
    );
    let again = Command::new("sh")
        .arg("-c")
        .arg(kill_script(pgid).unwrap())
        .status()
        .unwrap();
    assert_eq!(again.code(), Some(0), "a group already gone is fine");

    let (mut child, pgid) = start_group("trap '' TERM; echo ready; sleep 60 & sleep 60");
    let started = Instant::now();
    assert_eq!(
        kill_group(&mut child, pgid),
        (Some(0), String::new(), Some(9)),
        "SIGKILL after the grace"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
}

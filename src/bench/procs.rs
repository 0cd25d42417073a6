//! What the benchmarks read of the machine: CPU time and memory of the
//! processes under load (`/proc`, Linux), so a report names its bottleneck.
//!
//! The server is every process started as `<binary> server …` or
//! `<binary> dev` but this one (all roles, however they are split, whatever
//! the binary is called); PostgreSQL every `postgres` process, NATS every
//! `nats-server`; the benchmark itself is reported too, as the load it adds
//! to the same machine. CPU is user plus system time, in clock ticks of
//! 1/100 s (`USER_HZ`, fixed on Linux).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// Clock ticks per second of `/proc/<pid>/stat` times.
const TICKS_PER_SEC: f64 = 100.0;

/// The process groups measured.
const GROUPS: [&str; 4] = ["opsconductor", "postgres", "nats_server", "bench_client"];

fn all_pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

fn comm_is(pid: u32, name: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
}

/// Whether `pid` runs OpsConductor's roles: `<binary> server …` or `<binary> dev`.
fn is_server(pid: u32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let mut args = cmdline.split(|b| *b == 0);
    let exe = args.next().unwrap_or_default();
    let first = args.next().unwrap_or_default();
    let named = String::from_utf8_lossy(exe).contains("ops");
    named && (first == b"server" || first == b"dev")
}

fn pids_of(group: &str) -> Vec<u32> {
    let me = std::process::id();
    match group {
        "bench_client" => vec![me],
        "opsconductor" => all_pids()
            .into_iter()
            .filter(|p| *p != me && is_server(*p))
            .collect(),
        "postgres" => all_pids()
            .into_iter()
            .filter(|p| comm_is(*p, "postgres"))
            .collect(),
        _ => all_pids()
            .into_iter()
            .filter(|p| comm_is(*p, "nats-server"))
            .collect(),
    }
}

fn ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name (field 2) may hold spaces: count after its ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let at = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15, i.e. 12 and 13 after ')'.
    at(11) + at(12)
}

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU ticks per process, by group.
#[derive(Debug, Clone, Default)]
pub struct Cpu(BTreeMap<&'static str, BTreeMap<u32, u64>>);

impl Cpu {
    /// Reads the CPU time of every measured process now.
    pub fn now() -> Self {
        Self(
            GROUPS
                .iter()
                .map(|key| {
                    (
                        *key,
                        pids_of(key).into_iter().map(|p| (p, ticks(p))).collect(),
                    )
                })
                .collect(),
        )
    }

    /// CPU seconds per group from `self` to `later`, and per run. A process
    /// that started in between counts whole.
    pub fn report(&self, later: &Self, runs: usize) -> Value {
        let mut out = serde_json::Map::new();
        let mut total = 0.0;
        for (key, procs) in &later.0 {
            let is_client = *key == "bench_client";
            let before = self.0.get(key);
            let t: u64 = procs
                .iter()
                .map(|(pid, t)| {
                    t.saturating_sub(before.and_then(|b| b.get(pid)).copied().unwrap_or(0))
                })
                .sum();
            let secs = t as f64 / TICKS_PER_SEC;
            if !is_client {
                total += secs;
            }
            out.insert(
                (*key).to_owned(),
                json!({
                    "cpu_s": round(secs),
                    "cpu_ms_per_run": round(secs * 1000.0 / runs.max(1) as f64),
                    "processes": procs.len(),
                }),
            );
        }
        // The benchmark's own load is shown beside, not in, the total.
        out.insert("total_cpu_s".to_owned(), json!(round(total)));
        out.insert(
            "total_cpu_ms_per_run".to_owned(),
            json!(round(total * 1000.0 / runs.max(1) as f64)),
        );
        Value::Object(out)
    }
}

/// Resident memory of the server processes, in MiB: now, and the largest
/// seen by [`RssWatch`].
pub fn server_rss_mb() -> f64 {
    pids_of("opsconductor")
        .into_iter()
        .map(|p| status_kb(p, "VmRSS:"))
        .sum::<u64>() as f64
        / 1024.0
}

/// Samples the server's resident memory every 50 ms until stopped.
#[derive(Debug)]
pub struct RssWatch {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<f64>,
}

impl RssWatch {
    /// Starts sampling.
    pub fn start() -> Self {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut peak = server_rss_mb();
            loop {
                tokio::select! {
                    () = token.cancelled() => return peak,
                    () = tokio::time::sleep(Duration::from_millis(50)) => peak = peak.max(server_rss_mb()),
                }
            }
        });
        Self { stop, task }
    }

    /// The peak seen, in MiB.
    pub async fn peak(self) -> f64 {
        self.stop.cancel();
        self.task.await.unwrap_or(0.0)
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_cpu_time_and_memory() {
        let me = std::process::id();
        // Burn a little CPU so the tick count is not zero.
        let mut x = 0_u64;
        for i in 0..30_000_000_u64 {
            x = x.wrapping_add(i ^ (x >> 3));
        }
        assert!(x > 0);
        assert!(ticks(me) > 0);
        assert!(status_kb(me, "VmRSS:") > 0);
    }
}

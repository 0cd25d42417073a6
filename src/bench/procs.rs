//! The CPU the benchmarks' load costs each process on this machine, so a
//! report names its bottleneck.
//!
//! The server reports its own CPU time on `/metrics` (the api process: in
//! `server all` every role); PostgreSQL is every `postgres` process and NATS
//! every `nats-server` process on this machine, read from `/proc` (Linux);
//! the benchmark itself is shown too (`bench_client`), as the load it adds
//! to the same machine, but not counted in the total. CPU is user plus
//! system time, in clock ticks of 1/100 s (`USER_HZ`, fixed on Linux).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Clock ticks per second of `/proc/<pid>/stat` times.
const TICKS_PER_SEC: f64 = 100.0;

/// The process groups read from `/proc`, by `comm` name (none: this process).
const GROUPS: [(&str, Option<&str>); 3] = [
    ("postgres", Some("postgres")),
    ("nats_server", Some("nats-server")),
    ("bench_client", None),
];

fn pids_of(comm: Option<&str>) -> Vec<u32> {
    let Some(name) = comm else {
        return vec![std::process::id()];
    };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
        })
        .collect()
}

pub fn ticks(pid: u32) -> u64 {
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

/// CPU ticks per process, by group.
#[derive(Debug, Clone, Default)]
pub struct Cpu(BTreeMap<&'static str, BTreeMap<u32, u64>>);

impl Cpu {
    /// Reads the CPU time of every measured process now.
    pub fn now() -> Self {
        Self(
            GROUPS
                .iter()
                .map(|(key, comm)| {
                    (
                        *key,
                        pids_of(*comm).into_iter().map(|p| (p, ticks(p))).collect(),
                    )
                })
                .collect(),
        )
    }

    /// CPU seconds per group from `self` to `later` (a process that started
    /// in between counts whole) and per run, with the server's own
    /// `server_secs`.
    pub fn report(&self, later: &Self, runs: usize, server_secs: f64) -> Value {
        let per_run = |secs: f64| round(secs * 1000.0 / runs.max(1) as f64);
        let mut out = serde_json::Map::new();
        out.insert(
            "opsconductor".to_owned(),
            json!({"cpu_s": round(server_secs), "cpu_ms_per_run": per_run(server_secs)}),
        );
        let mut total = server_secs;
        for (key, procs) in &later.0 {
            let before = self.0.get(key);
            let t: u64 = procs
                .iter()
                .map(|(pid, t)| {
                    t.saturating_sub(before.and_then(|b| b.get(pid)).copied().unwrap_or(0))
                })
                .sum();
            let secs = t as f64 / TICKS_PER_SEC;
            if *key != "bench_client" {
                total += secs;
            }
            out.insert(
                (*key).to_owned(),
                json!({"cpu_s": round(secs), "cpu_ms_per_run": per_run(secs), "processes": procs.len()}),
            );
        }
        out.insert("total_cpu_s".to_owned(), json!(round(total)));
        out.insert("total_cpu_ms_per_run".to_owned(), json!(per_run(total)));
        Value::Object(out)
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_cpu_time() {
        // Burn a little CPU so the tick count is not zero.
        let mut x = 0_u64;
        for i in 0..50_000_000_u64 {
            x = x.wrapping_add(i ^ (x >> 3));
        }
        assert!(x > 0);
        assert!(ticks(std::process::id()) > 0);
        let cpu = Cpu::now();
        assert_eq!(cpu.0["bench_client"].len(), 1);
    }
}

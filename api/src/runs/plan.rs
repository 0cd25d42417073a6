//! Cutting a run into shards, and sharing the run's parallelism among them.
//!
//! A run's `parallelism` (the job's, default 50) limits how many of its
//! targets run at once across the whole run, however many shards and
//! workers execute it. The limit is kept without coordination at run time:
//! each shard gets a share of the slots, and the shares add up to the
//! run's parallelism. So a run has at most `parallelism` shards (each needs
//! a slot), targets are dealt round-robin so shards are alike in size and
//! speed, and a shard's share is proportional to its targets. The one case
//! the sum cannot hold is fewer slots than pools the targets live in: each
//! pool's shard needs one slot, so the run then runs one target per pool at
//! once, and the plan says so.

use std::collections::BTreeMap;

/// Targets per shard at most, when the parallelism allows more shards.
pub const SHARD_SIZE: usize = 100;

/// Parallelism of a job that sets none.
pub const DEFAULT_PARALLELISM: u32 = 50;

/// One shard: its pool, its targets (with the steps each runs), and the
/// slots it may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard<T> {
    /// The pool whose workers execute it.
    pub pool: String,
    /// Its targets.
    pub targets: Vec<T>,
    /// Targets of this shard that may run at once.
    pub parallelism: u32,
}

/// Cuts `by_pool` (targets grouped by pool, each group non-empty) into
/// shards whose parallelism shares add up to `parallelism` (at least one a
/// pool). With no targets at all, the run is one shard in `default_pool`.
pub fn shards<T>(
    by_pool: BTreeMap<String, Vec<T>>,
    default_pool: &str,
    parallelism: u32,
) -> Vec<Shard<T>> {
    let parallelism = parallelism.max(1);
    let total: usize = by_pool.values().map(Vec::len).sum();
    if total == 0 {
        return vec![Shard {
            pool: default_pool.to_owned(),
            targets: Vec::new(),
            parallelism,
        }];
    }
    let slots = (parallelism as usize).max(by_pool.len());
    // Shards per pool: enough for SHARD_SIZE, proportional to the pool's
    // targets when slots are scarce, one at least.
    let wanted: Vec<usize> = by_pool
        .values()
        .map(|t| t.len().div_ceil(SHARD_SIZE))
        .collect();
    let wanted_total: usize = wanted.iter().sum();
    let counts: Vec<usize> = if wanted_total <= slots {
        wanted
    } else {
        let mut counts: Vec<usize> = by_pool
            .values()
            .map(|t| (t.len() * slots / total).max(1))
            .collect();
        while counts.iter().sum::<usize>() > slots {
            if let Some(c) = counts.iter_mut().filter(|c| **c > 1).max() {
                *c -= 1;
            } else {
                break;
            }
        }
        counts
    };
    let mut out: Vec<Shard<T>> = Vec::new();
    for ((pool, targets), count) in by_pool.into_iter().zip(counts) {
        let count = count.clamp(1, targets.len());
        let mut dealt: Vec<Vec<T>> = (0..count).map(|_| Vec::new()).collect();
        for (i, t) in targets.into_iter().enumerate() {
            dealt[i % count].push(t);
        }
        out.extend(dealt.into_iter().map(|targets| Shard {
            pool: pool.clone(),
            targets,
            parallelism: 0,
        }));
    }
    share(&mut out, slots);
    out
}

/// Deals `slots` among the shards in proportion to their targets (largest
/// remainder), one at least, never more than a shard has targets.
fn share<T>(shards: &mut [Shard<T>], slots: usize) {
    let total: usize = shards.iter().map(|s| s.targets.len()).sum();
    let mut given = 0;
    let mut remainders: Vec<(usize, usize)> = Vec::with_capacity(shards.len());
    for (i, s) in shards.iter_mut().enumerate() {
        let exact = s.targets.len() * slots;
        let base = (exact / total).clamp(1, s.targets.len());
        s.parallelism = u32::try_from(base).unwrap_or(u32::MAX);
        given += base;
        remainders.push((exact % total, i));
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut spare = slots.saturating_sub(given);
    while spare > 0 {
        let mut placed = false;
        for &(_, i) in &remainders {
            if spare == 0 {
                break;
            }
            let s = &mut shards[i];
            if (s.parallelism as usize) < s.targets.len() {
                s.parallelism += 1;
                spare -= 1;
                placed = true;
            }
        }
        if !placed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str, n: usize) -> (String, Vec<usize>) {
        (name.to_owned(), (0..n).collect())
    }

    fn sum(s: &[Shard<usize>]) -> u32 {
        s.iter().map(|s| s.parallelism).sum()
    }

    #[test]
    fn shares_add_up_to_the_parallelism() {
        let s = shards(BTreeMap::from([pool("default", 250)]), "default", 20);
        assert_eq!(s.len(), 3);
        assert_eq!(sum(&s), 20);
        assert_eq!(s.iter().map(|s| s.targets.len()).sum::<usize>(), 250);
        assert!(s.iter().all(|s| s.targets.len() >= 83));

        let s = shards(BTreeMap::from([pool("default", 200)]), "default", 50);
        assert_eq!(
            s.iter()
                .map(|s| (s.targets.len(), s.parallelism))
                .collect::<Vec<_>>(),
            [(100, 25), (100, 25)]
        );
    }

    #[test]
    fn scarce_slots_make_fewer_larger_shards() {
        let s = shards(BTreeMap::from([pool("default", 1000)]), "default", 3);
        assert_eq!(s.len(), 3);
        assert_eq!(sum(&s), 3);
        let s = shards(BTreeMap::from([pool("default", 1000)]), "default", 1);
        assert_eq!((s.len(), sum(&s)), (1, 1));
    }

    #[test]
    fn a_share_never_exceeds_its_targets() {
        let s = shards(
            BTreeMap::from([pool("a", 2), pool("b", 300)]),
            "default",
            50,
        );
        assert_eq!(sum(&s), 50);
        for shard in &s {
            assert!(
                shard.parallelism as usize <= shard.targets.len(),
                "{shard:?}"
            );
            assert!(shard.parallelism >= 1);
        }
        let small = shards(BTreeMap::from([pool("a", 3)]), "default", 50);
        assert_eq!((small.len(), sum(&small)), (1, 3));
    }

    #[test]
    fn every_pool_gets_a_slot_even_when_slots_are_fewer() {
        let s = shards(
            BTreeMap::from([pool("a", 5), pool("b", 5), pool("c", 5)]),
            "x",
            2,
        );
        assert_eq!(s.len(), 3);
        assert!(s.iter().all(|s| s.parallelism == 1));
    }

    #[test]
    fn no_targets_is_one_shard_in_the_default_pool() {
        let s: Vec<Shard<usize>> = shards(BTreeMap::new(), "edge", 7);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].pool.as_str(), s[0].parallelism), ("edge", 7));
    }
}

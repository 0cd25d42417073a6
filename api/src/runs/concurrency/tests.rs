use super::*;

fn limit(max: u32, policy: ConcurrencyPolicy) -> ConcurrencyLimit {
    ConcurrencyLimit { max, policy }
}

fn going(n: usize) -> Vec<Open> {
    (0..n)
        .map(|_| Open {
            id: Uuid::now_v7(),
            waiting: false,
        })
        .collect()
}

#[test]
fn below_the_limit_a_run_is_queued_whatever_the_policy() {
    for policy in [
        ConcurrencyPolicy::Skip,
        ConcurrencyPolicy::Queue,
        ConcurrencyPolicy::CancelPrevious,
    ] {
        let d = decide(limit(2, policy), &going(1));
        assert_eq!(d.status, RunStatus::Queued, "{policy:?}");
        assert!(d.victims.is_empty(), "{policy:?}");
    }
}

#[test]
fn at_the_limit_skip_skips_and_queue_waits() {
    assert_eq!(
        decide(limit(1, ConcurrencyPolicy::Skip), &going(1)).status,
        RunStatus::Skipped
    );
    assert_eq!(
        decide(limit(1, ConcurrencyPolicy::Queue), &going(3)).status,
        RunStatus::Waiting
    );
}

#[test]
fn a_free_slot_with_runs_waiting_goes_to_the_oldest_first() {
    let mut open = going(1);
    open.push(Open {
        id: Uuid::now_v7(),
        waiting: true,
    });
    for policy in [ConcurrencyPolicy::Queue, ConcurrencyPolicy::Skip] {
        assert_eq!(decide(limit(3, policy), &open).status, RunStatus::Waiting);
    }
}

#[test]
fn cancel_previous_cancels_all_but_the_newest_and_waits_for_their_slots() {
    let mut open = going(3);
    open.push(Open {
        id: Uuid::now_v7(),
        waiting: true,
    });
    let d = decide(limit(2, ConcurrencyPolicy::CancelPrevious), &open);
    assert_eq!(d.status, RunStatus::Waiting);
    // Four open runs, the new one makes five, two may stay: the newest open
    // run and the new one.
    assert_eq!(d.victims, open[..3].to_vec());
    let one = going(1);
    let d = decide(limit(1, ConcurrencyPolicy::CancelPrevious), &one);
    assert_eq!((d.status, d.victims), (RunStatus::Waiting, one));
}

#[test]
fn the_skip_reason_names_the_limit() {
    assert_eq!(
        skip_reason(1, limit(1, ConcurrencyPolicy::Skip)),
        "concurrency limit: 1 of 1 runs going"
    );
}

// Tests state their expectations with unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::flow::testutil::XorShift;
use crate::flow::{FlowId, FlowKey, FlowTable};
use std::collections::{BTreeMap, HashMap};

const MS: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;
const DAY: u64 = 86_400 * SEC;

fn t(ns: u64) -> Timestamp {
    Timestamp(ns)
}

fn wheel<P: Copy>(cap: usize, tick_ns: u64) -> TimerWheel<P> {
    TimerWheel::new(cap, Duration::from_nanos(tick_ns), Timestamp::ZERO).unwrap()
}

fn fired<P: Copy>(w: &mut TimerWheel<P>, now: u64) -> Vec<(u64, P)> {
    let mut out = vec![];
    w.advance(t(now), |d, p| out.push((d.0, p)));
    out
}

/// Structural invariants: every pending entry is exactly once in the wheel or the heap,
/// wheel entries lie ahead of `cur` at the right level and slot, the heap is ordered.
fn check<P: Copy>(w: &TimerWheel<P>) {
    let mut count = 0;
    for level in 0..LEVELS {
        for slot in 0..SLOTS {
            let mut i = w.heads[level * SLOTS + slot];
            assert_eq!(i != NIL, w.occupied[level] & (1 << slot) != 0);
            let mut prev = NIL;
            while i != NIL {
                let e = &w.entries[i as usize];
                assert!(e.payload.is_some());
                assert_eq!(e.prev, prev);
                assert!(matches!(e.place, Place::Wheel { level: l, slot: s }
                    if usize::from(l) == level && usize::from(s) == slot));
                let tick = w.tick_of(e.deadline);
                assert!(tick > w.cur);
                let lv = ((63 - (tick ^ w.cur).leading_zeros()) / SLOT_BITS) as usize;
                assert_eq!(lv, level);
                prev = i;
                i = e.next;
                count += 1;
            }
        }
    }
    for (pos, d) in w.due.iter().enumerate() {
        let e = &w.entries[d.index as usize];
        assert!(matches!(e.place, Place::Heap { pos: p } if p as usize == pos));
        assert_eq!((d.deadline, d.seq), (e.deadline, e.seq));
        assert!(w.tick_of(d.deadline) <= w.cur);
        if pos > 0 {
            assert!(!d.before(&w.due[(pos - 1) / 2]));
        }
        count += 1;
    }
    assert_eq!(count, w.len());
    let mut free = 0;
    let mut i = w.free_head;
    while i != NIL {
        assert!(w.entries[i as usize].payload.is_none());
        i = w.entries[i as usize].next;
        free += 1;
    }
    assert_eq!(free + w.len(), w.capacity());
    assert!(w.due.capacity() >= w.capacity());
}

#[test]
fn rejects_bad_configuration() {
    let e = |c, tick| TimerWheel::<u8>::new(c, tick, Timestamp::ZERO).err();
    assert_eq!(
        e(0, Duration::from_millis(1)),
        Some(TimerConfigError::ZeroCapacity)
    );
    assert_eq!(
        e(MAX_CAPACITY + 1, Duration::from_millis(1)),
        Some(TimerConfigError::TooLarge {
            requested: MAX_CAPACITY + 1
        })
    );
    assert_eq!(
        e(4, Duration::ZERO),
        Some(TimerConfigError::BadTick(Duration::ZERO))
    );
    assert_eq!(
        e(4, Duration::MAX),
        Some(TimerConfigError::BadTick(Duration::MAX))
    );
    assert_eq!(
        TimerConfigError::BadTick(Duration::ZERO).to_string(),
        "timer tick 0ns must be between 1 ns and u64::MAX ns"
    );
    let w = wheel::<u8>(4, MS);
    assert_eq!(
        (w.capacity(), w.len(), w.tick()),
        (4, 0, Duration::from_millis(1))
    );
    assert!(w.is_empty());
}

#[test]
fn memory_budget() {
    // Entry<u64>: deadline, seq, Option<u64> (16), generation, prev, next, place (8) = 56;
    // heap item 24; plus 704 slot heads of 4 bytes.
    assert_eq!(
        TimerWheel::<u64>::memory_bytes(1000),
        Ok(1000 * (56 + 24) + 704 * 4)
    );
    assert_eq!(
        TimerWheel::<u64>::memory_bytes(0),
        Err(TimerConfigError::ZeroCapacity)
    );
    let mut w = wheel::<u64>(1000, MS);
    let caps = (w.entries.capacity(), w.due.capacity(), w.heads.capacity());
    assert_eq!(caps, (1000, 1000, 704));
    // Everything due at once: the heap holds all, without growing.
    for i in 0..1000 {
        w.schedule(t(5 * MS), i).unwrap();
    }
    assert_eq!(fired(&mut w, 5 * MS).len(), 1000);
    assert_eq!(
        (w.entries.capacity(), w.due.capacity(), w.heads.capacity()),
        caps
    );
}

#[test]
fn fires_in_deadline_order_ties_in_scheduling_order() {
    let mut w = wheel(64, MS);
    let deadlines = [
        7 * MS,
        3 * MS,
        900 * MS,
        3 * MS,
        5 * SEC,
        7 * MS + 1,
        3 * MS,
        65 * MS,
        0,
    ];
    for (i, d) in deadlines.iter().enumerate() {
        w.schedule(t(*d), i).unwrap();
    }
    check(&w);
    let got = fired(&mut w, 10 * SEC);
    assert_eq!(
        got,
        [
            (0, 8),
            (3 * MS, 1),
            (3 * MS, 3),
            (3 * MS, 6),
            (7 * MS, 0),
            (7 * MS + 1, 5),
            (65 * MS, 7),
            (900 * MS, 2),
            (5 * SEC, 4)
        ]
    );
    assert!(w.is_empty());
    check(&w);
}

#[test]
fn ties_keep_scheduling_order_across_levels() {
    // The first timer for D is scheduled far ahead (an upper level), the second when D is
    // near (level 0), the third when D is already the current tick (the heap): they still
    // fire in the order they were scheduled, after an earlier deadline scheduled last.
    let d = 10 * SEC;
    let mut w = wheel(8, MS);
    w.schedule(t(d), 'a').unwrap();
    assert!(fired(&mut w, d - 5 * MS).is_empty());
    w.schedule(t(d), 'b').unwrap();
    assert!(fired(&mut w, d - 1).is_empty());
    w.schedule(t(d), 'c').unwrap();
    w.schedule(t(d - MS), 'd').unwrap();
    check(&w);
    assert_eq!(
        fired(&mut w, d),
        [(d - MS, 'd'), (d, 'a'), (d, 'b'), (d, 'c')]
    );
}

#[test]
fn fires_exactly_not_per_tick() {
    // Sub-tick deadlines: only those ≤ now fire, in order; the rest wait in the same tick.
    let mut w = wheel(8, MS);
    w.schedule(t(MS + 200), 2).unwrap();
    w.schedule(t(MS + 100), 1).unwrap();
    w.schedule(t(MS + 500), 3).unwrap();
    assert!(fired(&mut w, MS + 99).is_empty());
    assert_eq!(fired(&mut w, MS + 300), [(MS + 100, 1), (MS + 200, 2)]);
    assert_eq!(w.next_deadline(), Some(t(MS + 500)));
    check(&w);
    assert_eq!(fired(&mut w, MS + 500), [(MS + 500, 3)]);
}

#[test]
fn cancel() {
    let mut w = wheel(8, MS);
    let near = w.schedule(t(2 * MS), 'n').unwrap();
    let far = w.schedule(t(3 * DAY), 'f').unwrap();
    let kept = w.schedule(t(4 * MS), 'k').unwrap();
    assert_eq!(w.deadline(far), Some(t(3 * DAY)));
    assert_eq!(w.cancel(far), Some('f'));
    assert_eq!(w.cancel(far), None);
    assert_eq!(w.deadline(far), None);
    assert_eq!(w.cancel(near), Some('n'));
    assert_eq!(w.len(), 1);
    check(&w);
    // Cancel from the due heap (past deadline, not yet fired).
    assert!(fired(&mut w, MS).is_empty());
    let past = w.schedule(t(0), 'p').unwrap();
    let past2 = w.schedule(t(1), 'q').unwrap();
    assert_eq!(w.cancel(past), Some('p'));
    check(&w);
    assert_eq!(fired(&mut w, 10 * SEC), [(1, 'q'), (4 * MS, 'k')]);
    // After firing, cancelling is a no-op and does not touch a reused entry.
    assert_eq!(w.cancel(kept), None);
    assert_eq!(w.cancel(past2), None);
    let reuse = w.schedule(t(20 * SEC), 'r').unwrap();
    assert!([kept.index, past2.index, past.index, far.index, near.index].contains(&reuse.index));
    for old in [kept, past2, past, far, near] {
        assert_eq!(w.cancel(old), None);
    }
    assert_eq!(w.deadline(reuse), Some(t(20 * SEC)));
    assert_eq!(
        w.cancel(TimerHandle {
            index: 99,
            generation: 0
        }),
        None
    );
    assert!(fired(&mut w, 19 * SEC).is_empty());
    assert_eq!(w.cancel(reuse), Some('r'));
    assert!(w.is_empty());
    check(&w);
}

#[test]
fn past_deadlines_fire_at_the_next_advance() {
    let start = t(1_000 * SEC);
    let mut w = TimerWheel::new(8, Duration::from_millis(1), start).unwrap();
    assert!(fired(&mut w, 100 * SEC + 1_000 * SEC).is_empty());
    let now = 1_100 * SEC;
    w.schedule(t(1_050 * SEC), 'a').unwrap();
    w.schedule(t(5), 'b').unwrap(); // before the wheel's start
    w.schedule(t(now), 'c').unwrap();
    w.schedule(t(now + 1), 'd').unwrap();
    assert_eq!(w.next_deadline(), Some(t(5)));
    check(&w);
    // The same `now` again: the past ones fire, with their own deadlines, in order.
    assert_eq!(
        fired(&mut w, now),
        [(5, 'b'), (1_050 * SEC, 'a'), (now, 'c')]
    );
    assert_eq!(w.next_deadline(), Some(t(now + 1)));
    // Time going backwards fires nothing and breaks nothing.
    assert!(fired(&mut w, 1_000 * SEC).is_empty());
    w.schedule(t(now - SEC), 'e').unwrap();
    check(&w);
    assert_eq!(fired(&mut w, now + 1), [(now - SEC, 'e'), (now + 1, 'd')]);
}

#[test]
fn far_future_deadlines_with_small_ticks() {
    // 1 µs ticks; deadlines of one day, three days, a year and the end of time.
    let mut w = wheel(8, 1_000);
    let year = 365 * DAY;
    w.schedule(t(3 * DAY), 3).unwrap();
    w.schedule(t(DAY), 1).unwrap();
    w.schedule(t(u64::MAX), 9).unwrap();
    w.schedule(t(year), 4).unwrap();
    check(&w);
    assert_eq!(w.next_deadline(), Some(t(DAY)));
    assert!(fired(&mut w, DAY - 1).is_empty());
    check(&w);
    assert_eq!(fired(&mut w, DAY), [(DAY, 1)]);
    assert_eq!(w.next_deadline(), Some(t(3 * DAY)));
    assert!(fired(&mut w, 3 * DAY - 1).is_empty());
    assert_eq!(fired(&mut w, 3 * DAY + 1), [(3 * DAY, 3)]);
    assert!(fired(&mut w, year - 1).is_empty());
    assert_eq!(fired(&mut w, year), [(year, 4)]);
    assert_eq!(w.next_deadline(), Some(t(u64::MAX)));
    assert!(fired(&mut w, u64::MAX - 1).is_empty());
    check(&w);
    assert_eq!(fired(&mut w, u64::MAX), [(u64::MAX, 9)]);
    assert_eq!(w.next_deadline(), None);
    // Each timer was cascaded at most once per level; each advance visited few slots.
    let s = w.stats();
    assert!(s.entries_cascaded <= 4 * LEVELS as u64, "{s:?}");
    assert!(s.slots_visited <= 4 * LEVELS as u64 + 4, "{s:?}");
}

#[test]
fn huge_time_jumps_skip_empty_ticks() {
    // 1 ms ticks, 10 days: 864 million ticks. Crossing them must cost slots visited, not
    // ticks.
    let mut w = wheel::<u32>(2000, MS);
    assert!(fired(&mut w, 10 * DAY).is_empty());
    assert_eq!(w.stats().slots_visited, 0);

    let mut w = wheel::<u32>(2000, MS);
    let mut rng = XorShift::new(77);
    let mut want: Vec<(u64, u32)> = (0..1000).map(|i| (rng.below(10 * DAY), i)).collect();
    for &(d, i) in &want {
        w.schedule(t(d), i).unwrap();
    }
    want.sort();
    assert_eq!(fired(&mut w, 10 * DAY), want);
    // 10 days of 1 ms ticks is below 2^30 ticks: five levels. A timer is cascaded at most
    // four times (level 4 down to 0), and a slot is visited only when it holds a timer.
    let s = w.stats();
    assert!(s.entries_cascaded <= 4 * 1000, "{s:?}");
    assert!(s.slots_visited <= 5 * 1000, "{s:?}");

    // A busy second, a 10-day pause, another busy second: per-millisecond timers fire on
    // time around the gap and the gap costs nothing.
    let mut w = wheel::<u32>(16, MS);
    let mut count = 0;
    let mut now = 0;
    for phase_start in [0, 10 * DAY] {
        for step in 0..1000u64 {
            now = phase_start + step * MS;
            w.schedule(t(now + MS / 2), count).unwrap();
            let got = fired(&mut w, now);
            if step > 0 {
                assert_eq!(got, [(now - MS / 2, count - 1)]);
            }
            count += 1;
        }
        // The last timer of the phase fires at the jump.
        let before = w.stats().slots_visited;
        let got = fired(&mut w, now + 10 * DAY / 2);
        assert_eq!(got, [(now + MS / 2, count - 1)]);
        assert!(w.stats().slots_visited - before <= LEVELS as u64);
    }
    assert!(
        w.stats().slots_visited <= 2 * 1000 * 2 + 4 * LEVELS as u64,
        "{:?}",
        w.stats()
    );
    assert!(now > 10 * DAY);
}

#[test]
fn capacity_exhaustion() {
    let mut w = wheel(3, MS);
    let a = w.schedule(t(10 * MS), 1).unwrap();
    w.schedule(t(20 * MS), 2).unwrap();
    w.schedule(t(DAY), 3).unwrap();
    assert_eq!(w.schedule(t(5 * MS), 4), Err(TimerFull));
    assert_eq!(TimerFull.to_string(), "timer wheel full");
    assert_eq!(w.len(), 3);
    // The refused timer left no trace.
    assert_eq!(w.next_deadline(), Some(t(10 * MS)));
    check(&w);
    w.cancel(a).unwrap();
    w.schedule(t(5 * MS), 4).unwrap();
    assert_eq!(w.schedule(t(5 * MS), 5), Err(TimerFull));
    assert_eq!(fired(&mut w, 20 * MS), [(5 * MS, 4), (20 * MS, 2)]);
    w.schedule(t(30 * MS), 6).unwrap();
    w.schedule(t(31 * MS), 7).unwrap();
    assert_eq!(w.schedule(t(32 * MS), 8), Err(TimerFull));
    check(&w);
}

#[test]
fn rearming_inside_the_pull_loop_keeps_order() {
    // A periodic 1 s timer re-armed from its own firing, and a one-shot at 5.5 s: one
    // advance across 10 s interleaves them correctly.
    let mut w = wheel(4, MS);
    w.schedule(t(SEC), "tick").unwrap();
    w.schedule(t(5 * SEC + SEC / 2), "once").unwrap();
    let mut log = vec![];
    while let Some((d, p)) = w.pop_expired(t(10 * SEC)) {
        log.push((d.0 / (SEC / 2), p));
        if p == "tick" {
            w.schedule(d.saturating_add(Duration::from_secs(1)), "tick")
                .unwrap();
        }
    }
    let want: Vec<(u64, &str)> = [2, 4, 6, 8, 10]
        .into_iter()
        .map(|h| (h, "tick"))
        .chain([(11, "once")])
        .chain([12, 14, 16, 18, 20].into_iter().map(|h| (h, "tick")))
        .collect();
    assert_eq!(log, want);
    assert_eq!(w.next_deadline(), Some(t(11 * SEC)));
    check(&w);
}

#[test]
fn randomized_against_a_model() {
    for (tick, seed) in [(1u64, 11u64), (MS, 12), (7 * MS + 3, 13), (SEC, 14)] {
        let mut rng = XorShift::new(seed);
        let cap = 64;
        let mut w: TimerWheel<u64> = wheel(cap, tick);
        // (deadline, seq) → (payload, handle)
        let mut model: BTreeMap<(u64, u64), u64> = BTreeMap::new();
        let mut handles: HashMap<u64, (TimerHandle, (u64, u64))> = HashMap::new();
        let mut dead: Vec<TimerHandle> = vec![];
        let mut seq = 0u64;
        let mut now = 5 * SEC;
        let mut next_payload = 0u64;
        for step in 0..30_000 {
            match rng.below(10) {
                0..=4 => {
                    let d = match rng.below(6) {
                        0 => now.saturating_sub(rng.below(100 * tick)),
                        1 => now + rng.below(8 * tick),
                        2 => now + rng.below(5_000 * tick),
                        3 => now + rng.below(30 * DAY),
                        4 => model.keys().next().map_or(now, |k| k.0),
                        _ => now + rng.below(64 * 64 * tick),
                    };
                    let p = next_payload;
                    match w.schedule(t(d), p) {
                        Ok(h) => {
                            next_payload += 1;
                            model.insert((d, seq), p);
                            handles.insert(p, (h, (d, seq)));
                            seq += 1;
                        }
                        Err(TimerFull) => assert_eq!(model.len(), cap),
                    }
                }
                5 | 6 => {
                    if model.is_empty() || rng.below(4) == 0 {
                        if let Some(&h) = dead.last() {
                            assert_eq!(w.cancel(h), None);
                        }
                    } else {
                        let nth = rng.below(model.len() as u64) as usize;
                        let (&k, &p) = model.iter().nth(nth).unwrap();
                        let (h, _) = handles.remove(&p).unwrap();
                        assert_eq!(w.deadline(h), Some(t(k.0)));
                        assert_eq!(w.cancel(h), Some(p));
                        model.remove(&k);
                        dead.push(h);
                    }
                }
                _ => {
                    now = match rng.below(20) {
                        0 => now + rng.below(40 * DAY),
                        1 => now.saturating_sub(rng.below(50 * tick)),
                        2..=9 => now + rng.below(3 * tick),
                        _ => now + rng.below(200 * tick),
                    };
                    let mut want = vec![];
                    while let Some((&k, _)) = model.first_key_value() {
                        if k.0 > now {
                            break;
                        }
                        let p = model.remove(&k).unwrap();
                        dead.push(handles.remove(&p).unwrap().0);
                        want.push((k.0, p));
                    }
                    assert_eq!(fired(&mut w, now), want, "step {step}, tick {tick}");
                }
            }
            assert_eq!(w.len(), model.len());
            assert_eq!(
                w.next_deadline(),
                model.keys().next().map(|k| t(k.0)),
                "step {step}"
            );
            if step % 101 == 0 {
                check(&w);
            }
        }
        check(&w);
    }
}

/// The engine's idle-timeout scheme (module docs) against a direct computation.
#[test]
fn idle_timeouts_with_lazy_rearm() {
    let timeout = Duration::from_secs(30);
    let timeout_ns = 30 * SEC;
    let n_flows = 50u32;
    let mut flows: FlowTable<u32> = FlowTable::new(64).unwrap();
    let mut wheel: TimerWheel<FlowId> =
        TimerWheel::new(64, Duration::from_millis(1), t(0)).unwrap();
    let mut rng = XorShift::new(5);
    let key = |i: u32| FlowKey::from_v4([10, 0, 0, 1], 2000 + i as u16, [10, 0, 0, 2], 80, 6).0;

    // Each flow starts at some time and sees packets with gaps; a gap ≥ 30 s ends it (then
    // later packets of the same key start a new flow). `expected` is the list of
    // (end time, flow number) computed directly from the packet times.
    let mut packets: Vec<(u64, u32)> = vec![];
    for f in 0..n_flows {
        let mut at = rng.below(100 * SEC);
        for _ in 0..rng.below(200) + 1 {
            packets.push((at, f));
            at += match rng.below(40) {
                0 => 30 * SEC + rng.below(10 * SEC), // a gap that ends the flow
                1 => 30 * SEC,                       // exactly the timeout: ends it too
                2 => 30 * SEC - 1,                   // one ns short: survives
                _ => rng.below(2 * SEC),
            };
        }
    }
    packets.sort();
    let mut last: HashMap<u32, u64> = HashMap::new();
    let mut expected: Vec<(u64, u32)> = vec![];
    for &(at, f) in &packets {
        if let Some(&seen) = last.get(&f).filter(|&&seen| at - seen >= timeout_ns) {
            expected.push((seen + timeout_ns, f));
        }
        last.insert(f, at);
    }
    let end = packets.last().unwrap().0 + 10 * 60 * SEC;
    expected.extend(last.iter().map(|(&f, &seen)| (seen + timeout_ns, f)));
    expected.sort();

    let mut ended: Vec<(u64, u32)> = vec![];
    let mut wheel_ops = 0;
    let expire = |now: u64,
                  flows: &mut FlowTable<u32>,
                  wheel: &mut TimerWheel<FlowId>,
                  ended: &mut Vec<(u64, u32)>,
                  ops: &mut u32| {
        while let Some((deadline, id)) = wheel.pop_expired(t(now)) {
            let seen = flows.last_seen(id).unwrap();
            let due = seen.saturating_add(timeout);
            if due > deadline {
                wheel.schedule(due, id).unwrap();
                *ops += 1;
            } else {
                assert!(now.saturating_sub(seen.0) >= timeout_ns);
                let (_, f) = flows.remove(id).unwrap();
                ended.push((deadline.0, f));
            }
        }
    };
    for &(at, f) in &packets {
        expire(at, &mut flows, &mut wheel, &mut ended, &mut wheel_ops);
        match flows.lookup(&key(f)) {
            Some(id) => assert!(flows.touch(id, t(at))), // no wheel operation
            None => {
                let id = flows.insert(key(f), f, t(at)).unwrap();
                wheel.schedule(t(at).saturating_add(timeout), id).unwrap();
                wheel_ops += 1;
            }
        }
    }
    expire(end, &mut flows, &mut wheel, &mut ended, &mut wheel_ops);
    assert_eq!(ended, expected);
    assert!(
        ended.len() > 2 * n_flows as usize,
        "the traffic ends flows mid-trace too"
    );
    assert!(flows.is_empty());
    assert!(wheel.is_empty());
    // Lazy re-arming: far fewer wheel operations than packets.
    assert!(
        (wheel_ops as usize) < packets.len() / 4,
        "{wheel_ops} ops, {} packets",
        packets.len()
    );
}

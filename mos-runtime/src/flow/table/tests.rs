// Tests state their expectations with unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::flow::testutil::XorShift;
use std::collections::HashMap;
use std::time::Duration;

fn key(i: u32) -> FlowKey {
    let b = i.to_be_bytes();
    FlowKey::from_v4(
        [10, b[0], b[1], b[2]],
        1024 + u16::from(b[3]),
        [10, 255, 0, 1],
        80,
        6,
    )
    .0
}

fn ts(secs: u64) -> Timestamp {
    Timestamp::from_parts(secs, 0)
}

/// Checks every structural invariant of the table.
fn check<T>(t: &FlowTable<T>) {
    let mask = t.mask;
    assert_eq!(t.index.len(), mask + 1);
    assert!(t.index.len() >= 2 * t.capacity());
    let mut seen = vec![false; t.capacity()];
    let mut used = 0;
    for (pos, e) in t.index.iter().enumerate() {
        if e.slot == NIL {
            continue;
        }
        used += 1;
        let s = &t.slots[e.slot as usize];
        assert!(s.occupied, "index names a free slot");
        assert!(!seen[e.slot as usize], "slot indexed twice");
        seen[e.slot as usize] = true;
        let hash = s.key.hash64();
        assert_eq!(e.tag, hash as u32);
        // Linear probing: no empty entry between the home and the entry.
        let mut p = e.tag as usize & mask;
        while p != pos {
            assert_ne!(t.index[p].slot, NIL, "gap between home and entry");
            p = (p + 1) & mask;
        }
        assert_eq!(t.lookup(&s.key).map(FlowId::index), Some(e.slot as usize));
    }
    assert_eq!(used, t.len());
    // LRU list: len links, consistent back links.
    let mut n = 0;
    let mut prev = NIL;
    let mut cur = t.lru_head;
    while cur != NIL {
        let s = &t.slots[cur as usize];
        assert!(s.occupied);
        assert_eq!(s.prev, prev);
        prev = cur;
        cur = s.next;
        n += 1;
        assert!(n <= t.len());
    }
    assert_eq!(prev, t.lru_tail);
    assert_eq!(n, t.len());
    // Free list: the rest.
    let mut free = 0;
    let mut cur = t.free_head;
    while cur != NIL {
        assert!(!t.slots[cur as usize].occupied);
        cur = t.slots[cur as usize].next;
        free += 1;
        assert!(free <= t.capacity());
    }
    // Never-used slots lie past the watermark; the arrays stay in step and within capacity.
    assert_eq!(t.slots.len(), t.values.len());
    assert!(t.slots.len() <= t.capacity());
    assert_eq!(
        free + t.len() + (t.capacity() - t.slots.len()),
        t.capacity()
    );
}

/// Probe distance (from home) of every entry.
fn distances<T>(t: &FlowTable<T>) -> Vec<usize> {
    t.index
        .iter()
        .enumerate()
        .filter(|(_, e)| e.slot != NIL)
        .map(|(pos, e)| pos.wrapping_sub(e.tag as usize) & t.mask)
        .collect()
}

#[test]
fn rejects_bad_capacities() {
    assert_eq!(
        FlowTable::<u8>::new(0).err(),
        Some(TableConfigError::ZeroCapacity)
    );
    assert_eq!(
        FlowTable::<u8>::new(MAX_CAPACITY + 1).err(),
        Some(TableConfigError::TooLarge {
            requested: MAX_CAPACITY + 1
        })
    );
    assert_eq!(
        FlowTable::<u8>::memory_bytes(usize::MAX).err(),
        Some(TableConfigError::TooLarge {
            requested: usize::MAX
        })
    );
    assert_eq!(
        TableConfigError::TooLarge { requested: 5 }.to_string(),
        "flow table capacity 5 exceeds the maximum of 268435456 flows"
    );
    let t = FlowTable::<u8>::new(1).unwrap();
    assert_eq!((t.capacity(), t.index.len(), t.len()), (1, 2, 0));
}

#[test]
fn memory_budget() {
    assert_eq!(size_of::<FlowKey>(), 38);
    assert_eq!(INDEX_ENTRY_BYTES, 8);
    // Header: key 38 + padding 2 + generation, prev, next 12 + last_seen 8 + occupied 1 +
    // padding 3 = 64; value: u64 8 (a free slot holds the default value, no `Option`).
    assert_eq!(FlowTable::<u64>::slot_bytes(), 72);
    assert_eq!(FlowTable::<u64>::index_len(100), Ok(256));
    assert_eq!(FlowTable::<u64>::index_len(128), Ok(256));
    assert_eq!(FlowTable::<u64>::index_len(129), Ok(512));
    assert_eq!(FlowTable::<u64>::memory_bytes(100), Ok(100 * 72 + 256 * 8));
    assert_eq!(
        FlowTable::<u64>::memory_bytes(1 << 20),
        Ok((1 << 20) * 72 + (1 << 21) * 8)
    );
    // The figures of the module docs.
    assert_eq!(FlowTable::<()>::slot_bytes(), 64);
    assert_eq!(FlowTable::<[u64; 8]>::slot_bytes(), 128);
    assert_eq!(FlowTable::<[u64; 8]>::memory_bytes(1 << 20), Ok(144 << 20));
    // The allocation is what the budget says, and nothing grows afterwards.
    let mut t = FlowTable::<u64>::new(100).unwrap();
    let caps = (t.slots.capacity(), t.index.capacity());
    assert_eq!(caps, (100, 256));
    for i in 0..100 {
        t.insert(key(i), u64::from(i), ts(1)).unwrap();
    }
    assert_eq!((t.slots.capacity(), t.index.capacity()), caps);
}

#[test]
fn insert_lookup_get_remove() {
    let mut t = FlowTable::new(4).unwrap();
    assert!(t.is_empty());
    let a = t.insert(key(1), "a", ts(10)).unwrap();
    let b = t.insert(key(2), "b", ts(11)).unwrap();
    assert_eq!((a.index(), b.index()), (0, 1));
    assert_eq!(t.len(), 2);
    assert_eq!(t.lookup(&key(1)), Some(a));
    assert_eq!(t.lookup_hashed(&key(2), key(2).hash64()), Some(b));
    assert_eq!(t.lookup(&key(3)), None);
    assert_eq!(t.get(a), Some(&"a"));
    *t.get_mut(b).unwrap() = "B";
    assert_eq!(t.get(b), Some(&"B"));
    assert_eq!(t.key(a), Some(&key(1)));
    assert_eq!(t.last_seen(b), Some(ts(11)));
    assert!(t.contains(a));
    // The reverse direction of the same flow finds it.
    let (lo, lp) = key(1).lower();
    let (hi, hp) = key(1).upper();
    let (rev, swapped) = FlowKey::new(hi, hp, lo, lp, 6);
    assert!(swapped);
    assert_eq!(t.lookup(&rev), Some(a));

    assert_eq!(t.remove(a), Some((key(1), "a")));
    assert_eq!(t.len(), 1);
    assert_eq!(t.lookup(&key(1)), None);
    check(&t);
    let a2 = t.insert(key(1), "a2", ts(12)).unwrap();
    assert_eq!(a2.index(), a.index(), "freed slot reused");
    assert_ne!(a2, a);
    assert_eq!(t.get(a2), Some(&"a2"));
    check(&t);
}

#[test]
fn duplicate_insert_changes_nothing() {
    let mut t = FlowTable::new(4).unwrap();
    let a = t.insert(key(1), 1, ts(1)).unwrap();
    assert_eq!(t.insert(key(1), 2, ts(2)), Err(InsertError::Duplicate(a)));
    assert_eq!(t.get(a), Some(&1));
    assert_eq!(t.last_seen(a), Some(ts(1)));
    assert_eq!(t.len(), 1);
    // Duplicate detection wins over fullness.
    let mut one = FlowTable::new(1).unwrap();
    let x = one.insert(key(7), 0, ts(0)).unwrap();
    assert_eq!(one.insert(key(7), 0, ts(0)), Err(InsertError::Duplicate(x)));
    assert_eq!(one.insert(key(8), 0, ts(0)), Err(InsertError::TableFull));
    check(&t);
}

#[test]
fn full_table_refuses_then_accepts_after_remove() {
    let mut t = FlowTable::new(3).unwrap();
    let ids: Vec<FlowId> = (0..3)
        .map(|i| t.insert(key(i), i, ts(1)).unwrap())
        .collect();
    assert!(t.is_full());
    assert_eq!(t.insert(key(9), 9, ts(2)), Err(InsertError::TableFull));
    assert_eq!(InsertError::TableFull.to_string(), "flow table full");
    assert_eq!(t.len(), 3);
    assert_eq!(t.lookup(&key(9)), None);
    t.remove(ids[1]).unwrap();
    assert!(!t.is_full());
    let n = t.insert(key(9), 9, ts(2)).unwrap();
    assert_eq!(n.index(), ids[1].index());
    assert_eq!(t.insert(key(10), 10, ts(2)), Err(InsertError::TableFull));
    check(&t);
}

#[test]
fn stale_handles_are_refused() {
    let mut t = FlowTable::new(2).unwrap();
    let a = t.insert(key(1), 1u32, ts(1)).unwrap();
    let b = t.insert(key(2), 2u32, ts(1)).unwrap();
    t.remove(a).unwrap();
    assert_eq!(t.get(a), None);
    assert_eq!(t.get_mut(a), None);
    assert_eq!(t.key(a), None);
    assert_eq!(t.last_seen(a), None);
    assert_eq!(t.newer(a), None);
    assert!(!t.touch(a, ts(5)));
    assert!(!t.contains(a));
    assert_eq!(t.remove(a), None);
    // A new flow in the same slot is not reachable through the old handle.
    let c = t.insert(key(3), 3, ts(2)).unwrap();
    assert_eq!(c.index(), a.index());
    assert_eq!(c.generation(), a.generation() + 1);
    assert_eq!(t.get(a), None);
    assert_eq!(t.remove(a), None);
    assert_eq!(t.get(c), Some(&3));
    // Out-of-range and never-issued handles.
    let bogus = FlowId {
        index: 7,
        generation: 0,
    };
    assert_eq!(t.get(bogus), None);
    assert_eq!(t.remove(bogus), None);
    let future = FlowId {
        index: b.index,
        generation: b.generation + 1,
    };
    assert_eq!(t.get(future), None);
    assert_eq!(t.len(), 2);
    check(&t);
}

#[test]
fn lru_order_follows_touches() {
    let mut t = FlowTable::new(8).unwrap();
    let ids: Vec<FlowId> = (0..5)
        .map(|i| t.insert(key(i), i, ts(u64::from(i))).unwrap())
        .collect();
    assert_eq!(t.oldest(), Some((ids[0], ts(0))));
    assert!(t.touch(ids[0], ts(10)));
    assert!(t.touch(ids[2], ts(11)));
    assert!(t.touch(ids[2], ts(12))); // already newest
    let order: Vec<u32> = t.iter().map(|(_, _, v)| *v).collect();
    assert_eq!(order, [1, 3, 4, 0, 2]);
    assert_eq!(t.iter().len(), 5);
    let keys: Vec<FlowKey> = t.iter().map(|(_, k, _)| *k).collect();
    assert_eq!(keys, [key(1), key(3), key(4), key(0), key(2)]);
    assert_eq!(t.oldest(), Some((ids[1], ts(1))));
    assert_eq!(t.last_seen(ids[2]), Some(ts(12)));
    let by_ids: Vec<FlowId> = t.ids_oldest_first().collect();
    assert_eq!(by_ids, [ids[1], ids[3], ids[4], ids[0], ids[2]]);
    // Cursor walk.
    let mut walk = vec![];
    let mut cur = t.oldest().map(|(id, _)| id);
    while let Some(id) = cur {
        walk.push(id);
        cur = t.newer(id);
    }
    assert_eq!(walk, by_ids);
    // Removing from the middle, the head and the tail keeps the order.
    t.remove(ids[4]).unwrap();
    t.remove(ids[1]).unwrap();
    t.remove(ids[2]).unwrap();
    let order: Vec<u32> = t.iter().map(|(_, _, v)| *v).collect();
    assert_eq!(order, [3, 0]);
    check(&t);
    // End of trace: drain oldest first.
    let mut ended = vec![];
    while let Some((id, _)) = t.oldest() {
        ended.push(t.remove(id).unwrap().1);
    }
    assert_eq!(ended, [3, 0]);
    assert!(t.is_empty());
    assert_eq!(t.oldest(), None);
    check(&t);
}

#[test]
fn last_seen_never_goes_back() {
    let mut t = FlowTable::new(2).unwrap();
    let a = t.insert(key(1), (), ts(100)).unwrap();
    let b = t.insert(key(2), (), ts(101)).unwrap();
    assert!(t.touch(a, ts(99)));
    assert_eq!(t.last_seen(a), Some(ts(100)));
    // Still moved to the newest end: the order is the order of touches.
    assert_eq!(t.oldest(), Some((b, ts(101))));
}

#[test]
fn oldest_idle_applies_the_minimum() {
    let mut t = FlowTable::new(2).unwrap();
    assert_eq!(t.oldest_idle(ts(100), Duration::ZERO), None);
    let a = t.insert(key(1), (), ts(100)).unwrap();
    t.insert(key(2), (), ts(105)).unwrap();
    assert_eq!(t.oldest_idle(ts(109), Duration::from_secs(10)), None);
    assert_eq!(t.oldest_idle(ts(110), Duration::from_secs(10)), Some(a));
    assert_eq!(t.oldest_idle(ts(100), Duration::ZERO), Some(a));
}

/// Keys whose home position in an index of `index_len` entries is `home`.
fn keys_with_home(index_len: usize, home: usize, n: usize, from: u32) -> Vec<FlowKey> {
    (from..)
        .map(key)
        .filter(|k| k.hash64() as u32 as usize & (index_len - 1) == home)
        .take(n)
        .collect()
}

#[test]
fn backward_shift_across_the_wrap() {
    // Capacity 8: index of 16. Build one cluster 13..=15, 0..=3 out of three homes, so it
    // wraps around the end of the index, then delete from every position.
    let mut homes = keys_with_home(16, 13, 3, 0);
    homes.extend(keys_with_home(16, 15, 2, 0));
    homes.extend(keys_with_home(16, 0, 2, 0));
    let cluster = homes;
    for victim in 0..cluster.len() {
        let mut t = FlowTable::new(8).unwrap();
        let ids: Vec<FlowId> = cluster
            .iter()
            .map(|k| t.insert(*k, (), ts(0)).unwrap())
            .collect();
        let occupied: Vec<usize> = (0..16).filter(|&p| t.index[p].slot != NIL).collect();
        assert_eq!(occupied, [0, 1, 2, 3, 13, 14, 15]);
        check(&t);
        t.remove(ids[victim]).unwrap();
        check(&t);
        for (i, k) in cluster.iter().enumerate() {
            assert_eq!(t.lookup(k), (i != victim).then_some(ids[i]));
        }
        // The cluster shrank from its end: the last position is free again.
        assert_eq!(t.index[3].slot, NIL);
        // Reinsert the removed key: found again, at a position its home reaches.
        let again = t.insert(cluster[victim], (), ts(1)).unwrap();
        assert_eq!(t.lookup(&cluster[victim]), Some(again));
        check(&t);
    }
}

#[test]
fn entries_before_their_home_are_not_shifted() {
    // Index of 16: A and B at home 5 (positions 5, 6), C at home 6 (position 7), D at home 7
    // (position 8). Deleting C moves D back to its home 7; deleting A then moves B back to 5
    // but must leave D at 7 (position 6 is before D's home), opening a gap at 6.
    let a_b = keys_with_home(16, 5, 2, 0);
    let c = keys_with_home(16, 6, 1, 0)[0];
    let d = keys_with_home(16, 7, 1, 0)[0];
    let mut t = FlowTable::new(8).unwrap();
    let ida = t.insert(a_b[0], 'a', ts(0)).unwrap();
    t.insert(a_b[1], 'b', ts(0)).unwrap();
    let idc = t.insert(c, 'c', ts(0)).unwrap();
    t.insert(d, 'd', ts(0)).unwrap();
    let at = |t: &FlowTable<char>, p: usize| {
        let s = t.index[p].slot;
        (s != NIL).then(|| t.values[s as usize])
    };
    assert_eq!(
        (5..10).map(|p| at(&t, p)).collect::<Vec<_>>(),
        [Some('a'), Some('b'), Some('c'), Some('d'), None]
    );
    t.remove(idc).unwrap();
    assert_eq!(
        (5..10).map(|p| at(&t, p)).collect::<Vec<_>>(),
        [Some('a'), Some('b'), Some('d'), None, None]
    );
    t.remove(ida).unwrap();
    assert_eq!(
        (5..10).map(|p| at(&t, p)).collect::<Vec<_>>(),
        [Some('b'), None, Some('d'), None, None]
    );
    check(&t);
}

#[test]
fn probe_lengths_stay_short_with_sequential_ports() {
    // 100k flows of one client on consecutive source ports (index of 2^18 entries), and a
    // full 2^16-flow table (index of 2^17 entries, load 1/2).
    for (n, cap) in [(100_000u32, 100_000usize), (65_536, 65_536)] {
        let mut t = FlowTable::new(cap).unwrap();
        for i in 0..n {
            let port = 1024 + (i % 60_000) as u16;
            let server = [10, 1, 0, (i / 60_000) as u8];
            let (k, _) = FlowKey::from_v4([10, 0, 0, 1], port, server, 443, 6);
            t.insert(k, i, ts(0)).unwrap();
        }
        let d = distances(&t);
        let max = *d.iter().max().unwrap();
        let mean = d.iter().sum::<usize>() as f64 / d.len() as f64;
        // Linear probing with a random hash displaces entries by α / (2(1 − α)) on average:
        // 0.31 at load 0.38, 0.5 at load 0.5. The longest displacement stays in the tens.
        let load = f64::from(n) / t.index.len() as f64;
        let theory = load / (2.0 * (1.0 - load));
        assert!(
            (mean - theory).abs() < 0.1 * theory,
            "{n} flows: mean {mean}, theory {theory}"
        );
        assert!(max <= 40, "{n} flows: longest displacement {max}");
    }
}

/// The reference model: a map and an explicit LRU vector (oldest first).
#[derive(Default)]
struct Model {
    map: HashMap<FlowKey, (FlowId, u64, Timestamp)>,
    order: Vec<FlowKey>,
}

#[test]
fn randomized_against_a_model() {
    for (cap, key_space, seed) in [(1usize, 3u32, 1u64), (7, 20, 2), (8, 16, 3), (64, 200, 4)] {
        let mut rng = XorShift::new(seed);
        let mut t = FlowTable::new(cap).unwrap();
        let mut m = Model::default();
        let mut stale: Vec<FlowId> = vec![];
        let mut now = 0u64;
        for step in 0..20_000 {
            now += rng.below(3);
            let k = key(rng.below(u64::from(key_space)) as u32);
            match rng.below(6) {
                0 | 1 => {
                    let r = t.insert(k, step, ts(now));
                    match m.map.get(&k) {
                        Some(&(id, _, _)) => assert_eq!(r, Err(InsertError::Duplicate(id))),
                        None if m.map.len() == cap => assert_eq!(r, Err(InsertError::TableFull)),
                        None => {
                            let id = r.unwrap();
                            m.map.insert(k, (id, step, ts(now)));
                            m.order.push(k);
                        }
                    }
                }
                2 => {
                    let r = t.lookup(&k);
                    assert_eq!(r, m.map.get(&k).map(|e| e.0));
                    if let Some(id) = r {
                        assert_eq!(t.get(id), Some(&m.map[&k].1));
                        assert_eq!(t.key(id), Some(&k));
                    }
                }
                3 => {
                    if let Some(&(id, v, _)) = m.map.get(&k) {
                        assert_eq!(t.remove(id), Some((k, v)));
                        m.map.remove(&k);
                        m.order.retain(|x| *x != k);
                        stale.push(id);
                    } else if let Some(&id) = stale.last() {
                        assert_eq!(t.remove(id), None);
                    }
                }
                4 => {
                    if let Some(e) = m.map.get_mut(&k) {
                        let seen = ts(now.saturating_sub(rng.below(4)));
                        assert!(t.touch(e.0, seen));
                        e.2 = e.2.max(seen);
                        m.order.retain(|x| *x != k);
                        m.order.push(k);
                        assert_eq!(t.last_seen(e.0), Some(e.2));
                    }
                }
                _ => {
                    if let Some(e) = m.map.get_mut(&k) {
                        *t.get_mut(e.0).unwrap() += 1_000_000;
                        e.1 += 1_000_000;
                    }
                }
            }
            for id in stale.iter().rev().take(3) {
                assert_eq!(t.get(*id), None);
            }
            assert_eq!(t.len(), m.map.len());
            assert_eq!(t.oldest().map(|o| o.0), m.order.first().map(|k| m.map[k].0));
            if step % 97 == 0 || cap <= 8 {
                check(&t);
                let got: Vec<(FlowKey, u64)> = t.iter().map(|(_, k, v)| (*k, *v)).collect();
                let want: Vec<(FlowKey, u64)> = m.order.iter().map(|k| (*k, m.map[k].1)).collect();
                assert_eq!(got, want);
            }
        }
    }
}

/// `remove` moves the value out (the slot holds the default again); `remove_in_place` lends
/// it and leaves it; `insert_with` hands the slot's previous value to its initialiser, and
/// is refused like `insert` for a duplicate or a full table.
#[test]
fn in_place_insertion_and_removal() {
    let keys = keys_with_home(16, 3, 3, 0);
    let mut t: FlowTable<Vec<u32>> = FlowTable::new(2).unwrap();
    let a = t
        .insert_with(keys[0], keys[0].hash64(), ts(1), |v| {
            assert!(v.is_empty(), "a fresh slot holds the default");
            v.push(7);
        })
        .unwrap();
    assert_eq!(t.get(a), Some(&vec![7]));
    let (key, value) = t.remove_in_place(a).unwrap();
    assert_eq!(key, keys[0]);
    value.push(8);
    assert!(t.get(a).is_none() && !t.contains(a));
    check(&t);
    // The freed slot is reused, and its previous value handed over.
    let b = t
        .insert_with(keys[1], keys[1].hash64(), ts(2), |v| {
            assert_eq!(v, &vec![7, 8]);
            v.clear();
            v.push(9);
        })
        .unwrap();
    assert_eq!(b.index(), a.index());
    assert_eq!(t.get(b), Some(&vec![9]));
    let dup = t.insert_with(keys[1], keys[1].hash64(), ts(3), |_| panic!("not called"));
    assert_eq!(dup, Err(InsertError::Duplicate(b)));
    t.insert(keys[2], vec![1], ts(3)).unwrap();
    let full = t.insert_with(keys[0], keys[0].hash64(), ts(4), |_| panic!("not called"));
    assert_eq!(full, Err(InsertError::TableFull));
    check(&t);
    // `remove` moves the value out.
    let (_, moved) = t.remove(b).unwrap();
    assert_eq!(moved, vec![9]);
    assert!(t.values[b.index()].is_empty());
    check(&t);
}

//! The statistics of a run: what [`crate::Runtime::run`] returns, printable as a table
//! (`Display`) and as JSON ([`Report::to_json`]).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::app::Subscriptions;
use crate::event::{EndReason, ErrorKind, Event, Hook, OrphanReason};

/// Number of (built-in event, hook) pairs.
pub(crate) const EVENT_SLOTS: usize = 15;

/// Raw counters a worker keeps (no allocation once built).
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub tcp_packets: u64,
    pub connections: u64,
    pub ended: [u64; EndReason::ALL.len()],
    pub orphans: [u64; OrphanReason::ALL.len()],
    pub errors: [u64; ErrorKind::ALL.len()],
    pub events: [u64; EVENT_SLOTS],
    pub dropped: u64,
    pub forwarded: u64,
    pub peak_flows: u64,
    pub first_ts: Option<u64>,
    pub last_ts: u64,
}

impl Counters {
    #[inline(always)]
    pub fn event(&mut self, event: Event, hook: Hook) {
        if let Some(slot) = Subscriptions::slot(event, hook) {
            self.events[usize::from(slot)] += 1;
        }
    }

    /// Adds another worker's counters (`cores(n)` runs): every count is summed, `peak_flows`
    /// too (the most flows each worker held, added up: an upper bound of the flows held at
    /// once), and the trace's time span is the union of the workers' spans.
    pub fn merge(&mut self, other: &Counters) {
        fn add<const N: usize>(into: &mut [u64; N], from: &[u64; N]) {
            for (a, b) in into.iter_mut().zip(from) {
                *a += b;
            }
        }
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.tcp_packets += other.tcp_packets;
        self.connections += other.connections;
        add(&mut self.ended, &other.ended);
        add(&mut self.orphans, &other.orphans);
        add(&mut self.errors, &other.errors);
        add(&mut self.events, &other.events);
        self.dropped += other.dropped;
        self.forwarded += other.forwarded;
        self.peak_flows += other.peak_flows;
        self.first_ts = match (self.first_ts, other.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = self.last_ts.max(other.last_ts);
    }
}

/// One named count.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Count {
    /// What is counted.
    pub name: String,
    /// How many.
    pub count: u64,
}

/// Statistics of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The app that ran.
    pub app: String,
    /// Packets read.
    pub packets: u64,
    /// Bytes read (wire lengths).
    pub bytes: u64,
    /// TCP packets.
    pub tcp_packets: u64,
    /// Connections tracked (started by a SYN).
    pub connections: u64,
    /// Connections ended, by reason.
    pub ended: Vec<Count>,
    /// Packets outside any flow.
    pub orphans: u64,
    /// Orphans by reason.
    pub orphans_by_reason: Vec<Count>,
    /// Errors.
    pub errors: u64,
    /// Errors by kind.
    pub errors_by_kind: Vec<Count>,
    /// Events raised, by `EVENT@HOOK` (whether or not the app handles them).
    pub events: Vec<Count>,
    /// Handler calls, by handler name.
    pub handlers: Vec<Count>,
    /// Packets dropped by handlers (inline mode).
    pub dropped: u64,
    /// Packets forwarded (inline mode).
    pub forwarded: u64,
    /// Most connections tracked at once (summed over workers).
    pub peak_flows: u64,
    /// Workers.
    pub cores: usize,
    /// Wall-clock time of the run, in seconds: from the first packet through the end of the
    /// input and the connections it ends.
    pub elapsed_seconds: f64,
    /// Wall-clock time spent building the workers before the first packet (allocating their
    /// preallocated structures and writing what start-up writes), in seconds; not part of
    /// `elapsed_seconds`.
    pub setup_seconds: f64,
    /// Packet time covered by the input (latest timestamp minus earliest), in seconds.
    pub trace_seconds: f64,
    /// Millions of packets per second of wall-clock time.
    pub mpps: f64,
}

impl Report {
    pub(crate) fn build(
        app: &str,
        counters: &Counters,
        handler_names: &[&str],
        handler_calls: &[u64],
        cores: usize,
        elapsed: Duration,
    ) -> Report {
        let named = |names: &mut dyn Iterator<Item = &'static str>, counts: &[u64]| {
            names
                .zip(counts.iter())
                .filter(|(_, count)| **count > 0)
                .map(|(name, count)| Count {
                    name: name.to_string(),
                    count: *count,
                })
                .collect::<Vec<_>>()
        };
        let mut events = Vec::new();
        for event in Event::ALL {
            for &hook in event.hooks() {
                if let Some(slot) = Subscriptions::slot(event, hook) {
                    let count = counters.events[usize::from(slot)];
                    if count > 0 {
                        events.push(Count {
                            name: format!("{}@{}", event.name(), hook.name()),
                            count,
                        });
                    }
                }
            }
        }
        let handlers = handler_names
            .iter()
            .zip(handler_calls)
            .map(|(name, count)| Count {
                name: (*name).to_string(),
                count: *count,
            })
            .collect();
        let secs = elapsed.as_secs_f64();
        let trace_seconds = counters
            .first_ts
            .map(|first| counters.last_ts.saturating_sub(first) as f64 / 1e9)
            .unwrap_or(0.0);
        Report {
            app: app.to_string(),
            packets: counters.packets,
            bytes: counters.bytes,
            tcp_packets: counters.tcp_packets,
            connections: counters.connections,
            ended: named(
                &mut EndReason::ALL.iter().map(|r| r.name()),
                &counters.ended,
            ),
            orphans: counters.orphans.iter().sum(),
            orphans_by_reason: named(
                &mut OrphanReason::ALL.iter().map(|r| r.name()),
                &counters.orphans,
            ),
            errors: counters.errors.iter().sum(),
            errors_by_kind: named(
                &mut ErrorKind::ALL.iter().map(|k| k.name()),
                &counters.errors,
            ),
            events,
            handlers,
            dropped: counters.dropped,
            forwarded: counters.forwarded,
            peak_flows: counters.peak_flows,
            cores,
            elapsed_seconds: secs,
            setup_seconds: 0.0,
            trace_seconds,
            mpps: if secs > 0.0 {
                counters.packets as f64 / secs / 1e6
            } else {
                0.0
            },
        }
    }

    /// The count of one event at one hook.
    pub fn event_count(&self, event: Event, hook: Hook) -> u64 {
        let name = format!("{}@{}", event.name(), hook.name());
        self.events
            .iter()
            .find(|c| c.name == name)
            .map_or(0, |c| c.count)
    }

    /// The number of errors of one kind.
    pub fn error_count(&self, kind: ErrorKind) -> u64 {
        self.errors_by_kind
            .iter()
            .find(|c| c.name == kind.name())
            .map_or(0, |c| c.count)
    }

    /// The number of orphans with one reason.
    pub fn orphan_count(&self, reason: OrphanReason) -> u64 {
        self.orphans_by_reason
            .iter()
            .find(|c| c.name == reason.name())
            .map_or(0, |c| c.count)
    }

    /// The number of connections that ended for one reason.
    pub fn ended_count(&self, reason: EndReason) -> u64 {
        self.ended
            .iter()
            .find(|c| c.name == reason.name())
            .map_or(0, |c| c.count)
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

impl Report {
    /// The table without the wall-clock lines (elapsed time, Mpps): identical on every run of
    /// the same input, for expected-output tests.
    pub fn untimed(&self) -> impl fmt::Display + '_ {
        Table {
            report: self,
            timed: false,
        }
    }

    fn render(&self, f: &mut fmt::Formatter<'_>, timed: bool) -> fmt::Result {
        writeln!(f, "mos report: {}", self.app)?;
        writeln!(f, "  {:<28}{:>14}", "packets", self.packets)?;
        writeln!(f, "  {:<28}{:>14}", "bytes", self.bytes)?;
        writeln!(f, "  {:<28}{:>14}", "tcp packets", self.tcp_packets)?;
        writeln!(f, "  {:<28}{:>14}", "connections", self.connections)?;
        writeln!(
            f,
            "  {:<28}{:>14}",
            "peak concurrent flows", self.peak_flows
        )?;
        let section = |f: &mut fmt::Formatter<'_>, title: &str, counts: &[Count]| -> fmt::Result {
            if counts.is_empty() {
                return Ok(());
            }
            writeln!(f, "  {title}")?;
            for c in counts {
                writeln!(f, "    {:<26}{:>14}", c.name, c.count)?;
            }
            Ok(())
        };
        section(f, "connections ended", &self.ended)?;
        writeln!(f, "  {:<28}{:>14}", "orphans", self.orphans)?;
        section(f, "orphans by reason", &self.orphans_by_reason)?;
        writeln!(f, "  {:<28}{:>14}", "errors", self.errors)?;
        section(f, "errors by kind", &self.errors_by_kind)?;
        section(f, "events", &self.events)?;
        section(f, "handler calls", &self.handlers)?;
        if self.forwarded > 0 || self.dropped > 0 {
            writeln!(f, "  {:<28}{:>14}", "forwarded", self.forwarded)?;
            writeln!(f, "  {:<28}{:>14}", "dropped", self.dropped)?;
        }
        writeln!(f, "  {:<28}{:>14}", "cores", self.cores)?;
        if !timed {
            return write!(f, "  {:<28}{:>14.3}", "trace seconds", self.trace_seconds);
        }
        writeln!(f, "  {:<28}{:>14.3}", "trace seconds", self.trace_seconds)?;
        writeln!(f, "  {:<28}{:>14.3}", "setup seconds", self.setup_seconds)?;
        writeln!(
            f,
            "  {:<28}{:>14.3}",
            "elapsed seconds", self.elapsed_seconds
        )?;
        write!(f, "  {:<28}{:>14.3}", "Mpps", self.mpps)
    }
}

/// [`Report::untimed`]'s rendering.
struct Table<'r> {
    report: &'r Report,
    timed: bool,
}

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.report.render(f, self.timed)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(f, true)
    }
}

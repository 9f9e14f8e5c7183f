//! The built-in events and the hooks each is raised at: the one table the analysis consults.
//!
//! A proc-macro crate cannot share items with the runtime, so this table mirrors
//! `mos_runtime::event::Event::hooks()`. Generated code names the runtime's items by path
//! (`Event::ConnNewData`, the `conn_new_data_rcv` dispatch entry), so if the two ever drift apart
//! the pass tests stop compiling.

use std::fmt;

/// The built-in events' names, for messages.
pub const BUILTIN_LIST: &str = "ON_PKT_IN, ON_CONN_START, ON_TCP_STATE_CHANGE, ON_REXMIT, ON_CONN_NEW_DATA, ON_CONN_END, ON_ORPHAN, ON_ERROR, ON_TIMEOUT";

/// A built-in event.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Builtin {
    PktIn,
    ConnStart,
    TcpStateChange,
    Rexmit,
    ConnNewData,
    ConnEnd,
    Orphan,
    Error,
    Timeout,
}

/// A hook.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Hook {
    Snd,
    Rcv,
    Null,
}

/// What a handler or filter receives at a (built-in event, hook) pair.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CxKind {
    /// A flow context: handlers get `&mut Cx<'_, Flow, Core>`, filters `&FilterCx<'_, Flow, Core>`.
    Flow,
    /// No flow: handlers get `&mut PacketCx<'_, Core>`, filters `&PacketCx<'_, Core>`.
    Packet,
}

impl Builtin {
    /// Every built-in, in the runtime's order.
    pub const ALL: [Builtin; 9] = [
        Builtin::PktIn,
        Builtin::ConnStart,
        Builtin::TcpStateChange,
        Builtin::Rexmit,
        Builtin::ConnNewData,
        Builtin::ConnEnd,
        Builtin::Orphan,
        Builtin::Error,
        Builtin::Timeout,
    ];

    /// The name users write.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::PktIn => "ON_PKT_IN",
            Builtin::ConnStart => "ON_CONN_START",
            Builtin::TcpStateChange => "ON_TCP_STATE_CHANGE",
            Builtin::Rexmit => "ON_REXMIT",
            Builtin::ConnNewData => "ON_CONN_NEW_DATA",
            Builtin::ConnEnd => "ON_CONN_END",
            Builtin::Orphan => "ON_ORPHAN",
            Builtin::Error => "ON_ERROR",
            Builtin::Timeout => "ON_TIMEOUT",
        }
    }

    /// The runtime's `Event` variant.
    pub fn variant(self) -> &'static str {
        match self {
            Builtin::PktIn => "PktIn",
            Builtin::ConnStart => "ConnStart",
            Builtin::TcpStateChange => "TcpStateChange",
            Builtin::Rexmit => "Rexmit",
            Builtin::ConnNewData => "ConnNewData",
            Builtin::ConnEnd => "ConnEnd",
            Builtin::Orphan => "Orphan",
            Builtin::Error => "Error",
            Builtin::Timeout => "Timeout",
        }
    }

    /// The prefix of the runtime's dispatch entries (`pkt_in` in `pkt_in_snd`).
    fn entry_prefix(self) -> &'static str {
        match self {
            Builtin::PktIn => "pkt_in",
            Builtin::ConnStart => "conn_start",
            Builtin::TcpStateChange => "tcp_state_change",
            Builtin::Rexmit => "rexmit",
            Builtin::ConnNewData => "conn_new_data",
            Builtin::ConnEnd => "conn_end",
            Builtin::Orphan => "orphan",
            Builtin::Error => "error",
            Builtin::Timeout => "timeout",
        }
    }

    /// Look a name up (`ON_PKT_IN`, ...).
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The hooks this event is raised at (SPEC §2).
    pub fn hooks(self) -> &'static [Hook] {
        match self {
            Builtin::PktIn => &[Hook::Snd, Hook::Rcv, Hook::Null],
            Builtin::ConnStart | Builtin::TcpStateChange | Builtin::ConnEnd => {
                &[Hook::Snd, Hook::Rcv]
            }
            Builtin::Rexmit | Builtin::ConnNewData => &[Hook::Rcv],
            Builtin::Orphan | Builtin::Timeout => &[Hook::Null],
            Builtin::Error => &[Hook::Rcv, Hook::Null],
        }
    }

    /// Whether the event is raised at `hook`.
    pub fn raised_at(self, hook: Hook) -> bool {
        self.hooks().contains(&hook)
    }

    /// The context handlers get at `hook`.
    pub fn cx_kind(self, hook: Hook) -> CxKind {
        match (self, hook) {
            (Builtin::PktIn | Builtin::Orphan | Builtin::Error, Hook::Null) => CxKind::Packet,
            _ => CxKind::Flow,
        }
    }

    /// The name of the `App` dispatch entry for `(self, hook)`.
    pub fn entry_name(self, hook: Hook) -> String {
        format!("{}_{}", self.entry_prefix(), hook.lower())
    }

    /// "SND and RCV", "only RCV", ...: the hooks in prose, for messages.
    pub fn hooks_prose(self) -> String {
        let hooks = self.hooks();
        match hooks {
            [one] => format!("only at {one}"),
            _ => {
                let names: Vec<&str> = hooks.iter().map(|h| h.name()).collect();
                let (last, init) = names.split_last().unwrap_or((&"", &[]));
                format!("at {} and {last}", init.join(", "))
            }
        }
    }
}

impl Builtin {
    /// "at SND and RCV", "only at RCV": the hooks where the event has a flow context, in prose.
    pub fn flow_hooks_prose(self) -> String {
        let hooks: Vec<&str> = self
            .hooks()
            .iter()
            .filter(|&&h| self.cx_kind(h) == CxKind::Flow)
            .map(|h| h.name())
            .collect();
        match hooks.as_slice() {
            [one] => format!("only at {one}"),
            [init @ .., last] => format!("at {} and {last}", init.join(", ")),
            [] => String::from("nowhere with a flow"),
        }
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Hook {
    /// Every hook, in dispatch order.
    pub const ALL: [Hook; 3] = [Hook::Snd, Hook::Rcv, Hook::Null];

    /// The name users write.
    pub fn name(self) -> &'static str {
        match self {
            Hook::Snd => "SND",
            Hook::Rcv => "RCV",
            Hook::Null => "NULL",
        }
    }

    /// The runtime's `Hook` variant.
    pub fn variant(self) -> &'static str {
        match self {
            Hook::Snd => "Snd",
            Hook::Rcv => "Rcv",
            Hook::Null => "Null",
        }
    }

    fn lower(self) -> &'static str {
        match self {
            Hook::Snd => "snd",
            Hook::Rcv => "rcv",
            Hook::Null => "null",
        }
    }

    /// Look a name up (`SND`, `RCV`, `NULL`).
    pub fn from_name(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|h| h.name() == name)
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The dispatch entries of the runtime's `App` trait, in the order the trait declares them.
pub fn entries() -> impl Iterator<Item = (Builtin, Hook)> {
    Builtin::ALL
        .into_iter()
        .flat_map(|b| b.hooks().iter().map(move |&h| (b, h)))
}

/// The closest candidate to `name` by edit distance, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let upper = name.to_ascii_uppercase();
    candidates
        .into_iter()
        .map(|c| {
            // Case-insensitive match first (`on_pkt_in` for `ON_PKT_IN`), then edit distance.
            let d = if c.eq_ignore_ascii_case(name) {
                0
            } else {
                levenshtein(&upper, &c.to_ascii_uppercase())
            };
            (d, c)
        })
        .filter(|&(d, c)| d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Edit distance counting an adjacent transposition as one edit (optimal string alignment):
/// `scpoe` is one typo away from `scope`. Names are ASCII identifiers.
fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_the_runtime_trait() {
        let names: Vec<String> = entries().map(|(b, h)| b.entry_name(h)).collect();
        assert_eq!(
            names,
            [
                "pkt_in_snd",
                "pkt_in_rcv",
                "pkt_in_null",
                "conn_start_snd",
                "conn_start_rcv",
                "tcp_state_change_snd",
                "tcp_state_change_rcv",
                "rexmit_rcv",
                "conn_new_data_rcv",
                "conn_end_snd",
                "conn_end_rcv",
                "orphan_null",
                "error_rcv",
                "error_null",
                "timeout_null",
            ]
        );
    }

    #[test]
    fn suggestions() {
        let all = Builtin::ALL.map(Builtin::name);
        assert_eq!(did_you_mean("ON_PKT_INN", all), Some("ON_PKT_IN"));
        assert_eq!(
            did_you_mean("ON_CONN_NEWDATA", all),
            Some("ON_CONN_NEW_DATA")
        );
        assert_eq!(did_you_mean("on_orphan", all), Some("ON_ORPHAN"));
        assert_eq!(did_you_mean("HttpRequest", all), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("scpoe", "scope"), 1);
        assert_eq!(did_you_mean("scpoe", ["scope"]), Some("scope"));
    }

    #[test]
    fn hooks_in_prose() {
        assert_eq!(Builtin::PktIn.hooks_prose(), "at SND, RCV and NULL");
        assert_eq!(Builtin::ConnStart.hooks_prose(), "at SND and RCV");
        assert_eq!(Builtin::ConnNewData.hooks_prose(), "only at RCV");
        assert_eq!(Builtin::PktIn.flow_hooks_prose(), "at SND and RCV");
        assert_eq!(Builtin::Error.flow_hooks_prose(), "only at RCV");
        assert_eq!(Builtin::Orphan.flow_hooks_prose(), "nowhere with a flow");
    }
}

//! The emulated TCP state machine of one endpoint (RFC 793 states, as a passive observer sees
//! them; MOS-SEMANTICS §4.1).
//!
//! Transitions as seen by a monitor:
//! - client: `Closed` → `SynSent` (sends SYN) → `Established` (receives SYN-ACK) →
//!   `FinWait1` (sends FIN) → `FinWait2` (receives the ACK of its FIN) → `TimeWait` (receives FIN);
//! - server: `Listen` → `SynRcvd` (receives SYN) → `Established` (receives the ACK of its SYN-ACK)
//!   → `CloseWait` (receives FIN) → `LastAck` (sends FIN) → `Closed` (receives the ACK of its FIN);
//! - either: `Closed` on sending or receiving an acceptable RST.
//!
//! Deviations from mOS, each deliberate: a receiver that missed the SYN-ACK learns the peer's
//! ISN from the ACK field (handshakes captured out of order still reassemble); a simultaneous
//! open is followed through `SynRcvd`; FIN is accepted for the state machine when it arrives,
//! even with bytes still missing before it (the bytes may still come, out of order; a monitor must
//! not stall on a lost segment), and data received after our own FIN (half-close) is delivered.

use std::fmt;

use super::seq::SeqNum;
use crate::wire::TcpFlags;

/// The emulated state of one endpoint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TcpState {
    /// No connection (initial client state, and after RST or the final ACK).
    Closed,
    /// The server side before the SYN reached it.
    Listen,
    /// The client sent its SYN.
    SynSent,
    /// The server received the SYN.
    SynRcvd,
    /// Data transfer.
    Established,
    /// This side sent FIN.
    FinWait1,
    /// This side's FIN was acknowledged.
    FinWait2,
    /// The peer's FIN arrived first.
    CloseWait,
    /// Both sent FIN, ours not yet acknowledged.
    Closing,
    /// This side sent FIN after the peer's.
    LastAck,
    /// Both FINs exchanged (freed at once: TIME_WAIT lasts 0 s as in mOS's default).
    TimeWait,
}

impl TcpState {
    /// Upper-case name as `netstat` prints it (`ESTABLISHED`, `FIN_WAIT_1`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRcvd => "SYN_RCVD",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN_WAIT_1",
            TcpState::FinWait2 => "FIN_WAIT_2",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
        }
    }

    /// Whether the endpoint is done (the connection is freed when both are).
    pub const fn is_closed(self) -> bool {
        matches!(self, TcpState::Closed | TcpState::TimeWait)
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The TCP fields of one segment that the state machines use.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    /// Sequence number.
    pub seq: SeqNum,
    /// Acknowledgement number (meaningful when `flags` has ACK).
    pub ack: SeqNum,
    /// Flags.
    pub flags: TcpFlags,
    /// Payload length.
    pub len: u32,
}

impl Segment {
    /// The sequence number after this segment (SYN and FIN take one each).
    pub fn end(&self) -> SeqNum {
        let mut end = self.seq + self.len;
        if self.flags.syn() {
            end += 1;
        }
        if self.flags.fin() {
            end += 1;
        }
        end
    }

    /// Sequence number of the first payload byte.
    pub fn data_seq(&self) -> SeqNum {
        if self.flags.syn() {
            self.seq + 1
        } else {
            self.seq
        }
    }
}

/// What updating the sender changed.
#[derive(Clone, Copy, Default, Debug)]
pub struct SendOutcome {
    /// The sender's state changed.
    pub state_changed: bool,
    /// The client's SYN started the connection (`ON_CONN_START` at `SND`).
    pub conn_start: bool,
}

/// What the control part (SYN, ACK, FIN, RST) of a segment did to the receiver.
#[derive(Clone, Copy, Default, Debug)]
pub struct RecvControl {
    /// The receiver's state changed.
    pub state_changed: bool,
    /// The SYN reached the server side (`ON_CONN_START` at `RCV`).
    pub conn_start: bool,
    /// A repeated SYN, SYN-ACK or FIN (`ON_REXMIT`).
    pub rexmit: bool,
    /// An acceptable RST closed the receiver.
    pub reset: bool,
}

/// RSTs further than this from the expected sequence are ignored (blind-injection guard that
/// still accepts every RST a real stack would, for windows up to 1 MiB).
const RST_WINDOW: i32 = 1 << 20;

/// One endpoint's emulated stack: its state, what it sent and what it has learned of its peer.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    /// Current state.
    pub state: TcpState,
    /// This endpoint's initial sequence number, once its SYN was seen.
    pub iss: Option<SeqNum>,
    /// The sequence number after the highest byte this endpoint sent.
    pub snd_max: Option<SeqNum>,
    /// Sequence number of the FIN this endpoint sent.
    pub fin_seq: Option<SeqNum>,
    /// The peer's initial sequence number, as learned by this endpoint.
    pub irs: Option<SeqNum>,
    /// Sequence number of the FIN the peer sent, once it reached this endpoint.
    pub peer_fin: Option<SeqNum>,
    /// The sequence number after the highest byte received from the peer.
    pub peer_max: Option<SeqNum>,
}

impl Endpoint {
    /// A fresh endpoint in `state` (`Closed` for the client, `Listen` for the server).
    pub const fn new(state: TcpState) -> Endpoint {
        Endpoint {
            state,
            iss: None,
            snd_max: None,
            fin_seq: None,
            irs: None,
            peer_fin: None,
            peer_max: None,
        }
    }

    fn set_state(&mut self, next: TcpState) -> bool {
        let changed = self.state != next;
        self.state = next;
        changed
    }

    /// Update this endpoint as the *sender* of `seg` (mOS `UpdatePassiveSendTCPContext`).
    pub fn on_send(&mut self, seg: &Segment) -> SendOutcome {
        let mut out = SendOutcome::default();
        let flags = seg.flags;
        if flags.rst() {
            out.state_changed = self.set_state(TcpState::Closed);
            return out;
        }
        if flags.syn() {
            if self.iss.is_none() {
                self.iss = Some(seg.seq);
            }
            if !flags.ack() && matches!(self.state, TcpState::Closed | TcpState::Listen) {
                out.state_changed = self.set_state(TcpState::SynSent);
                out.conn_start = true;
            }
        } else if flags.ack() && self.state == TcpState::SynSent {
            // The SYN-ACK was not captured, but the client acknowledges it: the handshake
            // completed on the wire. Learn the peer's ISN from the ACK.
            if self.irs.is_none() {
                self.irs = Some(seg.ack - 1);
            }
            out.state_changed = self.set_state(TcpState::Established);
        }
        let end = seg.end();
        self.snd_max = Some(match self.snd_max {
            Some(max) => max.max(end),
            None => end,
        });
        if flags.fin() {
            let fin = seg.seq + seg.len + u32::from(flags.syn());
            if self.fin_seq.is_none() {
                self.fin_seq = Some(fin);
            }
            let next = match self.state {
                TcpState::Established | TcpState::SynRcvd | TcpState::SynSent => TcpState::FinWait1,
                TcpState::CloseWait => TcpState::LastAck,
                other => other,
            };
            out.state_changed |= self.set_state(next);
        }
        out
    }

    /// Whether `ack` acknowledges this endpoint's FIN.
    fn fin_acked(&self, ack: SeqNum) -> bool {
        self.fin_seq.is_some_and(|fin| ack.ge(fin + 1))
    }

    /// Update this endpoint as the *receiver* of `seg`, control flags only; the payload is
    /// reassembled by the caller between [`Endpoint::on_receive_control`] and
    /// [`Endpoint::on_receive_fin`].
    pub fn on_receive_control(&mut self, seg: &Segment) -> RecvControl {
        let mut out = RecvControl::default();
        let flags = seg.flags;
        if flags.rst() {
            if self.rst_acceptable(seg) {
                out.reset = true;
                out.state_changed = self.set_state(TcpState::Closed);
            }
            return out;
        }
        if flags.syn() {
            match self.irs {
                Some(irs) if irs == seg.seq => {
                    // Same ISN again: a retransmitted SYN or SYN-ACK.
                    out.rexmit = true;
                }
                _ => self.irs = Some(seg.seq),
            }
            match (self.state, flags.ack()) {
                (TcpState::Listen | TcpState::Closed, false) => {
                    out.state_changed = self.set_state(TcpState::SynRcvd);
                    out.conn_start = true;
                }
                // Simultaneous open (or a split handshake): a SYN while our own SYN is out.
                (TcpState::SynSent, false) => {
                    out.state_changed = self.set_state(TcpState::SynRcvd);
                }
                (TcpState::SynSent, true) if self.iss.is_none_or(|iss| seg.ack == iss + 1) => {
                    out.state_changed = self.set_state(TcpState::Established);
                }
                _ => {}
            }
        } else if flags.ack() && self.irs.is_none() {
            // Missed the peer's SYN: its data starts at the first sequence number we see.
            self.irs = Some(seg.seq - 1);
        }
        if flags.ack()
            && self.state == TcpState::SynRcvd
            && self.iss.is_none_or(|iss| seg.ack.ge(iss + 1))
        {
            out.state_changed |= self.set_state(TcpState::Established);
        }
        let end = seg.end();
        self.peer_max = Some(match self.peer_max {
            Some(max) => max.max(end),
            None => end,
        });
        if flags.ack() && self.fin_acked(seg.ack) {
            let next = match self.state {
                TcpState::FinWait1 => TcpState::FinWait2,
                TcpState::Closing => TcpState::TimeWait,
                TcpState::LastAck => TcpState::Closed,
                other => other,
            };
            out.state_changed |= self.set_state(next);
        }
        out
    }

    /// The FIN part of a received segment (after its payload was taken).
    pub fn on_receive_fin(&mut self, seg: &Segment, out: &mut RecvControl) {
        if !seg.flags.fin() || seg.flags.rst() {
            return;
        }
        let fin = seg.data_seq() + seg.len;
        if let Some(known) = self.peer_fin {
            if known == fin
                && matches!(
                    self.state,
                    TcpState::CloseWait
                        | TcpState::LastAck
                        | TcpState::Closing
                        | TcpState::TimeWait
                )
            {
                out.rexmit = true;
            }
            return;
        }
        self.peer_fin = Some(fin);
        let next = match self.state {
            TcpState::Established | TcpState::SynRcvd => TcpState::CloseWait,
            TcpState::FinWait1 => {
                if seg.flags.ack() && self.fin_acked(seg.ack) {
                    TcpState::TimeWait
                } else {
                    TcpState::Closing
                }
            }
            TcpState::FinWait2 => TcpState::TimeWait,
            // A FIN before the handshake completed (or after we missed it) still half-closes.
            TcpState::SynSent => TcpState::CloseWait,
            other => other,
        };
        out.state_changed |= self.set_state(next);
    }

    fn rst_acceptable(&self, seg: &Segment) -> bool {
        match self.state {
            // RFC 793: in SYN_SENT a RST is acceptable if it acknowledges our SYN.
            TcpState::SynSent => !seg.flags.ack() || self.iss.is_none_or(|iss| seg.ack == iss + 1),
            _ => match self.peer_max.or(self.irs.map(|irs| irs + 1)) {
                Some(expected) => {
                    let distance = seg.seq - expected;
                    (-RST_WINDOW..=RST_WINDOW).contains(&distance)
                }
                None => true,
            },
        }
    }
}

#[cfg(test)]
mod tests;

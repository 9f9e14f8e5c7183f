//! Every transition of both emulated endpoints, driven segment by segment the way the engine
//! drives them (sender update, then receiver control, then receiver FIN).

use super::*;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

fn seg(seq: u32, ack: u32, flags: u8, len: u32) -> Segment {
    Segment {
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags: TcpFlags(flags),
        len,
    }
}

/// A connection as the engine sees it: the client and server endpoints.
struct Pair {
    client: Endpoint,
    server: Endpoint,
}

#[derive(Debug, Default, PartialEq)]
struct Seen {
    snd_changed: bool,
    snd_start: bool,
    rcv_changed: bool,
    rcv_start: bool,
    rexmit: bool,
    reset: bool,
}

impl Pair {
    fn new() -> Self {
        Pair {
            client: Endpoint::new(TcpState::Closed),
            server: Endpoint::new(TcpState::Listen),
        }
    }

    fn client_sends(&mut self, s: Segment) -> Seen {
        Self::deliver(&mut self.client, &mut self.server, s)
    }

    fn server_sends(&mut self, s: Segment) -> Seen {
        Self::deliver(&mut self.server, &mut self.client, s)
    }

    fn deliver(sender: &mut Endpoint, receiver: &mut Endpoint, s: Segment) -> Seen {
        let out = sender.on_send(&s);
        let mut ctl = receiver.on_receive_control(&s);
        receiver.on_receive_fin(&s, &mut ctl);
        Seen {
            snd_changed: out.state_changed,
            snd_start: out.conn_start,
            rcv_changed: ctl.state_changed,
            rcv_start: ctl.conn_start,
            rexmit: ctl.rexmit,
            reset: ctl.reset,
        }
    }

    fn states(&self) -> (TcpState, TcpState) {
        (self.client.state, self.server.state)
    }

    /// Client ISN 1000, server ISN 5000.
    fn established() -> Self {
        let mut p = Pair::new();
        p.client_sends(seg(1000, 0, SYN, 0));
        p.server_sends(seg(5000, 1001, SYN | ACK, 0));
        p.client_sends(seg(1001, 5001, ACK, 0));
        p
    }
}

use TcpState::*;

#[test]
fn three_way_handshake() {
    let mut p = Pair::new();
    let syn = p.client_sends(seg(1000, 0, SYN, 0));
    assert_eq!(
        syn,
        Seen {
            snd_changed: true,
            snd_start: true,
            rcv_changed: true,
            rcv_start: true,
            ..Seen::default()
        }
    );
    assert_eq!(p.states(), (SynSent, SynRcvd));
    assert_eq!(p.client.iss, Some(SeqNum(1000)));
    assert_eq!(p.server.irs, Some(SeqNum(1000)));

    let synack = p.server_sends(seg(5000, 1001, SYN | ACK, 0));
    assert_eq!(
        synack,
        Seen {
            rcv_changed: true,
            ..Seen::default()
        }
    );
    assert_eq!(p.states(), (Established, SynRcvd));
    assert_eq!(p.client.irs, Some(SeqNum(5000)));
    assert_eq!(p.server.iss, Some(SeqNum(5000)));

    let ack = p.client_sends(seg(1001, 5001, ACK, 0));
    assert_eq!(
        ack,
        Seen {
            rcv_changed: true,
            ..Seen::default()
        }
    );
    assert_eq!(p.states(), (Established, Established));
}

#[test]
fn retransmitted_syn_is_a_rexmit_and_not_a_new_start() {
    let mut p = Pair::new();
    p.client_sends(seg(1000, 0, SYN, 0));
    let again = p.client_sends(seg(1000, 0, SYN, 0));
    assert_eq!(
        again,
        Seen {
            rexmit: true,
            ..Seen::default()
        }
    );
    assert_eq!(p.states(), (SynSent, SynRcvd));
}

#[test]
fn retransmitted_synack_is_a_rexmit() {
    let mut p = Pair::new();
    p.client_sends(seg(1000, 0, SYN, 0));
    p.server_sends(seg(5000, 1001, SYN | ACK, 0));
    let again = p.server_sends(seg(5000, 1001, SYN | ACK, 0));
    assert!(again.rexmit);
    assert!(!again.rcv_changed);
}

#[test]
fn client_closes_first() {
    let mut p = Pair::established();
    let fin = p.client_sends(seg(1001, 5001, FIN | ACK, 0));
    assert!(fin.snd_changed && fin.rcv_changed);
    assert_eq!(p.states(), (FinWait1, CloseWait));
    let ack = p.server_sends(seg(5001, 1002, ACK, 0));
    assert_eq!(
        ack,
        Seen {
            rcv_changed: true,
            ..Seen::default()
        }
    );
    assert_eq!(p.states(), (FinWait2, CloseWait));
    let fin2 = p.server_sends(seg(5001, 1002, FIN | ACK, 0));
    assert!(fin2.snd_changed && fin2.rcv_changed);
    assert_eq!(p.states(), (TimeWait, LastAck));
    let last = p.client_sends(seg(1002, 5002, ACK, 0));
    assert!(last.rcv_changed);
    assert_eq!(p.states(), (TimeWait, Closed));
    assert!(p.client.state.is_closed() && p.server.state.is_closed());
}

#[test]
fn server_closes_first() {
    let mut p = Pair::established();
    p.server_sends(seg(5001, 1001, FIN | ACK, 0));
    assert_eq!(p.states(), (CloseWait, FinWait1));
    p.client_sends(seg(1001, 5002, FIN | ACK, 0));
    // The client's FIN also acknowledges the server's: FIN_WAIT_1 → TIME_WAIT directly.
    assert_eq!(p.states(), (LastAck, TimeWait));
    p.server_sends(seg(5002, 1002, ACK, 0));
    assert_eq!(p.states(), (Closed, TimeWait));
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut p = Pair::established();
    // Both FINs cross: neither acknowledges the other's FIN.
    p.client_sends(seg(1001, 5001, FIN | ACK, 0));
    assert_eq!(p.states(), (FinWait1, CloseWait));
    let mut cross = Pair::established();
    cross.client.on_send(&seg(1001, 5001, FIN | ACK, 0));
    cross.server.on_send(&seg(5001, 1001, FIN | ACK, 0));
    assert_eq!(cross.states(), (FinWait1, FinWait1));
    let mut ctl = cross
        .client
        .on_receive_control(&seg(5001, 1001, FIN | ACK, 0));
    cross
        .client
        .on_receive_fin(&seg(5001, 1001, FIN | ACK, 0), &mut ctl);
    assert_eq!(cross.client.state, Closing);
    let mut ctl = cross.client.on_receive_control(&seg(5002, 1002, ACK, 0));
    cross
        .client
        .on_receive_fin(&seg(5002, 1002, ACK, 0), &mut ctl);
    assert_eq!(cross.client.state, TimeWait);
}

#[test]
fn retransmitted_fin_is_a_rexmit() {
    let mut p = Pair::established();
    p.client_sends(seg(1001, 5001, FIN | ACK, 0));
    let again = p.client_sends(seg(1001, 5001, FIN | ACK, 0));
    assert!(again.rexmit);
    assert_eq!(p.states(), (FinWait1, CloseWait));
}

#[test]
fn fin_with_data_counts_the_payload() {
    let mut p = Pair::established();
    p.client_sends(seg(1001, 5001, FIN | ACK, 10));
    assert_eq!(p.server.peer_fin, Some(SeqNum(1011)));
    assert_eq!(p.client.fin_seq, Some(SeqNum(1011)));
    // The ACK of the FIN is 1012.
    p.server_sends(seg(5001, 1011, ACK, 0));
    assert_eq!(p.client.state, FinWait1, "1011 does not cover the FIN");
    p.server_sends(seg(5001, 1012, ACK, 0));
    assert_eq!(p.client.state, FinWait2);
}

#[test]
fn rst_from_client_closes_both() {
    let mut p = Pair::established();
    let rst = p.client_sends(seg(1001, 5001, RST | ACK, 0));
    assert!(rst.snd_changed && rst.rcv_changed && rst.reset);
    assert_eq!(p.states(), (Closed, Closed));
}

#[test]
fn rst_far_outside_the_window_is_ignored_by_the_receiver() {
    let mut p = Pair::established();
    let rst = p.client_sends(seg(1001u32.wrapping_add(1 << 30), 5001, RST, 0));
    assert!(!rst.reset);
    assert_eq!(p.server.state, Established);
}

#[test]
fn refused_connection_rst_in_syn_sent() {
    let mut p = Pair::new();
    p.client_sends(seg(1000, 0, SYN, 0));
    // A RST that does not acknowledge the SYN is not acceptable in SYN_SENT.
    let bogus = p.server_sends(seg(0, 999, RST | ACK, 0));
    assert!(!bogus.reset);
    assert_eq!(p.client.state, SynSent);
    let refused = p.server_sends(seg(0, 1001, RST | ACK, 0));
    assert!(refused.reset);
    assert_eq!(p.states(), (Closed, Closed));
}

#[test]
fn missed_synack_is_inferred_from_the_clients_ack() {
    let mut p = Pair::new();
    p.client_sends(seg(1000, 0, SYN, 0));
    // The SYN-ACK was not captured; the client's ACK acknowledges server ISN 5000.
    let ack = p.client_sends(seg(1001, 5001, ACK, 0));
    assert!(ack.snd_changed);
    assert_eq!(p.client.state, Established);
    assert_eq!(p.client.irs, Some(SeqNum(5000)));
    assert_eq!(p.server.state, Established);
}

#[test]
fn split_handshake_goes_through_syn_rcvd() {
    let mut p = Pair::new();
    p.client_sends(seg(1000, 0, SYN, 0));
    // The server answers with a bare SYN (four-way split handshake).
    p.server_sends(seg(5000, 0, SYN, 0));
    assert_eq!(p.client.state, SynRcvd);
    p.client_sends(seg(1000, 5001, SYN | ACK, 0));
    assert_eq!(p.server.state, Established);
    p.server_sends(seg(5001, 1001, ACK, 0));
    assert_eq!(p.states(), (Established, Established));
}

#[test]
fn sequence_wrap_in_fin_ack() {
    let mut p = Pair::new();
    p.client_sends(seg(u32::MAX - 1, 0, SYN, 0));
    p.server_sends(seg(7, u32::MAX, SYN | ACK, 0));
    p.client_sends(seg(u32::MAX, 8, ACK, 0));
    assert_eq!(p.states(), (Established, Established));
    // 3 bytes wrap the sequence space: FIN at 2, its ACK is 3.
    p.client_sends(seg(u32::MAX, 8, FIN | ACK, 3));
    assert_eq!(p.client.fin_seq, Some(SeqNum(2)));
    p.server_sends(seg(8, 3, ACK, 0));
    assert_eq!(p.client.state, FinWait2);
}

#[test]
fn state_names_match_netstat() {
    assert_eq!(FinWait1.to_string(), "FIN_WAIT_1");
    assert_eq!(Established.name(), "ESTABLISHED");
    assert!(TimeWait.is_closed() && Closed.is_closed() && !LastAck.is_closed());
}

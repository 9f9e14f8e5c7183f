//! What the small hand-written apps of `tests/tests/runtime_behaviour.rs` record, and the
//! handler bodies they share: each app is a few handlers around one case, and most of them
//! end by writing down how each connection ended, or what each delivery carried, the same way.

use mos_runtime::prelude::*;

/// A core state for test apps: what the tests look at afterwards.
#[derive(Debug, Default)]
pub struct Seen {
    /// `ON_TIMEOUT` calls.
    pub timeouts: u64,
    /// (client endpoint, end reason) of each connection, in the order they ended.
    pub ends: Vec<(String, &'static str)>,
    /// Each `ON_CONN_NEW_DATA` delivery: the side it was for and the bytes it could read.
    pub new_data: Vec<(Side, Vec<u8>)>,
    /// Error kinds, in the order they were raised.
    pub errors: Vec<&'static str>,
    /// Whatever a test app counts (handler calls, mostly).
    pub calls: u64,
    /// Bytes the client sent that the capture never held, summed over ended connections.
    pub missed: u64,
    /// Bytes lost from a receive buffer, as of the last delivery.
    pub lost: u64,
}

impl CoreState for Seen {}

impl Seen {
    /// The deliveries to `side`, in order.
    pub fn deliveries(&self, side: Side) -> Vec<&[u8]> {
        self.new_data
            .iter()
            .filter(|(s, _)| *s == side)
            .map(|(_, d)| d.as_slice())
            .collect()
    }

    /// The deliveries to `side`, end to end.
    pub fn stream(&self, side: Side) -> Vec<u8> {
        self.deliveries(side).concat()
    }
}

/// The body of an `ON_CONN_END` handler: once per connection (the client side's `RCV`), its
/// client and end reason into [`Seen::ends`], and the client's uncaptured bytes into
/// [`Seen::missed`].
pub fn record_end<F>(cx: &mut Cx<'_, F, Seen>) {
    if cx.side() == Side::Client && cx.hook() == Hook::Rcv {
        let end = cx.end_reason().map_or("?", |r| r.name());
        let client = cx.client().to_string();
        let missed = cx.missed_bytes(Side::Server);
        let core = cx.core_mut();
        core.ends.push((client, end));
        core.missed += missed;
    }
}

/// The body of an `ON_CONN_NEW_DATA` handler: the bytes the delivered side can read, into
/// [`Seen::new_data`]. Returns that side.
pub fn record_new_data<F>(cx: &mut Cx<'_, F, Seen>) -> Side {
    let side = cx.side();
    let data = cx.peek(side).to_vec();
    cx.core_mut().new_data.push((side, data));
    side
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_and_stream_keep_one_side_in_order() {
        let seen = Seen {
            new_data: vec![
                (Side::Server, b"GET ".to_vec()),
                (Side::Client, b"HTTP".to_vec()),
                (Side::Server, b"/".to_vec()),
            ],
            ..Seen::default()
        };
        assert_eq!(seen.deliveries(Side::Server), [&b"GET "[..], &b"/"[..]]);
        assert_eq!(seen.stream(Side::Server), b"GET /");
        assert_eq!(seen.stream(Side::Client), b"HTTP");
    }
}

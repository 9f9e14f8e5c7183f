//! The fields of a connection record, one table for every suite that compares flowdump's
//! records with another view of the same connections: tshark's ([`OracleConn`], in
//! `conformance.rs`) and the generator's ground truth ([`ConnTruth`], in `ground_truth.rs`).
//!
//! Each source renders a [`Field`] as text the same way (numbers and booleans as Rust prints
//! them, HTTP requests as `METHOD host uri` joined by ` | `, server names joined by `,`), so a
//! difference reads the same whichever pair is compared. A source that does not know a field
//! says so ([`ConnFields::field`] is `None`), and comparing it is a mistake in the suite.

use mos_examples::flowdump::ConnRecord;
use mos_synth::truth::ConnTruth;

use crate::oracle::OracleConn;

/// A compared field of a connection record, named as flowdump's JSON names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The server endpoint.
    Server,
    /// Why the connection ended (`fin`, `rst`, `timeout`, `trace_end`, ..).
    EndReason,
    /// The server's SYN-ACK was captured.
    Synack,
    /// The client sent a FIN.
    FinClient,
    /// The server sent a FIN.
    FinServer,
    /// Either side sent a RST.
    Rst,
    /// Packets client → server.
    PktsClient,
    /// Packets server → client.
    PktsServer,
    /// Distinct payload bytes client → server.
    BytesClient,
    /// Distinct payload bytes server → client.
    BytesServer,
    /// Retransmitted data segments client → server.
    RexmitClient,
    /// Retransmitted data segments server → client.
    RexmitServer,
    /// Bytes client → server the capture never held.
    MissedClient,
    /// Bytes server → client the capture never held.
    MissedServer,
    /// The client's HTTP requests, in order.
    HttpRequests,
    /// The server names of the client's TLS ClientHellos.
    TlsSni,
}

impl Field {
    /// Every field, in flowdump's order.
    pub const ALL: [Field; 16] = [
        Field::Server,
        Field::EndReason,
        Field::Synack,
        Field::FinClient,
        Field::FinServer,
        Field::Rst,
        Field::PktsClient,
        Field::PktsServer,
        Field::BytesClient,
        Field::BytesServer,
        Field::RexmitClient,
        Field::RexmitServer,
        Field::MissedClient,
        Field::MissedServer,
        Field::HttpRequests,
        Field::TlsSni,
    ];

    /// The field's name in flowdump's output (what `conformance.rs`'s `KNOWN` entries name).
    pub const fn name(self) -> &'static str {
        match self {
            Field::Server => "server",
            Field::EndReason => "end_reason",
            Field::Synack => "synack",
            Field::FinClient => "fin_client",
            Field::FinServer => "fin_server",
            Field::Rst => "rst",
            Field::PktsClient => "pkts_client",
            Field::PktsServer => "pkts_server",
            Field::BytesClient => "bytes_client",
            Field::BytesServer => "bytes_server",
            Field::RexmitClient => "rexmit_client",
            Field::RexmitServer => "rexmit_server",
            Field::MissedClient => "missed_client",
            Field::MissedServer => "missed_server",
            Field::HttpRequests => "http_requests",
            Field::TlsSni => "tls_sni",
        }
    }
}

/// A view of one connection that can render its fields as text.
pub trait ConnFields {
    /// `field` as text, or `None` when this view does not record it.
    fn field(&self, field: Field) -> Option<String>;
}

/// HTTP requests as `METHOD host uri`, joined by ` | `.
fn requests<'a>(all: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> String {
    let v: Vec<String> = all.map(|(m, h, u)| format!("{m} {h} {u}")).collect();
    v.join(" | ")
}

/// `impl ConnFields for $view`: the fields every view records under flowdump's member names,
/// then `$arms`, the view's own (`$v` is the view in them).
macro_rules! conn_fields {
    ($view:ty, |$v:ident| { $($arms:tt)* }) => {
        impl ConnFields for $view {
            fn field(&self, field: Field) -> Option<String> {
                let $v = self;
                Some(match field {
                    Field::Server => $v.server.clone(),
                    Field::Synack => $v.synack.to_string(),
                    Field::FinClient => $v.fin_client.to_string(),
                    Field::FinServer => $v.fin_server.to_string(),
                    Field::Rst => $v.rst.to_string(),
                    Field::PktsClient => $v.pkts_client.to_string(),
                    Field::PktsServer => $v.pkts_server.to_string(),
                    Field::BytesClient => $v.bytes_client.to_string(),
                    Field::BytesServer => $v.bytes_server.to_string(),
                    $($arms)*
                })
            }
        }
    };
}

/// flowdump's record and the generator's truth carry every field under the same names (the
/// truth is written in flowdump's format), so one body serves both.
macro_rules! record_fields {
    ($($record:ty),*) => {$(
        conn_fields!($record, |r| {
            Field::EndReason => r.end_reason.to_string(),
            Field::RexmitClient => r.rexmit_client.to_string(),
            Field::RexmitServer => r.rexmit_server.to_string(),
            Field::MissedClient => r.missed_client.to_string(),
            Field::MissedServer => r.missed_server.to_string(),
            Field::HttpRequests => requests(
                r.http_requests
                    .iter()
                    .map(|h| (h.method.as_str(), h.host.as_str(), h.uri.as_str())),
            ),
            Field::TlsSni => r.tls_sni.join(","),
        });
    )*};
}

record_fields!(ConnRecord, ConnTruth);

conn_fields!(OracleConn, |o| {
    Field::HttpRequests => requests(
        o.http_requests
            .iter()
            .map(|(m, h, u)| (m.as_str(), h.as_str(), u.as_str())),
    ),
    // tshark has no notion of a connection's end, cannot tell bytes missing from the capture,
    // and its retransmission flag is a heuristic of its own, not the count of data already
    // received that mOS raises ON_REXMIT for.
    Field::EndReason
    | Field::RexmitClient
    | Field::RexmitServer
    | Field::MissedClient
    | Field::MissedServer
    | Field::TlsSni => return None,
});

/// One field on which two views of a connection differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The field.
    pub field: Field,
    /// What the first view (ours) says.
    pub ours: String,
    /// What the second view (the reference) says.
    pub theirs: String,
}

/// The fields among `fields` on which `ours` and `theirs` differ, in the order of `fields`.
///
/// # Panics
///
/// When either view does not record one of `fields`: the suite compares a field it cannot.
pub fn differences(
    fields: &[Field],
    ours: &impl ConnFields,
    theirs: &impl ConnFields,
) -> Vec<Difference> {
    let text = |view: &dyn ConnFields, side: &str, field: Field| {
        view.field(field)
            .unwrap_or_else(|| panic!("{side} view does not record `{}`", field.name()))
    };
    fields
        .iter()
        .map(|&field| Difference {
            field,
            ours: text(ours, "our", field),
            theirs: text(theirs, "the reference", field),
        })
        .filter(|d| d.ours != d.theirs)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ConnRecord {
        ConnRecord {
            client: "10.0.0.1:40000".into(),
            server: "10.0.0.2:80".into(),
            start: 1.0,
            end_reason: "fin",
            syn: true,
            synack: true,
            fin_client: true,
            fin_server: false,
            rst: false,
            pkts_client: 5,
            pkts_server: 4,
            bytes_client: 20,
            bytes_server: 30,
            rexmit_client: 1,
            rexmit_server: 2,
            missed_client: 3,
            missed_server: 6,
            http_requests: vec![mos_examples::flowdump::HttpRequest {
                method: "GET".into(),
                host: "a.example".into(),
                uri: "/".into(),
            }],
            tls_sni: vec!["a.example".into(), "b.example".into()],
        }
    }

    /// Each field of flowdump's record is the member its name names (in the record's JSON),
    /// and the truth, read from the same JSON, renders every field the same.
    #[test]
    fn each_field_is_the_member_of_its_name() {
        let ours = record();
        let mut json = serde_json::to_value(&ours).unwrap();
        for field in Field::ALL {
            let want = match &json[field.name()] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(_) => continue,
                v => v.to_string(),
            };
            assert_eq!(ours.field(field), Some(want), "{}", field.name());
        }
        assert_eq!(
            ours.field(Field::HttpRequests).as_deref(),
            Some("GET a.example /")
        );
        assert_eq!(
            ours.field(Field::TlsSni).as_deref(),
            Some("a.example,b.example")
        );
        json["last"] = 2.0.into();
        let truth: ConnTruth = serde_json::from_value(json).unwrap();
        assert!(differences(&Field::ALL, &ours, &truth).is_empty());
    }

    /// tshark's view renders the fields it has as flowdump's record does, and only those.
    #[test]
    fn the_oracle_renders_its_fields_as_the_record_does() {
        let ours = record();
        let theirs = OracleConn {
            stream: 0,
            client: ours.client.clone(),
            server: ours.server.clone(),
            syn: ours.syn,
            synack: ours.synack,
            fin_client: ours.fin_client,
            fin_server: ours.fin_server,
            rst: ours.rst,
            pkts_client: ours.pkts_client,
            pkts_server: ours.pkts_server,
            bytes_client: ours.bytes_client,
            bytes_server: ours.bytes_server,
            rst_payload_client: 0,
            rst_payload_server: 0,
            http_requests: vec![("GET".into(), "a.example".into(), "/".into())],
            rexmit_client: ours.rexmit_client,
            rexmit_server: ours.rexmit_server,
        };
        let (known, unknown): (Vec<Field>, Vec<Field>) = Field::ALL
            .into_iter()
            .partition(|&f| theirs.field(f).is_some());
        assert_eq!(
            unknown,
            [
                Field::EndReason,
                Field::RexmitClient,
                Field::RexmitServer,
                Field::MissedClient,
                Field::MissedServer,
                Field::TlsSni,
            ]
        );
        assert!(differences(&known, &ours, &theirs).is_empty());
    }

    #[test]
    fn differing_fields_are_listed_in_the_order_asked() {
        let ours = record();
        let theirs = OracleConn {
            client: ours.client.clone(),
            server: ours.server.clone(),
            synack: true,
            pkts_client: 6,
            http_requests: vec![("GET".into(), "b.example".into(), "/".into())],
            ..OracleConn::default()
        };
        let fields = [Field::HttpRequests, Field::Server, Field::PktsClient];
        let diffs = differences(&fields, &ours, &theirs);
        assert_eq!(
            diffs,
            vec![
                Difference {
                    field: Field::HttpRequests,
                    ours: "GET a.example /".into(),
                    theirs: "GET b.example /".into(),
                },
                Difference {
                    field: Field::PktsClient,
                    ours: "5".into(),
                    theirs: "6".into(),
                },
            ]
        );
        assert!(differences(&[Field::Server, Field::Synack], &ours, &theirs).is_empty());
    }

    #[test]
    #[should_panic(expected = "the reference view does not record `end_reason`")]
    fn a_field_the_reference_does_not_record_cannot_be_compared() {
        differences(&[Field::EndReason], &record(), &OracleConn::default());
    }
}

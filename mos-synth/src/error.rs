//! The one error type of this crate.

use std::fmt;
use std::io;

/// What can go wrong while building or writing synthetic traffic.
#[derive(Debug)]
pub enum Error {
    /// Writing the capture or the ground truth failed.
    Io(io::Error),
    /// A packet's payload does not fit its headers' length fields.
    PayloadTooLarge {
        /// Payload bytes asked for.
        len: usize,
    },
    /// The two ends of a packet are not of the same IP version.
    MixedIpVersions,
    /// A VLAN id above 4095.
    InvalidVlan(u16),
    /// A DNS name that the wire format cannot carry (empty label, label over 63 bytes,
    /// name over 255 bytes).
    InvalidDnsName(String),
    /// A bad configuration value (workload parameters, command-line arguments).
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::PayloadTooLarge { len } => {
                write!(f, "payload of {len} bytes does not fit in one packet")
            }
            Error::MixedIpVersions => {
                write!(f, "source and destination must both be IPv4 or both IPv6")
            }
            Error::InvalidVlan(id) => write!(f, "VLAN id {id} is above 4095"),
            Error::InvalidDnsName(name) => write!(f, "invalid DNS name {name:?}"),
            Error::Config(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Io(io::Error::other(e))
    }
}

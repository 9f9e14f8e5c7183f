//! The `scope = "..."` expression: a BPF-like filter parsed at compile time and compiled into
//! plain Rust comparisons on the packet's fields.
//!
//! Grammar (keywords as in tcpdump; `and`/`&&`, `or`/`||`, `not`/`!` are synonyms):
//!
//! ```text
//! expr      := and ( ("or" | "||") and )*
//! and       := unary ( ("and" | "&&") unary )*
//! unary     := ("not" | "!") unary | "(" expr ")" | primitive
//! primitive := proto [ dir? kind value ]          -- `tcp`, `tcp dst port 80`
//!            | dir? kind value                    -- `host 10.0.0.1`, `src net 10.0.0.0/8`
//! proto     := "tcp" | "udp" | "ip" | "ip6"
//! dir       := "src" | "dst" | "src or dst" | "src and dst"
//! kind      := "host" ADDR | "net" ADDR "/" LEN | "port" N | "portrange" N "-" M
//! ```
//!
//! Addresses are IPv4 or IPv6; a `net` must have no host bits set (as tcpdump insists). Without
//! a direction a primitive matches either endpoint (`src or dst`). The scope is evaluated on the
//! SYN that would start a connection, so `src` is the client.

use std::fmt;
use std::net::IpAddr;

use proc_macro2::TokenStream;
use quote::quote;

/// A parsed scope expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Or(Box<Scope>, Box<Scope>),
    And(Box<Scope>, Box<Scope>),
    Not(Box<Scope>),
    Proto(Proto),
    Host(Dir, IpAddr),
    Net(Dir, IpAddr, u8),
    Port(Dir, u16),
    PortRange(Dir, u16, u16),
}

/// A protocol primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Ip4,
    Ip6,
}

/// Which endpoint a primitive tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
    SrcOrDst,
    SrcAndDst,
}

/// A parse error: what went wrong and where (0-based character offset into the string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed scope at column {}: {}",
            self.offset + 1,
            self.message
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    text: String,
    offset: usize,
}

fn tokenize(input: &str) -> Result<Vec<Token>, ScopeError> {
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut i = 0;
    // Offsets are reported in characters, which is what an editor's column shows.
    while i < chars.len() {
        let (_, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' || c == '!' {
            tokens.push(Token {
                text: c.to_string(),
                offset: i,
            });
            i += 1;
        } else if c == '&' || c == '|' {
            if chars.get(i + 1).map(|&(_, n)| n) == Some(c) {
                tokens.push(Token {
                    text: format!("{c}{c}"),
                    offset: i,
                });
                i += 2;
            } else {
                return Err(ScopeError {
                    offset: i,
                    message: format!(
                        "`{c}` alone is not an operator; write `{c}{c}` or `{}`",
                        if c == '&' { "and" } else { "or" }
                    ),
                });
            }
        } else if c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '-' | '_') {
            let start = i;
            let mut text = String::new();
            while let Some(&(_, c)) = chars.get(i) {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '-' | '_') {
                    text.push(c);
                    i += 1;
                } else {
                    break;
                }
            }
            tokens.push(Token {
                text,
                offset: start,
            });
        } else {
            return Err(ScopeError {
                offset: i,
                message: format!("unexpected character `{c}`"),
            });
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: usize,
}

const EXPECT_PRIMITIVE: &str = "expected `tcp`, `udp`, `ip`, `ip6`, `host`, `net`, `port`, `portrange`, `src`, `dst`, `not` or `(`";

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(|t| t.text.as_str())
    }

    fn peek_at(&self, n: usize) -> Option<&str> {
        self.tokens.get(self.pos + n).map(|t| t.text.as_str())
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.offset)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ScopeError> {
        Err(ScopeError {
            offset: self.offset(),
            message: message.into(),
        })
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("found `{t}`"),
            None => "found the end of the scope".to_owned(),
        }
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, words: &[&str]) -> bool {
        if self.peek().is_some_and(|t| words.contains(&t)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Scope, ScopeError> {
        let mut lhs = self.and()?;
        while self.eat(&["or", "||"]) {
            let rhs = self.and()?;
            lhs = Scope::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Scope, ScopeError> {
        let mut lhs = self.unary()?;
        while self.eat(&["and", "&&"]) {
            let rhs = self.unary()?;
            lhs = Scope::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Scope, ScopeError> {
        if self.eat(&["not", "!"]) {
            return Ok(Scope::Not(Box::new(self.unary()?)));
        }
        if self.eat(&["("]) {
            let inner = self.expr()?;
            if !self.eat(&[")"]) {
                return self.err(format!(
                    "expected `)` to close the parenthesis, {}",
                    self.found()
                ));
            }
            return Ok(inner);
        }
        self.primitive()
    }

    fn primitive(&mut self) -> Result<Scope, ScopeError> {
        let proto = match self.peek() {
            Some("tcp") => Some(Proto::Tcp),
            Some("udp") => Some(Proto::Udp),
            Some("ip") => Some(Proto::Ip4),
            Some("ip6") => Some(Proto::Ip6),
            _ => None,
        };
        if let Some(proto) = proto {
            self.pos += 1;
            // `tcp port 80` is `tcp and port 80`; plain `tcp` stands alone.
            if matches!(
                self.peek(),
                Some("src" | "dst" | "host" | "net" | "port" | "portrange")
            ) {
                let rest = self.qualified()?;
                return Ok(Scope::And(Box::new(Scope::Proto(proto)), Box::new(rest)));
            }
            return Ok(Scope::Proto(proto));
        }
        match self.peek() {
            Some("src" | "dst" | "host" | "net" | "port" | "portrange") => self.qualified(),
            Some(")") => self.err(format!("unbalanced `)`; {EXPECT_PRIMITIVE}")),
            Some(other) if other.parse::<IpAddr>().is_ok() => self.err(format!(
                "an address needs a keyword before it: write `host {other}`"
            )),
            _ => self.err(format!("{EXPECT_PRIMITIVE}, {}", self.found())),
        }
    }

    /// `dir? kind value`.
    fn qualified(&mut self) -> Result<Scope, ScopeError> {
        let dir = match self.peek() {
            Some("src") | Some("dst") => {
                let first = if self.peek() == Some("src") {
                    Dir::Src
                } else {
                    Dir::Dst
                };
                self.pos += 1;
                // `src or dst port 80`: the combined qualifier, only when the other side follows.
                let other = if first == Dir::Src { "dst" } else { "src" };
                match (self.peek(), self.peek_at(1)) {
                    (Some("or" | "||"), Some(o)) if o == other => {
                        self.pos += 2;
                        Dir::SrcOrDst
                    }
                    (Some("and" | "&&"), Some(o)) if o == other => {
                        self.pos += 2;
                        Dir::SrcAndDst
                    }
                    _ => first,
                }
            }
            _ => Dir::SrcOrDst,
        };
        let Some(kind) = self.bump() else {
            return self.err("expected `host`, `net`, `port` or `portrange` after the direction, found the end of the scope");
        };
        match kind.text.as_str() {
            "host" => {
                let addr = self.address("host")?;
                if addr.1.is_some() {
                    return Err(ScopeError {
                        offset: addr.2,
                        message: "`host` takes a single address; for a prefix write `net ADDR/LEN`"
                            .to_owned(),
                    });
                }
                Ok(Scope::Host(dir, addr.0))
            }
            "net" => {
                let (addr, len, offset) = self.address("net")?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let Some(len) = len else {
                    return Err(ScopeError {
                        offset,
                        message: format!(
                            "`net` needs a prefix length: write `net {addr}/{max}` or a shorter prefix"
                        ),
                    });
                };
                if u32::from(len) > max {
                    return Err(ScopeError {
                        offset,
                        message: format!(
                            "prefix length {len} is longer than the address ({max} bits)"
                        ),
                    });
                }
                let masked = mask(addr, len);
                if masked != addr {
                    return Err(ScopeError {
                        offset,
                        message: format!(
                            "`{addr}/{len}` has host bits set; write `net {masked}/{len}`"
                        ),
                    });
                }
                Ok(Scope::Net(dir, addr, len))
            }
            "port" => {
                let port = self.port()?;
                Ok(Scope::Port(dir, port))
            }
            "portrange" => {
                let offset = self.offset();
                let Some(tok) = self.bump() else {
                    return self.err(
                        "expected a range `LOW-HIGH` after `portrange`, found the end of the scope",
                    );
                };
                let parsed = tok
                    .text
                    .split_once('-')
                    .and_then(|(lo, hi)| Some((lo.parse::<u16>().ok()?, hi.parse::<u16>().ok()?)));
                match parsed {
                    Some((lo, hi)) if lo <= hi => Ok(Scope::PortRange(dir, lo, hi)),
                    Some((lo, hi)) => Err(ScopeError {
                        offset,
                        message: format!(
                            "empty port range `{lo}-{hi}`; write `portrange {hi}-{lo}`"
                        ),
                    }),
                    None => Err(ScopeError {
                        offset,
                        message: format!(
                            "expected a range `LOW-HIGH` of ports 0-65535 after `portrange`, found `{}`",
                            tok.text
                        ),
                    }),
                }
            }
            other => Err(ScopeError {
                offset: kind.offset,
                message: format!("expected `host`, `net`, `port` or `portrange`, found `{other}`"),
            }),
        }
    }

    fn address(&mut self, keyword: &str) -> Result<(IpAddr, Option<u8>, usize), ScopeError> {
        let offset = self.offset();
        let Some(tok) = self.bump() else {
            return Err(ScopeError {
                offset,
                message: format!(
                    "expected an IPv4 or IPv6 address after `{keyword}`, found the end of the scope"
                ),
            });
        };
        let (addr, len) = match tok.text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (tok.text.as_str(), None),
        };
        let Ok(ip) = addr.parse::<IpAddr>() else {
            return Err(ScopeError {
                offset,
                message: format!(
                    "expected an IPv4 or IPv6 address after `{keyword}`, found `{}`",
                    tok.text
                ),
            });
        };
        let len = match len {
            None => None,
            Some(l) => match l.parse::<u8>() {
                Ok(l) => Some(l),
                Err(_) => {
                    return Err(ScopeError {
                        offset,
                        message: format!("expected a prefix length after `/`, found `{l}`"),
                    });
                }
            },
        };
        Ok((ip, len, offset))
    }

    fn port(&mut self) -> Result<u16, ScopeError> {
        let offset = self.offset();
        match self.bump() {
            Some(tok) => tok.text.parse::<u16>().map_err(|_| ScopeError {
                offset,
                message: format!(
                    "expected a port number 0-65535 after `port`, found `{}`",
                    tok.text
                ),
            }),
            None => Err(ScopeError {
                offset,
                message: "expected a port number after `port`, found the end of the scope"
                    .to_owned(),
            }),
        }
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len.min(32)))
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len.min(128)))
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

/// Parse a scope string.
pub fn parse(input: &str) -> Result<Scope, ScopeError> {
    let tokens = tokenize(input)?;
    let end = input.chars().count();
    if tokens.is_empty() {
        return Err(ScopeError {
            offset: 0,
            message: "empty scope; omit `scope` to see every connection".to_owned(),
        });
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        end,
    };
    let expr = parser.expr()?;
    if parser.pos < parser.tokens.len() {
        return parser.err(format!(
            "expected `and`, `or` or the end of the scope, {}",
            parser.found()
        ));
    }
    Ok(expr)
}

/// Rust code evaluating `scope` on `pkt` (a `&Packet<'_>` in scope), through the accessors of
/// `::mos_runtime::__private::scope`.
pub fn codegen(scope: &Scope, pkt: &syn::Ident) -> TokenStream {
    let s = quote!(::mos_runtime::__private::scope);
    match scope {
        Scope::Or(a, b) => {
            let (a, b) = (codegen(a, pkt), codegen(b, pkt));
            quote!((#a || #b))
        }
        Scope::And(a, b) => {
            let (a, b) = (codegen(a, pkt), codegen(b, pkt));
            quote!((#a && #b))
        }
        Scope::Not(a) => {
            let a = codegen(a, pkt);
            quote!(!#a)
        }
        Scope::Proto(Proto::Tcp) => quote!(#s::is_tcp(#pkt)),
        Scope::Proto(Proto::Udp) => quote!(#s::is_udp(#pkt)),
        Scope::Proto(Proto::Ip4) => quote!(#s::is_ipv4(#pkt)),
        Scope::Proto(Proto::Ip6) => quote!(#s::is_ipv6(#pkt)),
        Scope::Host(dir, addr) => endpoints(*dir, |src| {
            let (f4, f6) = addr_fns(src);
            match addr {
                IpAddr::V4(a) => {
                    let a = u32::from(*a);
                    quote!((#s::#f4(#pkt) == ::core::option::Option::Some(#a)))
                }
                IpAddr::V6(a) => {
                    let a = u128::from(*a);
                    quote!((#s::#f6(#pkt) == ::core::option::Option::Some(#a)))
                }
            }
        }),
        Scope::Net(dir, addr, len) => endpoints(*dir, |src| {
            let (f4, f6) = addr_fns(src);
            match mask(*addr, *len) {
                IpAddr::V4(a) => {
                    let net = u32::from(a);
                    let m: u32 = if *len == 0 {
                        0
                    } else {
                        u32::MAX << (32 - u32::from(*len))
                    };
                    quote!(
                        ::core::matches!(#s::#f4(#pkt), ::core::option::Option::Some(a) if a & #m == #net)
                    )
                }
                IpAddr::V6(a) => {
                    let net = u128::from(a);
                    let m: u128 = if *len == 0 {
                        0
                    } else {
                        u128::MAX << (128 - u32::from(*len))
                    };
                    quote!(
                        ::core::matches!(#s::#f6(#pkt), ::core::option::Option::Some(a) if a & #m == #net)
                    )
                }
            }
        }),
        Scope::Port(dir, port) => endpoints(*dir, |src| {
            let f = port_fn(src);
            quote!((#s::#f(#pkt) == ::core::option::Option::Some(#port)))
        }),
        Scope::PortRange(dir, lo, hi) => endpoints(*dir, |src| {
            let f = port_fn(src);
            quote!(::core::matches!(#s::#f(#pkt), ::core::option::Option::Some(#lo..=#hi)))
        }),
    }
}

fn endpoints(dir: Dir, one: impl Fn(bool) -> TokenStream) -> TokenStream {
    match dir {
        Dir::Src => one(true),
        Dir::Dst => one(false),
        Dir::SrcOrDst => {
            let (a, b) = (one(true), one(false));
            quote!((#a || #b))
        }
        Dir::SrcAndDst => {
            let (a, b) = (one(true), one(false));
            quote!((#a && #b))
        }
    }
}

fn addr_fns(src: bool) -> (syn::Ident, syn::Ident) {
    let span = proc_macro2::Span::call_site();
    if src {
        (
            syn::Ident::new("src_v4", span),
            syn::Ident::new("src_v6", span),
        )
    } else {
        (
            syn::Ident::new("dst_v4", span),
            syn::Ident::new("dst_v6", span),
        )
    }
}

fn port_fn(src: bool) -> syn::Ident {
    syn::Ident::new(
        if src { "src_port" } else { "dst_port" },
        proc_macro2::Span::call_site(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Scope {
        match parse(s) {
            Ok(scope) => scope,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    fn e(s: &str) -> String {
        match parse(s) {
            Ok(scope) => panic!("{s:?} parsed as {scope:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn primitives() {
        assert_eq!(p("tcp"), Scope::Proto(Proto::Tcp));
        assert_eq!(p("ip6"), Scope::Proto(Proto::Ip6));
        assert_eq!(
            p("host 10.0.0.1"),
            Scope::Host(Dir::SrcOrDst, "10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            p("src host ::1"),
            Scope::Host(Dir::Src, "::1".parse().unwrap())
        );
        assert_eq!(
            p("dst net 10.0.0.0/8"),
            Scope::Net(Dir::Dst, "10.0.0.0".parse().unwrap(), 8)
        );
        assert_eq!(
            p("net 2001:db8::/32"),
            Scope::Net(Dir::SrcOrDst, "2001:db8::".parse().unwrap(), 32)
        );
        assert_eq!(p("port 443"), Scope::Port(Dir::SrcOrDst, 443));
        assert_eq!(
            p("src and dst portrange 1000-2000"),
            Scope::PortRange(Dir::SrcAndDst, 1000, 2000)
        );
        assert_eq!(p("src or dst port 80"), Scope::Port(Dir::SrcOrDst, 80));
    }

    #[test]
    fn protocol_qualifies_what_follows() {
        assert_eq!(
            p("tcp dst port 80"),
            Scope::And(
                Box::new(Scope::Proto(Proto::Tcp)),
                Box::new(Scope::Port(Dir::Dst, 80))
            )
        );
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let tcp = || Box::new(Scope::Proto(Proto::Tcp));
        let port = |n| Box::new(Scope::Port(Dir::SrcOrDst, n));
        assert_eq!(
            p("tcp or port 1 and port 2"),
            Scope::Or(tcp(), Box::new(Scope::And(port(1), port(2))))
        );
        assert_eq!(
            p("(tcp || port 1) && port 2"),
            Scope::And(Box::new(Scope::Or(tcp(), port(1))), port(2))
        );
        assert_eq!(
            p("not tcp and ! port 1"),
            Scope::And(Box::new(Scope::Not(tcp())), Box::new(Scope::Not(port(1))))
        );
    }

    #[test]
    fn src_or_dst_needs_the_other_side_to_be_a_qualifier() {
        // `src host A or dst host B` is an `or` of two primitives, not `src or dst`.
        let a = "10.0.0.1".parse().unwrap();
        let b = "10.0.0.2".parse().unwrap();
        assert_eq!(
            p("src host 10.0.0.1 or dst host 10.0.0.2"),
            Scope::Or(
                Box::new(Scope::Host(Dir::Src, a)),
                Box::new(Scope::Host(Dir::Dst, b))
            )
        );
    }

    #[test]
    fn errors_say_where_and_what_to_write() {
        assert_eq!(
            e("tcp dst prot 80"),
            "malformed scope at column 9: expected `host`, `net`, `port` or `portrange`, found `prot`"
        );
        assert_eq!(
            e("port http"),
            "malformed scope at column 6: expected a port number 0-65535 after `port`, found `http`"
        );
        assert_eq!(
            e("port 70000"),
            "malformed scope at column 6: expected a port number 0-65535 after `port`, found `70000`"
        );
        assert_eq!(
            e("net 10.0.0.1/8"),
            "malformed scope at column 5: `10.0.0.1/8` has host bits set; write `net 10.0.0.0/8`"
        );
        assert_eq!(
            e("net 10.0.0.0/33"),
            "malformed scope at column 5: prefix length 33 is longer than the address (32 bits)"
        );
        assert_eq!(
            e("net 10.0.0.0"),
            "malformed scope at column 5: `net` needs a prefix length: write `net 10.0.0.0/32` or a shorter prefix"
        );
        assert_eq!(
            e("host 10.0.0.0/8"),
            "malformed scope at column 6: `host` takes a single address; for a prefix write `net ADDR/LEN`"
        );
        assert_eq!(
            e("(tcp"),
            "malformed scope at column 5: expected `)` to close the parenthesis, found the end of the scope"
        );
        assert_eq!(
            e("tcp)"),
            "malformed scope at column 4: expected `and`, `or` or the end of the scope, found `)`"
        );
        assert_eq!(
            e("tcp and"),
            format!("malformed scope at column 8: {EXPECT_PRIMITIVE}, found the end of the scope")
        );
        assert_eq!(
            e("10.0.0.1"),
            "malformed scope at column 1: an address needs a keyword before it: write `host 10.0.0.1`"
        );
        assert_eq!(
            e("tcp & udp"),
            "malformed scope at column 5: `&` alone is not an operator; write `&&` or `and`"
        );
        assert_eq!(
            e("portrange 90-80"),
            "malformed scope at column 11: empty port range `90-80`; write `portrange 80-90`"
        );
        assert_eq!(
            e("host 1.2.3"),
            "malformed scope at column 6: expected an IPv4 or IPv6 address after `host`, found `1.2.3`"
        );
        assert_eq!(
            e("  "),
            "malformed scope at column 1: empty scope; omit `scope` to see every connection"
        );
        assert_eq!(
            e("tcp $"),
            "malformed scope at column 5: unexpected character `$`"
        );
    }

    #[test]
    fn codegen_compares_integers() {
        let pkt = syn::Ident::new("pkt", proc_macro2::Span::call_site());
        let code = codegen(&p("tcp dst net 10.0.0.0/8"), &pkt).to_string();
        assert!(code.contains("is_tcp (pkt)"), "{code}");
        assert!(code.contains("4278190080u32"), "mask 255.0.0.0: {code}");
        assert!(code.contains("167772160u32"), "net 10.0.0.0: {code}");
        let code = codegen(&p("portrange 1-2"), &pkt).to_string();
        assert!(
            code.contains("src_port")
                && code.contains("dst_port")
                && code.contains("1u16 ..= 2u16"),
            "{code}"
        );
    }
}

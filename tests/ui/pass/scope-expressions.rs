//! Every form of the `scope` language compiles.
use mos_runtime::prelude::*;

macro_rules! scoped {
    ($name:ident, $scope:literal) => {
        #[mos_runtime::app(scope = $scope)]
        mod $name {
            #[on(event = ON_ORPHAN)]
            fn h(_cx: &mut super::PacketCx<'_>) {}
        }
    };
}

scoped!(proto, "tcp");
scoped!(proto_port, "tcp dst port 80");
scoped!(hosts, "host 10.0.0.1 or src host 2001:db8::1");
scoped!(nets, "dst net 192.168.0.0/16 and not src net fe80::/10");
scoped!(ports, "src or dst port 443 || src and dst portrange 1024-65535");
scoped!(nested, "(tcp and (port 80 or port 8080)) and !(ip6 && net ::/0)");
scoped!(families, "ip or ip6");

fn main() {}

//! Source-address allowlists (CIDR blocks).

use std::net::IpAddr;

/// One CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let bad = || format!("{s:?} is not a CIDR block like 172.16.0.0/12 or fd00::/8");
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| bad())?
            }
            Some(_) => return Err(bad()),
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr { addr, prefix })
    }
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(v4) => (u128::from(u32::from(v4)), 32),
            None => (u128::from(v), 128),
        },
    }
}

impl Cidr {
    /// The prefix length (0 admits every address of its family).
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is inside the block (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, nw) = bits(self.addr);
        let (a, aw) = bits(ip);
        if nw != aw {
            return false;
        }
        if self.prefix == 0 {
            return true;
        }
        let shift = u32::from(nw - self.prefix);
        (net >> shift) == (a >> shift)
    }
}

/// Whether any block contains `ip`.
pub fn allowed(list: &[Cidr], ip: IpAddr) -> bool {
    list.iter().any(|c| c.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn default_docker_range() {
        let d = c("172.16.0.0/12");
        assert!(d.contains(ip("172.16.0.1")));
        assert!(d.contains(ip("172.31.255.255")));
        assert!(!d.contains(ip("172.32.0.0")));
        assert!(!d.contains(ip("172.15.255.255")));
        assert!(!d.contains(ip("127.0.0.1")));
        assert!(d.contains(ip("::ffff:172.17.0.2")));
        assert!(!d.contains(ip("fd00::1")));
    }

    #[test]
    fn host_and_v6_blocks() {
        let h = c("127.0.0.1");
        assert!(h.contains(ip("127.0.0.1")));
        assert!(!h.contains(ip("127.0.0.2")));
        assert!(c("127.0.0.1/32").contains(ip("127.0.0.1")));
        assert!(c("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(!c("0.0.0.0/0").contains(ip("::1")));
        assert!(c("fd00::/8").contains(ip("fd12::1")));
        assert!(!c("fd00::/8").contains(ip("fe80::1")));
        assert!(c("::/0").contains(ip("::1")));
        assert!(allowed(&[c("10.0.0.0/8"), h], ip("127.0.0.1")));
        assert!(!allowed(&[], ip("127.0.0.1")));
    }

    #[test]
    fn rejects_bad_blocks() {
        for s in [
            "",
            "1.2.3.4/33",
            "::/129",
            "1.2.3/8",
            "1.2.3.4/",
            "1.2.3.4/+8",
            "x/8",
            "1.2.3.4/08a",
        ] {
            assert!(s.parse::<Cidr>().is_err(), "{s}");
        }
    }
}

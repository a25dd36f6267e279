//! Pod networking: one bridge on the host, one network namespace per pod with a veth pair into it.
//!
//! The bridge network (10.250.0.0/16) is the platform's own: the host is 10.250.0.1, pods get addresses from the
//! runner's `--pod-cidr`. Pods get no default route, so they reach only each other and the host's bridge address,
//! never an address outside the machine.
use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use tokio::process::Command;

pub const BRIDGE: &str = "zotpods0";
pub const BRIDGE_NET: Ipv4Addr = Ipv4Addr::new(10, 250, 0, 0);
pub const BRIDGE_PREFIX: u8 = 16;
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 250, 0, 1);

/// An IPv4 network, `a.b.c.d/len`.
#[derive(Clone, Copy, Debug)]
pub struct Cidr {
    pub net: Ipv4Addr,
    pub len: u8,
}

impl Cidr {
    fn mask(&self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        }
    }
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.net) & self.mask()
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (net, len) = s.split_once('/').ok_or("expected a.b.c.d/len")?;
        let net = net.parse().map_err(|e| format!("{net}: {e}"))?;
        let len: u8 = len.parse().map_err(|e| format!("{len}: {e}"))?;
        if len > 32 {
            return Err(format!("prefix length {len} is over 32"));
        }
        Ok(Cidr { net, len })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.len)
    }
}

fn bridge_net() -> Cidr {
    Cidr {
        net: BRIDGE_NET,
        len: BRIDGE_PREFIX,
    }
}

/// Hands out pod addresses from the runner's range.
pub struct Allocator {
    first: u32,
    last: u32,
    next: u32,
    used: HashSet<u32>,
}

impl Allocator {
    pub fn new(cidr: &Cidr) -> Self {
        let base = u32::from(cidr.net) & cidr.mask();
        let last = base | !cidr.mask();
        Allocator {
            first: base,
            last,
            next: base,
            used: HashSet::new(),
        }
    }

    /// `preferred` when it is free and in range (a pod keeps its address across a runner restart), else the next
    /// free address.
    pub fn take(&mut self, preferred: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        if let Some(ip) = preferred.map(u32::from)
            && (self.first..=self.last).contains(&ip)
            && usable(ip)
            && self.used.insert(ip)
        {
            return Some(Ipv4Addr::from(ip));
        }
        let size = self.last - self.first + 1;
        for _ in 0..size {
            let ip = self.next;
            self.next = if self.next >= self.last {
                self.first
            } else {
                self.next + 1
            };
            if usable(ip) && self.used.insert(ip) {
                return Some(Ipv4Addr::from(ip));
            }
        }
        None
    }

    pub fn release(&mut self, ip: Ipv4Addr) {
        self.used.remove(&u32::from(ip));
    }
}

/// Not the bridge network's own, broadcast or gateway address.
fn usable(ip: u32) -> bool {
    let net = bridge_net();
    let addr = Ipv4Addr::from(ip);
    net.contains(addr)
        && addr != GATEWAY
        && ip != u32::from(BRIDGE_NET)
        && ip != (u32::from(BRIDGE_NET) | !net.mask())
}

pub async fn ip(args: &[&str]) -> Result<String, String> {
    run("ip", args).await
}

pub async fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .await
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The bridge with the gateway address, created once for every runner on the machine. Refuses to start when an
/// interface other than the bridge already has an address in the bridge network.
pub async fn ensure_bridge(pod_cidr: &Cidr) -> Result<(), String> {
    let net = bridge_net();
    if !net.contains(pod_cidr.net) || pod_cidr.len < BRIDGE_PREFIX {
        return Err(format!(
            "--pod-cidr {pod_cidr} is not inside the bridge network {net}"
        ));
    }
    let addrs = ip(&["-4", "-o", "addr", "show"]).await?;
    for line in addrs.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(dev), Some(addr)) = (fields.get(1), fields.get(3)) else {
            continue;
        };
        let Some(ip) = addr.split('/').next().and_then(|a| a.parse().ok()) else {
            continue;
        };
        if *dev != BRIDGE && net.contains(ip) {
            return Err(format!(
                "interface {dev} has {addr}, inside the pod network {net}: the test platform would collide with it"
            ));
        }
    }
    if ip(&["link", "show", BRIDGE]).await.is_err()
        && let Err(e) = ip(&["link", "add", BRIDGE, "type", "bridge"]).await
    {
        // Another runner may have made it meanwhile.
        ip(&["link", "show", BRIDGE]).await.map_err(|_| e)?;
    }
    let gateway = format!("{GATEWAY}/{BRIDGE_PREFIX}");
    let shown = ip(&["-4", "-o", "addr", "show", "dev", BRIDGE]).await?;
    if !shown.contains(&format!(" {gateway} ")) {
        let _ = ip(&["addr", "add", &gateway, "dev", BRIDGE]).await;
    }
    ip(&["link", "set", BRIDGE, "up"]).await?;
    Ok(())
}

/// Network namespaces a previous run of the runner named `name` left behind.
pub async fn remove_stale(name: &str) {
    let prefix = format!("zp-{name}-");
    if let Ok(list) = ip(&["netns", "list"]).await {
        for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
            if ns.starts_with(&prefix) {
                let _ = ip(&["netns", "delete", ns]).await;
            }
        }
    }
}

/// A pod's network namespace with its address.
pub struct Sandbox {
    pub netns: String,
    pub ip: Ipv4Addr,
    veth: String,
}

impl Sandbox {
    pub async fn create(runner_name: &str, address: Ipv4Addr) -> Result<Sandbox, String> {
        let netns = format!("zp-{runner_name}-{}", address.to_string().replace('.', "-"));
        let veth = format!("zv{:08x}", u32::from(address));
        // Leftovers of an earlier pod with this address, if any.
        let _ = ip(&["netns", "delete", &netns]).await;
        let _ = ip(&["link", "delete", &veth]).await;
        let sandbox = Sandbox {
            netns,
            ip: address,
            veth,
        };
        if let Err(e) = sandbox.setup().await {
            sandbox.destroy().await;
            return Err(e);
        }
        Ok(sandbox)
    }

    async fn setup(&self) -> Result<(), String> {
        let ns = self.netns.as_str();
        let addr = format!("{}/{BRIDGE_PREFIX}", self.ip);
        ip(&["netns", "add", ns]).await?;
        ip(&[
            "link", "add", &self.veth, "type", "veth", "peer", "name", "eth0", "netns", ns,
        ])
        .await?;
        ip(&["link", "set", &self.veth, "master", BRIDGE, "up"]).await?;
        ip(&["-n", ns, "addr", "add", &addr, "dev", "eth0"]).await?;
        ip(&["-n", ns, "link", "set", "eth0", "up"]).await?;
        ip(&["-n", ns, "link", "set", "lo", "up"]).await?;
        Ok(())
    }

    pub async fn destroy(&self) {
        let _ = ip(&["netns", "delete", &self.netns]).await;
        let _ = ip(&["link", "delete", &self.veth]).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allocator_skips_the_gateway_and_reuses_released_addresses() {
        let mut a = Allocator::new(&"10.250.0.0/30".parse().unwrap_or(Cidr {
            net: BRIDGE_NET,
            len: 30,
        }));
        // 10.250.0.0 is the network, .1 the gateway: .2 and .3 remain.
        assert_eq!(a.take(None), Some(Ipv4Addr::new(10, 250, 0, 2)));
        assert_eq!(a.take(None), Some(Ipv4Addr::new(10, 250, 0, 3)));
        assert_eq!(a.take(None), None);
        a.release(Ipv4Addr::new(10, 250, 0, 2));
        assert_eq!(
            a.take(Some(Ipv4Addr::new(10, 250, 0, 2))),
            Some(Ipv4Addr::new(10, 250, 0, 2))
        );
    }

    #[test]
    fn a_preferred_address_outside_the_range_is_not_taken() {
        let mut a = Allocator::new(&Cidr {
            net: Ipv4Addr::new(10, 250, 128, 0),
            len: 17,
        });
        let got = a.take(Some(Ipv4Addr::new(10, 250, 0, 9)));
        assert_eq!(got, Some(Ipv4Addr::new(10, 250, 128, 0)));
    }
}

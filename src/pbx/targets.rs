//! Where a recording may be downloaded from. A call record names the URL, so a
//! PBX (or whoever holds its token) could point Senim at anything it can reach:
//! the database's port, a cloud's metadata service, an admin page on loopback.
//! The rules, checked when the record arrives (an invalid field) and again
//! before each download, against every address the name resolves to:
//!
//! - a source with `recording_base_url` downloads only from that origin (scheme,
//!   host and port): naming it is the configuration that allows it, even on
//!   loopback;
//! - any other URL must not be, or resolve to, a loopback, link-local,
//!   unspecified, multicast or broadcast address, an IPv6 address carrying one
//!   (mapped, compatible, NAT64, 6to4), or a name under `localhost` (with or
//!   without the final dot);
//! - a redirect is followed only within the URL's own origin;
//! - no proxy: the downloader ignores `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`
//!   (`recordings::client_for`), which would take the connection elsewhere
//!   than the addresses checked here.

use std::net::{IpAddr, SocketAddr};

use reqwest::Url;

/// The origins configured as `recording_base_url`: downloads from them are allowed
/// wherever they are.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    configured: Vec<Origin>,
}

/// Scheme, host and port of a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default(),
        })
    }
}

/// Why a URL may not be downloaded from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("must be an http:// or https:// URL")]
    NotHttp,
    #[error("must be on {0}, the source's recording_base_url")]
    OffBase(String),
    #[error("must not point at a loopback, link-local or otherwise internal address ({0})")]
    Internal(String),
    #[error("the host cannot be resolved: {0}")]
    Unresolved(String),
}

impl Targets {
    /// The rules for the configured base URLs (unparsable ones are left out; the
    /// configuration check refuses them first).
    pub fn new<'a>(base_urls: impl IntoIterator<Item = &'a str>) -> Targets {
        Targets {
            configured: base_urls
                .into_iter()
                .filter_map(|u| Url::parse(u).ok())
                .filter_map(|u| Origin::of(&u))
                .collect(),
        }
    }

    /// Whether a source whose base URL is `base` may name `url` (at intake).
    pub fn check_for_source(&self, base: Option<&str>, url: &str) -> Result<Url, Refused> {
        let url = parse(url)?;
        match base.and_then(|b| Url::parse(b).ok()) {
            Some(base) if Origin::of(&base) == Origin::of(&url) => Ok(url),
            Some(base) => Err(Refused::OffBase(base.origin().ascii_serialization())),
            None => {
                if let Some(ip) = literal_ip(&url) {
                    check_ip(ip)?;
                } else if url.host_str().is_some_and(is_localhost) {
                    return Err(Refused::Internal("localhost".into()));
                }
                Ok(url)
            }
        }
    }

    /// The addresses to connect to for `url` (before a download): resolved now,
    /// every one checked unless the URL is on a configured origin.
    pub async fn resolve(&self, url: &str) -> Result<(Url, Vec<SocketAddr>), Refused> {
        let url = parse(url)?;
        let host = url.host_str().ok_or(Refused::NotHttp)?.to_owned();
        let port = url.port_or_known_default().ok_or(Refused::NotHttp)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| Refused::Unresolved(e.to_string()))?
            .collect();
        if addrs.is_empty() {
            return Err(Refused::Unresolved("no address".into()));
        }
        let configured = Origin::of(&url).is_some_and(|o| self.configured.contains(&o));
        if !configured {
            for a in &addrs {
                check_ip(a.ip())?;
            }
        }
        Ok((url, addrs))
    }
}

/// Whether a redirect from `from` to `to` stays within `from`'s origin.
pub fn same_origin(from: &Url, to: &Url) -> bool {
    Origin::of(from).is_some() && Origin::of(from) == Origin::of(to)
}

fn parse(url: &str) -> Result<Url, Refused> {
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        _ => Err(Refused::NotHttp),
    }
}

fn literal_ip(url: &Url) -> Option<IpAddr> {
    url.host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn check_ip(ip: IpAddr) -> Result<(), Refused> {
    if is_internal(ip) {
        Err(Refused::Internal(ip.to_string()))
    } else {
        Ok(())
    }
}

/// Whether `host` names this machine: `localhost` or any name under it
/// (`db.localhost`), with or without the final dot (RFC 6761: they all resolve
/// to loopback).
fn is_localhost(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Loopback, link-local (the metadata services live there), unspecified,
/// multicast or broadcast; an IPv4 address written inside an IPv6 one counts
/// as that IPv4 address (`embedded_v4`).
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unicast_link_local()
                || embedded_v4(v6).is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// The IPv4 address an IPv6 one carries, in the forms that reach it: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`, deprecated but still routed by
/// some stacks), NAT64 (`64:ff9b::a.b.c.d`, RFC 6052) and 6to4
/// (`2002:aabb:ccdd::/48`, RFC 3056).
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        std::net::Ipv4Addr::new(a, b, c, d)
    };
    match s {
        // Mapped and compatible (`::` and `::1` are not IPv4 and were
        // checked above as IPv6).
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_without_a_base_url_cannot_name_an_internal_address() {
        let t = Targets::default();
        for url in [
            "http://127.0.0.1:1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://0.0.0.0/",
            "http://localhost:5432/",
            "http://[::127.0.0.1]/x",
            "http://[::7f00:1]/x",
            "http://[64:ff9b::7f00:1]/x",
            "http://[64:ff9b::169.254.169.254]/x",
            "http://[2002:7f00:1::]/x",
            "http://[2002:a9fe:a9fe::1]/x",
            "http://[::ffff:169.254.169.254]/x",
            "http://localhost./x",
            "http://LOCALHOST/x",
            "http://db.localhost/x",
            "http://db.localhost./x",
        ] {
            assert!(
                matches!(t.check_for_source(None, url), Err(Refused::Internal(_))),
                "{url}"
            );
        }
        assert!(
            t.check_for_source(None, "https://pbx.example.kz/r.wav")
                .is_ok()
        );
        assert!(t.check_for_source(None, "http://10.1.2.3/r.wav").is_ok());
        // An IPv6 address that carries a public IPv4 one is as that one.
        assert!(
            t.check_for_source(None, "http://[64:ff9b::5db8:d822]/r.wav")
                .is_ok()
        );
        assert!(
            t.check_for_source(None, "http://notlocalhost.kz/r.wav")
                .is_ok()
        );
        assert_eq!(
            t.check_for_source(None, "file:///etc/passwd"),
            Err(Refused::NotHttp)
        );
    }

    #[test]
    fn a_source_with_a_base_url_names_only_its_origin() {
        let t = Targets::new(["http://127.0.0.1:8088/rec/"]);
        let base = Some("http://127.0.0.1:8088/rec/");
        assert!(
            t.check_for_source(base, "http://127.0.0.1:8088/other/x.wav")
                .is_ok()
        );
        for url in [
            "http://127.0.0.1:8089/x.wav",
            "https://127.0.0.1:8088/x.wav",
            "http://pbx.example.kz/x.wav",
        ] {
            assert!(
                matches!(t.check_for_source(base, url), Err(Refused::OffBase(_))),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn resolved_addresses_are_checked_unless_the_origin_is_configured() {
        let t = Targets::new(["http://127.0.0.1:8088/"]);
        assert!(t.resolve("http://127.0.0.1:8088/x").await.is_ok());
        assert!(matches!(
            t.resolve("http://localhost:8089/x").await,
            Err(Refused::Internal(_))
        ));
        for url in [
            "http://[::127.0.0.1]:8088/x",
            "http://[64:ff9b::7f00:1]:8088/x",
            "http://[2002:7f00:1::]:8088/x",
        ] {
            assert!(
                matches!(t.resolve(url).await, Err(Refused::Internal(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_read_out_in_every_form() {
        let v4 = |s: &str| embedded_v4(s.parse().unwrap()).map(|a| a.to_string());
        assert_eq!(v4("::ffff:127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("::127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("64:ff9b::7f00:1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("2002:a9fe:a9fe::").as_deref(), Some("169.254.169.254"));
        assert_eq!(v4("2001:db8::1"), None);
    }

    #[test]
    fn redirects_stay_within_the_origin() {
        let from = Url::parse("http://10.0.0.5/a").unwrap();
        assert!(same_origin(
            &from,
            &Url::parse("http://10.0.0.5:80/b").unwrap()
        ));
        assert!(!same_origin(
            &from,
            &Url::parse("http://127.0.0.1/b").unwrap()
        ));
    }
}

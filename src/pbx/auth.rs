//! Who may post call records: each configured PBX has a bearer token, optionally
//! an HMAC-SHA256 key and an allow-list of networks. A signed request carries
//! `X-Senim-Timestamp: <epoch seconds>` and
//! `X-Senim-Signature: sha256=<hex HMAC of "<timestamp>.<body>">`; a timestamp
//! outside the tolerance window is refused, so a captured request cannot be
//! replayed later. Secrets are compared in constant time.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sha2::Sha256;

use super::error::PbxError;
use crate::config::{PbxConfig, read_secret};
use crate::tokens::tokens_equal;

/// What a signed request carries besides its body: the text of
/// `X-Senim-Timestamp` and `X-Senim-Signature`, trimmed, when present.
#[derive(Clone, Copy, Debug, Default)]
pub struct Signed<'a> {
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// One configured PBX, with its secrets read.
pub struct Source {
    pub name: String,
    token: String,
    hmac_key: Option<Vec<u8>>,
    tolerance_seconds: i64,
    networks: Vec<IpNet>,
    pub recording_base_url: Option<String>,
    /// Zone of Asterisk's local CDR times.
    pub timezone: Tz,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Source({})", self.name)
    }
}

/// Reads the sources of `[pbx]`, secrets included; errors name the key.
pub fn load_sources(config: &PbxConfig, default_tz: Tz) -> anyhow::Result<Vec<Source>> {
    let mut sources = Vec::new();
    for (i, s) in config.sources.iter().enumerate() {
        let key = format!("pbx.sources[{i}]");
        let token = read_secret(
            &format!("{key}.token"),
            s.token.as_deref(),
            s.token_file.as_deref(),
        )?;
        let hmac_key = if s.hmac_secret.is_some() || s.hmac_secret_file.is_some() {
            Some(
                read_secret(
                    &format!("{key}.hmac_secret"),
                    s.hmac_secret.as_deref(),
                    s.hmac_secret_file.as_deref(),
                )?
                .into_bytes(),
            )
        } else {
            None
        };
        let networks = s.allowed_networks.iter().map(|n| n.0).collect();
        let timezone = s.timezone.map_or(default_tz, |z| z.0);
        sources.push(Source {
            name: s.name.clone(),
            token,
            hmac_key,
            tolerance_seconds: i64::try_from(s.signature_tolerance_seconds.get())
                .unwrap_or(i64::MAX),
            networks,
            recording_base_url: s.recording_base_url.clone(),
            timezone,
        });
    }
    Ok(sources)
}

/// The source a request comes from by its token and address: unknown token is
/// `Unauthenticated`, an address outside the source's networks `Forbidden`. The
/// signature is checked once the body is read (`verify`).
pub fn identify<'a>(
    sources: &'a [Source],
    token: &str,
    peer: Option<IpAddr>,
) -> Result<&'a Source, PbxError> {
    // Every token is compared, so the time taken does not tell which matched.
    let mut found = None;
    for s in sources {
        if tokens_equal(&s.token, token) && found.is_none() {
            found = Some(s);
        }
    }
    let source = found.ok_or_else(|| PbxError::Unauthenticated("unknown PBX token".into()))?;
    if !source.networks.is_empty() {
        let allowed = peer.is_some_and(|ip| {
            let ip = canonical(ip);
            source.networks.iter().any(|n| n.contains(&ip))
        });
        if !allowed {
            return Err(PbxError::Forbidden(format!(
                "the source address is not in pbx.sources allowed_networks of `{}`",
                source.name
            )));
        }
    }
    Ok(source)
}

impl Source {
    /// Checks the request's signature when this source has an HMAC key.
    pub fn verify(
        &self,
        signed: Signed<'_>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), PbxError> {
        match &self.hmac_key {
            Some(key) => verify_signature(key, self.tolerance_seconds, signed, body, now),
            None => Ok(()),
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Checks `X-Senim-Signature` over `<timestamp>.<body>` and the timestamp's window.
fn verify_signature(
    key: &[u8],
    tolerance: i64,
    signed: Signed<'_>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), PbxError> {
    let refused = |why: String| PbxError::Unauthenticated(why);
    let timestamp = signed
        .timestamp
        .ok_or_else(|| refused("missing X-Senim-Timestamp header (signed requests)".into()))?;
    let signature = signed
        .signature
        .ok_or_else(|| refused("missing X-Senim-Signature header (signed requests)".into()))?;
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| refused("X-Senim-Timestamp must be epoch seconds".into()))?;
    if (now.timestamp() - seconds).abs() > tolerance {
        return Err(refused(format!(
            "X-Senim-Timestamp is outside the {tolerance} s window of the signature"
        )));
    }
    let hex_sig = signature.strip_prefix("sha256=").unwrap_or(signature);
    let given = hex::decode(hex_sig)
        .map_err(|_| refused("X-Senim-Signature must be sha256=<hex>".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| PbxError::Internal("the HMAC key cannot be used"))?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| refused("X-Senim-Signature does not match the body".into()))
}

/// The signature a PBX sends (for tests and the documentation's example).
pub fn sign(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

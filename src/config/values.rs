//! Typed configuration values: each is parsed once, while the file is read, and
//! a bad one is an error naming its key. The rest of the daemon gets the parsed
//! value (a `Tz`, a `NaiveTime`, an `IpNet`, a mail address), never the text.
//!
//! Every type reads from and writes back to the text a person writes in the file,
//! so the built-in defaults go through the same parser as the file does.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Implements `Deref`, `Display`, `Serialize` and `Deserialize` (through `FromStr`)
/// for a newtype around a parsed value.
macro_rules! text_value {
    ($name:ident($inner:ty)) => {
        impl Deref for $name {
            type Target = $inner;
            fn deref(&self) -> &$inner {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// An IANA time zone (`Asia/Almaty`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone(pub chrono_tz::Tz);
text_value!(Zone(chrono_tz::Tz));

impl FromStr for Zone {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        text.parse()
            .map(Zone)
            .map_err(|_| format!("`{text}` is not an IANA time zone"))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A time of day, `HH:MM` (or `HH:MM:SS`), local to the trust line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(pub NaiveTime);
text_value!(TimeOfDay(NaiveTime));

impl TimeOfDay {
    /// `HH:MM`; the tests and defaults only write valid times.
    pub const fn hm(hour: u32, minute: u32) -> TimeOfDay {
        match NaiveTime::from_hms_opt(hour, minute, 0) {
            Some(t) => TimeOfDay(t),
            None => TimeOfDay(NaiveTime::MIN),
        }
    }
}

impl FromStr for TimeOfDay {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        NaiveTime::parse_from_str(text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
            .map(TimeOfDay)
            .map_err(|_| format!("`{text}` is not a time of day like 09:00"))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use chrono::Timelike;
        if self.0.second() == 0 {
            write!(f, "{}", self.0.format("%H:%M"))
        } else {
            write!(f, "{}", self.0.format("%H:%M:%S"))
        }
    }
}

/// A network in CIDR notation (`10.0.0.0/8`); a bare address is a network of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network(pub ipnet::IpNet);
text_value!(Network(ipnet::IpNet));

impl FromStr for Network {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        text.parse::<ipnet::IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(Network)
            .map_err(|_| format!("`{text}` is not a network like 10.0.0.0/8"))
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A mail address, with or without a display name (`Senim <trust@example.kz>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address(pub lettre::message::Mailbox);
text_value!(Address(lettre::message::Mailbox));

impl FromStr for Address {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        text.parse().map(Address).map_err(|e| {
            format!("`{text}` is not an e-mail address like \"Senim <trust@example.kz>\": {e}")
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Declares a span of whole units, read from and written as the plain number the
/// file gives under a key named for its unit (`timeout_seconds = 30`).
macro_rules! span {
    ($(#[$meta:meta])* $name:ident, $secs_per_unit:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            pub const fn new(units: u64) -> Self {
                Self(units)
            }

            /// The number the file gives.
            pub const fn get(self) -> u64 {
                self.0
            }

            /// The span, for timers.
            pub fn std(self) -> std::time::Duration {
                std::time::Duration::from_secs(self.0.saturating_mul($secs_per_unit))
            }

            /// The span, for instants (longer than chrono can hold: its maximum).
            pub fn chrono(self) -> chrono::TimeDelta {
                i64::try_from(self.0.saturating_mul($secs_per_unit))
                    .ok()
                    .and_then(chrono::TimeDelta::try_seconds)
                    .unwrap_or(chrono::TimeDelta::MAX)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

span!(
    /// A span of whole seconds (a `…_seconds` key).
    Seconds,
    1
);
span!(
    /// A span of whole hours (a `…_hours` key).
    Hours,
    3600
);
span!(
    /// A span of whole days of 24 hours (a `…_days` key).
    Days,
    86_400
);

/// For an optional value: an empty string, as older files write "none", is `None`.
pub fn empty_is_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_reads_back_what_it_writes() {
        for text in ["Asia/Almaty", "UTC"] {
            assert_eq!(text.parse::<Zone>().unwrap().to_string(), text);
        }
        for text in ["09:00", "23:59:59"] {
            assert_eq!(text.parse::<TimeOfDay>().unwrap().to_string(), text);
        }
        assert_eq!(
            "10.0.0.0/8".parse::<Network>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            "10.1.2.3".parse::<Network>().unwrap().to_string(),
            "10.1.2.3/32"
        );
        let address: Address = "Senim <trust@example.kz>".parse().unwrap();
        assert_eq!(address.to_string().parse::<Address>().unwrap(), address);
        assert_eq!(address.email.domain(), "example.kz");
    }

    #[test]
    fn bad_text_says_what_was_expected() {
        assert!("Mars/Olympus".parse::<Zone>().unwrap_err().contains("IANA"));
        assert!("9 am".parse::<TimeOfDay>().unwrap_err().contains("09:00"));
        assert!(
            "10.0.0/8"
                .parse::<Network>()
                .unwrap_err()
                .contains("network")
        );
        assert!("nobody".parse::<Address>().unwrap_err().contains("e-mail"));
        assert_eq!(TimeOfDay::hm(9, 0).to_string(), "09:00");
        assert_eq!(Hours::new(2).std().as_secs(), 7200);
        assert_eq!(Days::new(2).chrono(), chrono::TimeDelta::days(2));
        assert_eq!(Days::new(u64::MAX).chrono(), chrono::TimeDelta::MAX);
        assert_eq!(Seconds::new(u64::MAX).chrono(), chrono::TimeDelta::MAX);
    }
}

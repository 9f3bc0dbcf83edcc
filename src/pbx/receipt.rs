//! When a call counts as received (issue 8, section 4): the PBX's clock must not
//! decide the Journal. The call's start is its receipt instant only when it is
//! plausible by Senim's clock; a start in the future (beyond `clock_skew_seconds`)
//! or before 2000 is refused, and a record arriving more than
//! `late_tolerance_seconds` after the call ended is a late delivery, registered
//! when Senim receives it. The PBX's times stay on the call log as metadata.

use chrono::{DateTime, TimeZone, Utc};

use super::error::PbxError;
use super::formats::CallTimes;
use crate::config::PbxConfig;

/// The instant a call is registered at, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceivedAt {
    /// The call's start: the record came in time.
    AtStart(DateTime<Utc>),
    /// Senim's receive time: the record came late.
    Late(DateTime<Utc>),
}

impl ReceivedAt {
    pub fn instant(self) -> DateTime<Utc> {
        match self {
            ReceivedAt::AtStart(t) | ReceivedAt::Late(t) => t,
        }
    }

    pub fn is_late(self) -> bool {
        matches!(self, ReceivedAt::Late(_))
    }
}

/// The earliest start accepted.
fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Decides the receipt instant of a call record arriving at `now`, or refuses
/// its times naming the field.
pub fn receipt(
    times: &CallTimes,
    now: DateTime<Utc>,
    config: &PbxConfig,
) -> Result<ReceivedAt, PbxError> {
    let skew = config.clock_skew_seconds.chrono();
    let late = config.late_tolerance_seconds.chrono();
    let refuse = |field: &str, why: String| PbxError::refused(field, format!("{field} {why}"));
    if times.start() < earliest() {
        return Err(refuse(
            "start",
            format!("({}) is before 2000", times.start()),
        ));
    }
    for (field, at) in [("start", times.start()), ("end", times.end())] {
        if at > now + skew {
            return Err(refuse(
                field,
                format!(
                    "({at}) is in the future by Senim's clock ({now}); pbx.clock_skew_seconds allows {}",
                    config.clock_skew_seconds
                ),
            ));
        }
    }
    // The start is not earlier than the call's own length plus the tolerance:
    // the record arrived no later than `late` after the call ended.
    if times.end() + late < now {
        Ok(ReceivedAt::Late(now))
    } else {
        Ok(ReceivedAt::AtStart(times.start()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn times(start: &str, end: &str) -> CallTimes {
        CallTimes::new(at(start), None, at(end), ["start", "answer", "end"]).unwrap()
    }

    #[test]
    fn a_plausible_start_is_the_receipt_instant() {
        let c = PbxConfig::default();
        let now = at("2026-11-18T10:10:00Z");
        let t = times("2026-11-18T10:00:00Z", "2026-11-18T10:05:00Z");
        assert_eq!(
            receipt(&t, now, &c).unwrap(),
            ReceivedAt::AtStart(t.start())
        );
        // A long call posted within the hour after its end.
        let t = times("2026-11-18T07:00:00Z", "2026-11-18T09:20:00Z");
        assert_eq!(
            receipt(&t, now, &c).unwrap(),
            ReceivedAt::AtStart(t.start())
        );
        // A PBX clock four minutes fast.
        let t = times("2026-11-18T10:13:00Z", "2026-11-18T10:14:00Z");
        assert!(!receipt(&t, now, &c).unwrap().is_late());
    }

    #[test]
    fn an_old_record_is_received_now() {
        let c = PbxConfig::default();
        let now = at("2026-11-26T10:00:00Z");
        let t = times("2026-11-18T10:00:00Z", "2026-11-18T10:05:00Z");
        assert_eq!(receipt(&t, now, &c).unwrap(), ReceivedAt::Late(now));
    }

    #[test]
    fn the_future_and_the_last_century_are_refused() {
        let c = PbxConfig::default();
        let now = at("2026-11-18T10:00:00Z");
        for (start, end, field) in [
            ("1900-01-01T00:00:00Z", "1900-01-01T00:01:00Z", "start"),
            ("9999-01-01T00:00:00Z", "9999-01-01T00:01:00Z", "start"),
            ("2026-11-18T10:06:00Z", "2026-11-18T10:07:00Z", "start"),
            ("2026-11-18T09:00:00Z", "2026-11-18T11:00:00Z", "end"),
        ] {
            let e = receipt(&times(start, end), now, &c).unwrap_err();
            assert!(matches!(e, PbxError::Refused { .. }), "{start}");
            assert_eq!(e.field(), Some(field), "{start}");
        }
    }
}

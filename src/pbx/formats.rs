//! The three shapes a PBX posts, each turned into one `CallRecord`: Senim's own
//! JSON form, an Asterisk CDR posted form-encoded from the dialplan, and the call
//! events of Zammad's Generic CTI API. Parsing never panics; every refusal names
//! the field.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{PbxError, Syntax};
use super::numbers::Caller;

/// Longest call id, number or extension accepted.
const MAX_FIELD_CHARS: usize = 256;

/// A PBX's identifier of one call (Asterisk's `uniqueid`, CTI's `callId`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(String);

impl CallId {
    pub fn parse(field: &str, value: &str) -> Result<CallId, PbxError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(invalid(field, "must not be empty"));
        }
        if value.chars().count() > 128 || value.chars().any(char::is_control) {
            return Err(invalid(
                field,
                "must be at most 128 characters without control characters",
            ));
        }
        Ok(CallId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::text_enum! {
    /// How a call ended.
    Disposition {
        Answered = "answered",
        NoAnswer = "no_answer",
        Busy = "busy",
        Failed = "failed",
        Voicemail = "voicemail",
    }
}

impl Disposition {
    /// Missed: the caller reached no one and left no message (no answer, busy,
    /// failed).
    pub fn is_missed(self) -> bool {
        matches!(
            self,
            Disposition::NoAnswer | Disposition::Busy | Disposition::Failed
        )
    }

    /// Accepts `answered`, `no_answer`, `NO ANSWER`, `no-answer`, ... (Asterisk's
    /// `CONGESTION` is a failure).
    pub fn parse(field: &str, value: &str) -> Result<Disposition, PbxError> {
        let norm: String = value
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        match norm.as_str() {
            "answered" => Ok(Disposition::Answered),
            "no_answer" | "noanswer" => Ok(Disposition::NoAnswer),
            "busy" => Ok(Disposition::Busy),
            "failed" | "congestion" => Ok(Disposition::Failed),
            "voicemail" => Ok(Disposition::Voicemail),
            _ => Err(PbxError::refused(
                field,
                format!(
                    "{field}: unknown disposition `{}` (expected answered, no_answer, busy, failed or voicemail)",
                    shorten(value)
                ),
            )),
        }
    }
}

/// When a call started, was answered and ended; consistent by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallTimes {
    start: DateTime<Utc>,
    answer: Option<DateTime<Utc>>,
    end: DateTime<Utc>,
}

impl CallTimes {
    /// Refuses an end before the start, or an answer outside the call; `names`
    /// are the fields' names in the request, for the message.
    pub fn new(
        start: DateTime<Utc>,
        answer: Option<DateTime<Utc>>,
        end: DateTime<Utc>,
        names: [&str; 3],
    ) -> Result<CallTimes, PbxError> {
        let [start_name, answer_name, end_name] = names;
        if end < start {
            return Err(PbxError::refused(
                end_name,
                format!("{end_name} ({end}) is before {start_name} ({start})"),
            ));
        }
        if let Some(answer) = answer
            && (answer < start || answer > end)
        {
            return Err(PbxError::refused(
                answer_name,
                format!(
                    "{answer_name} ({answer}) is outside the call ({start_name} {start}, {end_name} {end})"
                ),
            ));
        }
        Ok(CallTimes { start, answer, end })
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
    pub fn answer(&self) -> Option<DateTime<Utc>> {
        self.answer
    }
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whole seconds from start to end: the duration when the PBX gives none.
    pub fn duration_seconds(&self) -> u32 {
        span(self.start, self.end)
    }

    /// Whole seconds from answer to end (0 if never answered): the billable time
    /// when the PBX gives none.
    pub fn billable_seconds(&self) -> u32 {
        self.answer.map_or(0, |a| span(a, self.end))
    }
}

/// A recording that comes with a call.
#[derive(Clone)]
pub enum Recording {
    /// To be downloaded from the PBX, in the background.
    Url(String),
    /// Uploaded with the record (multipart).
    Upload {
        bytes: Bytes,
        file_name: Option<String>,
    },
    /// A file name on the PBX, with no URL to fetch it from.
    Name(String),
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recording::Url(_) => f.write_str("Recording::Url"),
            Recording::Upload { bytes, .. } => {
                write!(f, "Recording::Upload({} bytes)", bytes.len())
            }
            Recording::Name(_) => f.write_str("Recording::Name"),
        }
    }
}

crate::text_enum! {
    /// Which shape a record came in.
    Format {
        Json = "json",
        AsteriskCdr = "asterisk_cdr",
        ZammadCti = "zammad_cti",
    }
}

/// One call, whatever shape it came in.
#[derive(Clone, Debug)]
pub struct CallRecord {
    pub format: Format,
    pub call_id: CallId,
    pub linked_id: Option<String>,
    /// Caller's number: confidential, never logged.
    pub caller: Option<Caller>,
    /// The number called (the trust line's DID).
    pub called: Option<String>,
    pub times: CallTimes,
    pub duration_seconds: u32,
    pub billable_seconds: u32,
    pub disposition: Disposition,
    /// The extension (or application, e.g. Asterisk's `VoiceMail`) that answered.
    pub extension: Option<String>,
    pub application: Option<String>,
    pub recording: Option<Recording>,
}

/// The fields of a request, from a JSON object or a form, read by name
/// (`Fields::default()` and `push_text` for a multipart body's text fields).
#[derive(Default)]
pub struct Fields {
    map: BTreeMap<String, Value>,
}

impl Fields {
    pub fn from_json(body: &[u8]) -> Result<Fields, PbxError> {
        let malformed = |detail: String| PbxError::Malformed {
            syntax: Syntax::Json,
            field: None,
            detail,
        };
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| malformed(format!("the body is not valid JSON: {e}")))?;
        match value {
            Value::Object(map) => Ok(Fields {
                map: map.into_iter().collect(),
            }),
            _ => Err(malformed("the body must be a JSON object".into())),
        }
    }

    /// A form body; the first value of a repeated name counts (`user[]` is `user`).
    /// A bad `%` escape, or a name or value that is not UTF-8 once decoded, is
    /// refused with 400 naming the field: decoding it lossily would make
    /// different values (`%FE`, `%FD`) the same.
    pub fn from_form(body: &[u8]) -> Result<Fields, PbxError> {
        let mut fields = Fields {
            map: BTreeMap::new(),
        };
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let name = form_decode(name)
                .and_then(|n| String::from_utf8(n).ok())
                .ok_or_else(|| {
                    malformed_form(
                        None,
                        format!(
                            "the field name `{}` is not valid percent-encoded UTF-8",
                            shorten(&String::from_utf8_lossy(name))
                        ),
                    )
                })?;
            let value = form_decode(value)
                .ok_or_else(|| malformed_form(Some(&name), format!("{name} has a bad % escape")))?;
            let value = String::from_utf8(value)
                .map_err(|_| malformed_form(Some(&name), format!("{name} is not valid UTF-8")))?;
            fields.insert(name, value);
        }
        Ok(fields)
    }

    /// Adds one text field of a multipart body; one that is not UTF-8 is refused
    /// naming it.
    pub fn push_text(&mut self, name: String, value: &[u8]) -> Result<(), PbxError> {
        let value = String::from_utf8(value.to_vec())
            .map_err(|_| malformed_form(Some(&name), format!("{name} is not valid UTF-8")))?;
        self.insert(name, value);
        Ok(())
    }

    fn insert(&mut self, name: String, value: String) {
        let name = name.strip_suffix("[]").map(str::to_owned).unwrap_or(name);
        self.map.entry(name).or_insert(Value::String(value));
    }

    /// A text field; blank counts as absent. Numbers are accepted as their text.
    pub fn text(&self, name: &str) -> Result<Option<String>, PbxError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.is_empty() {
                    Ok(None)
                } else if s.chars().count() > MAX_FIELD_CHARS || s.chars().any(char::is_control) {
                    Err(invalid(
                        name,
                        "must be at most 256 characters without control characters",
                    ))
                } else {
                    Ok(Some(s.to_owned()))
                }
            }
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(invalid(name, "must be a string")),
        }
    }

    pub fn required_text(&self, name: &str) -> Result<String, PbxError> {
        self.text(name)?.ok_or_else(|| missing(name))
    }

    /// An instant: RFC 3339 with offset, epoch seconds (number or text), or, when
    /// `local` is given, `YYYY-MM-DD HH:MM:SS` in that zone (Asterisk's CDR form).
    /// Epoch 0 means "never" (Asterisk's unanswered `answer`).
    pub fn instant(
        &self,
        name: &str,
        local: Option<Tz>,
    ) -> Result<Option<DateTime<Utc>>, PbxError> {
        let bad = || {
            invalid(
                name,
                "must be an RFC 3339 instant with offset (2026-11-18T10:00:00+05:00) or epoch seconds",
            )
        };
        let epoch = |secs: f64| -> Result<Option<DateTime<Utc>>, PbxError> {
            if !secs.is_finite() || !(0.0..=32_503_680_000.0).contains(&secs) {
                return Err(bad());
            }
            if secs == 0.0 {
                return Ok(None);
            }
            let whole = secs.trunc() as i64;
            let micros = ((secs - secs.trunc()) * 1e6).round() as u32;
            DateTime::from_timestamp(whole, micros.min(999_999) * 1000)
                .map(Some)
                .ok_or_else(bad)
        };
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => epoch(n.as_f64().ok_or_else(bad)?),
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.is_empty() {
                    return Ok(None);
                }
                if let Ok(secs) = s.parse::<f64>() {
                    return epoch(secs);
                }
                if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                    return Ok(Some(t.to_utc()));
                }
                if let Some(tz) = local
                    && let Ok(naive) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                {
                    return tz
                        .from_local_datetime(&naive)
                        .earliest()
                        .map(|t| Some(t.to_utc()))
                        .ok_or_else(bad);
                }
                Err(bad())
            }
            Some(_) => Err(bad()),
        }
    }

    /// Whole seconds, from a number or its text.
    pub fn seconds(&self, name: &str) -> Result<Option<u32>, PbxError> {
        let bad = || invalid(name, "must be a whole number of seconds, 0 or more");
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(bad),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<u32>().map(Some).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }
}

/// Decodes one name or value of a form: `+` is a space, `%XX` a byte; `None` on a
/// bad escape.
fn form_decode(raw: &[u8]) -> Option<Vec<u8>> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex(*raw.get(i + 1)?)?;
                let lo = hex(*raw.get(i + 2)?)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

fn malformed_form(field: Option<&str>, detail: String) -> PbxError {
    PbxError::Malformed {
        syntax: Syntax::Form,
        field: field.map(str::to_owned),
        detail,
    }
}

/// The caller field, read into a `Caller`.
fn caller(fields: &Fields, name: &str) -> Result<Option<Caller>, PbxError> {
    Ok(fields.text(name)?.as_deref().and_then(Caller::parse))
}

/// Senim's JSON form (`docs/pbx.md`).
pub fn from_json(fields: &Fields) -> Result<CallRecord, PbxError> {
    let call_id = CallId::parse("call_id", &fields.required_text("call_id")?)?;
    let start = fields
        .instant("start", None)?
        .ok_or_else(|| missing("start"))?;
    let answer = fields.instant("answer", None)?;
    let end = fields.instant("end", None)?.ok_or_else(|| missing("end"))?;
    let times = CallTimes::new(start, answer, end, ["start", "answer", "end"])?;
    let disposition = Disposition::parse("disposition", &fields.required_text("disposition")?)?;
    let recording = fields.text("recording_url")?;
    if let Some(url) = &recording {
        check_url("recording_url", url)?;
    }
    Ok(CallRecord {
        format: Format::Json,
        call_id,
        linked_id: fields.text("linked_id")?,
        caller: caller(fields, "caller")?,
        called: fields.text("called")?,
        duration_seconds: fields
            .seconds("duration")?
            .unwrap_or_else(|| times.duration_seconds()),
        billable_seconds: fields
            .seconds("billsec")?
            .unwrap_or_else(|| times.billable_seconds()),
        times,
        disposition,
        extension: fields.text("extension")?,
        application: None,
        recording: recording.map(Recording::Url),
    })
}

/// An Asterisk CDR posted with `CURL()` from a hangup handler, under Asterisk's
/// own field names. `recording_base_url` turns the `recording` file name into a URL.
pub fn from_asterisk(
    fields: &Fields,
    tz: Tz,
    recording_base_url: Option<&str>,
) -> Result<CallRecord, PbxError> {
    let call_id = CallId::parse("uniqueid", &fields.required_text("uniqueid")?)?;
    let start = fields
        .instant("start", Some(tz))?
        .ok_or_else(|| missing("start"))?;
    let answer = fields.instant("answer", Some(tz))?;
    // In a hangup handler Asterisk may not have set CDR(end) yet: start + duration.
    let end = match fields.instant("end", Some(tz))? {
        Some(end) => end,
        None => fields
            .seconds("duration")?
            .map(|d| start + chrono::Duration::seconds(i64::from(d)))
            .ok_or_else(|| missing("end"))?,
    };
    let times = CallTimes::new(start, answer, end, ["start", "answer", "end"])?;
    let mut disposition = Disposition::parse("disposition", &fields.required_text("disposition")?)?;
    // The documented dialplan answers the channel before `Record()`, so Asterisk
    // says ANSWERED; it marks the message with `CDR(userfield)=voicemail`.
    if fields
        .text("userfield")?
        .is_some_and(|u| u.eq_ignore_ascii_case("voicemail"))
        && disposition != Disposition::Failed
    {
        disposition = Disposition::Voicemail;
    }
    let extension = match fields.text("extension")? {
        Some(e) => Some(e),
        None => fields.text("dstchannel")?.and_then(|c| channel_peer(&c)),
    };
    let recording = match fields.text("recording")? {
        Some(name) if name.starts_with("http://") || name.starts_with("https://") => {
            check_url("recording", &name)?;
            Some(Recording::Url(name))
        }
        Some(name) => match recording_base_url {
            Some(base) => {
                let file = name.rsplit('/').next().unwrap_or(&name);
                if file.is_empty() || file == "." || file == ".." {
                    return Err(invalid("recording", "must name a file"));
                }
                Some(Recording::Url(format!(
                    "{}/{}",
                    base.trim_end_matches('/'),
                    file
                )))
            }
            None => Some(Recording::Name(name)),
        },
        None => None,
    };
    Ok(CallRecord {
        format: Format::AsteriskCdr,
        call_id,
        linked_id: fields.text("linkedid")?,
        caller: caller(fields, "src")?,
        called: fields.text("dst")?,
        duration_seconds: fields
            .seconds("duration")?
            .unwrap_or_else(|| times.duration_seconds()),
        billable_seconds: fields
            .seconds("billsec")?
            .unwrap_or_else(|| times.billable_seconds()),
        times,
        disposition,
        extension,
        application: fields.text("lastapp")?,
        recording,
    })
}

/// The peer of an Asterisk channel name: `PJSIP/201-00000012` gives `201`.
fn channel_peer(channel: &str) -> Option<String> {
    let rest = channel.split_once('/')?.1;
    let peer = rest.rsplit_once('-').map_or(rest, |(p, _)| p);
    (!peer.is_empty()).then(|| peer.to_owned())
}

/// One event of Zammad's Generic CTI API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtiEvent {
    pub kind: CtiEventKind,
    pub call_id: CallId,
    /// The caller as sent (confidential; read with `Caller::parse`).
    pub from: Option<String>,
    pub to: Option<String>,
    pub direction: CtiDirection,
    pub cause: Option<CtiCause>,
    /// `answeringNumber`, else `user` of an `answer` event.
    pub answered_by: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CtiEventKind {
    NewCall,
    Answer,
    Hangup,
}

impl CtiEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CtiEventKind::NewCall => "newCall",
            CtiEventKind::Answer => "answer",
            CtiEventKind::Hangup => "hangup",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CtiDirection {
    In,
    Out,
}

/// Why a call hung up, in Zammad's words; any other cause is kept as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CtiCause {
    NormalClearing,
    AnsweredElsewhere,
    Cancel,
    NoAnswer,
    Forwarded,
    Busy,
    Congestion,
    NotFound,
    /// A cause Zammad does not define (`voicemail`, a PBX's own words): the call
    /// is decided from its other events.
    Other(String),
}

impl CtiCause {
    /// Reads a cause; never fails (an unknown one is `Other`).
    pub fn parse(value: &str) -> CtiCause {
        match value.trim() {
            "normalClearing" => CtiCause::NormalClearing,
            "answeredElsewhere" => CtiCause::AnsweredElsewhere,
            "cancel" => CtiCause::Cancel,
            "noAnswer" => CtiCause::NoAnswer,
            "forwarded" => CtiCause::Forwarded,
            "busy" => CtiCause::Busy,
            "congestion" => CtiCause::Congestion,
            "notFound" => CtiCause::NotFound,
            other => CtiCause::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            CtiCause::NormalClearing => "normalClearing",
            CtiCause::AnsweredElsewhere => "answeredElsewhere",
            CtiCause::Cancel => "cancel",
            CtiCause::NoAnswer => "noAnswer",
            CtiCause::Forwarded => "forwarded",
            CtiCause::Busy => "busy",
            CtiCause::Congestion => "congestion",
            CtiCause::NotFound => "notFound",
            CtiCause::Other(s) => s,
        }
    }

    /// How the call ended, given whether an `answer` event came (in any order).
    pub fn disposition(&self, answered: bool) -> Disposition {
        match self {
            CtiCause::NormalClearing | CtiCause::AnsweredElsewhere => Disposition::Answered,
            CtiCause::Cancel | CtiCause::Other(_) if answered => Disposition::Answered,
            CtiCause::Cancel | CtiCause::NoAnswer | CtiCause::Forwarded | CtiCause::Other(_) => {
                Disposition::NoAnswer
            }
            CtiCause::Busy => Disposition::Busy,
            CtiCause::Congestion | CtiCause::NotFound => Disposition::Failed,
        }
    }
}

pub fn cti_event(fields: &Fields) -> Result<CtiEvent, PbxError> {
    let kind = match fields.required_text("event")?.as_str() {
        "newCall" => CtiEventKind::NewCall,
        "answer" => CtiEventKind::Answer,
        "hangup" => CtiEventKind::Hangup,
        other => {
            return Err(PbxError::refused(
                "event",
                format!(
                    "event: unknown CTI event `{}` (expected newCall, answer or hangup)",
                    shorten(other)
                ),
            ));
        }
    };
    let call_id = CallId::parse("callId", &fields.required_text("callId")?)?;
    let direction = match fields.text("direction")?.as_deref() {
        None | Some("in") => CtiDirection::In,
        Some("out") => CtiDirection::Out,
        Some(other) => {
            return Err(PbxError::refused(
                "direction",
                format!("direction: `{}` is neither in nor out", shorten(other)),
            ));
        }
    };
    let cause = match (kind, fields.text("cause")?) {
        (CtiEventKind::Hangup, None) => return Err(missing("cause")),
        (CtiEventKind::Hangup, Some(c)) => Some(CtiCause::parse(&c)),
        _ => None,
    };
    let answered_by = match fields.text("answeringNumber")? {
        Some(n) => Some(n),
        None => fields.text("user")?,
    };
    Ok(CtiEvent {
        kind,
        call_id,
        from: fields.text("from")?,
        to: fields.text("to")?,
        direction,
        cause,
        answered_by,
    })
}

fn check_url(field: &str, url: &str) -> Result<(), PbxError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(invalid(field, "must be an http:// or https:// URL")),
    }
}

/// Whole seconds from `a` to `b` (0 if `b` is earlier).
fn span(a: DateTime<Utc>, b: DateTime<Utc>) -> u32 {
    u32::try_from((b - a).num_seconds().max(0)).unwrap_or(u32::MAX)
}

fn missing(field: &str) -> PbxError {
    PbxError::missing(field)
}

fn invalid(field: &str, what: &str) -> PbxError {
    PbxError::invalid(field, what)
}

/// A value echoed in a message, cut short (it came from outside).
fn shorten(value: &str) -> String {
    value.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asterisk_cdr_with_local_times_and_epoch() {
        let body = b"uniqueid=1700000000.42&linkedid=1700000000.42&src=%2B77011234567&dst=200\
            &start=2026-11-18+10%3A00%3A00&answer=1794978010.5&end=2026-11-18+10%3A05%3A00\
            &duration=300&billsec=290&disposition=ANSWERED&dstchannel=PJSIP%2F201-0000001a";
        let fields = Fields::from_form(body).unwrap();
        let r = from_asterisk(&fields, chrono_tz::Asia::Almaty, None).unwrap();
        assert_eq!(r.call_id.as_str(), "1700000000.42");
        assert_eq!(r.times.start().to_rfc3339(), "2026-11-18T05:00:00+00:00");
        assert_eq!(r.disposition, Disposition::Answered);
        assert_eq!(r.extension.as_deref(), Some("201"));
        assert_eq!(r.billable_seconds, 290);
    }

    #[test]
    fn bad_inputs_name_their_field() {
        let cases: &[(&[u8], &str)] = &[
            (
                br#"{"start":1,"end":2,"disposition":"answered"}"#,
                "call_id",
            ),
            (
                br#"{"call_id":"a","start":5,"end":2,"disposition":"answered"}"#,
                "end",
            ),
            (
                br#"{"call_id":"a","start":1,"end":2,"disposition":"maybe"}"#,
                "disposition",
            ),
            (
                br#"{"call_id":"a","start":"yesterday","end":2,"disposition":"busy"}"#,
                "start",
            ),
            (
                br#"{"call_id":"a","start":1,"end":2,"disposition":"busy","duration":-1}"#,
                "duration",
            ),
        ];
        for (body, field) in cases {
            let err = Fields::from_json(body)
                .and_then(|f| from_json(&f))
                .unwrap_err();
            assert_eq!(
                err.field(),
                Some(*field),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(Fields::from_json(b"{nope").is_err());
        assert!(Fields::from_json(b"[1]").is_err());
    }

    #[test]
    fn cti_events_parse() {
        let f =
            Fields::from_form(b"event=hangup&from=49123&to=200&direction=in&callId=abc&cause=busy")
                .unwrap();
        let e = cti_event(&f).unwrap();
        assert_eq!(e.kind, CtiEventKind::Hangup);
        assert_eq!(e.cause, Some(CtiCause::Busy));
        let f = Fields::from_form(b"event=hangup&callId=abc&cause=voicemail").unwrap();
        let e = cti_event(&f).unwrap();
        assert_eq!(e.cause, Some(CtiCause::Other("voicemail".into())));
        assert_eq!(e.cause.unwrap().disposition(true), Disposition::Answered);
    }

    #[test]
    fn forms_are_decoded_strictly() {
        let f = Fields::from_form(b"a=x+y%21&b=%D0%B0&user%5B%5D=z&c").unwrap();
        assert_eq!(f.text("a").unwrap().as_deref(), Some("x y!"));
        assert_eq!(f.text("b").unwrap().as_deref(), Some("\u{430}"));
        assert_eq!(f.text("user").unwrap().as_deref(), Some("z"));
        for (body, field) in [
            (&b"uniqueid=%FE"[..], Some("uniqueid")),
            (b"uniqueid=%zz", Some("uniqueid")),
            (b"uniqueid=%F", Some("uniqueid")),
            (b"%FF=1", None),
        ] {
            let e = Fields::from_form(body).err().unwrap();
            assert!(matches!(
                e,
                PbxError::Malformed {
                    syntax: Syntax::Form,
                    ..
                }
            ));
            assert_eq!(e.field(), field);
        }
    }
}

//! Turns a call record into what it becomes, exactly once: in one transaction the
//! Journal's registration (if the rules make it an appeal), the call log line with
//! the answer given, and the recording's row. Only then is the PBX answered; a
//! retry of the same call id gets the stored answer back. The appeal is received
//! at the call's start, or when Senim got a late record (`receipt`).

use serde::{Deserialize, Serialize};

use super::Pbx;
use super::auth::Source;
use super::error::PbxError;
use super::formats::{CallId, CallRecord, Disposition, Format, Recording};
use super::receipt::{self, ReceivedAt};
use super::recordings::StoredFile;
use super::rules::{self, CallOutcome};
use super::store::{self, CallLogEntry, RecordingRow, StoredAnswer};
use crate::db;
use crate::journal::{self, Channel, NewAppeal, Registration, Reporter, SourceRef, Status};

/// The `kind` of the Journal's source reference for a call: `pbx-call` +
/// `<source>:<call id>`.
pub const SOURCE_KIND: &str = "pbx-call";

/// The answer to a call record (and the `call` of a CTI hangup's answer).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallAnswer {
    pub source: String,
    pub call_id: String,
    pub disposition: Disposition,
    pub in_working_hours: bool,
    /// `appeal` (registered in the Journal) or `logged` (a call, not an appeal).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appeal_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// `stored`, `pending` (being downloaded), `name_only`, or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// The record arrived more than `pbx.late_tolerance_seconds` after the call
    /// ended: registered when Senim received it, not at the call's start.
    #[serde(default, skip_serializing_if = "is_false")]
    pub late_delivery: bool,
    /// A CTI call answered but never hung up, registered
    /// `pbx.unanswered_hangup_hours` after its answer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unfinished: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// How a complete call reached Senim: when it counts as received, and whether it
/// was registered without its hangup.
#[derive(Clone, Copy, Debug)]
pub struct Arrival {
    pub receipt: ReceivedAt,
    pub unfinished: bool,
}

/// Accepts one complete call record.
pub async fn accept_call(
    channel: &Pbx,
    source: &Source,
    record: CallRecord,
) -> Result<StoredAnswer, PbxError> {
    if let Some(answer) =
        store::call_answer(&channel.db, &source.name, record.call_id.as_str()).await?
    {
        return Ok(replayed(answer));
    }
    check_called(channel, &record)?;
    if let Some(Recording::Url(url)) = &record.recording {
        let field = match record.format {
            Format::AsteriskCdr => "recording",
            _ => "recording_url",
        };
        channel
            .targets
            .check_for_source(source.recording_base_url.as_deref(), url)
            .map_err(|refused| PbxError::invalid(field, &refused.to_string()))?;
    }
    let arrival = Arrival {
        receipt: receipt::receipt(&record.times, channel.clock.now(), &channel.config.pbx)?,
        unfinished: false,
    };
    // An uploaded recording goes to disk first: content-addressed, so a failed
    // transaction leaves at most an unreferenced file, never a lost one.
    let uploaded = match &record.recording {
        Some(Recording::Upload { bytes, .. }) => Some(
            channel
                .recordings
                .store(bytes, &channel.sealer)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot store an uploaded recording");
                    PbxError::RetryLater("cannot store the recording; retry later".into())
                })?,
        ),
        _ => None,
    };
    let mut tx = channel.db.begin().await?;
    if let Some(answer) =
        store::call_answer_in(&mut tx, &source.name, record.call_id.as_str()).await?
    {
        let _ = tx.rollback().await;
        return Ok(replayed(answer));
    }
    let finished = finish_call_in(
        channel,
        &mut tx,
        &source.name,
        &record,
        arrival,
        uploaded.as_ref(),
    )
    .await?;
    let Some(finished) = finished else {
        let _ = tx.rollback().await;
        return stored_after_race(channel, source, &record.call_id).await;
    };
    tx.commit().await?;
    after_commit(channel, &source.name, &record, &finished);
    Ok(finished.answer)
}

/// A call registered (or only logged) inside a transaction not yet committed.
pub(super) struct Finished {
    pub answer: StoredAnswer,
    /// What `answer` says, as a value.
    pub call: CallAnswer,
    /// Its Journal registration, when the rules made it an appeal.
    registration: Option<Registration>,
    /// Whether a recording is waiting to be downloaded.
    download_pending: bool,
}

/// Registers (if the rules say so) and logs a call inside `tx`; `None` if the
/// call was logged meanwhile by a concurrent delivery.
pub(super) async fn finish_call_in(
    channel: &Pbx,
    tx: &mut db::Tx,
    source: &str,
    record: &CallRecord,
    arrival: Arrival,
    uploaded: Option<&StoredFile>,
) -> Result<Option<Finished>, PbxError> {
    let now = channel.clock.now();
    let finished = register_in(channel, tx, source, record, arrival, uploaded.is_some()).await?;
    let entry = CallLogEntry {
        source,
        record,
        late_delivery: arrival.receipt.is_late(),
        unfinished: arrival.unfinished,
        in_working_hours: finished.call.in_working_hours,
        outcome: &finished.call.outcome,
        appeal_id: finished.call.appeal_id,
        received_at: now,
        answer: &finished.answer,
    };
    if !store::insert_call_in(tx, &entry, &channel.sealer).await? {
        return Ok(None);
    }
    let call_id = record.call_id.as_str();
    let row = match (&record.recording, uploaded) {
        (Some(Recording::Upload { file_name, .. }), Some(file)) => Some(RecordingRow::Stored {
            file_name: file_name.as_deref(),
            sha256: &file.sha256,
            size: file.size,
            at: now,
            generation: file.generation,
        }),
        (Some(Recording::Url(url)), _) => Some(RecordingRow::Pending { url, at: now }),
        (Some(Recording::Name(name)), _) => Some(RecordingRow::NameOnly { file_name: name }),
        _ => None,
    };
    if let Some(row) = &row {
        store::insert_recording_in(tx, source, call_id, row, &channel.sealer).await?;
    }
    Ok(Some(finished))
}

/// Registers a call in the Journal inside `tx` if the rules make it an appeal,
/// and builds the answer the PBX gets; the call log is the caller's.
pub(super) async fn register_in(
    channel: &Pbx,
    tx: &mut db::Tx,
    source: &str,
    record: &CallRecord,
    arrival: Arrival,
    uploaded: bool,
) -> Result<Finished, PbxError> {
    let ruling = rules::decide(record, &channel.config.pbx.rules);
    let in_working_hours = channel.calendar.is_open(record.times.start());
    let registration = match ruling.outcome {
        CallOutcome::Appeal(status) => {
            let new = new_appeal(
                channel,
                source,
                record,
                arrival,
                ruling.disposition,
                in_working_hours,
                status,
            );
            let registration = channel.journal.register_in(tx, new).await?;
            if let (Registration::New(appeal), true) = (&registration, arrival.receipt.is_late()) {
                channel
                    .alerts
                    .on_late_delivery_in(tx, appeal, record.times.start())
                    .await?;
            }
            Some(registration)
        }
        CallOutcome::Logged => None,
    };
    let appeal = registration.as_ref().map(Registration::appeal);
    let recording_state = match (&record.recording, uploaded) {
        (_, true) => Some("stored"),
        (Some(Recording::Url(_)), false) => Some("pending"),
        (Some(Recording::Name(_)), false) => Some("name_only"),
        _ => None,
    };
    let body = CallAnswer {
        source: source.to_owned(),
        call_id: record.call_id.to_string(),
        disposition: ruling.disposition,
        in_working_hours,
        outcome: ruling.outcome.as_str().to_owned(),
        registration_number: appeal.map(|a| a.registration_number.to_string()),
        appeal_id: appeal.map(|a| a.id.0),
        status: appeal.map(|a| a.status),
        recording: recording_state.map(str::to_owned),
        late_delivery: arrival.receipt.is_late(),
        unfinished: arrival.unfinished,
    };
    let answer = StoredAnswer {
        status: 201,
        body: serde_json::to_string(&body)
            .map_err(|_| PbxError::Internal("cannot serialise the call's answer"))?,
    };
    Ok(Finished {
        answer,
        call: body,
        registration,
        download_pending: recording_state == Some("pending"),
    })
}

fn new_appeal(
    channel: &Pbx,
    source: &str,
    record: &CallRecord,
    arrival: Arrival,
    disposition: Disposition,
    in_working_hours: bool,
    status: Status,
) -> NewAppeal {
    let tz = channel.calendar.hours().tz;
    let local = record
        .times
        .start()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M");
    let what = match disposition {
        Disposition::Voicemail => "Voicemail on the trust line",
        Disposition::Answered => "Call to the trust line",
        _ => "Missed call to the trust line",
    };
    let hours = if in_working_hours {
        "in working hours"
    } else {
        "after hours"
    };
    let mut notes = vec![hours];
    if arrival.receipt.is_late() {
        notes.push("the PBX's record arrived late");
    }
    if arrival.unfinished {
        notes.push("no hangup reported");
    }
    NewAppeal {
        received_at: arrival.receipt.instant(),
        channel: Channel::Phone,
        reporter: Reporter {
            phone: record
                .caller
                .as_ref()
                .and_then(|c| c.number())
                .filter(|_| channel.config.pbx.rules.caller_number_as_phone)
                .map(str::to_owned),
            ..Reporter::default()
        },
        subject: Some(format!("{what}, {local} ({})", notes.join("; "))),
        substance: None,
        status,
        source: SourceRef::new(SOURCE_KIND, format!("{source}:{}", record.call_id)),
        also_known_as: vec![],
        actor: format!("pbx:{source}"),
    }
}

/// Counts and logs a committed call, and wakes the downloader for its recording.
pub(super) fn after_commit(channel: &Pbx, source: &str, record: &CallRecord, finished: &Finished) {
    let a = &finished.call;
    metrics::counter!("senim_pbx_calls_total",
        "disposition" => a.disposition.as_str(),
        "outcome" => if a.outcome == "appeal" { "appeal" } else { "logged" },
        "hours" => if a.in_working_hours { "working" } else { "after" })
    .increment(1);
    if a.outcome != "appeal" {
        metrics::counter!("senim_pbx_missed_calls_total").increment(1);
    }
    if let Some(registration) = &finished.registration {
        journal::registered(registration);
    }
    if a.late_delivery {
        metrics::counter!("senim_pbx_late_deliveries_total").increment(1);
        channel.alerts.outbox().wake();
        tracing::warn!(
            source = %source,
            call_id = %record.call_id,
            call_started_at = %record.times.start(),
            call_ended_at = %record.times.end(),
            registration_number = a.registration_number.as_deref().unwrap_or(""),
            "pbx: late delivery; registered at Senim's receive time, not the call's start"
        );
    }
    if a.unfinished {
        metrics::counter!("senim_pbx_unfinished_calls_total").increment(1);
        tracing::warn!(
            source = %source,
            call_id = %record.call_id,
            registration_number = a.registration_number.as_deref().unwrap_or(""),
            "pbx: an answered call never hung up; registered without its hangup"
        );
    }
    tracing::info!(
        source = %source,
        call_id = %record.call_id,
        format = record.format.as_str(),
        disposition = %a.disposition,
        in_working_hours = a.in_working_hours,
        outcome = %a.outcome,
        late_delivery = a.late_delivery,
        unfinished = a.unfinished,
        registration_number = a.registration_number.as_deref().unwrap_or(""),
        appeal_id = a.appeal_id.unwrap_or(0),
        "pbx call recorded"
    );
    if finished.download_pending {
        channel.downloads.wake.notify_one();
    }
}

fn replayed(answer: StoredAnswer) -> StoredAnswer {
    metrics::counter!("senim_pbx_replayed_total").increment(1);
    answer
}

async fn stored_after_race(
    channel: &Pbx,
    source: &Source,
    call_id: &CallId,
) -> Result<StoredAnswer, PbxError> {
    store::call_answer(&channel.db, &source.name, call_id.as_str())
        .await?
        .map(replayed)
        .ok_or_else(|| {
            PbxError::RetryLater("a concurrent delivery of this call is in progress; retry".into())
        })
}

/// Refuses a call to a number that is not the trust line's, when they are configured.
fn check_called(channel: &Pbx, record: &CallRecord) -> Result<(), PbxError> {
    let numbers = &channel.config.pbx.trust_line_numbers;
    if numbers.is_empty() {
        return Ok(());
    }
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let called = record.called.as_deref().map(digits).unwrap_or_default();
    if numbers.iter().any(|n| digits(n) == called) {
        Ok(())
    } else {
        Err(PbxError::refused(
            "called",
            "called: not one of the trust line's numbers (pbx.trust_line_numbers)",
        ))
    }
}

pub(super) fn json<T: Serialize>(value: &T) -> Result<String, PbxError> {
    serde_json::to_string(value).map_err(|_| PbxError::Internal("cannot serialise an answer"))
}

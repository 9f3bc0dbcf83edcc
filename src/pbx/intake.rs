//! Turns a call record into what it becomes, exactly once: in one transaction the
//! Journal's registration (if the rules make it an appeal), the call log line with
//! the answer given, and the recording's row. Only then is the PBX answered; a
//! retry of the same call id gets the stored answer back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Source;
use super::formats::{
    CallId, CallRecord, CallTimes, CtiCause, CtiDirection, CtiEvent, CtiEventKind, Disposition,
    Format, Recording,
};
use super::recordings::StoredFile;
use super::rules::{self, Outcome};
use super::store::{self, CallLogEntry, RecordingRow, StoredAnswer};
use crate::app::App;
use crate::db;
use crate::journal::{self, Channel, NewAppeal, Registration, Reporter, SourceRef, Status};
use crate::server::problem::Problem;

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
}

/// A database error as the PBX sees it: 503 + Retry-After when it is transient.
pub fn db_problem(e: sqlx::Error) -> Problem {
    if db::is_unavailable(&e) {
        tracing::warn!(error = %e, "pbx: database unavailable");
        Problem::unavailable("the database is unavailable; retry later")
    } else {
        tracing::error!(error = %e, "pbx: database error");
        Problem::internal()
    }
}

/// Accepts one complete call record.
pub async fn accept_call(
    app: &App,
    source: &Source,
    record: CallRecord,
) -> Result<StoredAnswer, Problem> {
    if let Some(answer) = store::call_answer(&app.db, &source.name, record.call_id.as_str())
        .await
        .map_err(db_problem)?
    {
        return Ok(replayed(answer));
    }
    check_called(app, &record)?;
    // An uploaded recording goes to disk first: content-addressed, so a failed
    // transaction leaves at most an unreferenced file, never a lost one.
    let uploaded = match &record.recording {
        Some(Recording::Upload { bytes, .. }) => {
            Some(app.pbx.recordings.store(bytes).await.map_err(|e| {
                tracing::error!(error = %e, "cannot store an uploaded recording");
                Problem::unavailable("cannot store the recording; retry later")
            })?)
        }
        _ => None,
    };
    let mut tx = app.db.begin().await.map_err(db_problem)?;
    if let Some(answer) = store::call_answer_in(&mut tx, &source.name, record.call_id.as_str())
        .await
        .map_err(db_problem)?
    {
        let _ = tx.rollback().await;
        return Ok(replayed(answer));
    }
    let finished = finish_call_in(app, &mut tx, source, &record, uploaded.as_ref()).await?;
    let Some(finished) = finished else {
        let _ = tx.rollback().await;
        return stored_after_race(app, source, &record.call_id).await;
    };
    tx.commit().await.map_err(db_problem)?;
    after_commit(app, source, &record, &finished);
    Ok(finished.answer)
}

/// A call registered (or only logged) inside a transaction not yet committed.
struct Finished {
    answer: StoredAnswer,
    /// What `answer` says, as a value.
    call: CallAnswer,
    /// Its Journal registration, when the rules made it an appeal.
    registration: Option<Registration>,
    /// Whether a recording is waiting to be downloaded.
    download_pending: bool,
}

/// Registers (if the rules say so) and logs a call inside `tx`; `None` if the
/// call was logged meanwhile by a concurrent delivery.
async fn finish_call_in(
    app: &App,
    tx: &mut db::Tx,
    source: &Source,
    record: &CallRecord,
    uploaded: Option<&StoredFile>,
) -> Result<Option<Finished>, Problem> {
    let decision = rules::decide(record, &app.config.pbx.rules);
    let in_working_hours = app.calendar.is_open(record.times.start());
    let now = app.clock.now();
    let registration = match decision.outcome {
        Outcome::Appeal(status) => {
            let new = new_appeal(
                app,
                source,
                record,
                decision.disposition,
                in_working_hours,
                status,
            );
            Some(app.journal.register_in(tx, new).await?)
        }
        Outcome::Logged => None,
    };
    let appeal = registration.as_ref().map(Registration::appeal);
    let recording_state = match (&record.recording, uploaded) {
        (_, Some(_)) => Some("stored"),
        (Some(Recording::Url(_)), None) => Some("pending"),
        (Some(Recording::Name(_)), None) => Some("name_only"),
        _ => None,
    };
    let body = CallAnswer {
        source: source.name.clone(),
        call_id: record.call_id.to_string(),
        disposition: decision.disposition,
        in_working_hours,
        outcome: decision.outcome.as_str().to_owned(),
        registration_number: appeal.map(|a| a.registration_number.to_string()),
        appeal_id: appeal.map(|a| a.id.0),
        status: appeal.map(|a| a.status),
        recording: recording_state.map(str::to_owned),
    };
    let answer = StoredAnswer {
        status: 201,
        body: serde_json::to_string(&body).map_err(|_| Problem::internal())?,
    };
    let entry = CallLogEntry {
        source: &source.name,
        record,
        in_working_hours,
        outcome: decision.outcome.as_str(),
        appeal_id: appeal.map(|a| a.id.0),
        received_at: now,
        answer: &answer,
    };
    if !store::insert_call_in(tx, &entry)
        .await
        .map_err(db_problem)?
    {
        return Ok(None);
    }
    let call_id = record.call_id.as_str();
    let row = match (&record.recording, uploaded) {
        (Some(Recording::Upload { file_name, .. }), Some(file)) => Some(RecordingRow::Stored {
            file_name: file_name.as_deref(),
            sha256: &file.sha256,
            size: file.size,
            at: now,
        }),
        (Some(Recording::Url(url)), _) => Some(RecordingRow::Pending { url, at: now }),
        (Some(Recording::Name(name)), _) => Some(RecordingRow::NameOnly { file_name: name }),
        _ => None,
    };
    if let Some(row) = &row {
        store::insert_recording_in(tx, &source.name, call_id, row)
            .await
            .map_err(db_problem)?;
    }
    Ok(Some(Finished {
        answer,
        call: body,
        registration,
        download_pending: recording_state == Some("pending"),
    }))
}

fn new_appeal(
    app: &App,
    source: &Source,
    record: &CallRecord,
    disposition: Disposition,
    in_working_hours: bool,
    status: Status,
) -> NewAppeal {
    let tz = app.calendar.hours().tz;
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
    NewAppeal {
        received_at: record.times.start(),
        channel: Channel::Phone,
        reporter: Reporter {
            phone: record
                .caller
                .clone()
                .filter(|_| app.config.pbx.rules.caller_number_as_phone),
            ..Reporter::default()
        },
        subject: Some(format!("{what}, {local} ({hours})")),
        substance: None,
        status,
        source: SourceRef::new(SOURCE_KIND, format!("{}:{}", source.name, record.call_id)),
        also_known_as: vec![],
        actor: format!("pbx:{}", source.name),
    }
}

/// Counts and logs a committed call, and wakes the downloader for its recording.
fn after_commit(app: &App, source: &Source, record: &CallRecord, finished: &Finished) {
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
    tracing::info!(
        source = %source.name,
        call_id = %record.call_id,
        format = record.format.as_str(),
        disposition = %a.disposition,
        in_working_hours = a.in_working_hours,
        outcome = %a.outcome,
        registration_number = a.registration_number.as_deref().unwrap_or(""),
        appeal_id = a.appeal_id.unwrap_or(0),
        "pbx call recorded"
    );
    if finished.download_pending {
        app.pbx.downloads.wake.notify_one();
    }
}

fn replayed(answer: StoredAnswer) -> StoredAnswer {
    metrics::counter!("senim_pbx_replayed_total").increment(1);
    answer
}

async fn stored_after_race(
    app: &App,
    source: &Source,
    call_id: &CallId,
) -> Result<StoredAnswer, Problem> {
    store::call_answer(&app.db, &source.name, call_id.as_str())
        .await
        .map_err(db_problem)?
        .map(replayed)
        .ok_or_else(|| {
            Problem::unavailable("a concurrent delivery of this call is in progress; retry")
        })
}

/// Refuses a call to a number that is not the trust line's, when they are configured.
fn check_called(app: &App, record: &CallRecord) -> Result<(), Problem> {
    let numbers = &app.config.pbx.trust_line_numbers;
    if numbers.is_empty() {
        return Ok(());
    }
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let called = record.called.as_deref().map(digits).unwrap_or_default();
    if numbers.iter().any(|n| digits(n) == called) {
        Ok(())
    } else {
        Err(Problem::field(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "called",
            "called: not one of the trust line's numbers (pbx.trust_line_numbers)",
        ))
    }
}

/// The answer to one CTI event.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CtiAnswer {
    pub call_id: String,
    pub event: String,
    /// `ringing`, `answered`, `ended`, or `ignored` (an outbound call).
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<CallAnswer>,
}

/// Accepts one event of Zammad's Generic CTI API; the call is recorded with its
/// hangup, whatever order the events come in.
pub async fn accept_cti(app: &App, source: &Source, event: CtiEvent) -> Result<String, Problem> {
    let event_name = event.kind.as_str();
    if event.direction == CtiDirection::Out {
        return json(&CtiAnswer {
            call_id: event.call_id.to_string(),
            event: event_name.to_owned(),
            state: "ignored".into(),
            call: None,
        });
    }
    let call_id = event.call_id.as_str();
    if let Some(body) = store::cti_answer(&app.db, &source.name, call_id, event_name)
        .await
        .map_err(db_problem)?
    {
        metrics::counter!("senim_pbx_replayed_total").increment(1);
        return Ok(body);
    }
    let now = app.clock.now();
    let mut tx = app.db.begin().await.map_err(db_problem)?;
    let earlier = store::cti_events_in(&mut tx, &source.name, call_id)
        .await
        .map_err(db_problem)?;
    if earlier.iter().any(|e| e.event == event_name) {
        let _ = tx.rollback().await;
        return store::cti_answer(&app.db, &source.name, call_id, event_name)
            .await
            .map_err(db_problem)?
            .ok_or_else(|| Problem::unavailable("retry"));
    }
    let logged = store::call_answer_in(&mut tx, &source.name, call_id)
        .await
        .map_err(db_problem)?;
    let mut finished = None;
    let (state, call) = if let Some(done) = logged {
        ("ended", serde_json::from_str::<CallAnswer>(&done.body).ok())
    } else if let Some(record) = cti_record(app, &event, &earlier, now) {
        match finish_call_in(app, &mut tx, source, &record, None).await? {
            Some(done) => {
                let call = Some(done.call.clone());
                finished = Some((record, done));
                ("ended", call)
            }
            None => {
                let _ = tx.rollback().await;
                return Err(Problem::unavailable(
                    "a concurrent event of this call is in progress; retry",
                ));
            }
        }
    } else if event.kind == CtiEventKind::Answer || earlier.iter().any(|e| e.event == "answer") {
        ("answered", None)
    } else {
        ("ringing", None)
    };
    let body = json(&CtiAnswer {
        call_id: call_id.to_owned(),
        event: event_name.to_owned(),
        state: state.to_owned(),
        call,
    })?;
    let cause = event.cause.map(CtiCause::as_str);
    let inserted = store::insert_cti_event_in(&mut tx, &source.name, &event, cause, now, &body)
        .await
        .map_err(db_problem)?;
    if !inserted {
        let _ = tx.rollback().await;
        return store::cti_answer(&app.db, &source.name, call_id, event_name)
            .await
            .map_err(db_problem)?
            .ok_or_else(|| Problem::unavailable("a concurrent delivery is in progress; retry"));
    }
    tx.commit().await.map_err(db_problem)?;
    if let Some((record, done)) = finished {
        after_commit(app, source, &record, &done);
    }
    Ok(body)
}

/// The complete call once its hangup is known (this event or an earlier one).
fn cti_record(
    app: &App,
    event: &CtiEvent,
    earlier: &[store::StoredCtiEvent],
    now: DateTime<Utc>,
) -> Option<CallRecord> {
    let _ = app;
    let stored_hangup = earlier.iter().find(|e| e.event == "hangup");
    let (cause, end) = match (event.kind, stored_hangup) {
        (CtiEventKind::Hangup, _) => (event.cause?, now),
        (_, Some(h)) => (
            h.cause.as_deref().and_then(|c| CtiCause::parse(c).ok())?,
            h.received_at,
        ),
        _ => return None,
    };
    let at_of = |kind: &str| {
        if event.kind.as_str() == kind {
            Some(now)
        } else {
            earlier
                .iter()
                .find(|e| e.event == kind)
                .map(|e| e.received_at)
        }
    };
    let first = earlier
        .iter()
        .map(|e| e.received_at)
        .min()
        .unwrap_or(now)
        .min(now);
    let start = at_of("newCall").unwrap_or(first).min(first).min(end);
    let answer = at_of("answer").map(|a| a.clamp(start, end));
    let pick = |f: fn(&store::StoredCtiEvent) -> Option<String>, own: &Option<String>| {
        own.clone().or_else(|| earlier.iter().find_map(f))
    };
    let caller = pick(|e| e.caller.clone(), &event.from);
    let called = pick(|e| e.called.clone(), &event.to);
    let answered_by = if event.kind == CtiEventKind::Answer {
        event.answered_by.clone()
    } else {
        earlier
            .iter()
            .find(|e| e.event == "answer")
            .and_then(|e| e.answered_by.clone())
    };
    let disposition =
        if answer.is_some() && matches!(cause, CtiCause::NormalClearing | CtiCause::Cancel) {
            Disposition::Answered
        } else {
            cause.disposition()
        };
    let times = CallTimes::new(start, answer, end, ["newCall", "answer", "hangup"]).ok()?;
    Some(CallRecord {
        format: Format::ZammadCti,
        call_id: event.call_id.clone(),
        linked_id: None,
        caller,
        called,
        duration_seconds: times.duration_seconds(),
        billable_seconds: times.billable_seconds(),
        times,
        disposition,
        extension: answered_by,
        application: None,
        recording: None,
    })
}

fn json<T: Serialize>(value: &T) -> Result<String, Problem> {
    serde_json::to_string(value).map_err(|_| Problem::internal())
}

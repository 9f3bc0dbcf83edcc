//! Zammad's Generic CTI events (`newCall`, `answer`, `hangup`) made into calls.
//! Each kind is taken once per call, in any order; the call is complete with its
//! hangup, and the same events give the same outcome whatever their order: an
//! `answer` that arrives after the hangup turns a call logged as missed into an
//! appeal. An answered call whose hangup never comes is registered anyway,
//! `pbx.unanswered_hangup_hours` after its answer, by a background sweep
//! (`run_sweep`), flagged unfinished. All times are Senim's own (when it received
//! each event), so a CTI call is always received at its start.
//!
//! Sealed (once the office key exists): each event's numbers are stored sealed
//! with the intake key, which the daemon opens to make the call at its hangup
//! or in the sweep; once the call is final (hung up or swept: an appeal, or a
//! missed call only logged) they are resealed to the office key
//! (`store::hand_over_cti_numbers_in`): the daemon reads them no more, and a
//! missed caller's number is for a person's call-back only. An `answer` that
//! comes after the hangup (the call becomes an appeal) makes the call from its
//! own numbers: those of the earlier events read as absent.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Pbx;
use super::auth::Source;
use super::error::PbxError;
use super::formats::{
    CallId, CallRecord, CallTimes, CtiCause, CtiDirection, CtiEvent, Disposition, Format,
};
use super::intake::{self, Arrival, CallAnswer, json};
use super::numbers::Caller;
use super::receipt::ReceivedAt;
use super::rules::{self, CallOutcome};
use super::store::{self, StoredCtiEvent};
use crate::db;

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

/// Accepts one event of Zammad's Generic CTI API.
pub async fn accept_cti(
    channel: &Pbx,
    source: &Source,
    event: CtiEvent,
) -> Result<String, PbxError> {
    let event_name = event.kind.as_str();
    if event.direction == CtiDirection::Out {
        return json(&CtiAnswer {
            call_id: event.call_id.to_string(),
            event: event_name.to_owned(),
            state: "ignored".into(),
            call: None,
        });
    }
    let source_name = source.name.as_str();
    let call_id = event.call_id.as_str();
    if let Some(body) = store::cti_answer(&channel.db, source_name, call_id, event_name).await? {
        metrics::counter!("senim_pbx_replayed_total").increment(1);
        return Ok(body);
    }
    let now = channel.clock.now();
    let mut tx = channel.db.begin().await?;
    let mut events = store::cti_events_in(&mut tx, source_name, call_id, &channel.sealer).await?;
    if events.iter().any(|e| e.event == event_name) {
        let _ = tx.rollback().await;
        return stored_cti_answer(channel, source_name, call_id, event_name).await;
    }
    events.push(StoredCtiEvent {
        event: event_name.to_owned(),
        caller: event.from.clone(),
        called: event.to.clone(),
        cause: event.cause.as_ref().map(|c| c.as_str().to_owned()),
        answered_by: event.answered_by.clone(),
        received_at: now,
    });
    let logged = store::call_answer_in(&mut tx, source_name, call_id).await?;
    let mut finished = None;
    let (state, call) = if let Some(done) = logged {
        let logged_call = serde_json::from_str::<CallAnswer>(&done.body).ok();
        match upgrade_in(
            channel,
            &mut tx,
            source_name,
            &event.call_id,
            &events,
            logged_call,
        )
        .await?
        {
            Upgrade::Done(done) => {
                let call = Some(done.1.call.clone());
                finished = Some(*done);
                ("ended", call)
            }
            Upgrade::Unchanged(call) => ("ended", call),
        }
    } else if let Some(record) = hung_up_record(&event.call_id, &events) {
        let arrival = Arrival {
            receipt: ReceivedAt::AtStart(record.times.start()),
            unfinished: false,
        };
        match intake::finish_call_in(channel, &mut tx, source_name, &record, arrival, None).await? {
            Some(done) => {
                let call = Some(done.call.clone());
                finished = Some((record, done));
                ("ended", call)
            }
            None => {
                let _ = tx.rollback().await;
                return Err(PbxError::RetryLater(
                    "a concurrent event of this call is in progress; retry".into(),
                ));
            }
        }
    } else if events.iter().any(|e| e.event == "answer") {
        ("answered", None)
    } else {
        ("ringing", None)
    };
    let is_final = state == "ended";
    let body = json(&CtiAnswer {
        call_id: call_id.to_owned(),
        event: event_name.to_owned(),
        state: state.to_owned(),
        call,
    })?;
    let cause = event.cause.as_ref().map(CtiCause::as_str);
    let inserted = store::insert_cti_event_in(
        &mut tx,
        source_name,
        &event,
        cause,
        now,
        &body,
        &channel.sealer,
    )
    .await?;
    if !inserted {
        let _ = tx.rollback().await;
        return stored_cti_answer(channel, source_name, call_id, event_name).await;
    }
    if is_final {
        // Hung up (an appeal, or a missed call only logged): the daemon
        // needs the events' numbers no more.
        store::hand_over_cti_numbers_in(&mut tx, source_name, call_id, &channel.sealer).await?;
    }
    tx.commit().await?;
    if let Some((record, done)) = finished {
        intake::after_commit(channel, source_name, &record, &done);
    }
    Ok(body)
}

async fn stored_cti_answer(
    channel: &Pbx,
    source: &str,
    call_id: &str,
    event: &str,
) -> Result<String, PbxError> {
    store::cti_answer(&channel.db, source, call_id, event)
        .await?
        .ok_or_else(|| PbxError::RetryLater("a concurrent delivery is in progress; retry".into()))
}

enum Upgrade {
    /// The call was only logged, and with this event it is an appeal.
    Done(Box<(CallRecord, intake::Finished)>),
    /// The call stays as it was logged.
    Unchanged(Option<CallAnswer>),
}

/// A call already logged, and one more of its events: if the rules now make an
/// appeal of what was only logged (an `answer` after the hangup), registers it
/// and updates the call log line, in `tx`.
async fn upgrade_in(
    channel: &Pbx,
    tx: &mut db::Tx,
    source: &str,
    call_id: &CallId,
    events: &[StoredCtiEvent],
    logged: Option<CallAnswer>,
) -> Result<Upgrade, PbxError> {
    let Some(logged) = logged else {
        return Ok(Upgrade::Unchanged(None));
    };
    if logged.outcome != "logged" || logged.unfinished {
        return Ok(Upgrade::Unchanged(Some(logged)));
    }
    let Some(record) = hung_up_record(call_id, events) else {
        return Ok(Upgrade::Unchanged(Some(logged)));
    };
    if !matches!(
        rules::decide(&record, &channel.config.pbx.rules).outcome,
        CallOutcome::Appeal(_)
    ) {
        return Ok(Upgrade::Unchanged(Some(logged)));
    }
    let arrival = Arrival {
        receipt: ReceivedAt::AtStart(record.times.start()),
        unfinished: false,
    };
    let finished = intake::register_in(channel, tx, source, &record, arrival, false).await?;
    let appeal_id = finished.call.appeal_id.unwrap_or(0);
    if !store::upgrade_call_in(
        tx,
        source,
        &record,
        appeal_id,
        &finished.answer,
        &channel.sealer,
    )
    .await?
    {
        return Err(PbxError::RetryLater(
            "a concurrent event of this call is in progress; retry".into(),
        ));
    }
    Ok(Upgrade::Done(Box::new((record, finished))))
}

/// The complete call once its hangup is among the events.
fn hung_up_record(call_id: &CallId, events: &[StoredCtiEvent]) -> Option<CallRecord> {
    let hangup = events.iter().find(|e| e.event == "hangup")?;
    let cause = CtiCause::parse(hangup.cause.as_deref().unwrap_or(""));
    record(call_id, events, hangup.received_at, |answered| {
        cause.disposition(answered)
    })
}

/// An answered call without its hangup: it ends, as far as Senim knows, at its
/// last event.
fn unfinished_record(call_id: &CallId, events: &[StoredCtiEvent]) -> Option<CallRecord> {
    let last = events.iter().map(|e| e.received_at).max()?;
    record(call_id, events, last, |_| Disposition::Answered)
}

/// A call from its events (in any order); `end` is when it ended.
fn record(
    call_id: &CallId,
    events: &[StoredCtiEvent],
    end: DateTime<Utc>,
    disposition: impl Fn(bool) -> Disposition,
) -> Option<CallRecord> {
    let of = |kind: &str| events.iter().find(|e| e.event == kind);
    let first = events.iter().map(|e| e.received_at).min()?.min(end);
    let start = of("newCall").map_or(first, |e| e.received_at).min(first);
    let answer = of("answer").map(|a| a.received_at.clamp(start, end));
    let pick = |f: fn(&StoredCtiEvent) -> Option<String>| {
        ["newCall", "answer", "hangup"]
            .iter()
            .filter_map(|k| of(k))
            .find_map(f)
    };
    let caller = pick(|e| e.caller.clone())
        .as_deref()
        .and_then(Caller::parse);
    let called = pick(|e| e.called.clone());
    let answered_by = of("answer").and_then(|e| e.answered_by.clone());
    let times = CallTimes::new(start, answer, end, ["newCall", "answer", "hangup"]).ok()?;
    Some(CallRecord {
        format: Format::ZammadCti,
        call_id: call_id.clone(),
        linked_id: None,
        caller,
        called,
        duration_seconds: times.duration_seconds(),
        billable_seconds: times.billable_seconds(),
        times,
        disposition: disposition(answer.is_some()),
        extension: answered_by,
        application: None,
        recording: None,
    })
}

/// Registers the answered CTI calls whose hangup has not come
/// `pbx.unanswered_hangup_hours` after their answer, until `stop` turns true.
/// Each is registered in one transaction with its call log line, so a crash, a
/// restart or a second Senim process never registers one twice.
pub async fn run_sweep(channel: Arc<Pbx>, mut stop: tokio::sync::watch::Receiver<bool>) {
    while !*stop.borrow() {
        match sweep(&channel).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "pbx: the unfinished-call sweep failed; retrying")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {},
            _ = stop.changed() => {},
        }
    }
}

/// One pass of the sweep; how many calls it registered.
pub async fn sweep(channel: &Pbx) -> Result<usize, PbxError> {
    let now = channel.clock.now();
    let before = now - channel.config.pbx.unanswered_hangup_hours.chrono();
    let due = store::unfinished_cti_calls(&channel.db, before, 32).await?;
    let mut registered = 0;
    for (source, call_id) in due {
        if register_unfinished(channel, &source, &call_id).await? {
            registered += 1;
        }
    }
    Ok(registered)
}

async fn register_unfinished(channel: &Pbx, source: &str, call_id: &str) -> Result<bool, PbxError> {
    let Ok(id) = CallId::parse("callId", call_id) else {
        return Ok(false);
    };
    let mut tx = channel.db.begin().await?;
    let events = store::cti_events_in(&mut tx, source, call_id, &channel.sealer).await?;
    let logged = store::call_answer_in(&mut tx, source, call_id).await?;
    let record = unfinished_record(&id, &events);
    let (Some(record), None, false) = (record, logged, events.iter().any(|e| e.event == "hangup"))
    else {
        let _ = tx.rollback().await;
        return Ok(false);
    };
    let arrival = Arrival {
        receipt: ReceivedAt::AtStart(record.times.start()),
        unfinished: true,
    };
    let Some(done) =
        intake::finish_call_in(channel, &mut tx, source, &record, arrival, None).await?
    else {
        let _ = tx.rollback().await;
        return Ok(false);
    };
    store::hand_over_cti_numbers_in(&mut tx, source, call_id, &channel.sealer).await?;
    tx.commit().await?;
    intake::after_commit(channel, source, &record, &done);
    Ok(true)
}

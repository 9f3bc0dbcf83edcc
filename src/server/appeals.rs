//! The manager's routes for triage, deadlines and the outbox:
//! `POST /v1/appeals/{id}/classification`, `GET /v1/appeals/{id}/suggestion`,
//! `GET /v1/appeals/{id}/deadlines`, `POST /v1/appeals/{id}/deadline-events`,
//! `POST /v1/appeals/{id}/acts` (the Director's consent, routing, forwarding,
//! "not considered", closing: `cases::Act`, as the console and `senim journal
//! act` record them), `GET /v1/outbox`, `POST /v1/outbox/{id}/retry`. `{id}` is the Journal's id
//! or the registration number. Answers carry no reporter identity.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Actor, Authorized};
use super::problem::Problem;
use crate::app::App;
use crate::cases::Act;
use crate::deadlines::Event;
use crate::journal::{Appeal, AppealKey, Category, JournalError};
use crate::outbox::MailState;
use crate::rulebook::rule;
use crate::triage;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/appeals/{id}/classification", post(classify))
        .route("/v1/appeals/{id}/suggestion", get(suggestion))
        .route("/v1/appeals/{id}/deadlines", get(deadlines))
        .route("/v1/appeals/{id}/deadline-events", post(deadline_event))
        .route("/v1/appeals/{id}/acts", post(act))
        .route("/v1/outbox", get(outbox_list))
        .route("/v1/outbox/{id}/retry", post(outbox_retry))
}

/// Finds an appeal by id or registration number.
pub async fn find(app: &App, key: &str) -> Result<Appeal, JournalError> {
    match key.parse::<AppealKey>() {
        Ok(key) => app.journal.find(&key).await,
        Err(_) => Err(JournalError::NotFound(key.to_owned())),
    }
}

fn summary(app: &App, appeal: &Appeal) -> Value {
    json!({
        "id": appeal.id,
        "registration_number": appeal.registration_number,
        "registration_date": appeal.registration_date,
        "category": appeal.category,
        "status": appeal.status,
        "suggestion": triage::suggestion_for(appeal),
        "director_alert_due_by": app.alerts.policy().alert_due_by(appeal.registration_date),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Classification {
    category: String,
    reason: String,
}

fn bad_json(e: JsonRejection) -> Problem {
    Problem::bad_request(format!(
        "the body is not the expected JSON: {}",
        e.body_text()
    ))
}

async fn classify(
    State(app): State<Arc<App>>,
    actor: Authorized<rule::Classify>,
    Path(key): Path<String>,
    body: Result<Json<Classification>, JsonRejection>,
) -> Result<Json<Value>, Problem> {
    let Json(body) = body.map_err(bad_json)?;
    let category: Category = body
        .category
        .parse()
        .map_err(|e: String| Problem::field(StatusCode::UNPROCESSABLE_ENTITY, "category", e))?;
    let appeal = find(&app, &key).await?;
    let by = actor.acting()?;
    let appeal = app
        .case()
        .classify(
            appeal.id,
            category,
            &body.reason,
            &by,
            app.clock.now(),
            app.today(),
        )
        .await?;
    Ok(Json(summary(&app, &appeal)))
}

async fn suggestion(
    State(app): State<Arc<App>>,
    _reader: Authorized<rule::ReadJournal>,
    Path(key): Path<String>,
) -> Result<Json<Value>, Problem> {
    let appeal = find(&app, &key).await?;
    Ok(Json(json!({
        "registration_number": appeal.registration_number,
        "category": appeal.category,
        "suggestion": triage::suggestion_for(&appeal),
        "final": false,
    })))
}

async fn deadlines(
    State(app): State<Arc<App>>,
    _reader: Authorized<rule::ReadJournal>,
    Path(key): Path<String>,
) -> Result<Json<Value>, Problem> {
    let appeal = find(&app, &key).await?;
    let list = app.deadlines.of_appeal(appeal.id).await?;
    Ok(Json(json!({
        "registration_number": appeal.registration_number,
        "deadlines": list,
    })))
}

/// An act of `POST /v1/appeals/{id}/acts`, as posted:
/// `{"act": "consent", "send": true}`, `{"act": "route", "unit": "…"}`,
/// `{"act": "forward", "to": "competent_body", "on": "2026-12-14", "method": "by_hand", "reference": "…"}`,
/// `{"act": "not_considered", "reason": "…"}`, `{"act": "close", "reason": "…"}`.
#[derive(Deserialize)]
#[serde(tag = "act", rename_all = "snake_case", deny_unknown_fields)]
enum ActBody {
    Consent {
        send: bool,
        #[serde(default)]
        reason: String,
    },
    Route {
        unit: String,
    },
    Forward {
        to: crate::cases::acts::Body,
        on: Option<chrono::NaiveDate>,
        method: String,
        #[serde(default)]
        reference: String,
    },
    NotConsidered {
        reason: String,
    },
    Close {
        reason: String,
    },
}

async fn act(
    State(app): State<Arc<App>>,
    actor: Actor,
    Path(key): Path<String>,
    body: Result<Json<ActBody>, JsonRejection>,
) -> Result<Json<Value>, Problem> {
    let Json(body) = body.map_err(bad_json)?;
    let act = match body {
        ActBody::Consent { send, reason } => Act::Consent { send, reason },
        // The API holds no key: a sealed appeal's text goes to a unit only
        // from the console or the command line, opened with the person's key.
        ActBody::Route { unit } => Act::Route { unit, text: None },
        ActBody::Forward {
            to,
            on,
            method,
            reference,
        } => Act::Forward {
            to,
            on: on.unwrap_or_else(|| app.today()),
            method,
            reference,
        },
        ActBody::NotConsidered { reason } => Act::NotConsidered { reason },
        ActBody::Close { reason } => Act::Close { reason },
    };
    record(&app, &actor, &key, act).await
}

/// Records `act` on the appeal `key` in `actor`'s name if the rulebook lets
/// them (`Act::action`, a deputy of `[authority]` where one may act); the
/// appeal's summary and deadlines after it.
async fn record(app: &App, actor: &Actor, key: &str, act: Act) -> Result<Json<Value>, Problem> {
    let by = actor
        .permit_as_deputy(act.action(), &app.config.authority.deputies)?
        .by(actor.actor());
    let appeal = find(app, key).await?;
    let appeal = app
        .case()
        .record(appeal.id, &act, &by, app.clock.now(), app.today())
        .await?;
    let list = app.deadlines.of_appeal(appeal.id).await?;
    let mut answer = summary(app, &appeal);
    answer["deadlines"] = json!(list);
    Ok(Json(answer))
}

async fn deadline_event(
    State(app): State<Arc<App>>,
    actor: Actor,
    Path(key): Path<String>,
    body: Result<Json<Event>, JsonRejection>,
) -> Result<Json<Value>, Problem> {
    let Json(event) = body.map_err(bad_json)?;
    record(&app, &actor, &key, Act::Deadline(event)).await
}

#[derive(Deserialize)]
struct OutboxQuery {
    state: Option<String>,
    limit: Option<i64>,
}

pub fn parse_state(s: &str) -> Result<MailState, String> {
    s.parse()
}

async fn outbox_list(
    State(app): State<Arc<App>>,
    _manager: Authorized<rule::ReadOutbox>,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<Value>, Problem> {
    let state = q
        .state
        .as_deref()
        .map(parse_state)
        .transpose()
        .map_err(|e| Problem::field(StatusCode::BAD_REQUEST, "state", e))?;
    let list = app
        .outbox
        .list(state, q.limit.unwrap_or(100).clamp(1, 1000))
        .await?;
    Ok(Json(json!({ "mail": list })))
}

async fn outbox_retry(
    State(app): State<Arc<App>>,
    actor: Authorized<rule::RetryMail>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, Problem> {
    let n = app.outbox.retry(Some(id), app.clock.now()).await?;
    tracing::info!(
        outbox_id = id,
        actor = actor.actor(),
        "mail put back for retry"
    );
    Ok(Json(json!({ "retried": n })))
}

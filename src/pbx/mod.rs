//! The telephone channel (clauses 10.1-10.5, 10.9): the PBX posts a record of
//! every call, in Senim's JSON form, as an Asterisk CDR or as Zammad Generic CTI
//! events; an answered call or a voicemail becomes a phone appeal in the Journal,
//! a missed call is logged and counted. The PBX asks `/v1/schedule/now` whether
//! the line is open. The operator completes a phone appeal with
//! `PATCH /v1/appeals/{id}`. See `docs/pbx.md`.
//!
//! Modules: `formats` (the three input shapes to one `CallRecord`), `numbers`
//! (callers' numbers to E.164), `auth` (tokens, signatures, networks), `receipt`
//! (when a call counts as received), `rules` (what a call becomes), `intake`
//! (exactly-once recording), `cti` (CTI events to calls, and the sweep of calls
//! never hung up), `store` (this module's tables), `recordings` (files and
//! background downloads), `schedule`, `notes` (operator's notes).

pub mod auth;
pub mod cti;
pub mod formats;
pub mod intake;
pub mod notes;
pub mod numbers;
pub mod receipt;
pub mod recordings;
pub mod rules;
pub mod schedule;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Json, Router};

use crate::app::App;
use crate::config::Config;
use crate::journal::AppealKey;
use crate::server::auth::Manager;
use crate::server::problem::Problem;
use auth::Source;
use formats::{Fields, Recording};
use notes::OperatorNotes;
use recordings::{Downloads, RecordingStore};
use store::StoredAnswer;

/// The channel's state, opened once with the daemon.
pub struct Pbx {
    pub sources: Vec<Source>,
    pub recordings: RecordingStore,
    pub downloads: Downloads,
}

impl Pbx {
    pub fn open(config: &Config, default_tz: chrono_tz::Tz) -> anyhow::Result<Pbx> {
        Ok(Pbx {
            sources: auth::load_sources(&config.pbx, default_tz)?,
            recordings: RecordingStore::new(
                config.database.data_dir.join("recordings"),
                config.pbx.max_recording_bytes,
            ),
            downloads: Downloads::default(),
        })
    }
}

/// Starts the background work of the channel: recording downloads, and the sweep
/// that registers CTI calls answered but never hung up. Neither takes a stop
/// signal: each commits its work in one transaction, so ending anywhere is safe.
pub fn start(app: Arc<App>) {
    tokio::spawn(recordings::run_downloader(app.clone()));
    tokio::spawn(cti::run_sweep(app));
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/pbx/calls", post(post_call))
        .route("/v1/pbx/asterisk", post(post_asterisk))
        .route("/v1/pbx/asterisk/{token}", post(post_asterisk_with_token))
        .route("/v1/pbx/cti", post(post_cti))
        .route("/v1/pbx/cti/{token}", post(post_cti_with_token))
        // Bodies are read and limited by `read_body`; multipart parsing reads the
        // already limited bytes.
        .layer(DefaultBodyLimit::disable())
        .merge(
            Router::new()
                .route("/v1/appeals/{appeal}", patch(patch_appeal))
                .layer(DefaultBodyLimit::max(64 * 1024)),
        )
        .merge(schedule::routes())
}

/// The kind of body a request says it carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
    Multipart,
}

fn body_kind(headers: &HeaderMap, allowed: &[BodyKind]) -> Result<BodyKind, Problem> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let kind = match essence.as_str() {
        "application/json" => Some(BodyKind::Json),
        "application/x-www-form-urlencoded" => Some(BodyKind::Form),
        "multipart/form-data" => Some(BodyKind::Multipart),
        _ => None,
    };
    let names = allowed
        .iter()
        .map(|k| match k {
            BodyKind::Json => "application/json",
            BodyKind::Form => "application/x-www-form-urlencoded",
            BodyKind::Multipart => "multipart/form-data",
        })
        .collect::<Vec<_>>()
        .join(", ");
    match kind {
        Some(k) if allowed.contains(&k) => Ok(k),
        _ => Err(Problem {
            field: Some("Content-Type".into()),
            ..Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported media type",
                format!("Content-Type must be one of: {names}"),
            )
        }),
    }
}

/// Identifies the PBX, reads the body within `limit` bytes, checks the signature.
async fn authenticated_body<'a>(
    app: &'a App,
    parts: &Parts,
    body: Body,
    path_token: Option<&str>,
    limit: usize,
) -> Result<(&'a Source, Bytes), Problem> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let result = auth::identify(&app.pbx.sources, &parts.headers, path_token, peer);
    let source = result.inspect_err(|_| reject("unauthorized"))?;
    let too_large = || {
        reject("too_large");
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload too large",
            format!(
                "the body is larger than {limit} bytes (pbx.max_record_bytes / pbx.max_recording_bytes)"
            ),
        )
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    source
        .verify(&parts.headers, &bytes, app.clock.now())
        .inspect_err(|_| reject("unauthorized"))?;
    Ok((source, bytes))
}

fn reject(reason: &'static str) {
    metrics::counter!("senim_pbx_rejected_total", "reason" => reason).increment(1);
}

fn answer_response(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        answer.body,
    )
        .into_response()
}

fn respond(result: Result<StoredAnswer, Problem>) -> Response {
    match result {
        Ok(answer) => answer_response(answer),
        Err(problem) => {
            if problem.status.is_client_error() && problem.status != StatusCode::UNAUTHORIZED {
                reject("bad_input");
            }
            problem.into_response()
        }
    }
}

/// `POST /v1/pbx/calls`: Senim's JSON form, or multipart with the JSON in a
/// `record` part and the file in a `recording` part.
async fn post_call(State(app): State<Arc<App>>, request: Request) -> Response {
    respond(call(&app, request).await)
}

async fn call(app: &App, request: Request) -> Result<StoredAnswer, Problem> {
    let (parts, body) = request.into_parts();
    let kind = body_kind(&parts.headers, &[BodyKind::Json, BodyKind::Multipart])?;
    let limit = match kind {
        BodyKind::Multipart => app.config.pbx.max_recording_bytes + app.config.pbx.max_record_bytes,
        _ => app.config.pbx.max_record_bytes,
    };
    let (source, bytes) = authenticated_body(app, &parts, body, None, limit).await?;
    let record = match kind {
        BodyKind::Multipart => multipart_record(app, parts, bytes).await?,
        _ => formats::from_json(&Fields::from_json(&bytes)?)?,
    };
    intake::accept_call(app, source, record).await
}

async fn multipart_record(
    app: &App,
    parts: Parts,
    bytes: Bytes,
) -> Result<formats::CallRecord, Problem> {
    let malformed = |e: axum::extract::multipart::MultipartError| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed multipart",
            format!("the multipart body cannot be read: {}", e.body_text()),
        )
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    let mut multipart = axum::extract::Multipart::from_request(request, &())
        .await
        .map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed multipart",
                e.body_text(),
            )
        })?;
    let mut record = None;
    let mut recording = None;
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("record") => record = Some(field.bytes().await.map_err(malformed)?),
            Some("recording") => {
                let file_name = field.file_name().map(str::to_owned);
                let data = field.bytes().await.map_err(malformed)?;
                if data.len() > app.config.pbx.max_recording_bytes {
                    return Err(Problem {
                        field: Some("recording".into()),
                        ..Problem::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "payload too large",
                            format!(
                                "recording is larger than pbx.max_recording_bytes ({})",
                                app.config.pbx.max_recording_bytes
                            ),
                        )
                    });
                }
                if data.is_empty() {
                    return Err(formats::invalid("recording", "is empty"));
                }
                recording = Some(Recording::Upload {
                    bytes: data,
                    file_name,
                });
            }
            _ => {}
        }
    }
    let record = record.ok_or_else(|| formats::missing("record"))?;
    let mut call = formats::from_json(&Fields::from_json(&record)?)?;
    if recording.is_some() {
        call.recording = recording;
    }
    Ok(call)
}

/// `POST /v1/pbx/asterisk`: an Asterisk CDR, form-encoded, from `CURL()`.
async fn post_asterisk(State(app): State<Arc<App>>, request: Request) -> Response {
    respond(asterisk(&app, request, None).await)
}

async fn post_asterisk_with_token(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    respond(asterisk(&app, request, Some(&token)).await)
}

async fn asterisk(
    app: &App,
    request: Request,
    token: Option<&str>,
) -> Result<StoredAnswer, Problem> {
    let (parts, body) = request.into_parts();
    let kind = body_kind(&parts.headers, &[BodyKind::Form, BodyKind::Multipart])?;
    let (source, bytes) =
        authenticated_body(app, &parts, body, token, app.config.pbx.max_record_bytes).await?;
    let fields = form_fields(kind, parts, bytes).await?;
    let record = formats::from_asterisk(
        &fields,
        source.timezone,
        source.recording_base_url.as_deref(),
    )?;
    intake::accept_call(app, source, record).await
}

/// `POST /v1/pbx/cti`: one event of Zammad's Generic CTI API (form or JSON).
async fn post_cti(State(app): State<Arc<App>>, request: Request) -> Response {
    respond(cti(&app, request, None).await)
}

async fn post_cti_with_token(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    respond(cti(&app, request, Some(&token)).await)
}

async fn cti(app: &App, request: Request, token: Option<&str>) -> Result<StoredAnswer, Problem> {
    let (parts, body) = request.into_parts();
    let kind = body_kind(
        &parts.headers,
        &[BodyKind::Form, BodyKind::Json, BodyKind::Multipart],
    )?;
    let (source, bytes) =
        authenticated_body(app, &parts, body, token, app.config.pbx.max_record_bytes).await?;
    let fields = form_fields(kind, parts, bytes).await?;
    let event = formats::cti_event(&fields)?;
    let body = cti::accept_cti(app, source, event).await?;
    Ok(StoredAnswer { status: 200, body })
}

/// The fields of a form-encoded, multipart (`curl --form`) or JSON body.
async fn form_fields(kind: BodyKind, parts: Parts, bytes: Bytes) -> Result<Fields, Problem> {
    match kind {
        BodyKind::Json => Fields::from_json(&bytes),
        BodyKind::Form => Fields::from_form(&bytes),
        BodyKind::Multipart => {
            Fields::from_multipart(Request::from_parts(parts, Body::from(bytes))).await
        }
    }
}

/// `PATCH /v1/appeals/{id or number}`: the operator's notes on a phone appeal.
async fn patch_appeal(
    State(app): State<Arc<App>>,
    manager: Manager,
    Path(appeal): Path<String>,
    notes: Result<Json<OperatorNotes>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let key: AppealKey = match appeal.parse() {
        Ok(k) => k,
        Err(e) => return Problem::field(StatusCode::BAD_REQUEST, "id", e).into_response(),
    };
    let notes = match notes {
        Ok(Json(n)) => n,
        Err(e) => {
            return Problem::new(e.status(), "malformed request", e.body_text()).into_response();
        }
    };
    if notes.is_empty() {
        return Problem::bad_request(
            "give at least one of name, organisation, postal_address, phone, email, subject, substance",
        )
        .into_response();
    }
    match notes::record_operator_notes(&app.journal, &key, notes, &manager.actor()).await {
        Ok(appeal) => Json(appeal).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

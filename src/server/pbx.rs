//! The telephone channel's routes: `POST /v1/pbx/calls` (Senim's JSON, or
//! multipart with a recording), `POST /v1/pbx/asterisk[/{token}]` (an Asterisk
//! CDR), `POST /v1/pbx/cti[/{token}]` (Zammad's Generic CTI events), and the
//! operator's `PATCH /v1/appeals/{id}`. Here the request is read: its media type,
//! its token (header or path), its size, its signature headers and its multipart
//! parts; `crate::pbx` does the rest and answers with a `PbxError`, which
//! `problem.rs` turns into problem+json.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Json, Router};

use super::auth::{Authorized, bearer};
use super::problem::Problem;
use crate::app::App;
use crate::journal::AppealKey;
use crate::pbx::auth::{self, Signed, Source};
use crate::pbx::formats::{self, CallRecord, Fields, Recording};
use crate::pbx::notes::{self, Correction, OperatorNotes};
use crate::pbx::store::StoredAnswer;
use crate::pbx::{PbxError, cti, intake};
use crate::rulebook::rule;

/// The headers of a signed request (`pbx::auth`).
const TIMESTAMP_HEADER: &str = "x-senim-timestamp";
const SIGNATURE_HEADER: &str = "x-senim-signature";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/pbx/calls", post(post_call))
        .route("/v1/pbx/asterisk", post(post_asterisk))
        .route("/v1/pbx/asterisk/{token}", post(post_asterisk_with_token))
        .route("/v1/pbx/cti", post(post_cti))
        .route("/v1/pbx/cti/{token}", post(post_cti_with_token))
        // Bodies are read and limited by `authenticated_body`; multipart parsing
        // reads the already limited bytes.
        .layer(DefaultBodyLimit::disable())
        .merge(
            Router::new()
                .route("/v1/appeals/{appeal}", patch(patch_appeal))
                .route("/v1/appeals/{appeal}/corrections", post(post_correction))
                .layer(DefaultBodyLimit::max(64 * 1024)),
        )
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
        _ => Err(Problem::unsupported_media_type(
            "Content-Type",
            format!("Content-Type must be one of: {names}"),
        )),
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
    let source =
        identify(app, &parts.headers, path_token, peer).inspect_err(|_| reject("unauthorized"))?;
    let too_large = || {
        reject("too_large");
        Problem::too_large(
            None,
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
    let header_text = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let signed = Signed {
        timestamp: header_text(TIMESTAMP_HEADER),
        signature: header_text(SIGNATURE_HEADER),
    };
    source
        .verify(signed, &bytes, app.clock.now())
        .inspect_err(|_| reject("unauthorized"))?;
    Ok((source, bytes))
}

/// The source by the path's token or else the bearer header, and the peer's address.
fn identify<'a>(
    app: &'a App,
    headers: &HeaderMap,
    path_token: Option<&str>,
    peer: Option<std::net::IpAddr>,
) -> Result<&'a Source, Problem> {
    let token = match path_token {
        Some(t) => t,
        None => bearer(headers)?,
    };
    Ok(auth::identify(&app.pbx.sources, token, peer)?)
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
    Ok(intake::accept_call(&app.pbx, source, record).await?)
}

async fn multipart_record(app: &App, parts: Parts, bytes: Bytes) -> Result<CallRecord, Problem> {
    let mut multipart = multipart(parts, bytes).await?;
    let mut record = None;
    let mut recording = None;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("record") => record = Some(field.bytes().await.map_err(unreadable)?),
            Some("recording") => {
                let file_name = field.file_name().map(str::to_owned);
                let data = field.bytes().await.map_err(unreadable)?;
                if data.len() > app.config.pbx.max_recording_bytes {
                    return Err(Problem::too_large(
                        Some("recording"),
                        format!(
                            "recording is larger than pbx.max_recording_bytes ({})",
                            app.config.pbx.max_recording_bytes
                        ),
                    ));
                }
                if data.is_empty() {
                    return Err(PbxError::invalid("recording", "is empty").into());
                }
                recording = Some(Recording::Upload {
                    bytes: data,
                    file_name,
                });
            }
            _ => {}
        }
    }
    let record = record.ok_or_else(|| PbxError::missing("record"))?;
    let mut call = formats::from_json(&Fields::from_json(&record)?)?;
    if recording.is_some() {
        call.recording = recording;
    }
    Ok(call)
}

/// A multipart body already read and limited.
async fn multipart(parts: Parts, bytes: Bytes) -> Result<Multipart, Problem> {
    let request = Request::from_parts(parts, Body::from(bytes));
    Multipart::from_request(request, &())
        .await
        .map_err(|e| Problem::malformed_multipart(e.body_text()))
}

fn unreadable(e: MultipartError) -> Problem {
    Problem::malformed_multipart(format!(
        "the multipart body cannot be read: {}",
        e.body_text()
    ))
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
    Ok(intake::accept_call(&app.pbx, source, record).await?)
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
    let body = cti::accept_cti(&app.pbx, source, event).await?;
    Ok(StoredAnswer { status: 200, body })
}

/// The fields of a form-encoded, multipart (`curl --form`) or JSON body.
async fn form_fields(kind: BodyKind, parts: Parts, bytes: Bytes) -> Result<Fields, Problem> {
    match kind {
        BodyKind::Json => Ok(Fields::from_json(&bytes)?),
        BodyKind::Form => Ok(Fields::from_form(&bytes)?),
        BodyKind::Multipart => multipart_fields(parts, bytes).await,
    }
}

/// The text fields of a `multipart/form-data` body (files are ignored).
async fn multipart_fields(parts: Parts, bytes: Bytes) -> Result<Fields, Problem> {
    let mut multipart = multipart(parts, bytes).await?;
    let mut fields = Fields::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if field.file_name().is_some() {
            continue;
        }
        let bytes = field.bytes().await.map_err(unreadable)?;
        fields.push_text(name, &bytes)?;
    }
    Ok(fields)
}

/// The appeal a path names (400 if it names none) and the JSON body posted to
/// it (the extractor's status if malformed), in that order.
fn appeal_and_body<T>(
    appeal: &str,
    body: Result<Json<T>, JsonRejection>,
) -> Result<(AppealKey, T), Problem> {
    let key: AppealKey = match appeal.parse() {
        Ok(k) => k,
        Err(e) => return Err(Problem::field(StatusCode::BAD_REQUEST, "id", e)),
    };
    match body {
        Ok(Json(body)) => Ok((key, body)),
        Err(e) => Err(Problem::new(e.status(), "malformed request", e.body_text())),
    }
}

/// `PATCH /v1/appeals/{id or number}`: the operator's notes on a phone appeal
/// awaiting them (409 for any other), with `script`, every point of clause 10.5
/// said (422 naming the missing ones); answered without the identity.
async fn patch_appeal(
    State(app): State<Arc<App>>,
    actor: Authorized<rule::RecordNotes>,
    Path(appeal): Path<String>,
    notes: Result<Json<OperatorNotes>, JsonRejection>,
) -> Response {
    let (key, notes) = match appeal_and_body(&appeal, notes) {
        Ok(both) => both,
        Err(refused) => return refused.into_response(),
    };
    if notes.is_empty() {
        return Problem::bad_request(
            "give at least one of name, organisation, postal_address, phone, email, subject, substance, with `script`: the points of clause 10.5 said",
        )
        .into_response();
    }
    match notes::record_operator_notes(&app.journal, &key, notes, &actor.actor()).await {
        // The answer says what became of the appeal, never who the reporter is.
        Ok(appeal) => Json(appeal.redacted()).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// `POST /v1/appeals/{id or number}/corrections`: a manager's or the Director's
/// recorded correction of the reporter's details or the appeal's subject and
/// substance, with a `reason` (issue 19); the earlier values stay. Answered
/// without the identity; 422 naming the field for a bad phone or e-mail, a
/// missing reason; 409 for an appeal awaiting the operator's notes.
async fn post_correction(
    State(app): State<Arc<App>>,
    actor: Authorized<rule::CorrectDetails>,
    Path(appeal): Path<String>,
    correction: Result<Json<Correction>, JsonRejection>,
) -> Response {
    let (key, correction) = match appeal_and_body(&appeal, correction) {
        Ok(both) => both,
        Err(refused) => return refused.into_response(),
    };
    match notes::correct_details(&app.journal, &key, correction, &actor.actor()).await {
        Ok(appeal) => Json(appeal.redacted()).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

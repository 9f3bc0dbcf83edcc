//! The HTTP server: health, readiness and metrics, and the routes of the channels.
//! Shuts down gracefully on SIGTERM or SIGINT, rereads its TLS certificate on
//! SIGHUP, and tells systemd when it is ready.
//!
//! Two listeners: the main one (`server.listen`: the PBXes, the managers,
//! `/healthz` and `/readyz`'s status), and the metrics listener
//! (`server.metrics_listen`, plain HTTP, loopback by default: `/metrics` and
//! `/readyz`'s details, behind `server.metrics_token` when set).
//!
//! - `listener`: the accept loop, the per-connection limits and the TLS handshake.
//! - `tls`: HTTPS (`[server.tls]`): the certificate, and its reload on SIGHUP.
//! - `problem`: problem+json, and the HTTP status of every domain error.
//! - `auth`: the bearer header and the managers' tokens.
//! - `appeals`: the manager's routes; `pbx`: the telephone channel's routes and
//!   the operator's `PATCH /v1/appeals/{id}`; `schedule`: `/v1/schedule/now`.
//! - `console`: the browser workplace under `/console` (sessions, pages).
//! - here: the router, its two groups of routes (intake; the console and the
//!   API), each with its own limit of requests at once, the people's bodies read
//!   whole within a deadline before they take a slot, the body timeout, the
//!   request log (by matched route, never the raw path: a PBX token travels in it)
//!   and the unknown-route answer (problem+json 404).

mod appeals;
pub mod console;
mod listener;
mod pbx;
mod schedule;
mod tls;

pub use appeals::parse_state as parse_mail_state;
pub mod auth;
mod health;
pub mod problem;

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use tokio::net::TcpListener;

use crate::app::App;
use crate::config::ServerConfig;
use problem::Problem;

/// Builds the router of the whole daemon: two groups of routes, each with its
/// own limit of requests at once (`server.max_concurrent_requests` each), so
/// that the console's and the API's clients, however many or slow, never take
/// the capacity of intake (the PBX's routes, the operator's, `/healthz`,
/// `/readyz`, `/v1/schedule/now`); and the console's and the API's bodies are
/// read whole, within `server.body_timeout_seconds` in all, before their
/// request takes a slot (`body_first`).
pub fn router(app: Arc<App>) -> Router {
    let config = &app.config.server;
    let intake = Router::new()
        .merge(health::routes())
        .merge(pbx::routes())
        .merge(schedule::routes())
        .layer(concurrency(config));
    let people = Router::new()
        .merge(appeals::routes())
        .merge(console::routes(&app))
        .layer(concurrency(config))
        .layer(axum::middleware::from_fn_with_state(
            config.body_timeout_seconds.std(),
            body_first,
        ));
    intake
        .merge(people)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

/// The largest body the console and the API read (their forms and JSON are a
/// few KiB; each route's own limit is smaller still).
const PEOPLE_BODY_MAX: usize = 256 * 1024;

/// One semaphore for every route of a group (`Router::layer` wraps each route).
fn concurrency(config: &ServerConfig) -> tower::limit::GlobalConcurrencyLimitLayer {
    tower::limit::GlobalConcurrencyLimitLayer::new(config.max_concurrent_requests)
}

/// Reads the request's body whole (at most `PEOPLE_BODY_MAX`) within
/// `deadline` in all, however it trickles in, before the request goes on to
/// take its slot: a client sending its body slowly holds a connection for at
/// most that long, and never a slot. 408 after the deadline, 413 beyond the size.
async fn body_first(
    axum::extract::State(deadline): axum::extract::State<std::time::Duration>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, PEOPLE_BODY_MAX)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// The router with the per-request limits and the request log.
fn service(app: Arc<App>, config: &ServerConfig) -> Router {
    logged(router(app), config)
}

/// The metrics listener's router: `GET /metrics` and `GET /readyz` with its
/// details, behind the token when there is one (every route, the unknown ones
/// too); any other route is problem+json 404.
fn metrics_service(app: Arc<App>, config: &ServerConfig, token: Option<Arc<str>>) -> Router {
    let routes = health::metrics_routes()
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
        .layer(axum::middleware::from_fn_with_state(
            token,
            health::require_token,
        ))
        .layer(concurrency(config));
    logged(routes, config)
}

/// `router` with the body timeout (between two chunks of a body) and the
/// request log.
fn logged(router: Router, config: &ServerConfig) -> Router {
    let trace =
        tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &Request| {
            // The route's pattern (`/v1/pbx/cti/{token}`), never the URI itself.
            let route = request
                .extensions()
                .get::<MatchedPath>()
                .map_or("(no route)", MatchedPath::as_str);
            tracing::debug_span!("request", method = %request.method(), route)
        });
    router
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            config.body_timeout_seconds.std(),
        ))
        .layer(trace)
}

async fn unknown_route(method: Method) -> Problem {
    Problem::not_found(format!("no such route for {method}; see docs for the API"))
}

async fn method_not_allowed(method: Method) -> Problem {
    Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
        format!("this route does not take {method}"),
    )
}

/// Serves until SIGTERM/SIGINT, then waits up to the grace period for requests in flight.
pub async fn serve(app: Arc<App>, listener: TcpListener) -> anyhow::Result<()> {
    serve_until(app, listener, shutdown_signal()).await
}

/// Serves until `stop` completes (a signal in the daemon, the test's word in
/// tests), then stops every task as `serve` does.
pub async fn serve_until(
    app: Arc<App>,
    listener: TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Install the metrics recorder before anything counts (not at the first scrape).
    crate::telemetry::metrics();
    // Missing calendar data is logged (once) and counted from the start.
    health::calendar_data(&app);
    // The office key as it is now; a rotation reaches the daemon within half a minute.
    app.sealer.refresh().await?;
    // Before any appeal: a chain and a key that disagree stop the daemon; with a
    // signing key, the head is signed (the chain public) now.
    app.journal.prepare_chain().await?;
    let grace = app.config.server.shutdown_grace_seconds.std();
    let instance = crate::instance::id(&app.config.database.data_dir).map_err(|e| {
        anyhow::anyhow!("database.data_dir: cannot keep the instance id there: {e}")
    })?;
    let sender = app.sender(instance.clone())?;
    let router = service(app.clone(), &app.config.server);
    let limits = listener::Limits::from_config(&app.config.server);
    let certificates = match &app.config.server.tls {
        Some(files) => Some(Arc::new(
            tls::Certificates::load(files).map_err(anyhow::Error::msg)?,
        )),
        None => None,
    };
    // The metrics listener, bound before the server answers: a port in use
    // stops the start-up, naming the key.
    let metrics = match app.config.server.metrics_listen {
        Some(addr) => {
            let token = app.config.server.metrics_token()?.map(Arc::<str>::from);
            let listener = TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!("server.metrics_listen: cannot listen on {addr}: {e}")
            })?;
            Some((
                listener,
                metrics_service(app.clone(), &app.config.server, token),
            ))
        }
        None => None,
    };
    // Installed before the server answers: SIGHUP's default action ends the process.
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| anyhow::anyhow!("cannot listen for SIGHUP: {e}"))?;
    notify_systemd(sd_notify::NotifyState::Ready);
    let metrics_listen = match &metrics {
        Some((listener, _)) => listener.local_addr()?.to_string(),
        None => "off".to_owned(),
    };
    tracing::info!(
        listen = %listener.local_addr()?,
        https = certificates.is_some(),
        metrics_listen,
        backend = app.db.backend(),
        "senim is serving"
    );
    let (stop_tx, _) = tokio::sync::watch::channel(false);
    if app.config.alerts.director.is_empty() {
        tracing::error!(
            "alerts.director is empty: the Director's alerts (clause 10.6) cannot be sent"
        );
    }
    // Every background task, in one list: each gets the stop signal and is
    // awaited (within the grace period) on shutdown.
    let stop_rx = stop_tx.subscribe();
    let mut tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)> = vec![
        // Half the grace for the mail being sent, so it is handed back in time.
        (
            "outbox sender",
            tokio::spawn(sender.run(stop_rx.clone(), grace / 2)),
        ),
        (
            "alert scheduler",
            tokio::spawn(app.scheduler().run(stop_rx.clone())),
        ),
        (
            "office key refresh",
            tokio::spawn(refresh_sealer(app.sealer.clone(), stop_rx.clone())),
        ),
        (
            "certificate reload",
            tokio::spawn(tls::reload_on_hangup(
                hangups,
                certificates.clone(),
                stop_rx.clone(),
            )),
        ),
    ];
    if let (Some(file), Some(_)) = (
        app.config.journal.published_heads_file.clone(),
        app.journal.public_key(),
    ) {
        let every = app.config.journal.head_publish_seconds.std();
        let heads = crate::alerts::scheduler::publish_heads(
            app.journal.clone(),
            file,
            every,
            stop_rx.clone(),
        );
        tasks.push(("head publication", tokio::spawn(heads)));
    }
    if let Some((metrics_listener, metrics_router)) = metrics {
        // Plain HTTP with the main listener's limits; stops taking connections on
        // the stop signal and lets open ones finish their requests.
        let mut stopped = stop_rx.clone();
        let metrics = listener::serve(metrics_listener, metrics_router, limits, None, async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        });
        tasks.push(("metrics listener", tokio::spawn(metrics)));
    }
    tasks.extend(crate::pbx::start(app.pbx.clone(), &stop_rx));
    if app.config.mailbox.enabled() {
        // The poller commits before it settles, so stopping it anywhere is safe.
        let poller = crate::mailbox::poller::run(app.mailbox.clone(), instance, stop_rx.clone());
        tasks.push(("mailbox poller", tokio::spawn(poller)));
    }
    let server = listener::serve(listener, router, limits, certificates, async move {
        stop.await;
        tracing::info!("shutting down");
        notify_systemd(sd_notify::NotifyState::Stopping);
        let _ = stop_tx.send(true);
    });
    let server = tokio::spawn(server);
    // Wait for the signal, then give requests in flight the grace period.
    let mut stopped = stop_rx.clone();
    let _ = stopped.wait_for(|stop| *stop).await;
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined?,
        Err(_) => tracing::warn!(
            grace_seconds = grace.as_secs(),
            "requests still in flight at shutdown"
        ),
    }
    // The sender finishes the mail in hand (marked `sent` or handed back).
    for (name, task) in tasks {
        match tokio::time::timeout(grace, task).await {
            Ok(_) => tracing::debug!(task = name, "stopped"),
            Err(_) => tracing::warn!(task = name, "a background task did not stop in time"),
        }
    }
    tracing::info!("every task stopped");
    app.db.close().await;
    Ok(())
}

/// Rereads the office key every half minute, so a `senim keys rotate` reaches
/// the daemon without a restart.
async fn refresh_sealer(
    sealer: crate::sealing::Sealer,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
        }
        if let Err(e) = sealer.refresh().await {
            tracing::warn!(error = %e, "cannot reread the office key");
        }
    }
}

fn notify_systemd(state: sd_notify::NotifyState) {
    // Outside systemd NOTIFY_SOCKET is unset and this does nothing.
    if let Err(e) = sd_notify::notify(false, &[state]) {
        tracing::debug!(error = %e, "could not notify systemd");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

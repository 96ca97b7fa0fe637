//! `/admin`: the review pages. A person reads recent turns (filtered: unreviewed, out of
//! scope, 👎, intent, channel), opens one to see everything recorded about it, and stores a
//! verdict with a corrected answer and intent, which `raymundo curate` later turns into
//! documents and intent examples.
//!
//! Server-rendered HTML (no JavaScript), behind the admin token ([`auth`]); every form
//! carries the session's anti-forgery token. The interaction log is reached only through the
//! [`Interactions`] trait, so any backend serves it.

pub(crate) mod auth;
mod pages;

pub use pages::esc as html_escape;
mod text;

use crate::peer::Peer;
use crate::secret::Secret;
use auth::{Denied, Session};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use raymundo_store::{Interaction, InteractionFilter, Interactions, Review, Verdict};
use serde::Deserialize;
use std::sync::Arc;

/// Interactions per page.
const PAGE_SIZE: usize = 25;
/// The channels a turn can come from.
const CHANNELS: &[&str] = &["whatsapp", "twilio", "chat_api", "openai_api", "cli"];

/// What the review pages need: the interaction log and the project's intent names.
#[derive(Clone)]
pub struct AdminSetup {
    /// The interaction log.
    pub interactions: Arc<dyn Interactions>,
    /// The intents a corrected intent may name (besides `none`).
    pub intents: Vec<String>,
}

/// The review pages' state.
pub(crate) struct AdminState {
    /// The admin token; `None`: the pages are disabled.
    token: Option<Secret>,
    /// The variable the token is read from (named on the disabled page).
    token_variable: String,
    /// Whether the session cookie is marked `Secure` (the public URL is HTTPS).
    secure_cookie: bool,
    setup: Option<AdminSetup>,
    /// Wrong tokens per address (shared with `/metrics`, which takes the same token).
    throttle: Arc<auth::Throttle>,
    /// The sessions opened at the login form.
    sessions: auth::Sessions,
}

/// The `/admin` routes; wrong tokens are counted in `throttle`.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(
    token: Option<Secret>,
    token_variable: String,
    secure_cookie: bool,
    setup: Option<AdminSetup>,
    throttle: Arc<auth::Throttle>,
) -> Router<S> {
    let state = Arc::new(AdminState {
        token,
        token_variable,
        secure_cookie,
        setup,
        throttle,
        sessions: auth::Sessions::default(),
    });
    Router::new()
        .route("/admin", get(list))
        .route("/admin/", get(list))
        .route("/admin/login", get(login_form).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/interactions/{id}", get(detail))
        .route("/admin/interactions/{id}/review", post(save_review))
        .with_state(state)
}

/// An HTML response that is never cached or framed.
fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

/// Why a request may not see the admin pages; answered with the page that says so.
enum Refusal {
    /// No admin token is configured (the variable to set).
    Disabled(String),
    /// No token, or a wrong one: the login form.
    Login(Denied),
    /// Too many wrong tokens from this address: how long it must still wait.
    Throttled(std::time::Duration),
    /// Signed in, but the server has no interaction log (the session's form token).
    NoLog(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Disabled(variable) => html(StatusCode::NOT_FOUND, pages::disabled(&variable)),
            Refusal::Login(Denied::Missing) => html(StatusCode::UNAUTHORIZED, pages::login(false)),
            Refusal::Login(Denied::Wrong) => html(StatusCode::UNAUTHORIZED, pages::login(true)),
            Refusal::Throttled(wait) => throttled(wait),
            Refusal::NoLog(csrf) => html(
                StatusCode::NOT_FOUND,
                pages::message(text::DISABLED_TITLE, text::NO_LOG, Some(&csrf)),
            ),
        }
    }
}

fn disabled(app: &AdminState) -> Response {
    Refusal::Disabled(app.token_variable.clone()).into_response()
}

/// The session and the log, or why not.
fn enter<'a>(
    app: &'a AdminState,
    peer: Peer,
    headers: &HeaderMap,
) -> Result<(Session, &'a AdminSetup), Refusal> {
    let Some(token) = &app.token else {
        return Err(Refusal::Disabled(app.token_variable.clone()));
    };
    let bearer = auth::has_bearer(headers);
    let now = std::time::Instant::now();
    if bearer {
        if let Some(wait) = app.throttle.locked(peer.client(), now) {
            return Err(Refusal::Throttled(wait));
        }
    }
    let session = auth::authorize(token, &app.sessions, headers).map_err(|d| {
        if bearer {
            app.throttle.failed(peer.client(), now);
        }
        Refusal::Login(d)
    })?;
    if bearer {
        app.throttle.succeeded(peer.client());
    }
    match &app.setup {
        Some(setup) => Ok((session, setup)),
        None => Err(Refusal::NoLog(session.csrf)),
    }
}

fn throttled(wait: std::time::Duration) -> Response {
    tracing::warn!("admin: a token from an address that gave too many wrong ones was refused");
    let secs = wait.as_secs().max(1);
    let mut r = html(
        StatusCode::TOO_MANY_REQUESTS,
        pages::message(text::LOGIN_TITLE, &text::throttled(secs.div_ceil(60)), None),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

fn store_failed(e: impl std::fmt::Display, csrf: &str) -> Response {
    tracing::error!("admin: the interaction log failed: {e}");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::message(text::TITLE, text::STORE_FAILED, Some(csrf)),
    )
}

/// Runs a store call on a blocking thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, raymundo_store::StoreError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("a blocking task failed: {e}")),
    }
}

/// The list page's query string.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    unreviewed: Option<String>,
    out_of_scope: Option<String>,
    thumbs_down: Option<String>,
    intent: Option<String>,
    channel: Option<String>,
    page: Option<usize>,
    saved: Option<i64>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

async fn list(
    State(app): State<Arc<AdminState>>,
    peer: Peer,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let (session, setup) = match enter(&app, peer, &headers) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let on = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty() && s != "0");
    let mut filter = InteractionFilter {
        unreviewed: on(&q.unreviewed),
        out_of_scope: on(&q.out_of_scope),
        thumbs_down: on(&q.thumbs_down),
        intent: non_empty(q.intent),
        channel: non_empty(q.channel),
        since: None,
        // One more than the pages so far, to know whether another page follows.
        limit: page * PAGE_SIZE + 1,
    };
    let store = setup.interactions.clone();
    let query = filter.clone();
    let found = match blocking(move || store.interactions(&query)).await {
        Ok(v) => v,
        Err(e) => return store_failed(e, &session.csrf),
    };
    filter.limit = 0;
    let more = found.len() > page * PAGE_SIZE;
    let items: Vec<Interaction> = found
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    html(
        StatusCode::OK,
        pages::list(&pages::ListView {
            filter: &filter,
            page,
            items: &items,
            more,
            intents: &setup.intents,
            channels: CHANNELS,
            saved: q.saved,
            csrf: &session.csrf,
        }),
    )
}

async fn login_form(State(app): State<Arc<AdminState>>, headers: HeaderMap) -> Response {
    match &app.token {
        None => disabled(&app),
        Some(token) if auth::authorize(token, &app.sessions, &headers).is_ok() => {
            see_other("/admin", None)
        }
        Some(_) => html(StatusCode::OK, pages::login(false)),
    }
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(app): State<Arc<AdminState>>,
    peer: Peer,
    Form(form): Form<LoginForm>,
) -> Response {
    let Some(token) = &app.token else {
        return disabled(&app);
    };
    let now = std::time::Instant::now();
    if let Some(wait) = app.throttle.locked(peer.client(), now) {
        return throttled(wait);
    }
    if token.matches(form.token.trim()) {
        tracing::info!("admin: logged in");
        app.throttle.succeeded(peer.client());
        let cookie = auth::login_cookie(token, &app.sessions, app.secure_cookie);
        see_other("/admin", Some(cookie))
    } else {
        tracing::warn!("admin: a login with a wrong token");
        app.throttle.failed(peer.client(), now);
        Refusal::Login(Denied::Wrong).into_response()
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(app): State<Arc<AdminState>>,
    peer: Peer,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (session, _) = match enter(&app, peer, &headers) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    if !auth::same(&session.csrf, &form.csrf) {
        return forged(&session);
    }
    if let Some(nonce) = &session.nonce {
        app.sessions.close(nonce);
        tracing::info!("admin: logged out");
    }
    see_other("/admin/login", Some(auth::logout_cookie()))
}

fn forged(session: &Session) -> Response {
    tracing::warn!("admin: a form without this session's anti-forgery token was refused");
    html(
        StatusCode::FORBIDDEN,
        pages::message(text::BAD_FORM, text::CSRF_FAILED, Some(&session.csrf)),
    )
}

async fn detail(
    State(app): State<Arc<AdminState>>,
    peer: Peer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let (session, setup) = match enter(&app, peer, &headers) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let store = setup.interactions.clone();
    match blocking(move || store.interaction(id)).await {
        Ok(Some(i)) => html(
            StatusCode::OK,
            pages::detail(&i, &setup.intents, &session.csrf),
        ),
        Ok(None) => html(
            StatusCode::NOT_FOUND,
            pages::message(text::DETAIL_TITLE, text::NOT_FOUND, Some(&session.csrf)),
        ),
        Err(e) => store_failed(e, &session.csrf),
    }
}

#[derive(Debug, Deserialize)]
struct ReviewForm {
    csrf: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    corrected_answer: String,
    #[serde(default)]
    corrected_intent: String,
    #[serde(default)]
    reviewer: String,
}

/// The form as a review, or what is wrong with it (in the reviewers' language).
fn parse_review(form: ReviewForm, intents: &[String], at: i64) -> Result<Review, String> {
    let verdict = Verdict::parse(&form.verdict).map_err(|_| text::UNKNOWN_VERDICT.to_string())?;
    let reviewer = form.reviewer.trim().to_string();
    if reviewer.is_empty() {
        return Err(text::NEED_REVIEWER.into());
    }
    let corrected_intent = match form.corrected_intent.trim() {
        "" => None,
        "none" => Some("none".to_string()),
        i if intents.iter().any(|x| x == i) => Some(i.to_string()),
        i => return Err(format!("{}: {i}", text::UNKNOWN_INTENT)),
    };
    let answer = form.corrected_answer.replace("\r\n", "\n");
    let answer = answer.trim();
    Ok(Review {
        verdict,
        corrected_answer: (!answer.is_empty()).then(|| answer.to_string()),
        corrected_intent,
        reviewer,
        at,
    })
}

async fn save_review(
    State(app): State<Arc<AdminState>>,
    peer: Peer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> Response {
    let (session, setup) = match enter(&app, peer, &headers) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    if !auth::same(&session.csrf, &form.csrf) {
        return forged(&session);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let review = match parse_review(form, &setup.intents, now) {
        Ok(r) => r,
        Err(e) => {
            return html(
                StatusCode::BAD_REQUEST,
                pages::message(text::BAD_FORM, &e, Some(&session.csrf)),
            )
        }
    };
    let store = setup.interactions.clone();
    let saved = blocking(move || {
        if store.interaction(id)?.is_none() {
            return Ok(false);
        }
        store.review(id, &review).map(|()| true)
    })
    .await;
    match saved {
        Ok(true) => {
            tracing::info!(interaction = id, "admin: review saved");
            see_other(&format!("/admin?saved={id}"), None)
        }
        Ok(false) => html(
            StatusCode::NOT_FOUND,
            pages::message(text::DETAIL_TITLE, text::NOT_FOUND, Some(&session.csrf)),
        ),
        Err(e) => store_failed(e, &session.csrf),
    }
}

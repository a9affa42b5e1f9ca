//! The sign-in endpoints and page: `GET /api/session` (who is signed in, what they may do, and
//! the CSRF token their requests carry), `POST /api/session` (sign in with a name and a
//! password), `DELETE /api/session` (sign out), and the sign-in page served at `/` to whoever
//! is not signed in. Every sign-in, failed sign-in and sign-out goes to the ledger's audit
//! log. The rules (who may do what, sessions, limits) are `auth.rs`'s.

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;

use super::auth::{self, Caller, Via, Who};
use super::{ApiError, AppState};
use crate::ledger::{Actor, LedgerError, PasswordHash, Role};

/// The sign-in page, embedded in the binary.
const SIGN_IN_PAGE: &str = include_str!("sign_in.html");

/// How long the sign-in form's token lasts.
const SIGN_IN_FORM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// The sign-in page (`GET /` without a session).
pub(crate) fn page() -> Response {
    (super::PAGE_HEADERS, SIGN_IN_PAGE).into_response()
}

/// What the page may offer a caller with this role (none: the open page).
fn can(state: &AppState, role: Option<Role>) -> serde_json::Value {
    let ledger = state.inner.auth.has_ledger();
    let may = |need: Role| role.is_none_or(|r| r.allows(need));
    serde_json::json!({
        "upload": may(Role::Preparer),
        "ledger_report": ledger && may(Role::Viewer),
        "final": ledger && may(Role::Approver),
    })
}

/// Adds an entry to the audit log as `actor`, waiting at most `--ledger-wait` for another
/// writer (then 503).
async fn audit(
    state: &AppState,
    actor: Actor,
    action: &str,
    detail: String,
) -> Result<(), ApiError> {
    let st = state.clone();
    let action = action.to_string();
    let wait = state.opts().ledger_wait;
    let done = tokio::task::spawn_blocking(move || {
        st.inner.auth.with_ledger(|l| {
            l.wait_for_writers(wait)?;
            l.set_actor(actor);
            l.audit(&action, &detail, Utc::now())
        })
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match done {
        Ok(()) => Ok(()),
        Err(LedgerError::Busy { .. }) => Err(super::ledger_busy(state.opts())),
        Err(e) => Err(ApiError::from_error(e.into(), state.opts())),
    }
}

/// The answer for a signed-in user.
fn signed_in(state: &AppState, name: &str, role: Role, via: Via, csrf: &str) -> serde_json::Value {
    serde_json::json!({
        "sign_in": true,
        "user": name,
        "role": role.as_str(),
        "role_means": role.what(),
        "via": match via { Via::Password => "password", Via::SingleSignOn => "single sign-on" },
        "csrf": csrf,
        "ledger": state.inner.auth.has_ledger(),
        "can": can(state, Some(role)),
    })
}

fn with_cookies(body: serde_json::Value, cookies: &[HeaderValue]) -> Response {
    let mut resp = Json(body).into_response();
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /api/session`: who is signed in (and their CSRF token), or a sign-in form's token.
/// A user a trusted proxy names gets a session here, which is their sign-in.
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let auth = &state.inner.auth;
    match &caller.who {
        Who::Open => Ok(with_cookies(
            serde_json::json!({
                "sign_in": false,
                "user": null,
                "role": null,
                "ledger": auth.has_ledger(),
                "can": can(&state, None),
            }),
            &[],
        )),
        Who::User {
            name,
            role,
            via,
            session: Some(id),
        } => {
            let csrf = auth.session(id).map(|s| s.csrf).unwrap_or_default();
            Ok(with_cookies(
                signed_in(&state, name, *role, *via, &csrf),
                &[],
            ))
        }
        Who::User {
            name, role, via, ..
        } => {
            let (id, csrf) = auth.open_session(name, *via);
            let detail = format!("signed in through single sign-on as {role}");
            if let Err(e) = audit(&state, caller.actor(), "sign-in", detail).await {
                auth.close_session(&id);
                return Err(e);
            }
            Ok(with_cookies(
                signed_in(&state, name, *role, *via, &csrf),
                &[auth::set_cookie(
                    auth::SESSION_COOKIE,
                    &id,
                    auth::SESSION_LIFETIME,
                )],
            ))
        }
        Who::Stranger(name) => {
            let detail =
                format!("refused: the single sign-on names {name}, who is not a user of this page");
            audit(&state, caller.actor(), "sign-in failed", detail).await?;
            Err(auth::stranger(name))
        }
        Who::Nobody => {
            let token = super::random_id();
            Ok(with_cookies(
                serde_json::json!({
                    "sign_in": true,
                    "user": null,
                    "role": null,
                    "csrf": token,
                    "single_sign_on": auth.has_single_sign_on(),
                    "ledger": auth.has_ledger(),
                }),
                &[auth::set_cookie(
                    auth::SIGN_IN_COOKIE,
                    &token,
                    SIGN_IN_FORM_LIFETIME,
                )],
            ))
        }
    }
}

/// The sign-in form.
#[derive(Deserialize)]
struct SignIn {
    name: String,
    password: String,
}

/// A name as the audit log shows a failed attempt: no control characters, at most 100.
fn shown(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(100).collect()
}

/// `POST /api/session`: sign in with `{"name": ..., "password": ...}` (JSON), the sign-in
/// form's token in X-CSRF-Token (from `GET /api/session`, whose cookie must come back too).
pub(crate) async fn post(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let auth = &state.inner.auth;
    if matches!(caller.who, Who::Open) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "nobody signs in here: the ledger has no users yet, so the page is open to this computer (llm-scope3 users add NAME --role preparer sets up sign-in)",
        ));
    }
    let form_token = auth::cookie(&headers, auth::SIGN_IN_COOKIE);
    let sent = auth::csrf_header(&headers);
    if !matches!((form_token, sent), (Some(a), Some(b)) if auth::same_token(a, b)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "refused: the sign-in form carries no valid token. Reload the page and sign in again (scripts: GET /api/session first, keep its cookie, and send its csrf value in X-CSRF-Token)",
        ));
    }
    let form: SignIn = serde_json::from_slice(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "send the sign-in as JSON: {\"name\": \"...\", \"password\": \"...\"}",
        )
    })?;
    let name = crate::ledger::normal_user_name(&form.name);
    if name.is_empty() || form.password.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "give a user name and a password",
        ));
    }
    let client = caller.client.clone();
    if let Some((message, wait)) = auth.throttled(&name, &client) {
        return Err(ApiError {
            retry_after: Some(wait.as_secs().max(1)),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, message)
        });
    }
    let st = state.clone();
    let lookup = name.clone();
    let password = form.password;
    // Looking up and checking (Argon2id, a few hundredths of a second) on a blocking thread;
    // an unknown name takes as long as a wrong password.
    let checked = tokio::task::spawn_blocking(move || {
        let creds = st.inner.auth.with_ledger(|l| l.credentials(&lookup))?;
        Ok::<_, LedgerError>(match creds {
            Some((role, Some(hash))) if hash.verify(&password) => Ok(role),
            Some((_, Some(_))) => Err("wrong password"),
            Some((_, None)) => {
                PasswordHash::verify_nothing(&password);
                Err("this user has no password: they sign in through single sign-on only")
            }
            None => {
                PasswordHash::verify_nothing(&password);
                Err("no such user")
            }
        })
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| ApiError::from_error(e.into(), state.opts()))?;
    let actor = Actor {
        who: shown(&name),
        via: Via::Password.audit().to_string(),
        client: Some(client.clone()),
    };
    let role = match checked {
        Ok(role) => role,
        Err(why) => {
            let paused = if auth.failed(&name, &client) {
                format!(
                    "; further sign-ins paused for {} minutes",
                    auth::FAILURE_WINDOW.as_secs() / 60
                )
            } else {
                String::new()
            };
            let detail = format!("sign-in as {} refused: {why}{paused}", shown(&name));
            if let Err(e) = audit(&state, actor, "sign-in failed", detail).await {
                eprintln!(
                    "llm-scope3 serve: a failed sign-in could not be audited: {}",
                    e.message
                );
            }
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong user name or password",
            ));
        }
    };
    auth.succeeded(&name);
    let (id, csrf) = auth.open_session(&name, Via::Password);
    let detail = format!("signed in with a password as {role}");
    if let Err(e) = audit(&state, actor, "sign-in", detail).await {
        auth.close_session(&id);
        return Err(e);
    }
    Ok(with_cookies(
        signed_in(&state, &name, role, Via::Password, &csrf),
        &[
            auth::set_cookie(auth::SESSION_COOKIE, &id, auth::SESSION_LIFETIME),
            auth::set_cookie(auth::SIGN_IN_COOKIE, "", std::time::Duration::ZERO),
        ],
    ))
}

/// `DELETE /api/session`: sign out (the session ends; audited).
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let Who::User {
        session: Some(id),
        via,
        ..
    } = &caller.who
    else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "nobody is signed in on this page",
        ));
    };
    state.inner.auth.close_session(id);
    let detail = match via {
        Via::Password => "signed out".to_string(),
        Via::SingleSignOn => {
            "signed out of this page (the single sign-on itself is not)".to_string()
        }
    };
    if let Err(e) = audit(&state, caller.actor(), "sign-out", detail).await {
        eprintln!(
            "llm-scope3 serve: a sign-out could not be audited: {}",
            e.message
        );
    }
    Ok(with_cookies(
        serde_json::json!({ "signed_out": true }),
        &[auth::set_cookie(
            auth::SESSION_COOKIE,
            "",
            std::time::Duration::ZERO,
        )],
    ))
}

//! Thin HTTP handlers: the page, `POST /api/reports`, the reports from the ledger
//! (`POST /api/ledger/report`, `POST /api/ledger/final`) and the two downloads. Each one only
//! translates between HTTP and the job (`job.rs`) or the result store (`mod.rs`); who may call
//! them is `auth.rs`'s to say, before they run.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::Caller;
use super::{job, pace, upload, ApiError, AppState};

/// The upload page, embedded in the binary (no CDN, works offline).
const PAGE: &str = include_str!("page.html");

/// `GET /`: the page, or the sign-in page for whoever must sign in first.
pub(crate) async fn page(caller: Option<Extension<Caller>>) -> Response {
    let signed_in = caller.is_none_or(|Extension(c)| {
        matches!(
            c.who,
            super::auth::Who::Open | super::auth::Who::User { .. }
        )
    });
    if !signed_in {
        return super::sign_in::page();
    }
    (super::PAGE_HEADERS, PAGE).into_response()
}

/// Any other path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such page: the upload page is at /, the API at /api/reports",
    )
}

/// `POST /api/reports`: admit (or 503), store the upload, build the report on a blocking
/// thread, keep it under a random id, answer the JSON summary with the download URLs.
pub(crate) async fn create(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    let inner = &state.inner;
    let actor = caller_actor(&req);
    // Admission before the body is read, so a full server does not take in 200 MiB first. A
    // full queue may make room by evicting an upload far under the minimum rate.
    let slot = state.admit()?;
    // While the body is read the place is held in the list of uploads being received, and the
    // pace is watched: too slow, or evicted, is 408.
    let meter = std::sync::Arc::new(pace::Meter::new(std::time::Instant::now()));
    let evict = std::sync::Arc::new(tokio::sync::Notify::new());
    let registration = state.register(meter.clone(), slot, evict.clone());
    let reading = async {
        let mp = Multipart::from_request(req, &state)
            .await
            .map_err(|r| ApiError::new(r.status(), r.body_text()))?;
        upload::read(mp, inner.opts.body_idle_timeout, &meter).await
    };
    let up = pace::watch(reading, &meter, &evict, &inner.opts).await;
    let slot = registration.finish();
    let up = up?;
    let slot = slot.ok_or_else(|| pace::evicted(&inner.opts))?;
    let worker = inner
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let st = state.clone();
    // The permits and the upload's folder live as long as the work, even when the client
    // goes away or the request times out.
    let done = tokio::task::spawn_blocking(move || {
        let _permits = (slot, worker);
        job::run(&up, &st.inner.opts, &st.inner.ledger_lock, actor)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error while building the report: {e}"),
        )
    })??;
    Ok(answer(&state, done))
}

/// Who the audit log names for this request.
fn caller_actor(req: &Request) -> crate::ledger::Actor {
    req.extensions()
        .get::<Caller>()
        .map_or_else(crate::ledger::Actor::unnamed, Caller::actor)
}

/// `POST /api/ledger/report`: a period's report from the ledger alone (JSON `quarter` or
/// `year`, `entity`, `note`).
pub(crate) async fn ledger_report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<job::LedgerRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    from_ledger(state, caller, body, false).await
}

/// `POST /api/ledger/final`: the same report, recorded as the period's final statement
/// (`accept_gaps` when its coverage has gaps).
pub(crate) async fn ledger_final(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<job::LedgerRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    from_ledger(state, caller, body, true).await
}

async fn from_ledger(
    state: AppState,
    caller: Caller,
    body: Result<Json<job::LedgerRequest>, JsonRejection>,
    final_: bool,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "send JSON with \"quarter\" (2026Q1) or \"year\" (2026), and optionally \"entity\", \"note\"{}: {}",
                if final_ { ", \"accept_gaps\"" } else { "" },
                e.body_text()
            ),
        )
    })?;
    let slot = state.admit()?;
    let worker = state
        .inner
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let st = state.clone();
    let actor = caller.actor();
    let done = tokio::task::spawn_blocking(move || {
        let _permits = (slot, worker);
        job::from_ledger(&req, final_, &st.inner.opts, &st.inner.ledger_lock, actor)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error while building the report: {e}"),
        )
    })??;
    Ok(answer(&state, done))
}

/// The JSON summary of a finished job with its download URLs, the report kept for download.
fn answer(state: &AppState, done: job::Done) -> Response {
    let stem = format!("llm-scope3-{}", safe_label(&done.label));
    let id = state.new_id();
    let body = match response_body(&done, &state.inner.opts, &id) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    // The summary's text is kept (gzip-compressed) once the answer is written from it.
    let job::Done { xlsx, json, .. } = done;
    state.store(id, xlsx, json, stem);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// The answer to an upload: the JSON summary's fields, each kept as the text it was written as
/// (never parsed into a tree: that took about 5 KiB a line), with the page's own fields added
/// (`files` replaced by the page's view of each uploaded file). Keys in order, as before.
fn response_body(done: &job::Done, opts: &super::Options, id: &str) -> Result<String, ApiError> {
    use serde_json::value::RawValue;
    let internal = |e: serde_json::Error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("JSON summary: {e}"),
        )
    };
    let mut fields: std::collections::BTreeMap<&str, std::borrow::Cow<'_, RawValue>> =
        serde_json::from_str::<std::collections::BTreeMap<&str, &RawValue>>(&done.json)
            .map_err(internal)?
            .into_iter()
            .map(|(k, v)| (k, std::borrow::Cow::Borrowed(v)))
            .collect();
    let raw = |v: serde_json::Value| -> Result<std::borrow::Cow<'_, RawValue>, ApiError> {
        Ok(std::borrow::Cow::Owned(
            serde_json::value::to_raw_value(&v).map_err(internal)?,
        ))
    };
    let extra = [
        (
            "workbook_url",
            serde_json::json!(format!("/api/reports/{id}/workbook.xlsx")),
        ),
        (
            "json_url",
            serde_json::json!(format!("/api/reports/{id}/summary.json")),
        ),
        (
            "expires_in_seconds",
            serde_json::json!(opts.result_ttl.as_secs()),
        ),
        (
            "files",
            serde_json::to_value(&done.files).map_err(internal)?,
        ),
        ("period_chosen", serde_json::json!(done.period_chosen)),
        ("report_id", serde_json::json!(id)),
    ];
    for (k, v) in extra {
        fields.insert(k, raw(v)?);
    }
    serde_json::to_string(&fields).map_err(internal)
}

/// `GET /api/reports/{id}/workbook.xlsx`.
pub(crate) async fn workbook(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (xlsx, _, stem) = find(&state, &id)?;
    Ok(download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("{stem}.xlsx"),
        xlsx.as_ref().clone(),
    ))
}

/// `GET /api/reports/{id}/summary.json`: the JSON summary exactly as `report --json` writes it.
pub(crate) async fn summary(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, json, stem) = find(&state, &id)?;
    Ok(download(
        "application/json",
        format!("{stem}.json"),
        json.as_bytes().to_vec(),
    ))
}

type Found = (std::sync::Arc<Vec<u8>>, std::sync::Arc<String>, String);

fn find(state: &AppState, id: &str) -> Result<Found, ApiError> {
    let valid = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| state.get(id)).flatten().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no such report: it has expired or the server was restarted; upload the files again",
        )
    })
}

fn download(content_type: &'static str, name: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// A period label as a file-name part (`2026Q1`, `FY2026`).
fn safe_label(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

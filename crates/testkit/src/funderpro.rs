//! A fake FunderPro discount API on loopback, speaking the wire format documented in
//! `promostack::integrations::funderpro` (docs/coupons.md): `GET /discounts/{code}?product_id=`
//! with `X-API-Key`. Codes compare case-insensitively. It can fail (HTTP 503), be slow, and
//! counts the lookups it answered, so tests can prove the server's cache.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const PRODUCT_ID: &str = "10k-challenge";
pub const API_KEY: &str = "fp-test-key";

#[derive(Default)]
struct Shared {
    /// By upper-cased code: the JSON body answered with 200.
    codes: Mutex<HashMap<String, Value>>,
    calls: AtomicUsize,
    failing: AtomicBool,
    delay_ms: AtomicU64,
    /// Requests refused for a wrong or missing key.
    unauthorised: AtomicUsize,
}

pub struct FakeFunderPro {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeFunderPro {
    pub async fn start() -> FakeFunderPro {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .route("/discounts/{code}", axum::routing::get(lookup))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeFunderPro { url, shared, task }
    }

    /// Point an app's configuration at this fake (URL, product, key).
    pub fn configure(&self, config: &mut promostack::Config) {
        let i = &mut config.integrations;
        i.funderpro_api_url = Some(self.url.clone());
        i.funderpro_product_id = Some(PRODUCT_ID.into());
        i.funderpro_api_key = Some(promostack::config::Secret::new(API_KEY));
    }

    fn put(&self, code: &str, body: Value) {
        self.shared
            .codes
            .lock()
            .expect("codes")
            .insert(code.to_uppercase(), body);
    }

    /// A live code with a percent discount, for our product.
    pub fn add_active(&self, code: &str, percent: f64) {
        self.put(
            code,
            json!({"code": code, "status": "active",
                   "discount": {"type": "percent", "value": percent},
                   "expires_at": null, "product_ids": [PRODUCT_ID]}),
        );
    }

    /// A code FunderPro reports with `status` ("expired", "inactive", ...).
    pub fn add_with_status(&self, code: &str, status: &str) {
        self.put(
            code,
            json!({"code": code, "status": status, "discount": null, "expires_at": null, "product_ids": null}),
        );
    }

    /// Active, but only for another product.
    pub fn add_for_other_product(&self, code: &str) {
        self.put(
            code,
            json!({"code": code, "status": "active", "discount": {"type": "amount", "value": 25, "currency": "USD"},
                   "expires_at": null, "product_ids": ["200k-challenge"]}),
        );
    }

    /// Active, with an `expires_at` in the past.
    pub fn add_lapsed(&self, code: &str) {
        self.put(
            code,
            json!({"code": code, "status": "active", "discount": null,
                   "expires_at": "2020-01-01T00:00:00Z", "product_ids": null}),
        );
    }

    /// Answer every lookup with 503 while `failing`.
    pub fn set_failing(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }

    /// Wait this long before answering.
    pub fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Lookups received (answered or failed).
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    pub fn unauthorised_calls(&self) -> usize {
        self.shared.unauthorised.load(Ordering::SeqCst)
    }
}

impl Drop for FakeFunderPro {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn lookup(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    shared.calls.fetch_add(1, Ordering::SeqCst);
    let delay = shared.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        shared.unauthorised.fetch_add(1, Ordering::SeqCst);
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid api key"})),
        )
            .into_response();
    }
    if shared.failing.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "maintenance"})),
        )
            .into_response();
    }
    if query.get("product_id").map(String::as_str) != Some(PRODUCT_ID) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unknown product_id"})),
        )
            .into_response();
    }
    match shared
        .codes
        .lock()
        .expect("codes")
        .get(&code.to_uppercase())
    {
        Some(body) => Json(body.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response(),
    }
}

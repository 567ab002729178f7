//! A fake Twelve Data API on loopback serving real bars (the bundled EUR/USD hours unless told
//! otherwise) under any symbol it was given, on its wire format: `GET /time_series` (prices as
//! strings, newest first, the forming bar included) and `GET /price`, errors as
//! `{"code","message","status":"error"}` with HTTP 429/4xx or with HTTP 200. Its "now" is a
//! settable unix time, so tests decide which bars have closed.
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use promostack_signals::bars::{Bar, format_time, parse_ohlc_csv};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const API_KEY: &str = "td-test-key";

/// What the next calls answer instead of data.
#[derive(Clone, Debug)]
pub enum Failure {
    /// HTTP 429 with code 429 (out of credits for the minute).
    RateLimited,
    /// HTTP 200 with `{"code": 400, "status": "error"}` (as Twelve Data does for bad symbols).
    ErrorWith200 { code: i64, message: String },
    /// HTTP 503 with an HTML body.
    Down,
}

#[derive(Default)]
struct Shared {
    /// By normalised symbol: bars at the interval's step, oldest first.
    series: Mutex<HashMap<(String, String), Vec<Bar>>>,
    now: AtomicI64,
    calls: AtomicUsize,
    failures: Mutex<Vec<Failure>>,
    outputsizes: Mutex<Vec<usize>>,
}

pub struct FakeTwelveData {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

fn norm(symbol: &str) -> String {
    symbol
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl FakeTwelveData {
    pub async fn start() -> FakeTwelveData {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .route("/time_series", axum::routing::get(time_series))
            .route("/price", axum::routing::get(price))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTwelveData { url, shared, task }
    }

    /// Point an app's configuration at this fake.
    pub fn configure(&self, config: &mut promostack::Config) {
        let i = &mut config.integrations;
        i.twelve_data_base_url = self.url.clone();
        i.twelve_data_api_key = Some(promostack::config::Secret::new(API_KEY));
    }

    /// Serve `bars` (oldest first) as `symbol` at `interval` (`15min`, `1h`).
    pub fn serve(&self, symbol: &str, interval: &str, bars: Vec<Bar>) {
        self.shared
            .series
            .lock()
            .expect("series")
            .insert((norm(symbol), interval.to_string()), bars);
    }

    /// The bundled real EUR/USD hours, as `symbol` at `1h`; returns them.
    pub fn serve_bundled_hours(&self, symbol: &str) -> Vec<Bar> {
        let csv = include_str!("../../server/data/EURUSD_H1.csv");
        let bars = parse_ohlc_csv(csv).expect("bundled bars").bars;
        self.serve(symbol, "1h", bars.clone());
        bars
    }

    /// The fake's current unix time: bars closing after it are not closed yet.
    pub fn set_now(&self, unix_seconds: i64) {
        self.shared.now.store(unix_seconds, Ordering::SeqCst);
    }

    /// The next calls fail like this, one failure per call, in order.
    pub fn fail_next(&self, failures: Vec<Failure>) {
        self.shared
            .failures
            .lock()
            .expect("failures")
            .extend(failures);
    }

    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// `outputsize` of each time-series call so far.
    pub fn outputsizes(&self) -> Vec<usize> {
        self.shared.outputsizes.lock().expect("sizes").clone()
    }
}

impl Drop for FakeTwelveData {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "status": "error"})),
    )
        .into_response()
}

/// Authenticates and pops an injected failure.
fn gate(shared: &Shared, query: &HashMap<String, String>) -> Option<Response> {
    shared.calls.fetch_add(1, Ordering::SeqCst);
    if query.get("apikey").map(String::as_str) != Some(API_KEY) {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            401,
            "**apikey** parameter is incorrect or not specified.",
        ));
    }
    let failure = {
        let mut f = shared.failures.lock().expect("failures");
        (!f.is_empty()).then(|| f.remove(0))
    };
    failure.map(|f| match f {
        Failure::RateLimited => error(
            StatusCode::TOO_MANY_REQUESTS,
            429,
            "You have run out of API credits for the current minute.",
        ),
        Failure::ErrorWith200 { code, message } => error(StatusCode::OK, code, &message),
        Failure::Down => (StatusCode::SERVICE_UNAVAILABLE, "<html>busy</html>").into_response(),
    })
}

fn step(interval: &str) -> Option<i64> {
    match interval {
        "15min" => Some(900),
        "1h" => Some(3600),
        _ => None,
    }
}

fn price_text(v: f64) -> String {
    format!("{v:.5}")
}

async fn time_series(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = gate(&shared, &query) {
        return r;
    }
    let symbol = query.get("symbol").cloned().unwrap_or_default();
    let interval = query.get("interval").cloned().unwrap_or_default();
    if step(&interval).is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            400,
            "**interval** is not supported",
        );
    }
    let size: usize = query
        .get("outputsize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    shared.outputsizes.lock().expect("sizes").push(size);
    let now = shared.now.load(Ordering::SeqCst);
    let series = shared.series.lock().expect("series");
    let Some(bars) = series.get(&(norm(&symbol), interval.clone())) else {
        // Twelve Data answers an unknown symbol with HTTP 200 and an error body.
        return error(
            StatusCode::OK,
            400,
            &format!("**symbol** {symbol} not found: Please specify it correctly"),
        );
    };
    // Every bar that has opened by now, the forming one included, newest first.
    let values: Vec<Value> = bars
        .iter()
        .rev()
        .filter(|b| b.time <= now)
        .take(size.min(5000))
        .map(|b| {
            json!({
                "datetime": format_time(b.time),
                "open": price_text(b.open),
                "high": price_text(b.high),
                "low": price_text(b.low),
                "close": price_text(b.close),
            })
        })
        .collect();
    Json(json!({
        "meta": {"symbol": symbol, "interval": interval, "type": "Physical Currency"},
        "values": values,
        "status": "ok",
    }))
    .into_response()
}

async fn price(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = gate(&shared, &query) {
        return r;
    }
    let symbol = query.get("symbol").cloned().unwrap_or_default();
    let now = shared.now.load(Ordering::SeqCst);
    let series = shared.series.lock().expect("series");
    let last = series
        .iter()
        .filter(|((s, _), _)| *s == norm(&symbol))
        .filter_map(|(_, bars)| bars.iter().rev().find(|b| b.time <= now))
        .max_by_key(|b| b.time);
    match last {
        Some(b) => Json(json!({"price": price_text(b.close)})).into_response(),
        None => error(StatusCode::OK, 400, "**symbol** not found"),
    }
}

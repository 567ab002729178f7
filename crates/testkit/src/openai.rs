//! A fake OpenAI chat-completions API on loopback (`POST /v1/chat/completions`, bearer key),
//! answering from a script: a text, a 429 rate limit with `retry-after`, a 429
//! `insufficient_quota`, or a 500. With nothing scripted it answers [`DEFAULT_NOTE`]. It
//! records every request body.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const API_KEY: &str = "sk-test-fake-openai-key";
pub const DEFAULT_NOTE: &str = "Momentum and structure agree here; let the plan do the work.";

#[derive(Clone, Debug)]
pub enum Answer {
    Text(String),
    RateLimited { retry_after_secs: u64 },
    QuotaExhausted,
    ServerError,
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Answer>>,
    requests: Mutex<Vec<Value>>,
}

pub struct FakeOpenAi {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeOpenAi {
    pub async fn start() -> FakeOpenAi {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(complete))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeOpenAi { url, shared, task }
    }

    pub fn configure(&self, config: &mut promostack::Config) {
        let i = &mut config.integrations;
        i.openai_base_url = format!("{}/v1", self.url);
        i.openai_api_key = Some(promostack::config::Secret::new(API_KEY));
    }

    /// The next requests get these answers, in order.
    pub fn script(&self, answers: Vec<Answer>) {
        self.shared.script.lock().expect("script").extend(answers);
    }

    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().expect("requests").clone()
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn complete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {API_KEY}"));
    if !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}})),
        )
            .into_response();
    }
    shared.requests.lock().expect("requests").push(body);
    let answer = shared.script.lock().expect("script").pop_front();
    match answer.unwrap_or_else(|| Answer::Text(DEFAULT_NOTE.into())) {
        Answer::Text(text) => Json(json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}
        }))
        .into_response(),
        Answer::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after_secs.to_string())],
            Json(json!({"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests", "code": "rate_limit_exceeded"}})),
        )
            .into_response(),
        Answer::QuotaExhausted => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}})),
        )
            .into_response(),
        Answer::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"message": "The server had an error", "type": "server_error"}})),
        )
            .into_response(),
    }
}

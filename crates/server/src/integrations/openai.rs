//! Thin OpenAI chat-completions client (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, model
//! `gpt-4o-mini`): one system and one user message in, the first choice's text out.
//!
//! ```text
//! POST {base}/chat/completions   Authorization: Bearer KEY
//! {"model": "gpt-4o-mini", "messages": [{"role": "system", ...}, {"role": "user", ...}],
//!  "max_tokens": 160, "temperature": 0.7}
//! 200 {"choices": [{"message": {"role": "assistant", "content": "..."}}], ...}
//! 429 {"error": {"code": "rate_limit_exceeded" | "insufficient_quota", "message": ...}}
//!     with `retry-after` (seconds) on rate limits
//! ```
//! A rate limit is retried after `retry-after` (bounded); `insufficient_quota` never is (it
//! will not pass by waiting); 5xx once.
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::config::Secret;

pub const MODEL: &str = "gpt-4o-mini";
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// A `retry-after` longer than this is not waited for: the caller falls back instead.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(20);
const ATTEMPTS: usize = 3;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AiError {
    #[error("OpenAI quota exhausted (insufficient_quota): not retried")]
    QuotaExhausted,
    #[error("OpenAI rate limited for {0} s")]
    RateLimited(u64),
    #[error("OpenAI refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("OpenAI is unavailable: {0}")]
    Unavailable(String),
    #[error("OpenAI answered without text")]
    Empty,
}

#[derive(Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    base_url: String,
    api_key: Secret,
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<ChoiceMessage>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: Option<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

impl OpenAiClient {
    pub fn new(http: reqwest::Client, base_url: &str, api_key: Secret) -> Self {
        OpenAiClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
        }
    }

    /// The assistant's reply to `system` + `user`.
    pub async fn complete(&self, system: &str, user: &str) -> Result<String, AiError> {
        let body = json!({
            "model": MODEL,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "max_tokens": 160,
            "temperature": 0.7,
        });
        let mut last = AiError::Empty;
        for attempt in 0..ATTEMPTS {
            match self.once(&body).await {
                Ok(text) => return Ok(text),
                Err(AiError::RateLimited(secs))
                    if attempt + 1 < ATTEMPTS && Duration::from_secs(secs) <= MAX_RETRY_WAIT =>
                {
                    tokio::time::sleep(Duration::from_secs(secs)).await;
                    last = AiError::RateLimited(secs);
                }
                Err(e @ AiError::Unavailable(_)) if attempt == 0 => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    async fn once(&self, body: &serde_json::Value) -> Result<String, AiError> {
        let response = self
            .http
            .post(format!("{}/chat/completions", self.base_url))
            .bearer_auth(self.api_key.expose())
            .json(body)
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                AiError::Unavailable(if e.is_timeout() {
                    "timed out".into()
                } else {
                    "the request failed".into()
                })
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|s| s.ceil().max(0.0) as u64);
        let bytes = response
            .bytes()
            .await
            .map_err(|_| AiError::Unavailable("the answer was cut off".into()))?;
        if status.is_success() {
            let completion: Completion = serde_json::from_slice(&bytes)
                .map_err(|e| AiError::Unavailable(format!("unreadable answer: {e}")))?;
            return completion
                .choices
                .into_iter()
                .find_map(|c| c.message.and_then(|m| m.content))
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .ok_or(AiError::Empty);
        }
        let detail = serde_json::from_slice::<ErrorEnvelope>(&bytes)
            .ok()
            .and_then(|e| e.error);
        let code = detail
            .as_ref()
            .and_then(|d| d.code.clone().or(d.kind.clone()))
            .unwrap_or_default();
        if code == "insufficient_quota" {
            return Err(AiError::QuotaExhausted);
        }
        if status.as_u16() == 429 {
            return Err(AiError::RateLimited(retry_after.unwrap_or(1)));
        }
        if status.is_server_error() {
            return Err(AiError::Unavailable(format!("HTTP {status}")));
        }
        Err(AiError::Refused {
            status: status.as_u16(),
            message: detail.and_then(|d| d.message).unwrap_or_default(),
        })
    }
}

/// The numbers written in `text` (`1.0845`, `-12.5`, `50`), skipping digits that are part
/// of a word (`TP1`, `H1`, `4o`).
pub fn numbers_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
                    || (chars[i] == ',' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                i += 1;
            }
            let glued_before = start > 0 && chars[start - 1].is_alphabetic();
            let glued_after = chars.get(i).is_some_and(|c| c.is_alphabetic());
            if !glued_before && !glued_after {
                out.push(chars[start..i].iter().filter(|c| **c != ',').collect());
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Whether every number in `text` is one of `allowed` (compared at the precision written).
pub fn only_given_numbers(text: &str, allowed: &[f64]) -> bool {
    numbers_in(text).iter().all(|token| {
        let Ok(value) = token.parse::<f64>() else {
            return false;
        };
        let decimals = token.split('.').nth(1).map_or(0, str::len) as i32;
        let scale = 10f64.powi(decimals);
        allowed.iter().any(|a| {
            let a = a.abs();
            ((a * scale).round() - (value * scale).round()).abs() < 0.5
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_found_outside_words() {
        assert_eq!(
            numbers_in("TP1 at 1.0845, stop 1,234.5 and -12.5 pips on H1"),
            ["1.0845", "1234.5", "12.5"]
        );
        assert!(numbers_in("gpt-4o says hi").is_empty());
    }

    #[test]
    fn a_number_the_engine_did_not_give_is_caught() {
        let allowed = [1.08452, 20.6, 7.0];
        assert!(only_given_numbers(
            "Signal 7 targets +20.6 pips from 1.08452.",
            &allowed
        ));
        assert!(
            only_given_numbers("Entry near 1.0845", &allowed),
            "a rounding of a given price"
        );
        assert!(!only_given_numbers("Gold could reach 2100 today", &allowed));
        assert!(!only_given_numbers("Aim for 25 pips", &allowed));
        assert!(only_given_numbers(
            "No numbers at all, just momentum.",
            &allowed
        ));
    }
}

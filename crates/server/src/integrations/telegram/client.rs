//! A thin Bot API client on the workspace reqwest: `POST {base}/bot{token}/{method}` with a JSON
//! body (multipart for uploads), the `{ok, result | error_code, description, parameters}`
//! envelope decoded, errors classified, message sends paced by the [`RateLimiter`], 429s and
//! transient failures retried. The token is part of the URL, so reqwest errors are stripped of
//! their URL before they are shown anywhere.
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::limiter::{Destination, Limits, RateLimiter};
use super::types::{
    ApiResponse, BotCommand, ChatFullInfo, ChatMember, ChatRef, InlineKeyboardMarkup, InputFile,
    Message, Update, User, WebhookInfo,
};
use crate::config::Secret;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TelegramError {
    /// 403: the user blocked the bot, or the bot was removed from the chat. Never retried.
    #[error("forbidden by Telegram: {description}")]
    Blocked { description: String },
    /// 429 still standing after the allowed retries (or longer than we wait inline).
    #[error("rate limited by Telegram; retry after {secs} s")]
    RetryAfter { secs: u64 },
    /// 400: Telegram refused the request as sent.
    #[error("bad request: {description}")]
    BadRequest { description: String },
    /// 401: Telegram does not accept the token (revoked in @BotFather, or wrong). Never retried;
    /// callers stop using the token at once.
    #[error("Telegram rejected the bot token (401 Unauthorized): it was revoked or is wrong")]
    Unauthorized,
    /// 404 for a well-known method: the token is not shaped like one Telegram issues.
    #[error("the bot token was rejected by Telegram")]
    InvalidToken,
    /// 5xx after retries.
    #[error("Telegram server error {status}: {description}")]
    Server { status: u16, description: String },
    /// Connection, timeout or TLS failure after retries (no URL, so no token, in the text).
    #[error("cannot reach Telegram: {0}")]
    Network(String),
    /// The answer was not the Bot API envelope we expect.
    #[error("unexpected answer from Telegram: {0}")]
    Decode(String),
}

impl TelegramError {
    pub fn is_blocked(&self) -> bool {
        matches!(self, TelegramError::Blocked { .. })
    }

    /// The token itself is refused (401 or 404): retrying with it cannot help.
    pub fn rejects_token(&self) -> bool {
        matches!(
            self,
            TelegramError::Unauthorized | TelegramError::InvalidToken
        )
    }

    /// A short machine name, for metrics and usage rows.
    pub fn kind(&self) -> &'static str {
        match self {
            TelegramError::Blocked { .. } => "blocked",
            TelegramError::RetryAfter { .. } => "rate_limited",
            TelegramError::BadRequest { .. } => "bad_request",
            TelegramError::Unauthorized => "unauthorized",
            TelegramError::InvalidToken => "invalid_token",
            TelegramError::Server { .. } => "server_error",
            TelegramError::Network(_) => "network",
            TelegramError::Decode(_) => "decode",
        }
    }
}

pub type TgResult<T> = Result<T, TelegramError>;

/// How hard one call tries before it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub attempts: u32,
    /// Back-off before the second attempt after a 5xx or network error; doubles each time.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// A 429 asking for longer than this is returned to the caller instead of waited out.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// The body of one call; uploads are rebuilt for each attempt (multipart forms are one-shot).
#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    Upload {
        fields: Vec<(&'static str, String)>,
        file_field: &'static str,
        file_name: String,
        bytes: bytes::Bytes,
        mime: &'static str,
    },
}

#[derive(Clone)]
pub struct BotClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    token: Secret,
    limiter: RateLimiter,
    retry: RetryPolicy,
}

impl std::fmt::Debug for BotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotClient")
            .field("base", &self.inner.base)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// Optional parts of a text or photo message.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    pub reply_markup: Option<InlineKeyboardMarkup>,
    /// `HTML` or `MarkdownV2`; plain text when unset.
    pub parse_mode: Option<&'static str>,
    pub reply_to_message_id: Option<i64>,
}

impl BotClient {
    /// `base` is the Bot API root (`TELEGRAM_API_URL`, e.g. `https://api.telegram.org`).
    pub fn new(
        http: reqwest::Client,
        base: &str,
        token: Secret,
        limits: Limits,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                base: base.trim_end_matches('/').to_owned(),
                token,
                limiter: RateLimiter::new(limits),
                retry,
            }),
        }
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    /// Call any Bot API method with JSON parameters. `to` paces the call as a message to that
    /// chat; `None` for calls that are not messages (getMe, answerCallbackQuery, setWebhook).
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
        to: Option<i64>,
    ) -> TgResult<T> {
        self.execute(method, Body::Json(params), to).await
    }

    async fn execute<T: DeserializeOwned>(
        &self,
        method: &str,
        body: Body,
        to: Option<i64>,
    ) -> TgResult<T> {
        let retry = self.inner.retry;
        let mut backoff = retry.backoff;
        let mut attempt = 1;
        loop {
            if let Some(chat_id) = to {
                self.inner
                    .limiter
                    .acquire(Destination {
                        chat_id,
                        // Group and channel ids are negative; users' private chats positive.
                        is_group: chat_id < 0,
                    })
                    .await;
            }
            let outcome = self.attempt::<T>(method, body.clone()).await;
            let last = attempt >= retry.attempts;
            let error = match outcome {
                Ok(value) => {
                    metrics::counter!("telegram_requests_total", "method" => method.to_owned(), "outcome" => "ok").increment(1);
                    return Ok(value);
                }
                Err(error) => error,
            };
            metrics::counter!("telegram_requests_total", "method" => method.to_owned(), "outcome" => error.kind()).increment(1);
            match &error {
                TelegramError::RetryAfter { secs } => {
                    let wait = Duration::from_secs(*secs);
                    if let Some(chat_id) = to {
                        self.inner.limiter.penalize(chat_id, *secs);
                    }
                    if last || wait > retry.max_retry_after {
                        return Err(error);
                    }
                    tracing::info!(method, retry_after = secs, "Telegram asked us to slow down");
                    if to.is_none() {
                        tokio::time::sleep(wait).await;
                    }
                }
                TelegramError::Server { .. } | TelegramError::Network(_) if !last => {
                    tracing::debug!(method, attempt, error = %error, "retrying Telegram call");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(retry.max_backoff);
                }
                _ => return Err(error),
            }
            attempt += 1;
        }
    }

    async fn attempt<T: DeserializeOwned>(&self, method: &str, body: Body) -> TgResult<T> {
        let url = format!(
            "{}/bot{}/{}",
            self.inner.base,
            self.inner.token.expose(),
            method
        );
        let request = self.inner.http.post(url);
        let request = match body {
            Body::Json(params) => request.json(&params),
            Body::Upload {
                fields,
                file_field,
                file_name,
                bytes,
                mime,
            } => {
                let mut form = reqwest::multipart::Form::new();
                for (name, value) in fields {
                    form = form.text(name, value);
                }
                let part = reqwest::multipart::Part::stream(bytes)
                    .file_name(file_name)
                    .mime_str(mime)
                    .map_err(|e| TelegramError::Decode(e.without_url().to_string()))?;
                request.multipart(form.part(file_field, part))
            }
        };
        let response = request
            .send()
            .await
            .map_err(|e| TelegramError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| TelegramError::Network(e.without_url().to_string()))?;
        decode(status, &text)
    }

    pub async fn get_me(&self) -> TgResult<User> {
        self.call("getMe", json!({}), None).await
    }

    pub async fn send_message(
        &self,
        chat_id: i64,
        text: &str,
        options: &SendOptions,
    ) -> TgResult<Message> {
        let mut params = json!({"chat_id": chat_id, "text": text});
        apply_options(&mut params, options);
        self.call("sendMessage", params, Some(chat_id)).await
    }

    /// Send a photo: upload new bytes (multipart) or re-send a `file_id` (JSON, no upload).
    pub async fn send_photo(
        &self,
        chat_id: i64,
        photo: InputFile,
        caption: Option<&str>,
        options: &SendOptions,
    ) -> TgResult<Message> {
        match photo {
            InputFile::FileId(file_id) => {
                let mut params = json!({"chat_id": chat_id, "photo": file_id});
                if let Some(caption) = caption {
                    params["caption"] = json!(caption);
                }
                apply_options(&mut params, options);
                self.call("sendPhoto", params, Some(chat_id)).await
            }
            InputFile::Upload {
                file_name,
                bytes,
                mime,
            } => {
                let mut fields = vec![("chat_id", chat_id.to_string())];
                if let Some(caption) = caption {
                    fields.push(("caption", caption.to_owned()));
                }
                if let Some(mode) = options.parse_mode {
                    fields.push(("parse_mode", mode.to_owned()));
                }
                if let Some(markup) = &options.reply_markup {
                    fields.push((
                        "reply_markup",
                        serde_json::to_string(markup).expect("markup serialises"),
                    ));
                }
                let body = Body::Upload {
                    fields,
                    file_field: "photo",
                    file_name,
                    bytes,
                    mime,
                };
                self.execute("sendPhoto", body, Some(chat_id)).await
            }
        }
    }

    pub async fn answer_callback_query(&self, id: &str, text: Option<&str>) -> TgResult<bool> {
        let mut params = json!({"callback_query_id": id});
        if let Some(text) = text {
            params["text"] = json!(text);
        }
        self.call("answerCallbackQuery", params, None).await
    }

    pub async fn set_webhook(
        &self,
        url: &str,
        secret_token: &str,
        allowed_updates: &[&str],
    ) -> TgResult<bool> {
        self.call(
            "setWebhook",
            json!({"url": url, "secret_token": secret_token, "allowed_updates": allowed_updates}),
            None,
        )
        .await
    }

    /// Remove the webhook (switching to `getUpdates`); `drop_pending` discards queued updates.
    pub async fn delete_webhook(&self) -> TgResult<bool> {
        self.delete_webhook_with(false).await
    }

    pub async fn delete_webhook_with(&self, drop_pending: bool) -> TgResult<bool> {
        self.call(
            "deleteWebhook",
            json!({"drop_pending_updates": drop_pending}),
            None,
        )
        .await
    }

    /// `getChat`: the chat if the bot can see it (400 "chat not found" when it is not in it).
    pub async fn get_chat(&self, chat: &ChatRef) -> TgResult<ChatFullInfo> {
        self.call("getChat", json!({"chat_id": chat}), None).await
    }

    /// `getChatMember`: `user_id`'s membership and rights (the bot's own with its id).
    pub async fn get_chat_member(&self, chat: &ChatRef, user_id: i64) -> TgResult<ChatMember> {
        self.call(
            "getChatMember",
            json!({"chat_id": chat, "user_id": user_id}),
            None,
        )
        .await
    }

    pub async fn get_webhook_info(&self) -> TgResult<WebhookInfo> {
        self.call("getWebhookInfo", json!({}), None).await
    }

    pub async fn set_my_commands(&self, commands: &[BotCommand]) -> TgResult<bool> {
        self.call("setMyCommands", json!({"commands": commands}), None)
            .await
    }

    /// Long polling: wait up to `timeout_secs` for updates after `offset`.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout_secs: u32,
        allowed_updates: &[&str],
    ) -> TgResult<Vec<Update>> {
        let mut params = json!({"timeout": timeout_secs, "allowed_updates": allowed_updates});
        if let Some(offset) = offset {
            params["offset"] = json!(offset);
        }
        self.call("getUpdates", params, None).await
    }

    /// One paced attempt, no retries: a 429, 5xx or network error comes straight back. For
    /// callers that must decide themselves whether a retry could duplicate a message (bulk
    /// broadcasts pause everything on a 429 and never resend after an ambiguous failure).
    pub async fn call_once<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
        to: Option<i64>,
    ) -> TgResult<T> {
        if let Some(chat_id) = to {
            self.inner
                .limiter
                .acquire(Destination {
                    chat_id,
                    is_group: chat_id < 0,
                })
                .await;
        }
        let outcome = self.attempt::<T>(method, Body::Json(params)).await;
        let kind = outcome.as_ref().map_or_else(TelegramError::kind, |_| "ok");
        metrics::counter!("telegram_requests_total", "method" => method.to_owned(), "outcome" => kind).increment(1);
        outcome
    }
}

fn apply_options(params: &mut Value, options: &SendOptions) {
    if let Some(markup) = &options.reply_markup {
        params["reply_markup"] = serde_json::to_value(markup).expect("markup serialises");
    }
    if let Some(mode) = options.parse_mode {
        params["parse_mode"] = json!(mode);
    }
    if let Some(id) = options.reply_to_message_id {
        params["reply_parameters"] = json!({"message_id": id, "allow_sending_without_reply": true});
    }
}

/// Classify one HTTP answer of the Bot API.
fn decode<T: DeserializeOwned>(status: u16, text: &str) -> TgResult<T> {
    let envelope: ApiResponse<Value> = match serde_json::from_str(text) {
        Ok(envelope) => envelope,
        Err(_) if status >= 500 => {
            return Err(TelegramError::Server {
                status,
                description: truncate(text),
            });
        }
        Err(e) => return Err(TelegramError::Decode(format!("status {status}: {e}"))),
    };
    if envelope.ok && (200..300).contains(&status) {
        let result = envelope.result.unwrap_or(Value::Null);
        return serde_json::from_value(result).map_err(|e| TelegramError::Decode(e.to_string()));
    }
    let code = envelope.error_code.unwrap_or(status);
    let description = envelope.description.unwrap_or_default();
    Err(match code {
        429 => TelegramError::RetryAfter {
            secs: envelope.parameters.and_then(|p| p.retry_after).unwrap_or(1),
        },
        403 => TelegramError::Blocked { description },
        401 => TelegramError::Unauthorized,
        404 => TelegramError::InvalidToken,
        400..=499 => TelegramError::BadRequest { description },
        _ => TelegramError::Server {
            status: code,
            description,
        },
    })
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_classified() {
        let ok: TgResult<bool> = decode(200, r#"{"ok":true,"result":true}"#);
        assert_eq!(ok, Ok(true));
        let blocked: TgResult<bool> = decode(
            403,
            r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
        );
        assert!(blocked.unwrap_err().is_blocked());
        let limited: TgResult<bool> = decode(
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#,
        );
        assert_eq!(limited, Err(TelegramError::RetryAfter { secs: 3 }));
        let bad: TgResult<bool> = decode(
            400,
            r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
        );
        assert_eq!(
            bad,
            Err(TelegramError::BadRequest {
                description: "Bad Request: chat not found".into()
            })
        );
        let gateway: TgResult<bool> = decode(502, "<html>Bad Gateway</html>");
        assert!(matches!(
            gateway,
            Err(TelegramError::Server { status: 502, .. })
        ));
        let token: TgResult<bool> = decode(
            401,
            r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
        );
        assert_eq!(token, Err(TelegramError::Unauthorized));
        assert!(token.unwrap_err().rejects_token());
        let malformed: TgResult<bool> = decode(
            404,
            r#"{"ok":false,"error_code":404,"description":"Not Found"}"#,
        );
        assert_eq!(malformed, Err(TelegramError::InvalidToken));
    }

    #[test]
    fn debug_hides_the_token() {
        crate::install_crypto_provider();
        let client = BotClient::new(
            reqwest::Client::new(),
            "http://127.0.0.1:1",
            Secret::new("123:SECRET"),
            Limits::TELEGRAM,
            RetryPolicy::default(),
        );
        assert!(!format!("{client:?}").contains("SECRET"));
    }
}

//! A fake Telegram Bot API on loopback that speaks the real wire format: `/bot{token}/{method}`
//! with JSON, form-urlencoded or multipart bodies (or a query string), answering the
//! `{ok, result}` / `{ok: false, error_code, description, parameters}` envelope. It records every
//! call, keeps photo uploads and hands out `file_id`s that can be re-sent, queues updates for
//! `getUpdates`, and injects faults: 429 with `retry_after`, 403 "bot was blocked by the user"
//! for chosen chats, 5xx.
//!
//! Several bots can share one fake ([`FakeTelegram::add_bot`]): each token has its own `getMe`,
//! webhook and update queue. Until a bot is added the fake is *open* (any well-formed token is
//! the one test bot, [`FAKE_BOT_ID`]); once one is, unknown tokens answer 401 "Unauthorized" like
//! Telegram, and so does a token [`revoke`](FakeTelegram::revoke_token)d at any time. Chats
//! ([`FakeTelegram::add_chat`]) answer `getChat`, and each bot's membership in them
//! ([`FakeTelegram::set_bot_member`]) answers `getChatMember` and decides whether sends to them
//! go through; [`FakeTelegram::change_bot_member`] changes it and returns the `my_chat_member`
//! update Telegram would send, which [`FakeTelegram::deliver`] posts to the bot's webhook.
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// The bot the fake says it is (`getMe`).
pub const FAKE_BOT_ID: i64 = 7_000_001;
pub const FAKE_BOT_USERNAME: &str = "promostack_test_bot";

/// A file part of a multipart call.
#[derive(Debug, Clone)]
pub struct Upload {
    pub field: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// One call as the fake received it.
#[derive(Debug, Clone)]
pub struct Call {
    pub token: String,
    pub method: String,
    /// Every non-file parameter; JSON-looking strings of form bodies are parsed.
    pub params: Value,
    pub upload: Option<Upload>,
    /// The HTTP status the fake answered.
    pub status: u16,
    pub at: Instant,
}

impl Call {
    pub fn chat_id(&self) -> Option<i64> {
        match &self.params["chat_id"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        self.params["text"].as_str()
    }

    pub fn ok(&self) -> bool {
        self.status == 200
    }

    /// A successful `sendMessage` or `sendPhoto` to `chat_id`.
    pub fn is_send_to(&self, chat_id: i64) -> bool {
        self.ok()
            && matches!(self.method.as_str(), "sendMessage" | "sendPhoto")
            && self.chat_id() == Some(chat_id)
    }
}

/// A fault to answer instead of the real result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests with `parameters.retry_after`.
    RetryAfter(u64),
    /// A 5xx status with a Bot-API-shaped body.
    Status(u16),
}

/// A bot the fake knows by its token.
#[derive(Debug, Clone)]
pub struct BotSpec {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub can_join_groups: bool,
}

/// A chat's type on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Channel,
    Supergroup,
    Group,
}

impl ChatKind {
    fn wire(self) -> &'static str {
        match self {
            ChatKind::Channel => "channel",
            ChatKind::Supergroup => "supergroup",
            ChatKind::Group => "group",
        }
    }
}

#[derive(Debug, Clone)]
struct ChatSpec {
    id: i64,
    kind: ChatKind,
    title: String,
    username: Option<String>,
}

/// `ChatMember.status` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Creator,
    Administrator,
    Member,
    Restricted,
    Left,
    Kicked,
}

impl MemberStatus {
    pub fn wire(self) -> &'static str {
        match self {
            MemberStatus::Creator => "creator",
            MemberStatus::Administrator => "administrator",
            MemberStatus::Member => "member",
            MemberStatus::Restricted => "restricted",
            MemberStatus::Left => "left",
            MemberStatus::Kicked => "kicked",
        }
    }

    fn present(self) -> bool {
        matches!(
            self,
            MemberStatus::Creator
                | MemberStatus::Administrator
                | MemberStatus::Member
                | MemberStatus::Restricted
        )
    }
}

/// Someone's membership of a chat, with the administrator rights the platform cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub status: MemberStatus,
    pub can_post_messages: bool,
    pub can_invite_users: bool,
    pub can_restrict_members: bool,
    pub can_delete_messages: bool,
}

impl Member {
    /// An administrator with every right.
    pub fn admin() -> Member {
        Member {
            status: MemberStatus::Administrator,
            can_post_messages: true,
            can_invite_users: true,
            can_restrict_members: true,
            can_delete_messages: true,
        }
    }

    /// A member (or left, kicked …) without administrator rights.
    pub fn with_status(status: MemberStatus) -> Member {
        Member {
            status,
            can_post_messages: false,
            can_invite_users: false,
            can_restrict_members: false,
            can_delete_messages: false,
        }
    }

    pub fn post(mut self, can: bool) -> Member {
        self.can_post_messages = can;
        self
    }

    pub fn invite(mut self, can: bool) -> Member {
        self.can_invite_users = can;
        self
    }

    pub fn restrict(mut self, can: bool) -> Member {
        self.can_restrict_members = can;
        self
    }

    fn effective(&self) -> Member {
        if self.status == MemberStatus::Creator {
            Member {
                status: MemberStatus::Creator,
                ..Member::admin()
            }
        } else {
            *self
        }
    }

    /// The `ChatMember` object of `user` in a chat of `kind`, as Telegram sends it.
    pub fn to_wire(&self, user: &Value, kind: ChatKind) -> Value {
        let mut body = json!({"status": self.status.wire(), "user": user});
        match self.status {
            MemberStatus::Creator => {
                body["is_anonymous"] = json!(false);
            }
            MemberStatus::Administrator => {
                let m = self;
                body["can_be_edited"] = json!(false);
                body["is_anonymous"] = json!(false);
                body["can_manage_chat"] = json!(true);
                body["can_delete_messages"] = json!(m.can_delete_messages);
                body["can_manage_video_chats"] = json!(false);
                body["can_restrict_members"] = json!(m.can_restrict_members);
                body["can_promote_members"] = json!(false);
                body["can_change_info"] = json!(false);
                body["can_invite_users"] = json!(m.can_invite_users);
                body["can_post_stories"] = json!(false);
                body["can_edit_stories"] = json!(false);
                body["can_delete_stories"] = json!(false);
                if kind == ChatKind::Channel {
                    body["can_post_messages"] = json!(m.can_post_messages);
                    body["can_edit_messages"] = json!(false);
                } else {
                    body["can_pin_messages"] = json!(false);
                }
            }
            MemberStatus::Restricted => {
                body["is_member"] = json!(true);
                body["can_send_messages"] = json!(false);
                body["until_date"] = json!(0);
            }
            MemberStatus::Kicked => {
                body["until_date"] = json!(0);
            }
            MemberStatus::Member | MemberStatus::Left => {}
        }
        body
    }
}

#[derive(Default)]
struct FakeState {
    calls: Vec<Call>,
    bots: HashMap<String, BotSpec>,
    revoked: HashSet<String>,
    chats: HashMap<i64, ChatSpec>,
    /// (chat id, user id) → membership; bots by their id.
    members: HashMap<(i64, i64), Member>,
    /// The current webhook of each token (gone after `deleteWebhook`).
    webhooks: HashMap<String, Value>,
    /// Updates queued for one token's `getUpdates` (the shared queue serves every token).
    token_updates: HashMap<String, VecDeque<Value>>,
    next_update_id: i64,
    faults: HashMap<String, VecDeque<Fault>>,
    blocked: HashSet<i64>,
    file_ids: HashMap<String, usize>,
    next_message_id: i64,
    next_file: u64,
    updates: VecDeque<Value>,
    webhook: Option<Value>,
    commands: Option<Value>,
    /// Successful sends counted before the last `clear_calls` (benchmarks clear as they go).
    carried: (u64, u64),
    /// How long every answer takes (a slow or distant Bot API); calls are recorded on arrival.
    latency: Duration,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    state: Arc<Mutex<FakeState>>,
    notify: Arc<Notify>,
    updates_ready: Arc<Notify>,
}

impl FakeTelegram {
    /// Start the fake on a free loopback port; it runs until the test process ends.
    pub async fn start() -> FakeTelegram {
        Self::start_on("127.0.0.1:0").await
    }

    /// Start on a given loopback address (the standalone example for benchmarks).
    pub async fn start_on(addr: &str) -> FakeTelegram {
        let listener = TcpListener::bind(addr).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let fake = FakeTelegram {
            url,
            state: Arc::new(Mutex::new(FakeState::default())),
            notify: Arc::new(Notify::new()),
            updates_ready: Arc::new(Notify::new()),
        };
        let app = Router::new()
            .route("/{bot}/{method}", any(handle))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().expect("fake telegram lock")
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Calls of one method.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Successful sends (`sendMessage`, `sendPhoto`) to a chat, in order.
    pub fn sent_to(&self, chat_id: i64) -> Vec<Call> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.is_send_to(chat_id))
            .cloned()
            .collect()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Successful (sendMessage, sendPhoto) calls, including those already cleared.
    pub fn sent_counts(&self) -> (u64, u64) {
        let state = self.lock();
        let count = |m: &str| {
            state
                .calls
                .iter()
                .filter(|c| c.ok() && c.method == m)
                .count() as u64
        };
        (
            state.carried.0 + count("sendMessage"),
            state.carried.1 + count("sendPhoto"),
        )
    }

    /// Carry counts over a `clear_calls` (see the `fake_telegram` example).
    pub fn add_counts(&self, counts: (u64, u64)) {
        self.lock().carried = counts;
    }

    /// Answer the next `times` calls of `method` with `fault`.
    pub fn fail_next(&self, method: &str, fault: Fault, times: usize) {
        let mut state = self.lock();
        let queue = state.faults.entry(method.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Answer every later call `latency` after it arrived (its `at` stays the arrival time).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Sends to `chat_id` answer 403 "Forbidden: bot was blocked by the user".
    pub fn block_chat(&self, chat_id: i64) {
        self.lock().blocked.insert(chat_id);
    }

    pub fn unblock_chat(&self, chat_id: i64) {
        self.lock().blocked.remove(&chat_id);
    }

    /// The last `setWebhook` parameters.
    pub fn webhook(&self) -> Option<Value> {
        self.lock().webhook.clone()
    }

    /// The last `setMyCommands` commands.
    pub fn commands(&self) -> Option<Value> {
        self.lock().commands.clone()
    }

    /// Register a bot: `getMe` with `token` answers it. Its id is the token's numeric prefix
    /// (as on Telegram). From now on unknown tokens answer 401.
    pub fn add_bot(&self, token: &str, username: &str) -> i64 {
        let id = token
            .split_once(':')
            .and_then(|(id, _)| id.parse().ok())
            .expect("a bot token looks like 123456:secret");
        self.lock().bots.insert(
            token.to_owned(),
            BotSpec {
                id,
                username: username.to_owned(),
                first_name: username.trim_end_matches("_bot").to_owned(),
                can_join_groups: true,
            },
        );
        id
    }

    /// Change a registered bot's `getMe` answer.
    pub fn update_bot(&self, token: &str, change: impl FnOnce(&mut BotSpec)) {
        change(self.lock().bots.get_mut(token).expect("bot added"));
    }

    /// Every later call with `token` answers 401 "Unauthorized" (revoked in @BotFather).
    pub fn revoke_token(&self, token: &str) {
        self.lock().revoked.insert(token.to_owned());
    }

    /// The bot id a token stands for (the open fake's is [`FAKE_BOT_ID`]).
    pub fn bot_id_of(&self, token: &str) -> i64 {
        self.lock()
            .bots
            .get(token)
            .map_or(FAKE_BOT_ID, |bot| bot.id)
    }

    /// A chat `getChat` knows; `username` without the `@`.
    pub fn add_chat(&self, chat_id: i64, kind: ChatKind, title: &str, username: Option<&str>) {
        self.lock().chats.insert(
            chat_id,
            ChatSpec {
                id: chat_id,
                kind,
                title: title.to_owned(),
                username: username.map(str::to_owned),
            },
        );
    }

    /// Set the bot's membership of a known chat (what `getChatMember` answers for it and whether
    /// its sends go through), without an update.
    pub fn set_bot_member(&self, token: &str, chat_id: i64, member: Member) {
        let bot_id = self.bot_id_of(token);
        self.lock().members.insert((chat_id, bot_id), member);
    }

    /// Set a user's membership of a known chat.
    pub fn set_member(&self, chat_id: i64, user_id: i64, member: Member) {
        self.lock().members.insert((chat_id, user_id), member);
    }

    /// The current webhook of one bot (`None` before `setWebhook` or after `deleteWebhook`).
    pub fn webhook_of(&self, token: &str) -> Option<Value> {
        self.lock().webhooks.get(token).cloned()
    }

    /// Queue an update for one bot's `getUpdates` only.
    pub fn push_update_for(&self, token: &str, update: Value) {
        self.lock()
            .token_updates
            .entry(token.to_owned())
            .or_default()
            .push_back(update);
        self.updates_ready.notify_waiters();
    }

    /// Change the bot's membership of a known chat the way an admin would (promote, demote,
    /// remove) and return the `my_chat_member` update Telegram sends the bot about it. The update
    /// is also queued for that bot's `getUpdates`; post it to a webhook with [`Self::deliver`].
    pub fn change_bot_member(&self, token: &str, chat_id: i64, new: Member) -> Value {
        let update = {
            let mut state = self.lock();
            let bot = state.bots.get(token).cloned().unwrap_or_else(|| BotSpec {
                id: FAKE_BOT_ID,
                username: FAKE_BOT_USERNAME.into(),
                first_name: "PromoStack Test".into(),
                can_join_groups: true,
            });
            let chat = state
                .chats
                .get(&chat_id)
                .cloned()
                .expect("change_bot_member: add_chat first");
            let old = state
                .members
                .insert((chat_id, bot.id), new)
                .unwrap_or(Member::with_status(MemberStatus::Left));
            state.next_update_id += 1;
            let update_id = 500_000 + state.next_update_id;
            let user = bot_user(&bot);
            json!({
                "update_id": update_id,
                "my_chat_member": {
                    "chat": chat_json(&chat),
                    "from": {"id": 1_000_001, "is_bot": false, "first_name": "Channel owner"},
                    "date": unix_now(),
                    "old_chat_member": old.to_wire(&user, chat.kind),
                    "new_chat_member": new.to_wire(&user, chat.kind),
                }
            })
        };
        self.push_update_for(token, update.clone());
        update
    }

    /// Post `update` to the webhook `token` registered, the way Telegram does: the path of the
    /// registered URL on `app_url` (the test app's address, since the registered URL is public
    /// HTTPS), with the registered `secret_token` in `X-Telegram-Bot-Api-Secret-Token`.
    pub async fn deliver(&self, token: &str, app_url: &str, update: &Value) -> reqwest::Response {
        let hook = self
            .webhook_of(token)
            .expect("deliver: the bot has no webhook registered");
        let url = hook["url"].as_str().unwrap_or_default();
        let path = url
            .strip_prefix("https://")
            .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("/");
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", app_url.trim_end_matches('/')))
            .header("content-type", "application/json")
            .body(update.to_string());
        if let Some(secret) = hook["secret_token"].as_str() {
            request = request.header("x-telegram-bot-api-secret-token", secret);
        }
        request.send().await.expect("webhook delivery")
    }

    /// Queue an update for `getUpdates` (polling mode); `update_id` must be set by the caller.
    pub fn push_update(&self, update: Value) {
        self.lock().updates.push_back(update);
        self.updates_ready.notify_waiters();
    }

    /// Updates queued (for any bot) and not yet confirmed by a later `offset`.
    pub fn pending_updates(&self) -> usize {
        let state = self.lock();
        state.updates.len()
            + state
                .token_updates
                .values()
                .map(VecDeque::len)
                .sum::<usize>()
    }

    /// Wait until `predicate` holds for the recorded calls (checked on every call), or panic.
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        predicate: impl Fn(&[Call]) -> bool,
    ) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.notify.notified();
            {
                let state = self.lock();
                if predicate(&state.calls) {
                    return state.calls.clone();
                }
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                let calls: Vec<_> = self
                    .calls()
                    .iter()
                    .map(|c| format!("{} {} -> {}", c.method, c.params, c.status))
                    .collect();
                panic!("timed out waiting for {what}; calls: {calls:#?}");
            }
            let _ = tokio::time::timeout(deadline - now, notified).await;
        }
    }

    /// Wait until `chat_id` has received `count` successful sends; returns them.
    pub async fn wait_sent(&self, chat_id: i64, count: usize) -> Vec<Call> {
        self.wait_until(
            &format!("{count} sends to chat {chat_id}"),
            Duration::from_secs(20),
            |calls| calls.iter().filter(|c| c.is_send_to(chat_id)).count() >= count,
        )
        .await;
        self.sent_to(chat_id)
    }
}

fn envelope_ok(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
        .into_response()
}

fn envelope_err(status: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(parameters) = parameters {
        body["parameters"] = parameters;
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response()
}

/// Parse the parameters the way Telegram does: query string, then the body by content type.
async fn parameters(
    query: Option<String>,
    request: Request,
) -> Result<(Value, Option<Upload>), String> {
    let mut params = serde_json::Map::new();
    let mut upload = None;
    if let Some(query) = query {
        for (k, v) in form_urlencoded(&query) {
            params.insert(k, loose(v));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| e.to_string())?;
        while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let field_type = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.map_err(|e| e.to_string())?;
            if file_name.is_some() {
                upload = Some(Upload {
                    field: name,
                    file_name,
                    content_type: field_type,
                    bytes,
                });
            } else {
                params.insert(name, loose(String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    } else {
        let bytes = Bytes::from_request(request, &())
            .await
            .map_err(|e| e.to_string())?;
        if content_type.starts_with("application/json") && !bytes.is_empty() {
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            let Value::Object(map) = value else {
                return Err("JSON body must be an object".into());
            };
            params.extend(map);
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            for (k, v) in form_urlencoded(&String::from_utf8_lossy(&bytes)) {
                params.insert(k, loose(v));
            }
        }
    }
    Ok((Value::Object(params), upload))
}

/// Form values are strings; Telegram reads JSON-serialised fields (reply_markup, ...) from them.
fn loose(value: String) -> Value {
    if value.starts_with('{') || value.starts_with('[') {
        serde_json::from_str(&value).unwrap_or(Value::String(value))
    } else {
        Value::String(value)
    }
}

fn form_urlencoded(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn chat_of(chat_id: i64) -> Value {
    // Telegram's id ranges: users positive, basic groups negative, channels/supergroups -100….
    let kind = if chat_id > 0 {
        "private"
    } else if chat_id <= -1_000_000_000_000 {
        "channel"
    } else {
        "group"
    };
    json!({"id": chat_id, "type": kind})
}

fn chat_value(state: &FakeState, chat_id: i64) -> Value {
    state
        .chats
        .get(&chat_id)
        .map_or_else(|| chat_of(chat_id), chat_json)
}

fn chat_id_param(params: &Value) -> Option<i64> {
    match &params["chat_id"] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// JPEG/PNG dimensions from the header, so `sendPhoto` answers real photo sizes.
fn image_size(bytes: &[u8]) -> (u32, u32) {
    if bytes.starts_with(b"\x89PNG") && bytes.len() >= 24 {
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap_or_default());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap_or_default());
        return (w, h);
    }
    let mut i = 2;
    while bytes.starts_with(&[0xFF, 0xD8]) && i + 9 < bytes.len() {
        if bytes[i] != 0xFF {
            break;
        }
        let marker = bytes[i + 1];
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if matches!(marker, 0xC0..=0xC3) {
            let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]) as u32;
            let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]) as u32;
            return (w, h);
        }
        i += 2 + len;
    }
    (0, 0)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn default_bot() -> BotSpec {
    BotSpec {
        id: FAKE_BOT_ID,
        username: FAKE_BOT_USERNAME.into(),
        first_name: "PromoStack Test".into(),
        can_join_groups: true,
    }
}

fn bot_user(bot: &BotSpec) -> Value {
    json!({"id": bot.id, "is_bot": true, "first_name": bot.first_name, "username": bot.username})
}

fn chat_json(chat: &ChatSpec) -> Value {
    let mut body = json!({"id": chat.id, "type": chat.kind.wire(), "title": chat.title});
    if let Some(username) = &chat.username {
        body["username"] = json!(username);
    }
    body
}

/// Telegram's answer for a token: 404 when it is not shaped like one, 401 when revoked or (once
/// bots are registered) unknown; else the bot it stands for.
/// A Bot API error answer (status, description), turned into the envelope where it is sent.
struct Refusal(u16, String);

impl Refusal {
    fn response(self) -> Response {
        envelope_err(self.0, &self.1, None)
    }
}

fn authorize(state: &FakeState, token: &str) -> Result<BotSpec, Refusal> {
    let well_formed = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && !secret.is_empty()
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if !well_formed {
        return Err(Refusal(404, "Not Found".into()));
    }
    if state.revoked.contains(token) {
        return Err(Refusal(401, "Unauthorized".into()));
    }
    match state.bots.get(token) {
        Some(bot) => Ok(bot.clone()),
        None if state.bots.is_empty() => Ok(default_bot()),
        None => Err(Refusal(401, "Unauthorized".into())),
    }
}

async fn handle(
    State(fake): State<FakeTelegram>,
    Path((bot, method)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let Some(token) = bot.strip_prefix("bot").map(str::to_owned) else {
        return envelope_err(404, "Not Found", None);
    };
    let (params, upload) = match parameters(query, request).await {
        Ok(parsed) => parsed,
        Err(e) => return envelope_err(400, &format!("Bad Request: {e}"), None),
    };
    let at = Instant::now();
    let authorized = authorize(&fake.lock(), &token);
    let response = match authorized {
        Err(refused) => refused.response(),
        Ok(_) if method == "getUpdates" => {
            return get_updates(&fake, token, params).await;
        }
        Ok(bot) => answer(&fake, &token, &bot, &method, &params, upload.as_ref()),
    };
    let status = response.status().as_u16();
    let latency = {
        let mut state = fake.lock();
        state.calls.push(Call {
            token,
            method,
            params,
            upload,
            status,
            at,
        });
        state.latency
    };
    fake.notify.notify_waiters();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

/// Resolve `chat_id` (an id or `@username`) to a known chat.
fn known_chat(state: &FakeState, params: &Value) -> Option<ChatSpec> {
    match &params["chat_id"] {
        Value::String(s) if s.starts_with('@') => state
            .chats
            .values()
            .find(|c| {
                c.username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(&s[1..]))
            })
            .cloned(),
        _ => chat_id_param(params).and_then(|id| state.chats.get(&id).cloned()),
    }
}

fn chat_word(kind: ChatKind) -> &'static str {
    match kind {
        ChatKind::Channel => "channel chat",
        ChatKind::Supergroup => "supergroup chat",
        ChatKind::Group => "group chat",
    }
}

/// Whether the bot can see a known chat at all: kicked → 403, not in it → 400 "chat not found".
fn bot_sees(state: &FakeState, bot: &BotSpec, chat: &ChatSpec) -> Result<Member, Refusal> {
    let member = state
        .members
        .get(&(chat.id, bot.id))
        .copied()
        .unwrap_or(Member::with_status(MemberStatus::Left));
    match member.status {
        MemberStatus::Kicked => Err(Refusal(
            403,
            format!(
                "Forbidden: bot was kicked from the {}",
                chat_word(chat.kind)
            ),
        )),
        status if !status.present() => Err(Refusal(400, "Bad Request: chat not found".into())),
        _ => Ok(member.effective()),
    }
}

fn answer(
    fake: &FakeTelegram,
    token: &str,
    bot: &BotSpec,
    method: &str,
    params: &Value,
    upload: Option<&Upload>,
) -> Response {
    let mut state = fake.lock();
    if let Some(fault) = state.faults.get_mut(method).and_then(VecDeque::pop_front) {
        return match fault {
            Fault::RetryAfter(secs) => envelope_err(
                429,
                &format!("Too Many Requests: retry after {secs}"),
                Some(json!({"retry_after": secs})),
            ),
            Fault::Status(status) => envelope_err(status, "Internal Server Error", None),
        };
    }
    let sends = matches!(method, "sendMessage" | "sendPhoto");
    let chat_id = chat_id_param(params);
    if sends {
        let Some(chat_id) = chat_id else {
            return envelope_err(400, "Bad Request: chat_id is empty", None);
        };
        if state.blocked.contains(&chat_id) {
            return envelope_err(403, "Forbidden: bot was blocked by the user", None);
        }
        // Known chats check the bot's membership and rights, like Telegram.
        if let Some(chat) = known_chat(&state, params) {
            let member = match bot_sees(&state, bot, &chat) {
                Ok(member) => member,
                Err(refused) => return refused.response(),
            };
            let may_post = match chat.kind {
                ChatKind::Channel => {
                    matches!(
                        member.status,
                        MemberStatus::Administrator | MemberStatus::Creator
                    ) && member.can_post_messages
                }
                _ => member.status != MemberStatus::Restricted,
            };
            if !may_post {
                let description = match chat.kind {
                    ChatKind::Channel => {
                        "Bad Request: need administrator rights in the channel chat"
                    }
                    _ => "Bad Request: not enough rights to send text messages to the chat",
                };
                return envelope_err(400, description, None);
            }
        }
    }
    let now = unix_now();
    match method {
        "getMe" => envelope_ok(json!({
            "id": bot.id, "is_bot": true, "first_name": bot.first_name,
            "username": bot.username, "can_join_groups": bot.can_join_groups,
            "can_read_all_group_messages": false, "supports_inline_queries": false,
        })),
        "getChat" => {
            let Some(chat) = known_chat(&state, params) else {
                return envelope_err(400, "Bad Request: chat not found", None);
            };
            if let Err(refused) = bot_sees(&state, bot, &chat) {
                return refused.response();
            }
            let mut body = chat_json(&chat);
            body["accent_color_id"] = json!(0);
            body["max_reaction_count"] = json!(11);
            envelope_ok(body)
        }
        "getChatMember" => {
            let Some(chat) = known_chat(&state, params) else {
                return envelope_err(400, "Bad Request: chat not found", None);
            };
            if let Err(refused) = bot_sees(&state, bot, &chat) {
                return refused.response();
            }
            let user_id = match &params["user_id"] {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            };
            let Some(user_id) = user_id else {
                return envelope_err(400, "Bad Request: invalid user_id specified", None);
            };
            let member = state
                .members
                .get(&(chat.id, user_id))
                .copied()
                .unwrap_or(Member::with_status(MemberStatus::Left));
            let user = if user_id == bot.id {
                bot_user(bot)
            } else {
                json!({"id": user_id, "is_bot": false, "first_name": format!("User {user_id}")})
            };
            envelope_ok(member.to_wire(&user, chat.kind))
        }
        "sendMessage" => {
            let Some(text) = params["text"].as_str().filter(|t| !t.is_empty()) else {
                return envelope_err(400, "Bad Request: message text is empty", None);
            };
            if text.chars().count() > 4096 {
                return envelope_err(400, "Bad Request: message is too long", None);
            }
            state.next_message_id += 1;
            let mut message = json!({
                "message_id": state.next_message_id, "date": now,
                "chat": chat_value(&state, chat_id.unwrap_or_default()), "text": text,
            });
            if params.get("reply_markup").is_some() {
                message["reply_markup"] = params["reply_markup"].clone();
            }
            envelope_ok(message)
        }
        "sendPhoto" => {
            let (file_id, size) = match (upload, params["photo"].as_str()) {
                (Some(upload), _) if upload.field == "photo" => {
                    if !(upload.bytes.starts_with(&[0xFF, 0xD8])
                        || upload.bytes.starts_with(b"\x89PNG"))
                    {
                        return envelope_err(400, "Bad Request: IMAGE_PROCESS_FAILED", None);
                    }
                    state.next_file += 1;
                    let file_id = format!("AgACAgFake{:06}", state.next_file);
                    state.file_ids.insert(file_id.clone(), upload.bytes.len());
                    (file_id, image_size(&upload.bytes))
                }
                (None, Some(file_id)) if state.file_ids.contains_key(file_id) => {
                    (file_id.to_owned(), (1080, 1080))
                }
                // Telegram fetches a photo given by URL itself; the fake takes it as fetched.
                (None, Some(url)) if url.starts_with("https://") || url.starts_with("http://") => {
                    state.next_file += 1;
                    let file_id = format!("AgACAgFakeUrl{:06}", state.next_file);
                    state.file_ids.insert(file_id.clone(), 0);
                    (file_id, (1080, 1080))
                }
                _ => {
                    return envelope_err(
                        400,
                        "Bad Request: wrong file identifier/HTTP URL specified",
                        None,
                    );
                }
            };
            state.next_message_id += 1;
            let unique = format!("uniq-{file_id}");
            envelope_ok(json!({
                "message_id": state.next_message_id, "date": now,
                "chat": chat_value(&state, chat_id.unwrap_or_default()),
                "caption": params["caption"],
                "photo": [
                    {"file_id": format!("{file_id}-thumb"), "file_unique_id": format!("{unique}-t"), "width": size.0 / 10, "height": size.1 / 10},
                    {"file_id": file_id, "file_unique_id": unique, "width": size.0, "height": size.1},
                ],
            }))
        }
        "answerCallbackQuery" | "editMessageReplyMarkup" => envelope_ok(json!(true)),
        "deleteWebhook" => {
            state.webhooks.remove(token);
            if params["drop_pending_updates"] == json!(true)
                || params["drop_pending_updates"] == json!("true")
            {
                state.token_updates.remove(token);
            }
            envelope_ok(json!(true))
        }
        "setWebhook" => {
            if !params["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://"))
            {
                return envelope_err(
                    400,
                    "Bad Request: bad webhook: HTTPS url must be provided for webhook",
                    None,
                );
            }
            if let Some(secret) = params["secret_token"].as_str()
                && (secret.len() > 256
                    || !secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            {
                return envelope_err(
                    400,
                    "Bad Request: secret token contains unallowed characters",
                    None,
                );
            }
            state.webhook = Some(params.clone());
            state.webhooks.insert(token.to_owned(), params.clone());
            envelope_ok(json!(true))
        }
        "getWebhookInfo" => {
            let hook = state.webhooks.get(token);
            let url = hook
                .and_then(|w| w["url"].as_str().map(str::to_owned))
                .unwrap_or_default();
            let mut info = json!({
                "url": url, "has_custom_certificate": false,
                "pending_update_count": state.token_updates.get(token).map_or(0, VecDeque::len),
            });
            if let Some(allowed) = hook.map(|w| w["allowed_updates"].clone())
                && !allowed.is_null()
            {
                info["allowed_updates"] = allowed;
            }
            envelope_ok(info)
        }
        "setMyCommands" => {
            state.commands = Some(params["commands"].clone());
            envelope_ok(json!(true))
        }
        _ => envelope_err(404, "Not Found: method not found", None),
    }
}

/// `getUpdates`: 409 while the bot has a webhook (as on Telegram); else confirm everything below
/// `offset`, then answer what is queued for every bot and for this one, waiting up to `timeout`
/// seconds (capped at 2 s here) for something to arrive.
async fn get_updates(fake: &FakeTelegram, token: String, params: Value) -> Response {
    let offset = params["offset"]
        .as_i64()
        .or_else(|| params["offset"].as_str().and_then(|s| s.parse().ok()));
    let timeout = params["timeout"]
        .as_u64()
        .or_else(|| params["timeout"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
        .min(2);
    let record = |status: u16| {
        fake.lock().calls.push(Call {
            token: token.clone(),
            method: "getUpdates".into(),
            params: params.clone(),
            upload: None,
            status,
            at: Instant::now(),
        });
        fake.notify.notify_waiters();
    };
    if fake.lock().webhooks.contains_key(&token) {
        record(409);
        return envelope_err(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            None,
        );
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let ready = fake.updates_ready.notified();
        let batch: Vec<Value> = {
            let mut state = fake.lock();
            let below =
                |u: &Value| offset.is_some_and(|o| u["update_id"].as_i64().unwrap_or(i64::MIN) < o);
            state.updates.retain(|u| !below(u));
            let own = state.token_updates.entry(token.clone()).or_default();
            own.retain(|u| !below(u));
            let own: Vec<Value> = own.iter().cloned().collect();
            let mut batch: Vec<Value> = state.updates.iter().cloned().chain(own).collect();
            batch.sort_by_key(|u| u["update_id"].as_i64().unwrap_or(i64::MIN));
            batch.truncate(100);
            batch
        };
        if !batch.is_empty() || tokio::time::Instant::now() >= deadline {
            record(200);
            return envelope_ok(Value::Array(batch));
        }
        let _ = tokio::time::timeout_at(deadline, ready).await;
    }
}

/// Updates as Telegram sends them, for tests.
pub mod updates {
    use serde_json::{Value, json};

    /// A private-chat text message from user `user_id` (the chat id is the user id).
    pub fn text(update_id: i64, user_id: i64, text: &str) -> Value {
        json!({
            "update_id": update_id,
            "message": {
                "message_id": update_id, "date": 1_764_000_000,
                "from": {"id": user_id, "is_bot": false, "first_name": "Ada", "username": format!("user{user_id}"), "language_code": "en"},
                "chat": {"id": user_id, "type": "private", "first_name": "Ada"},
                "text": text,
            }
        })
    }

    /// A group message from `user_id` in `chat_id`.
    pub fn group_text(update_id: i64, chat_id: i64, user_id: i64, text: &str) -> Value {
        json!({
            "update_id": update_id,
            "message": {
                "message_id": update_id, "date": 1_764_000_000,
                "from": {"id": user_id, "is_bot": false, "first_name": "Ada"},
                "chat": {"id": chat_id, "type": "supergroup", "title": "Deals"},
                "text": text,
            }
        })
    }

    /// A post in a channel where the bot is an admin.
    pub fn channel_post(update_id: i64, chat_id: i64, text: &str) -> Value {
        json!({
            "update_id": update_id,
            "channel_post": {
                "message_id": update_id, "date": 1_764_000_000,
                "sender_chat": {"id": chat_id, "type": "channel", "title": "Deals channel"},
                "chat": {"id": chat_id, "type": "channel", "title": "Deals channel"},
                "text": text,
            }
        })
    }

    /// A press on an inline button carrying `data`, under a message in the user's chat.
    pub fn callback(update_id: i64, user_id: i64, data: &str) -> Value {
        json!({
            "update_id": update_id,
            "callback_query": {
                "id": format!("cb{update_id}"),
                "from": {"id": user_id, "is_bot": false, "first_name": "Ada", "language_code": "en"},
                "message": {
                    "message_id": 1, "date": 1_764_000_000,
                    "chat": {"id": user_id, "type": "private"},
                    "text": "Pick one",
                },
                "chat_instance": "1",
                "data": data,
            }
        })
    }
}

/// The bot token test apps are started with, and the webhook secret.
pub const TEST_BOT_TOKEN: &str = "424242:TEST-bot-token_do-not-log";
pub const TEST_WEBHOOK_SECRET: &str = "test-webhook-secret_0123456789";

/// Point `config` at `fake` with the test bot (pacing off: tests check pacing separately).
pub fn configure(config: &mut promostack::config::Config, fake: &FakeTelegram) {
    let i = &mut config.integrations;
    i.telegram_bot_token = Some(promostack::config::Secret::new(TEST_BOT_TOKEN));
    i.telegram_webhook_secret = Some(promostack::config::Secret::new(TEST_WEBHOOK_SECRET));
    i.telegram_api_url = fake.url.clone();
    i.telegram_unpaced = true;
}

impl crate::TestApp {
    /// POST an update to `/api/telegram-webhook[/{bot}]` with `secret` in the header.
    pub async fn telegram_update_raw(
        &self,
        bot: Option<&str>,
        secret: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let path = match bot {
            Some(bot) => format!("/api/telegram-webhook/{bot}"),
            None => "/api/telegram-webhook".to_owned(),
        };
        // Telegram sends no cookies and no Origin: a bare client, like Telegram's servers.
        let mut request = reqwest::Client::new()
            .post(self.url(&path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(secret) = secret {
            request = request.header("x-telegram-bot-api-secret-token", secret);
        }
        request.send().await.expect("webhook request")
    }

    /// POST an update the way Telegram does, with the test secret; asserts a 200.
    pub async fn telegram_update(&self, update: Value) -> Value {
        let response = self
            .telegram_update_raw(None, Some(TEST_WEBHOOK_SECRET), update.to_string())
            .await;
        crate::json(response, 200).await
    }

    pub async fn bot_status(&self) -> reqwest::Response {
        self.send(reqwest::Method::GET, "/api/bot/status", None)
            .await
    }
}

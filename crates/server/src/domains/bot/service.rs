//! The coupon bot: durable receipt of updates, processing from the stored row (claimed with a
//! lease, one chat in order), and the conversation, whose state lives in the database so any
//! instance can take the next update.
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use promostack_render::OutputFormat;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::commands::{self, Command};
use super::matching::{self, Candidate, Match};
use super::repo::{self, Claim, Finish, NewUpdate, UserTouch};
use super::writer::{Stored, Writer};
use crate::db::{Db, DbError};
use crate::domains::analytics::NewUsage;
use crate::domains::templates::Template;
use crate::domains::templates::render::RenderRequest;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::integrations::telegram::types::{
    CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update, User,
};
use crate::integrations::telegram::{SendOptions, TelegramError, TenantBot};
use crate::time::Clock;

/// How long one instance holds an update it is processing before others may take it.
const CLAIM_MS: i64 = 60_000;
/// Attempts before a transiently failing update is given up (`failed`).
pub const MAX_ATTEMPTS: i64 = 5;
/// Telegram's own limit on message text; longer text cannot be a real message.
const MAX_TEXT_CHARS: usize = 4096;
/// Templates per page of the /generate keyboard.
pub const PAGE_SIZE: usize = 6;
/// Updates processed at once by one instance; beyond that they queue in memory (up to
/// [`WAITING`]), then wait in the table for the sweeper.
const CONCURRENCY: usize = 128;
/// Stored updates waiting in this process for a processing slot.
const WAITING: usize = 4096;
/// JPEG quality of photos (Telegram recompresses anyway).
const PHOTO_QUALITY: u8 = 90;

pub struct BotService {
    db: Db,
    clock: Clock,
    permits: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
    /// Started on first use (it needs the runtime).
    writer: OnceLock<Writer>,
}

/// Capacity reserved for an update before it is stored claimed.
enum Slot {
    Run(tokio::sync::OwnedSemaphorePermit),
    Wait(tokio::sync::OwnedSemaphorePermit),
}

/// What the webhook did with a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    Stored { update_id: i64 },
    Duplicate { update_id: i64 },
}

/// Why processing stopped early.
#[derive(Debug)]
enum Halt {
    /// Worth another attempt later (database or Telegram unavailable, rate limited).
    Transient(String),
    /// The chat cannot be reached (403); the user is marked blocked.
    Blocked,
    /// Will never work (malformed update, Telegram refused the request as sent).
    Permanent(String),
}

impl From<DbError> for Halt {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Unavailable(e) => Halt::Transient(e),
            other => Halt::Permanent(other.to_string()),
        }
    }
}

impl From<ApiError> for Halt {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Unavailable(e) => Halt::Transient(e),
            other => Halt::Permanent(other.to_string()),
        }
    }
}

impl From<TelegramError> for Halt {
    fn from(err: TelegramError) -> Self {
        match err {
            TelegramError::Blocked { .. } => Halt::Blocked,
            TelegramError::RetryAfter { .. }
            | TelegramError::Server { .. }
            | TelegramError::Network(_) => Halt::Transient(err.to_string()),
            other => Halt::Permanent(other.to_string()),
        }
    }
}

type Step<T = ()> = Result<T, Halt>;

fn counter(name: &'static str, reason: &'static str) {
    metrics::counter!(name, "reason" => reason).increment(1);
}

/// What receipt reads of an update: its id and its chat (the conversation and ordering key).
/// Everything else is skipped unparsed; handling reads the whole update later.
#[derive(Deserialize)]
struct UpdateKey {
    update_id: Option<Value>,
    message: Option<MessageKey>,
    edited_message: Option<MessageKey>,
    channel_post: Option<MessageKey>,
    callback_query: Option<CallbackKey>,
}

#[derive(Deserialize)]
struct MessageKey {
    chat: Option<IdKey>,
}

#[derive(Deserialize)]
struct CallbackKey {
    message: Option<MessageKey>,
    from: Option<IdKey>,
}

#[derive(Deserialize)]
struct IdKey {
    id: Option<Value>,
}

impl UpdateKey {
    fn chat(&self) -> Option<i64> {
        let id = |m: &Option<MessageKey>| {
            m.as_ref()
                .and_then(|m| m.chat.as_ref())
                .and_then(|c| c.id.as_ref())
                .and_then(Value::as_i64)
        };
        id(&self.message)
            .or_else(|| id(&self.edited_message))
            .or_else(|| id(&self.channel_post))
            .or_else(|| self.callback_query.as_ref().and_then(|q| id(&q.message)))
            .or_else(|| {
                self.callback_query
                    .as_ref()
                    .and_then(|q| q.from.as_ref())
                    .and_then(|f| f.id.as_ref())
                    .and_then(Value::as_i64)
            })
    }
}

/// The update id and chat of a webhook body; `None` when it is not JSON. An update whose parts
/// have unexpected shapes is still keyed (through the generic value) so it is stored, not lost.
fn key_of(body: &[u8]) -> Option<(Option<i64>, Option<i64>)> {
    if let Ok(key) = serde_json::from_slice::<UpdateKey>(body) {
        return Some((key.update_id.as_ref().and_then(Value::as_i64), key.chat()));
    }
    let update: Value = serde_json::from_slice(body).ok()?;
    Some((
        update.get("update_id").and_then(Value::as_i64),
        chat_of(&update),
    ))
}

/// The chat an update belongs to (its conversation and ordering key).
fn chat_of(update: &Value) -> Option<i64> {
    ["message", "edited_message", "channel_post"]
        .iter()
        .find_map(|k| update[k]["chat"]["id"].as_i64())
        .or_else(|| update["callback_query"]["message"]["chat"]["id"].as_i64())
        .or_else(|| update["callback_query"]["from"]["id"].as_i64())
}

impl BotService {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            db,
            clock,
            permits: Arc::new(Semaphore::new(CONCURRENCY)),
            waiting: Arc::new(Semaphore::new(WAITING)),
            writer: OnceLock::new(),
        }
    }

    fn writer(&self) -> &Writer {
        self.writer.get_or_init(|| Writer::start(self.db.clone()))
    }

    /// Durable receipt: validate the shape just enough to key it, store it (group-committed with
    /// the other writes of the moment), start processing it, and say whether it was new. The
    /// caller answers 200 only after this returned, so only after the commit.
    pub async fn receive(
        &self,
        state: &AppState,
        bot: &TenantBot,
        body: &[u8],
    ) -> Result<Receipt, ApiError> {
        let (update_id, chat_id) = key_of(body).ok_or_else(|| {
            counter("telegram_updates_rejected_total", "malformed_json");
            tracing::warn!(bot = %bot.id, bytes = body.len(), "Telegram webhook body is not JSON");
            ApiError::BadRequest("the update is not JSON".into())
        })?;
        let Some(update_id) = update_id else {
            counter("telegram_updates_rejected_total", "no_update_id");
            tracing::warn!(bot = %bot.id, bytes = body.len(), "Telegram update without update_id");
            return Err(ApiError::BadRequest(
                "the update has no integer update_id".into(),
            ));
        };
        let payload: Arc<str> = std::str::from_utf8(body)
            .expect("valid JSON is UTF-8")
            .into();
        // With a free processing slot (or a place in the in-memory queue) this instance handles
        // the update itself, so it is stored already claimed: no separate claim write (which on
        // SQLite would fight the group commit for the write lock), no re-read of the payload.
        let slot = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Some(Slot::Run(permit)),
            Err(_) => self
                .waiting
                .clone()
                .try_acquire_owned()
                .ok()
                .map(Slot::Wait),
        };
        let now = self.clock.now();
        let stored = self
            .writer()
            .receive(NewUpdate {
                bot_id: bot.id.clone(),
                update_id,
                chat_id,
                payload: payload.clone(),
                received_at: now,
                claim: slot
                    .as_ref()
                    .map(|_| (state.instance_id.clone(), now + CLAIM_MS)),
            })
            .await?;
        match stored {
            Stored::New { claimed } => {
                metrics::counter!("telegram_updates_received_total").increment(1);
                match slot {
                    Some(slot) if claimed => {
                        let (state, bot) = (state.clone(), bot.clone());
                        let permits = self.permits.clone();
                        tokio::spawn(async move {
                            let _permit = match slot {
                                Slot::Run(permit) => permit,
                                Slot::Wait(place) => {
                                    let Ok(permit) = permits.acquire_owned().await else {
                                        return;
                                    };
                                    drop(place);
                                    permit
                                }
                            };
                            let bot_id = bot.id.clone();
                            // Queued so long that the lease may run out: take the usual claim
                            // (after the lease expired, or by the sweeper) instead.
                            if state.clock.now() - now > CLAIM_MS / 2 {
                                return process(&state, &bot_id, update_id).await;
                            }
                            if let Ran::Finished { next } = run_claimed(
                                &state,
                                &bot_id,
                                update_id,
                                chat_id,
                                Some(bot),
                                &payload,
                            )
                            .await
                            {
                                process_chat_from(&state, &bot_id, next).await;
                            }
                        });
                    }
                    // No capacity, or an earlier update of its chat is pending: the usual claim
                    // (which waits for that one).
                    unclaimed => {
                        drop(unclaimed);
                        self.dispatch(state, bot.id.clone(), update_id);
                    }
                }
                Ok(Receipt::Stored { update_id })
            }
            Stored::Duplicate => {
                counter("telegram_updates_rejected_total", "duplicate");
                Ok(Receipt::Duplicate { update_id })
            }
        }
    }

    /// Record how processing an update ended, with its user (group-committed); the chat's next
    /// pending update when it is finished.
    async fn finish(&self, finish: Finish) -> Result<Option<i64>, DbError> {
        self.writer().finish(finish).await
    }

    /// Process a stored update in the background of this instance: now if a slot is free, else
    /// queued in memory; when even the queue is full the sweeper (leader) takes it from the
    /// table later.
    pub fn dispatch(&self, state: &AppState, bot_id: String, update_id: i64) {
        let state_ = state.clone();
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            tokio::spawn(async move {
                let _permit = permit;
                process(&state_, &bot_id, update_id).await;
            });
        } else if let Ok(place) = self.waiting.clone().try_acquire_owned() {
            let permits = self.permits.clone();
            tokio::spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else {
                    return;
                };
                drop(place);
                process(&state_, &bot_id, update_id).await;
            });
        } else {
            counter("telegram_updates_deferred_total", "busy");
        }
    }
}

/// Claim and handle `update_id`, then the chat's next pending updates in order.
pub async fn process(state: &AppState, bot_id: &str, update_id: i64) {
    process_chat_from(state, bot_id, Some(update_id)).await;
}

/// Claim and handle `next`, then each next pending update of its chat, in order, until one
/// cannot be claimed (another instance has it, or an earlier one waits for a retry).
async fn process_chat_from(state: &AppState, bot_id: &str, mut next: Option<i64>) {
    while let Some(update_id) = next {
        match process_one(state, bot_id, update_id).await {
            Ran::Finished { next: after } => next = after,
            Ran::Pending => return,
        }
    }
}

/// How a claimed update's handling ended for the chat's order.
enum Ran {
    /// Done or failed; `next` is the chat's next pending update.
    Finished { next: Option<i64> },
    /// Not claimed, back to pending (a retry later), or the outcome could not be recorded.
    Pending,
}

/// Claim and handle one update.
async fn process_one(state: &AppState, bot_id: &str, update_id: i64) -> Ran {
    let now = state.clock.now();
    let claimed = state
        .bot
        .writer()
        .claim(Claim {
            bot_id: bot_id.to_owned(),
            update_id,
            holder: state.instance_id.clone(),
            now,
            until: now + CLAIM_MS,
        })
        .await;
    match claimed {
        Ok(Some((payload, chat_id))) => {
            run_claimed(state, bot_id, update_id, chat_id, None, &payload).await
        }
        Ok(None) => Ran::Pending,
        Err(err) => {
            tracing::warn!(bot = bot_id, update_id, error = %err, "cannot claim update");
            Ran::Pending
        }
    }
}

/// Handle an update this instance holds the claim of, and record the outcome (with the user it
/// came from, in one transaction).
async fn run_claimed(
    state: &AppState,
    bot_id: &str,
    update_id: i64,
    chat_id: Option<i64>,
    bot: Option<TenantBot>,
    payload: &str,
) -> Ran {
    let bot = match bot {
        Some(bot) => Ok(Some(bot)),
        None => state.telegram.bot(bot_id).await,
    };
    let (outcome, user) = match bot {
        Ok(Some(bot)) => {
            // A panic in handling must not lose the update: run it as a task and look at it.
            let task_state = state.clone();
            let payload = payload.to_owned();
            let task = tokio::spawn(async move { handle(&task_state, &bot, &payload).await });
            match task.await {
                Ok(handled) => handled,
                Err(join) => (
                    Err(Halt::Permanent(format!("handler panicked: {join}"))),
                    None,
                ),
            }
        }
        Ok(None) => (
            Err(Halt::Permanent("bot is no longer configured".into())),
            None,
        ),
        Err(err) => (Err(Halt::from(err)), None),
    };
    let now = state.clock.now();
    let (status, error, retry_at) = match outcome {
        Ok(()) => ("done", None, None),
        Err(Halt::Blocked) => ("done", Some("blocked".to_owned()), None),
        Err(Halt::Permanent(e)) => ("failed", Some(e), None),
        Err(Halt::Transient(e)) => {
            let attempts = repo::attempts(&state.db, bot_id, update_id)
                .await
                .unwrap_or(MAX_ATTEMPTS);
            if attempts >= MAX_ATTEMPTS {
                ("failed", Some(e), None)
            } else {
                // Back-off grows with the attempts: 2 s, 4 s, 8 s, ...
                (
                    "pending",
                    Some(e),
                    Some(now + 1000 * (1 << attempts.min(6))),
                )
            }
        }
    };
    metrics::counter!("telegram_updates_processed_total", "status" => status).increment(1);
    if status != "done" {
        tracing::warn!(
            bot = bot_id,
            update_id,
            status,
            error = error.as_deref().unwrap_or(""),
            "update not handled"
        );
    }
    let finish = Finish {
        bot_id: bot_id.to_owned(),
        update_id,
        chat_id,
        user,
        status,
        error,
        retry_at,
        now,
    };
    match state.bot.finish(finish).await {
        Ok(next) if status != "pending" => Ran::Finished { next },
        Ok(_) => Ran::Pending,
        Err(err) => {
            // The claim expires and the sweeper retries; handling is idempotent enough for that.
            tracing::warn!(bot = bot_id, update_id, error = %err, "cannot record update outcome");
            Ran::Pending
        }
    }
}

/// Conversation state of one (chat, user).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Conversation {
    #[serde(default)]
    state: ConvState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum ConvState {
    #[default]
    Idle,
    ChoosingTemplate,
    AwaitingCode,
    ChoosingVariant,
}

impl ConvState {
    fn as_str(self) -> &'static str {
        match self {
            ConvState::Idle => "idle",
            ConvState::ChoosingTemplate => "choosing_template",
            ConvState::AwaitingCode => "awaiting_code",
            ConvState::ChoosingVariant => "choosing_variant",
        }
    }
}

/// Everything one update's handling needs.
struct Turn<'a> {
    state: &'a AppState,
    bot: &'a TenantBot,
    chat_id: i64,
    chat_type: String,
    user: Option<User>,
    started: Instant,
    /// What handling learnt about the user, written with the update's outcome.
    noted: std::sync::Mutex<Noted>,
}

#[derive(Default)]
struct Noted {
    blocked: bool,
    start_payload: Option<String>,
}

/// Handle one update; also the user it came from, to be upserted with the outcome (in the same
/// transaction, so a processed update always has its user recorded).
async fn handle(state: &AppState, bot: &TenantBot, payload: &str) -> (Step, Option<UserTouch>) {
    let update: Update = match serde_json::from_str(payload) {
        Ok(update) => update,
        Err(e) => {
            counter("telegram_updates_rejected_total", "unreadable");
            return (
                Err(Halt::Permanent(format!("unreadable update: {e}"))),
                None,
            );
        }
    };
    if let Some(message) = update.message {
        let turn = Turn::new(state, bot, &message);
        let result = on_message(&turn, &message).await;
        return (result, turn.user_touch());
    }
    if let Some(post) = update.channel_post {
        let turn = Turn::new(state, bot, &post);
        return (on_channel_post(&turn, &post).await, None);
    }
    if let Some(query) = update.callback_query {
        let Some(message) = &query.message else {
            return (Ok(()), None);
        };
        let mut turn = Turn::new(state, bot, message);
        turn.user = Some(query.from.clone());
        let result = on_callback(&turn, &query).await;
        return (result, turn.user_touch());
    }
    // Edited messages and kinds we did not ask for are acknowledged and ignored.
    (Ok(()), None)
}

impl<'a> Turn<'a> {
    fn new(state: &'a AppState, bot: &'a TenantBot, message: &Message) -> Self {
        Turn {
            state,
            bot,
            chat_id: message.chat.id,
            chat_type: message.chat.kind.clone(),
            user: message.from.clone(),
            started: Instant::now(),
            noted: Default::default(),
        }
    }

    fn tenant(&self) -> &str {
        &self.bot.tenant_id
    }

    fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    fn is_private(&self) -> bool {
        self.chat_type == "private"
    }

    /// The user's row as this update leaves it (bots are not an audience).
    fn user_touch(&self) -> Option<UserTouch> {
        let user = self.user.as_ref().filter(|u| !u.is_bot)?;
        let noted = std::mem::take(&mut *self.noted.lock().expect("noted lock"));
        Some(UserTouch {
            tenant_id: self.tenant().to_owned(),
            user_id: user.id,
            username: user.username.clone(),
            first_name: Some(user.first_name.clone()).filter(|n| !n.is_empty()),
            language: user.language_code.clone(),
            blocked: noted.blocked,
            start_payload: noted.start_payload,
            now: self.state.clock.now(),
        })
    }

    async fn conversation(&self) -> Step<Conversation> {
        let row = repo::conversation(
            &self.state.db,
            &self.bot.id,
            self.chat_id,
            self.user_id().unwrap_or(0),
        )
        .await?;
        Ok(row
            .and_then(|r| serde_json::from_str(&r.data).ok())
            .unwrap_or_default())
    }

    async fn save(&self, conversation: &Conversation) -> Step {
        repo::save_conversation(
            &self.state.db,
            &self.bot.id,
            self.chat_id,
            self.user_id().unwrap_or(0),
            conversation.state.as_str(),
            &serde_json::to_string(conversation).expect("conversation serialises"),
            self.state.clock.now(),
        )
        .await?;
        Ok(())
    }

    /// A 403 in a private chat marks the user blocked (written with the outcome); nothing is
    /// retried for them.
    fn on_send_error(&self, err: TelegramError) -> Halt {
        if err.is_blocked() {
            if self.is_private() {
                self.noted.lock().expect("noted lock").blocked = true;
            }
            counter("telegram_sends_failed_total", "blocked");
        }
        Halt::from(err)
    }

    /// A photo Telegram did not take. Transient failures are retried as a whole, so only a
    /// final outcome is counted.
    async fn photo_failed(
        &self,
        err: TelegramError,
        slug: &str,
        variant: &str,
        code: &str,
    ) -> Step {
        let reason = err.kind();
        let halt = self.on_send_error(err);
        if !matches!(halt, Halt::Transient(_)) {
            self.record(
                Some(slug),
                Some(variant),
                Some(code),
                Some(send_reason(reason)),
            )
            .await?;
        }
        Err(halt)
    }

    async fn say(&self, text: &str) -> Step {
        self.say_with(text, None).await
    }

    async fn say_with(&self, text: &str, keyboard: Option<InlineKeyboardMarkup>) -> Step {
        let options = SendOptions {
            reply_markup: keyboard,
            ..SendOptions::default()
        };
        match self
            .bot
            .client
            .send_message(self.chat_id, text, &options)
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => Err(self.on_send_error(err)),
        }
    }

    async fn templates(&self) -> Step<Arc<[Template]>> {
        Ok(self
            .state
            .templates
            .telegram_templates(self.tenant())
            .await?)
    }

    async fn record(
        &self,
        template: Option<&str>,
        variant: Option<&str>,
        code: Option<&str>,
        failure: Option<&str>,
    ) -> Step {
        // Boxed: the rollup writes make a ~15 KB future, which every update's task would
        // otherwise be allocated and moved at (record is called on many paths).
        Box::pin(self.state.analytics.record_usage(&NewUsage {
            tenant_id: self.tenant(),
            user_id: self.user_id(),
            chat_id: self.chat_id,
            chat_type: &self.chat_type,
            template_slug: template,
            variant,
            code,
            failure,
            latency_ms: self.started.elapsed().as_millis() as i64,
            created_at: self.state.clock.now(),
        }))
        .await?;
        Ok(())
    }
}

fn help_text(templates: &[Template]) -> String {
    let example = templates
        .first()
        .map(|t| t.slug.as_str())
        .unwrap_or("template-name");
    let mut text = format!(
        "I turn coupon codes into branded promo images.\n\n\
         /generate — pick a template, then send your code\n\
         /{example} CODE — straight to the image (also /{example}/CODE)\n\
         /cancel — start over\n/help — this message"
    );
    if !templates.is_empty() {
        text.push_str("\n\nTemplates: ");
        let names: Vec<String> = templates.iter().map(|t| format!("/{}", t.slug)).collect();
        text.push_str(&names.join(", "));
    }
    text
}

fn candidates(templates: &[Template]) -> Vec<Candidate> {
    templates
        .iter()
        .map(|t| Candidate {
            slug: t.slug.clone(),
            name: t.name.clone(),
        })
        .collect()
}

/// Callback data is at most 64 bytes: the slug when it fits, else the id.
fn template_key(template: &Template) -> String {
    if template.slug.len() <= 60 {
        template.slug.clone()
    } else {
        template.id.clone()
    }
}

fn templates_keyboard(templates: &[Template], page: usize) -> InlineKeyboardMarkup {
    let pages = templates.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages - 1);
    let mut rows: Vec<Vec<InlineKeyboardButton>> = templates
        .iter()
        .skip(page * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|t| {
            vec![InlineKeyboardButton::callback(
                &t.name,
                format!("t:{}", template_key(t)),
            )]
        })
        .collect();
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(InlineKeyboardButton::callback(
            "« Previous",
            format!("p:{}", page - 1),
        ));
    }
    if page + 1 < pages {
        nav.push(InlineKeyboardButton::callback(
            "Next »",
            format!("p:{}", page + 1),
        ));
    }
    if !nav.is_empty() {
        rows.push(nav);
    }
    InlineKeyboardMarkup {
        inline_keyboard: rows,
    }
}

fn variants_keyboard(template: &Template) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup {
        inline_keyboard: vec![
            template
                .variants
                .keys()
                .map(|v| {
                    let mut label = v.clone();
                    if let Some(first) = label.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    InlineKeyboardButton::callback(label, format!("v:{v}"))
                })
                .collect(),
        ],
    }
}

fn did_you_mean(typed: &str, suggestions: &[Candidate]) -> String {
    let typed: String = typed.chars().take(40).collect();
    if suggestions.is_empty() {
        format!("I don't know a template called \"{typed}\". Send /generate to see them all.")
    } else {
        let names: Vec<String> = suggestions.iter().map(|c| format!("/{}", c.slug)).collect();
        format!(
            "I don't know a template called \"{typed}\". Did you mean {}?",
            names.join(" or ")
        )
    }
}

async fn on_message(turn: &Turn<'_>, message: &Message) -> Step {
    let Some(text) = message.text.as_deref() else {
        if turn.is_private() {
            turn.say("Send me a command: /generate to make a coupon image, or /help.")
                .await?;
        }
        return Ok(());
    };
    if text.chars().count() > MAX_TEXT_CHARS {
        counter("telegram_updates_rejected_total", "text_too_long");
        return turn
            .say("That message is too long for me. Send /help to see what I can do.")
            .await;
    }
    match commands::parse(text, turn.bot.username.as_deref()) {
        Some(command) => on_command(turn, command).await,
        None => on_plain_text(turn, text.trim()).await,
    }
}

async fn on_command(turn: &Turn<'_>, command: Command) -> Step {
    match command {
        Command::Start(payload) => {
            if let Some(payload) = &payload {
                turn.noted.lock().expect("noted lock").start_payload =
                    Some(payload.chars().take(64).collect());
            }
            let templates = turn.templates().await?;
            let name = turn
                .user
                .as_ref()
                .map(|u| u.first_name.as_str())
                .filter(|n| !n.is_empty())
                .unwrap_or("there");
            turn.say(&format!("Welcome, {name}! {}", help_text(&templates)))
                .await?;
            turn.save(&Conversation::default()).await
        }
        Command::Help => {
            let templates = turn.templates().await?;
            turn.say(&help_text(&templates)).await
        }
        Command::Cancel => {
            turn.say("Okay, start over any time with /generate.")
                .await?;
            turn.save(&Conversation::default()).await
        }
        Command::Generate => {
            let templates = turn.templates().await?;
            if templates.is_empty() {
                return turn
                    .say("No templates are available for Telegram yet.")
                    .await;
            }
            turn.say_with("Pick a template:", Some(templates_keyboard(&templates, 0)))
                .await?;
            turn.save(&Conversation {
                state: ConvState::ChoosingTemplate,
                ..Conversation::default()
            })
            .await
        }
        Command::Direct {
            name,
            code,
            variant,
        } => {
            let templates = turn.templates().await?;
            let template = match matching::find(&name, &candidates(&templates)) {
                Match::Found(found) => templates
                    .iter()
                    .find(|t| t.slug == found.slug)
                    .expect("found among them"),
                Match::Suggestions(suggestions) => {
                    turn.record(
                        None,
                        variant.as_deref(),
                        code.as_deref(),
                        Some("unknown_template"),
                    )
                    .await?;
                    return turn.say(&did_you_mean(&name, &suggestions)).await;
                }
            };
            match code {
                Some(code) => generate(turn, template, &code, variant.as_deref()).await,
                None => {
                    turn.say(&format!(
                        "{} it is. Now send me the coupon code.",
                        template.name
                    ))
                    .await?;
                    turn.save(&Conversation {
                        state: ConvState::AwaitingCode,
                        template: Some(template.slug.clone()),
                        code: None,
                    })
                    .await
                }
            }
        }
    }
}

async fn on_plain_text(turn: &Turn<'_>, text: &str) -> Step {
    let conversation = turn.conversation().await?;
    match conversation.state {
        ConvState::AwaitingCode => {
            let Some(slug) = conversation.template.clone() else {
                return turn.save(&Conversation::default()).await;
            };
            let template = match turn.state.templates.get(turn.tenant(), &slug).await {
                Ok(t) if t.telegram_enabled => t,
                _ => {
                    turn.save(&Conversation::default()).await?;
                    return turn
                        .say(
                            "That template is no longer available. Send /generate to pick another.",
                        )
                        .await;
                }
            };
            if !commands::valid_code(text) {
                turn.record(Some(&template.slug), None, None, Some("invalid_code"))
                    .await?;
                return turn.say(&invalid_code_text()).await;
            }
            if template.variants.len() > 1 {
                turn.say_with("Which shape?", Some(variants_keyboard(&template)))
                    .await?;
                return turn
                    .save(&Conversation {
                        state: ConvState::ChoosingVariant,
                        template: Some(template.slug.clone()),
                        code: Some(text.to_owned()),
                    })
                    .await;
            }
            generate(turn, &template, text, None).await
        }
        ConvState::ChoosingTemplate => {
            let templates = turn.templates().await?;
            match matching::find(text, &candidates(&templates)) {
                Match::Found(found) => {
                    let name = templates
                        .iter()
                        .find(|t| t.slug == found.slug)
                        .map(|t| t.name.clone())
                        .unwrap_or_default();
                    turn.say(&format!("{name} it is. Now send me the coupon code."))
                        .await?;
                    turn.save(&Conversation {
                        state: ConvState::AwaitingCode,
                        template: Some(found.slug),
                        code: None,
                    })
                    .await
                }
                Match::Suggestions(suggestions) => {
                    turn.say(&did_you_mean(text, &suggestions)).await
                }
            }
        }
        ConvState::ChoosingVariant => turn.say("Tap one of the buttons above, or /cancel.").await,
        ConvState::Idle if turn.is_private() => {
            turn.say("Send /generate to make a coupon image, or /help.")
                .await
        }
        // Groups talk among themselves; the bot only answers commands there.
        ConvState::Idle => Ok(()),
    }
}

async fn on_callback(turn: &Turn<'_>, query: &CallbackQuery) -> Step {
    // Stop the button's spinner first; a failure here is cosmetic.
    let _ = turn.bot.client.answer_callback_query(&query.id, None).await;
    let data = query.data.as_deref().unwrap_or_default();
    let conversation = turn.conversation().await?;
    if let Some(page) = data.strip_prefix("p:") {
        let templates = turn.templates().await?;
        let page = page.parse().unwrap_or(0);
        return turn
            .say_with(
                "Pick a template:",
                Some(templates_keyboard(&templates, page)),
            )
            .await;
    }
    if let Some(key) = data.strip_prefix("t:") {
        let template = match turn.state.templates.get(turn.tenant(), key).await {
            Ok(t) if t.telegram_enabled => t,
            _ => {
                return turn
                    .say("That template is no longer available. Send /generate again.")
                    .await;
            }
        };
        turn.say(&format!(
            "{} it is. Now send me the coupon code.",
            template.name
        ))
        .await?;
        return turn
            .save(&Conversation {
                state: ConvState::AwaitingCode,
                template: Some(template.slug.clone()),
                code: None,
            })
            .await;
    }
    if let Some(variant) = data.strip_prefix("v:") {
        let (ConvState::ChoosingVariant, Some(slug), Some(code)) = (
            conversation.state,
            &conversation.template,
            &conversation.code,
        ) else {
            return turn
                .say("That choice has expired. Send /generate to start again.")
                .await;
        };
        let template = match turn.state.templates.get(turn.tenant(), slug).await {
            Ok(t) if t.telegram_enabled => t,
            _ => {
                return turn
                    .say("That template is no longer available. Send /generate again.")
                    .await;
            }
        };
        return generate(turn, &template, &code.clone(), Some(variant)).await;
    }
    Ok(())
}

/// Channel posts are answered only when they are a direct command; the image is posted to the
/// channel itself.
async fn on_channel_post(turn: &Turn<'_>, post: &Message) -> Step {
    let Some(text) = post
        .text
        .as_deref()
        .filter(|t| t.chars().count() <= MAX_TEXT_CHARS)
    else {
        return Ok(());
    };
    let Some(Command::Direct {
        name,
        code: Some(code),
        variant,
    }) = commands::parse(text, turn.bot.username.as_deref())
    else {
        return Ok(());
    };
    let templates = turn.templates().await?;
    match matching::find(&name, &candidates(&templates)) {
        Match::Found(found) => {
            let template = templates
                .iter()
                .find(|t| t.slug == found.slug)
                .expect("found among them");
            generate(turn, template, &code, variant.as_deref()).await
        }
        Match::Suggestions(suggestions) => {
            turn.record(
                None,
                variant.as_deref(),
                Some(&code),
                Some("unknown_template"),
            )
            .await?;
            turn.say(&did_you_mean(&name, &suggestions)).await
        }
    }
}

fn invalid_code_text() -> String {
    format!(
        "Coupon codes are letters, digits, -, _ and . only (up to {} characters). Send the code again.",
        commands::MAX_CODE_CHARS
    )
}

/// Render (or re-send by file_id) and deliver one image; every attempt is recorded.
/// Coupon check, rendering and upload make a large future; it is boxed so that every other
/// update (/help, /start, ...), whose task is allocated and moved at the size of the largest
/// branch, does not carry it.
fn generate<'a>(
    turn: &'a Turn<'a>,
    template: &'a Template,
    code: &'a str,
    variant: Option<&'a str>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Step> + Send + 'a>> {
    Box::pin(generate_now(turn, template, code, variant))
}

async fn generate_now(
    turn: &Turn<'_>,
    template: &Template,
    code: &str,
    variant: Option<&str>,
) -> Step {
    let slug = template.slug.as_str();
    let variant = match variant {
        Some(v) => {
            let v = v.to_ascii_lowercase();
            if !template.variants.contains_key(&v) {
                turn.record(Some(slug), Some(&v), Some(code), Some("unknown_variant"))
                    .await?;
                let names: Vec<&str> = template.variants.keys().map(String::as_str).collect();
                return turn
                    .say(&format!(
                        "{} comes in: {}.",
                        template.name,
                        names.join(", ")
                    ))
                    .await;
            }
            v
        }
        None => {
            if template.variants.contains_key("square") {
                "square".to_owned()
            } else {
                template
                    .variants
                    .keys()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "square".into())
            }
        }
    };
    if !commands::valid_code(code) {
        turn.record(Some(slug), Some(&variant), None, Some("invalid_code"))
            .await?;
        return turn.say(&invalid_code_text()).await;
    }
    let conversation_done = Conversation::default();
    let state = turn.state;
    // Only codes that are live for the tenant may be rendered (coupons domain).
    match state.coupons.validate(turn.tenant(), code).await {
        Ok(check) if check.valid => {}
        Ok(check) => {
            let reason = match check.code.as_deref() {
                Some("crm_unavailable") => "crm_unavailable",
                _ => "invalid_coupon",
            };
            turn.record(Some(slug), Some(&variant), Some(code), Some(reason))
                .await?;
            turn.save(&conversation_done).await?;
            return turn
                .say(&format!(
                    "Sorry, I can't make that one: {}. Check the code and try again.",
                    check.reason
                ))
                .await;
        }
        Err(ApiError::Validation(message)) => {
            turn.record(Some(slug), Some(&variant), Some(code), Some("invalid_code"))
                .await?;
            return turn.say(&format!("That code won't work: {message}.")).await;
        }
        Err(err) => return Err(Halt::from(err)),
    }
    let db = &state.db;
    let caption = format!("{} · {}", template.name, code);
    let cached = repo::cached_file_id(
        db,
        &turn.bot.id,
        &template.id,
        template.version,
        &variant,
        code,
    )
    .await?;
    if let Some(file_id) = cached {
        match turn
            .bot
            .client
            .send_photo(
                turn.chat_id,
                InputFile::FileId(file_id),
                Some(&caption),
                &SendOptions::default(),
            )
            .await
        {
            Ok(_) => {
                metrics::counter!("bot_photos_sent_total", "source" => "file_id").increment(1);
                turn.record(Some(slug), Some(&variant), Some(code), None)
                    .await?;
                return turn.save(&conversation_done).await;
            }
            Err(TelegramError::BadRequest { .. }) => {
                // Telegram no longer knows it: forget it and upload afresh.
                repo::forget_file_id(
                    db,
                    &turn.bot.id,
                    &template.id,
                    template.version,
                    &variant,
                    code,
                )
                .await?;
            }
            Err(err) => return turn.photo_failed(err, slug, &variant, code).await,
        }
    }
    let rendered = state
        .templates
        .render(
            turn.tenant(),
            RenderRequest {
                template: &template.id,
                variant: &variant,
                code,
                format: OutputFormat::Jpeg {
                    quality: PHOTO_QUALITY,
                },
                logo: None,
                persist: false,
            },
        )
        .await;
    let rendered = match rendered {
        Ok(r) => r,
        Err(ApiError::Unavailable(e)) => return Err(Halt::Transient(e)),
        Err(err) => {
            tracing::warn!(template = slug, error = %err, "bot render failed");
            turn.record(
                Some(slug),
                Some(&variant),
                Some(code),
                Some("render_failed"),
            )
            .await?;
            return turn
                .say("Sorry, I couldn't make that image. Try another template or code.")
                .await;
        }
    };
    let photo = InputFile::Upload {
        file_name: format!("{slug}-{variant}.jpg"),
        bytes: rendered.bytes,
        mime: "image/jpeg",
    };
    match turn
        .bot
        .client
        .send_photo(turn.chat_id, photo, Some(&caption), &SendOptions::default())
        .await
    {
        Ok(message) => {
            metrics::counter!("bot_photos_sent_total", "source" => "upload").increment(1);
            if let Some(largest) = message.largest_photo() {
                repo::remember_file_id(
                    db,
                    &turn.bot.id,
                    &template.id,
                    template.version,
                    &variant,
                    code,
                    &largest.file_id,
                    state.clock.now(),
                )
                .await?;
            }
            turn.record(Some(slug), Some(&variant), Some(code), None)
                .await?;
            turn.save(&conversation_done).await
        }
        Err(err) => turn.photo_failed(err, slug, &variant, code).await,
    }
}

fn send_reason(kind: &'static str) -> &'static str {
    match kind {
        "blocked" => "blocked",
        _ => "send_failed",
    }
}

//! The conversation: one update's handling as a state machine whose state lives in the
//! database (any instance can take the next update of a chat).
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::commands::{self, Command};
use super::delivery::generate;
use super::matching::{self, Match};
use super::replies::{
    candidates, did_you_mean, help_text, invalid_code_text, templates_keyboard, variants_keyboard,
};
use super::repo::{self, UserTouch};
use super::service::{BotService, Halt, Step, counter};
use crate::domains::analytics::NewUsage;
use crate::domains::coupons::CouponCode;
use crate::domains::templates::Template;
use crate::ids::TenantId;
use crate::integrations::telegram::types::{
    CallbackQuery, InlineKeyboardMarkup, Message, Update, User,
};
use crate::integrations::telegram::{SendOptions, TelegramError, TenantBot};

/// Telegram's own limit on message text; longer text cannot be a real message.
const MAX_TEXT_CHARS: usize = 4096;

/// Conversation state of one (chat, user).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(super) struct Conversation {
    #[serde(default)]
    pub(super) state: ConvState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) code: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum ConvState {
    #[default]
    Idle,
    ChoosingTemplate,
    AwaitingCode,
    ChoosingVariant,
}

impl ConvState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ConvState::Idle => "idle",
            ConvState::ChoosingTemplate => "choosing_template",
            ConvState::AwaitingCode => "awaiting_code",
            ConvState::ChoosingVariant => "choosing_variant",
        }
    }
}

/// Everything one update's handling needs.
pub(super) struct Turn<'a> {
    pub(super) service: &'a BotService,
    pub(super) bot: &'a TenantBot,
    pub(super) chat_id: i64,
    pub(super) chat_type: String,
    pub(super) user: Option<User>,
    pub(super) started: Instant,
    /// What handling learnt about the user, written with the update's outcome.
    pub(super) noted: std::sync::Mutex<Noted>,
}

#[derive(Default)]
pub(super) struct Noted {
    pub(super) blocked: bool,
    pub(super) start_payload: Option<String>,
}

/// Handle one update; also the user it came from, to be upserted with the outcome (in the same
/// transaction, so a processed update always has its user recorded).
pub(super) async fn handle(
    service: &BotService,
    bot: &TenantBot,
    payload: &str,
) -> (Step, Option<UserTouch>) {
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
        let turn = Turn::new(service, bot, &message);
        let result = on_message(&turn, &message).await;
        return (result, turn.user_touch());
    }
    if let Some(post) = update.channel_post {
        let turn = Turn::new(service, bot, &post);
        return (on_channel_post(&turn, &post).await, None);
    }
    if let Some(query) = update.callback_query {
        let Some(message) = &query.message else {
            return (Ok(()), None);
        };
        let mut turn = Turn::new(service, bot, message);
        turn.user = Some(query.from.clone());
        let result = on_callback(&turn, &query).await;
        return (result, turn.user_touch());
    }
    // Edited messages and kinds we did not ask for are acknowledged and ignored.
    (Ok(()), None)
}

impl<'a> Turn<'a> {
    fn new(service: &'a BotService, bot: &'a TenantBot, message: &Message) -> Self {
        Turn {
            service,
            bot,
            chat_id: message.chat.id,
            chat_type: message.chat.kind.clone(),
            user: message.from.clone(),
            started: Instant::now(),
            noted: Default::default(),
        }
    }

    pub(super) fn tenant(&self) -> &TenantId {
        &self.bot.tenant_id
    }

    pub(super) fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    pub(super) fn is_private(&self) -> bool {
        self.chat_type == "private"
    }

    /// The user's row as this update leaves it (bots are not an audience).
    pub(super) fn user_touch(&self) -> Option<UserTouch> {
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
            now: self.service.clock.now(),
        })
    }

    pub(super) async fn conversation(&self) -> Step<Conversation> {
        let row = repo::conversation(
            &self.service.db,
            &self.bot.id,
            self.chat_id,
            self.user_id().unwrap_or(0),
        )
        .await?;
        Ok(row
            .and_then(|r| serde_json::from_str(&r.data).ok())
            .unwrap_or_default())
    }

    pub(super) async fn save(&self, conversation: &Conversation) -> Step {
        repo::save_conversation(
            &self.service.db,
            &self.bot.id,
            self.chat_id,
            self.user_id().unwrap_or(0),
            conversation.state.as_str(),
            &serde_json::to_string(conversation).expect("conversation serialises"),
            self.service.clock.now(),
        )
        .await?;
        Ok(())
    }

    /// A 403 in a private chat marks the user blocked (written with the outcome); nothing is
    /// retried for them.
    pub(super) fn on_send_error(&self, err: TelegramError) -> Halt {
        if err.is_blocked() {
            if self.is_private() {
                self.noted.lock().expect("noted lock").blocked = true;
            }
            counter("telegram_sends_failed_total", "blocked");
        }
        Halt::from(err)
    }

    pub(super) async fn say(&self, text: &str) -> Step {
        self.say_with(text, None).await
    }

    pub(super) async fn say_with(
        &self,
        text: &str,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Step {
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

    pub(super) async fn templates(&self) -> Step<Arc<[Template]>> {
        Ok(self
            .service
            .templates
            .telegram_templates(self.tenant())
            .await?)
    }

    pub(super) async fn record(
        &self,
        template: Option<&str>,
        variant: Option<&str>,
        code: Option<&str>,
        failure: Option<&str>,
    ) -> Step {
        // Boxed: the rollup writes make a ~15 KB future, which every update's task would
        // otherwise be allocated and moved at (record is called on many paths).
        Box::pin(self.service.analytics.record_usage(&NewUsage {
            tenant_id: self.tenant(),
            user_id: self.user_id(),
            chat_id: self.chat_id,
            chat_type: &self.chat_type,
            template_slug: template,
            variant,
            code,
            failure,
            latency_ms: self.started.elapsed().as_millis() as i64,
            created_at: self.service.clock.now(),
        }))
        .await?;
        Ok(())
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
            let template = match turn.service.templates.get(turn.tenant(), &slug).await {
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
            let Ok(code) = CouponCode::parse(text) else {
                turn.record(Some(&template.slug), None, None, Some("invalid_code"))
                    .await?;
                return turn.say(&invalid_code_text()).await;
            };
            if template.variants.len() > 1 {
                turn.say_with("Which shape?", Some(variants_keyboard(&template)))
                    .await?;
                return turn
                    .save(&Conversation {
                        state: ConvState::ChoosingVariant,
                        template: Some(template.slug.clone()),
                        code: Some(code.display().to_owned()),
                    })
                    .await;
            }
            generate(turn, &template, code.display(), None).await
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
        let template = match turn.service.templates.get(turn.tenant(), key).await {
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
        let template = match turn.service.templates.get(turn.tenant(), slug).await {
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

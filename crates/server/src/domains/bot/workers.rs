//! Leader-run work of the coupon bot: set each bot up with Telegram (getMe, setWebhook or
//! polling, setMyCommands), sweep stranded updates, prune processed ones, and long-poll when
//! `TELEGRAM_MODE=polling`.
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::repo;
use crate::config::TelegramMode;
use crate::integrations::telegram::TenantBot;
use crate::integrations::telegram::types::{ALLOWED_UPDATES, BotCommand};
use crate::state::AppState;
use crate::workers::Worker;

/// Updates still unclaimed this long after receipt are taken by the sweeper.
const UNCLAIMED_AFTER_MS: i64 = 3_000;

fn polling(state: &AppState) -> bool {
    state.ctx.config.integrations.telegram_mode == Some(TelegramMode::Polling)
}

pub fn commands() -> Vec<BotCommand> {
    [
        ("generate", "Make a coupon image"),
        ("help", "How to use the bot"),
        ("start", "Welcome"),
        ("cancel", "Start over"),
    ]
    .into_iter()
    .map(|(command, description)| BotCommand {
        command: command.into(),
        description: description.into(),
    })
    .collect()
}

pub use crate::integrations::telegram::webhook_url;

/// Registers every bot with Telegram once per leadership (and again after a failure).
#[derive(Default)]
pub struct BotSetup {
    done: Mutex<HashSet<String>>,
}

impl Worker for BotSetup {
    fn name(&self) -> &'static str {
        "telegram-setup"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(30)
    }

    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        for bot in state.telegram.all_bots().await? {
            if self.done.lock().expect("setup lock").contains(&bot.id) {
                continue;
            }
            match set_up(state, &bot).await {
                Ok(()) => {
                    self.done.lock().expect("setup lock").insert(bot.id.clone());
                }
                Err(err) => {
                    tracing::warn!(bot = %bot.id, error = %err, "Telegram setup failed; retrying later");
                }
            }
        }
        Ok(())
    }
}

async fn set_up(state: &AppState, bot: &TenantBot) -> anyhow::Result<()> {
    let me = bot.client.get_me().await?;
    state
        .telegram
        .record_identity(&bot.id, me.id, me.username.as_deref())
        .await?;
    if polling(state) {
        // getUpdates refuses to work while a webhook is set.
        bot.client.delete_webhook().await?;
        state
            .telegram
            .record_setup(&bot.id, "polling", None, None)
            .await?;
    } else if let Some(public_url) = &state.ctx.config.public_url {
        let url = webhook_url(public_url, &bot.id);
        let secret = state
            .telegram
            .webhook_secret(&bot.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("bot disappeared"))?;
        let result = bot
            .client
            .set_webhook(&url, secret.expose(), ALLOWED_UPDATES)
            .await;
        let error = result.as_ref().err().map(ToString::to_string);
        state
            .telegram
            .record_setup(&bot.id, "webhook", Some(&url), error.as_deref())
            .await?;
        result?;
        tracing::info!(bot = %bot.id, %url, "Telegram webhook registered");
    } else {
        state
            .telegram
            .record_setup(
                &bot.id,
                "webhook",
                None,
                Some("PUBLIC_URL is not set, so the webhook was not registered (set it, or TELEGRAM_MODE=polling)"),
            )
            .await?;
    }
    bot.client.set_my_commands(&commands()).await?;
    Ok(())
}

/// Picks up updates nobody is processing: received while every slot was busy, claimed by an
/// instance that crashed, or due for a retry.
pub struct UpdateSweeper;

impl Worker for UpdateSweeper {
    fn name(&self) -> &'static str {
        "telegram-sweeper"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(2)
    }

    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        let now = state.clock.now();
        for repo::StrandedUpdate { bot_id, update_id } in
            repo::stranded(&state.db, now, UNCLAIMED_AFTER_MS, 200).await?
        {
            state.bot.dispatch(bot_id, update_id);
        }
        Ok(())
    }
}

/// How long a processed update is kept: its update_id is what makes a redelivery a duplicate,
/// and Telegram redelivers an unacknowledged update for up to 24 hours.
pub const KEEP_PROCESSED_MS: i64 = 48 * 3_600_000;
/// Rows deleted per statement, and statements per bot per step (a step stays short; the next
/// one goes on).
const PRUNE_BATCH: i64 = 5_000;
const PRUNE_BATCHES_PER_STEP: usize = 20;

/// Deletes updates processed more than [`KEEP_PROCESSED_MS`] ago (never a pending one, never a
/// bot's newest), so `bot_updates` stays bounded however many updates a bot receives.
pub struct UpdatePruner;

impl Worker for UpdatePruner {
    fn name(&self) -> &'static str {
        "telegram-update-pruner"
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(600)
    }

    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        let cutoff = state.clock.now() - KEEP_PROCESSED_MS;
        for bot in state.telegram.all_bots().await? {
            let mut deleted = 0;
            for _ in 0..PRUNE_BATCHES_PER_STEP {
                let n = repo::prune_processed(&state.db, &bot.id, cutoff, PRUNE_BATCH).await?;
                deleted += n;
                if n < PRUNE_BATCH as u64 {
                    break;
                }
            }
            if deleted > 0 {
                tracing::info!(bot = %bot.id, deleted, "pruned processed Telegram updates");
            }
        }
        Ok(())
    }
}

/// `TELEGRAM_MODE=polling`: long-poll every bot and feed the same durable receipt as the
/// webhook. The offset confirms an update only after it is stored.
#[derive(Default)]
pub struct Poller {
    offsets: Mutex<HashMap<String, i64>>,
}

/// Seconds one getUpdates call waits; short, so leadership changes and shutdown are prompt.
const POLL_TIMEOUT_SECS: u32 = 10;

impl Worker for Poller {
    fn name(&self) -> &'static str {
        "telegram-poller"
    }

    fn interval(&self) -> Duration {
        Duration::from_millis(200)
    }

    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        // Webhook mode: nothing to do (a wake-up every interval, no I/O).
        if !polling(state) {
            return Ok(());
        }
        for bot in state.telegram.all_bots().await? {
            let known = self
                .offsets
                .lock()
                .expect("offsets lock")
                .get(&bot.id)
                .copied();
            let offset = match known {
                Some(offset) => offset,
                None => repo::max_update_id(&state.db, &bot.id)
                    .await?
                    .map_or(0, |m| m + 1),
            };
            let params = json!({
                "offset": offset, "timeout": POLL_TIMEOUT_SECS, "allowed_updates": ALLOWED_UPDATES,
            });
            // Raw JSON, so the stored update is exactly what Telegram sent.
            let batch: Vec<Value> = bot.client.call("getUpdates", params, None).await?;
            let mut next = offset;
            for update in batch {
                let body = serde_json::to_vec(&update)?;
                match state.bot.receive(&bot, &body).await {
                    Ok(super::service::Receipt::Stored { update_id }) => {
                        next = next.max(update_id + 1);
                    }
                    Ok(super::service::Receipt::Duplicate { update_id }) => {
                        next = next.max(update_id + 1);
                    }
                    // Malformed: skip it so it does not block the queue (it is counted).
                    Err(crate::domains::error::DomainError::Malformed { .. }) => {
                        next = next.max(update["update_id"].as_i64().map_or(next, |id| id + 1));
                    }
                    // Not stored (database down): do not confirm; Telegram sends it again.
                    Err(err) => return Err(anyhow::anyhow!("storing a polled update: {err}")),
                }
            }
            self.offsets
                .lock()
                .expect("offsets lock")
                .insert(bot.id.clone(), next);
            if next != offset {
                let _ = state.telegram.touch_last_update(&bot.id).await;
            }
        }
        Ok(())
    }
}

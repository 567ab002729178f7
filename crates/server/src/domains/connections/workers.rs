//! Leader-run work of the connections' bots: set each one up with Telegram once per leadership
//! (the webhook registered again, or removed for polling) and, with `TELEGRAM_MODE=polling`,
//! long-poll the Signal Bots. Coupon Bots are run by the coupon bot's own workers
//! (`domains/bot/workers.rs`), which the connection feeds (docs/connections.md).
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::service::{BotRole, WebhookOutcome, allowed_updates};
use crate::integrations::telegram::TelegramError;
use crate::state::AppState;
use crate::workers::Worker;

/// Sets up every connection's bot once per leadership, and again after a failure (or a new
/// token: the key includes the bot's client, which changes with it).
#[derive(Default)]
pub struct ConnectionSetup {
    done: Mutex<HashSet<String>>,
}

impl Worker for ConnectionSetup {
    fn name(&self) -> &'static str {
        "connections-setup"
    }

    /// A bot connected during a leadership is set up within this (one query when nothing is
    /// new; Telegram is called only for bots not yet set up).
    fn interval(&self) -> Duration {
        Duration::from_secs(5)
    }

    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        for bot in state.connections.connected_bots().await? {
            let key = format!("{}:{}", bot.id, bot.fingerprint);
            if bot.token_rejected || self.done.lock().expect("setup lock").contains(&key) {
                continue;
            }
            // The Coupon Bot is set up by the coupon bot's own BotSetup (webhook, commands);
            // here it is only handed to the registry again, which heals an interrupted save.
            let result = match bot.role {
                BotRole::CouponBot => state.connections.run_connected_coupon_bot(&bot).await,
                BotRole::SignalBot => state.connections.set_up(&bot).await,
            };
            match result {
                Ok(()) => {
                    tracing::info!(connection = %bot.id, role = bot.role.as_str(), "connection bot set up with Telegram");
                    self.done.lock().expect("setup lock").insert(key);
                }
                Err(err) => {
                    tracing::warn!(connection = %bot.id, error = %err, "connection bot setup failed; retrying later");
                }
            }
        }
        Ok(())
    }
}

/// Seconds one getUpdates call waits (short, so leadership changes and shutdown are prompt).
const POLL_TIMEOUT_SECS: u32 = 10;

/// `TELEGRAM_MODE=polling`: long-polls each Signal Bot and hands its updates to the same
/// handling as its webhook. What a Signal Bot receives today (`my_chat_member`) is idempotent,
/// so the offset is kept in memory: after a restart Telegram hands the unconfirmed updates out
/// again and handling them twice changes nothing.
#[derive(Default)]
pub struct ConnectionPoller {
    offsets: Mutex<HashMap<String, i64>>,
}

impl Worker for ConnectionPoller {
    fn name(&self) -> &'static str {
        "connections-poller"
    }

    fn interval(&self) -> Duration {
        Duration::from_millis(200)
    }

    async fn step(&self, state: &AppState) -> anyhow::Result<()> {
        if !state.connections.polling() {
            return Ok(());
        }
        for bot in state.connections.connected_bots().await? {
            if bot.role != BotRole::SignalBot || bot.token_rejected {
                continue;
            }
            let offset = self
                .offsets
                .lock()
                .expect("offsets lock")
                .get(&bot.id)
                .copied()
                .unwrap_or(0);
            let params = json!({
                "offset": offset, "timeout": POLL_TIMEOUT_SECS,
                "allowed_updates": allowed_updates(bot.role),
            });
            let batch: Vec<Value> = match bot.client.call("getUpdates", params, None).await {
                Ok(batch) => batch,
                // A webhook is still set (saved before this leader's set-up ran): remove it.
                Err(TelegramError::BadRequest { description })
                    if description.contains("webhook") =>
                {
                    bot.client.delete_webhook().await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let mut next = offset;
            for update in batch {
                let Some(update_id) = update["update_id"].as_i64() else {
                    continue;
                };
                let body = serde_json::to_vec(&update)?;
                match state
                    .connections
                    .receive_polled_update(&bot.id, &body)
                    .await
                {
                    Ok(WebhookOutcome::Handled | WebhookOutcome::UnknownBot) => {
                        next = next.max(update_id + 1);
                    }
                    Ok(WebhookOutcome::SignalBotCommand(message)) => {
                        if let Err(err) = state.forex.operator_command(&message).await {
                            tracing::warn!(error = %err, "operator command failed");
                        }
                        next = next.max(update_id + 1);
                    }
                    Ok(WebhookOutcome::BadSecret) => unreachable!("polled updates carry no secret"),
                    // Not handled (database down): do not confirm; Telegram hands it out again.
                    Err(err) => {
                        return Err(anyhow::anyhow!("handling a polled update: {err}"));
                    }
                }
            }
            self.offsets
                .lock()
                .expect("offsets lock")
                .insert(bot.id.clone(), next);
        }
        Ok(())
    }
}

//! Durable receipt of webhook and polled updates: key them, store them (group-committed), and
//! start processing them on this instance when there is room.
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::claims::{ClaimedUpdate, Ran};
use super::repo::NewUpdate;
use super::service::{BotService, CLAIM_MS, counter};
use super::writer::Stored;
use crate::domains::error::{DomainError, DomainResult};
use crate::integrations::telegram::TenantBot;

/// What the webhook did with a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    Stored { update_id: i64 },
    Duplicate { update_id: i64 },
}

/// Capacity reserved for an update before it is stored claimed.
enum Slot {
    Run(tokio::sync::OwnedSemaphorePermit),
    Wait(tokio::sync::OwnedSemaphorePermit),
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
    /// Durable receipt: validate the shape just enough to key it, store it (group-committed with
    /// the other writes of the moment), start processing it, and say whether it was new. The
    /// caller answers 200 only after this returned, so only after the commit.
    pub async fn receive(&self, bot: &TenantBot, body: &[u8]) -> DomainResult<Receipt> {
        let (update_id, chat_id) = key_of(body).ok_or_else(|| {
            counter("telegram_updates_rejected_total", "malformed_json");
            tracing::warn!(bot = %bot.id, bytes = body.len(), "Telegram webhook body is not JSON");
            DomainError::malformed("the update is not JSON")
        })?;
        let Some(update_id) = update_id else {
            counter("telegram_updates_rejected_total", "no_update_id");
            tracing::warn!(bot = %bot.id, bytes = body.len(), "Telegram update without update_id");
            return Err(DomainError::malformed(
                "the update has no integer update_id",
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
                    .map(|_| (self.instance_id.clone(), now + CLAIM_MS)),
            })
            .await?;
        match stored {
            Stored::New { claimed } => {
                metrics::counter!("telegram_updates_received_total").increment(1);
                match slot {
                    Some(slot) if claimed => {
                        let (service, bot) = (self.clone(), bot.clone());
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
                            if service.clock.now() - now > CLAIM_MS / 2 {
                                return service.process(&bot_id, update_id).await;
                            }
                            let claimed = ClaimedUpdate {
                                payload: payload.to_string(),
                                chat_id,
                            };
                            if let Ran::Finished { next } = service
                                .run_claimed(&bot_id, update_id, claimed, Some(bot))
                                .await
                            {
                                service.process_chat_from(&bot_id, next).await;
                            }
                        });
                    }
                    // No capacity, or an earlier update of its chat is pending: the usual claim
                    // (which waits for that one).
                    unclaimed => {
                        drop(unclaimed);
                        self.dispatch(bot.id.clone(), update_id);
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

    /// Process a stored update in the background of this instance: now if a slot is free, else
    /// queued in memory; when even the queue is full the sweeper (leader) takes it from the
    /// table later.
    pub fn dispatch(&self, bot_id: String, update_id: i64) {
        let service = self.clone();
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            tokio::spawn(async move {
                let _permit = permit;
                service.process(&bot_id, update_id).await;
            });
        } else if let Ok(place) = self.waiting.clone().try_acquire_owned() {
            let permits = self.permits.clone();
            tokio::spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else {
                    return;
                };
                drop(place);
                service.process(&bot_id, update_id).await;
            });
        } else {
            counter("telegram_updates_deferred_total", "busy");
        }
    }
}

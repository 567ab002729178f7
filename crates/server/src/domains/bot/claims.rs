//! Claiming stored updates and keeping each chat in order: one instance handles an update at a
//! time (a lease), and a chat's next update is taken only after the one before it finished.
use super::conversation::handle;
pub(super) use super::repo::ClaimedUpdate;
use super::repo::{self, Claim, Finish, UpdateStatus};
use super::service::{BotService, CLAIM_MS, Halt, MAX_ATTEMPTS};
use crate::integrations::telegram::TenantBot;

/// How a claimed update's handling ended for the chat's order.
pub(super) enum Ran {
    /// Done or failed; `next` is the chat's next pending update.
    Finished { next: Option<i64> },
    /// Not claimed, back to pending (a retry later), or the outcome could not be recorded.
    Pending,
}

impl BotService {
    /// Claim and handle `update_id`, then the chat's next pending updates in order.
    pub async fn process(&self, bot_id: &str, update_id: i64) {
        self.process_chat_from(bot_id, Some(update_id)).await;
    }

    /// Claim and handle `next`, then each next pending update of its chat, in order, until one
    /// cannot be claimed (another instance has it, or an earlier one waits for a retry).
    pub(super) async fn process_chat_from(&self, bot_id: &str, mut next: Option<i64>) {
        while let Some(update_id) = next {
            match self.process_one(bot_id, update_id).await {
                Ran::Finished { next: after } => next = after,
                Ran::Pending => return,
            }
        }
    }

    /// Claim and handle one update.
    async fn process_one(&self, bot_id: &str, update_id: i64) -> Ran {
        let now = self.clock.now();
        let claimed = self
            .writer()
            .claim(Claim {
                bot_id: bot_id.to_owned(),
                update_id,
                holder: self.instance_id.clone(),
                now,
                until: now + CLAIM_MS,
            })
            .await;
        match claimed {
            Ok(Some(claimed)) => self.run_claimed(bot_id, update_id, claimed, None).await,
            Ok(None) => Ran::Pending,
            Err(err) => {
                tracing::warn!(bot = bot_id, update_id, error = %err, "cannot claim update");
                Ran::Pending
            }
        }
    }

    /// Handle an update this instance holds the claim of, and record the outcome (with the user it
    /// came from, in one transaction).
    pub(super) async fn run_claimed(
        &self,
        bot_id: &str,
        update_id: i64,
        claimed: ClaimedUpdate,
        bot: Option<TenantBot>,
    ) -> Ran {
        let ClaimedUpdate { payload, chat_id } = claimed;
        let bot = match bot {
            Some(bot) => Ok(Some(bot)),
            None => self.telegram.bot(bot_id).await,
        };
        let (outcome, user) = match bot {
            Ok(Some(bot)) => {
                // A panic in handling must not lose the update: run it as a task and look at it.
                let service = self.clone();
                let task = tokio::spawn(async move { handle(&service, &bot, &payload).await });
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
        let now = self.clock.now();
        let (status, error, retry_at) = match outcome {
            Ok(()) => (UpdateStatus::Done, None, None),
            Err(Halt::Blocked) => (UpdateStatus::Done, Some("blocked".to_owned()), None),
            Err(Halt::Permanent(e)) => (UpdateStatus::Failed, Some(e), None),
            Err(Halt::Transient(e)) => {
                let attempts = repo::attempts(&self.db, bot_id, update_id)
                    .await
                    .unwrap_or(MAX_ATTEMPTS);
                if attempts >= MAX_ATTEMPTS {
                    (UpdateStatus::Failed, Some(e), None)
                } else {
                    // Back-off grows with the attempts: 2 s, 4 s, 8 s, ...
                    (
                        UpdateStatus::Pending,
                        Some(e),
                        Some(now + 1000 * (1 << attempts.min(6))),
                    )
                }
            }
        };
        metrics::counter!("telegram_updates_processed_total", "status" => status.as_str())
            .increment(1);
        if status != UpdateStatus::Done {
            tracing::warn!(
                bot = bot_id,
                update_id,
                status = status.as_str(),
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
        match self.finish(finish).await {
            Ok(next) if status != UpdateStatus::Pending => Ran::Finished { next },
            Ok(_) => Ran::Pending,
            Err(err) => {
                // The claim expires and the sweeper retries; handling is idempotent enough for that.
                tracing::warn!(bot = bot_id, update_id, error = %err, "cannot record update outcome");
                Ran::Pending
            }
        }
    }
}

//! Sends the post outbox to each workspace's VIP channel through its Signal Bot, one post at a
//! time per workspace and in order (an update is a reply to its signal's message, so it waits
//! for it). A post is marked `sending` (committed) before the request; one found `sending`
//! when a new leadership starts may have gone out and is marked `uncertain`, never resent.
use std::collections::HashSet;

use super::repo::{self, PostRow, PostStatus};
use crate::db::Db;
use crate::domains::connections::{BotCredentialResolver, BotRole};
use crate::domains::error::DomainResult;
use crate::integrations::openai::OpenAiClient;
use crate::integrations::telegram::{SendOptions, TelegramError};
use crate::time::Millis;

use super::commentary::NoteContext;

/// A post Telegram cannot take (down, rate limited) is retried until this old, then failed
/// with the reason: a signal instruction hours late would mislead copy-trading tools.
pub const POST_TTL_MS: i64 = 2 * 60 * 60 * 1000;
/// Wait before a retry when Telegram gave no `retry_after`.
pub const RETRY_MS: i64 = 30_000;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PostReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub uncertain: usize,
}

/// Posts left `sending` by an earlier leadership (a crash, a failover).
pub async fn recover(db: &Db, now: Millis) -> DomainResult<u64> {
    Ok(repo::mark_stale_sending_uncertain(db, i64::MAX, now).await?)
}

/// Send what is due now, the oldest post of each workspace first.
pub async fn send_due(
    db: &Db,
    resolver: &BotCredentialResolver,
    ai: Option<&OpenAiClient>,
    now: Millis,
) -> DomainResult<PostReport> {
    let mut report = PostReport::default();
    let due = repo::due_posts(db, now, 200).await?;
    // A workspace whose post could not go out now sends nothing after it in this pass.
    let mut held: HashSet<String> = HashSet::new();
    for post in due {
        if held.contains(&post.tenant_id) {
            continue;
        }
        match send_one(db, resolver, ai, &post, now).await? {
            Sent::Yes => report.sent += 1,
            Sent::Later => {
                report.retried += 1;
                held.insert(post.tenant_id.clone());
            }
            Sent::Failed => report.failed += 1,
            Sent::Uncertain => report.uncertain += 1,
        }
    }
    Ok(report)
}

enum Sent {
    Yes,
    Later,
    Failed,
    Uncertain,
}

async fn send_one(
    db: &Db,
    resolver: &BotCredentialResolver,
    ai: Option<&OpenAiClient>,
    post: &PostRow,
    now: Millis,
) -> DomainResult<Sent> {
    let tenant = post.tenant_id.as_str();
    let fail = |reason: String| async move {
        repo::finish_post(
            db,
            tenant,
            &post.id,
            PostStatus::Failed,
            None,
            Some(&reason),
            now,
        )
        .await?;
        tracing::warn!(tenant, post = %post.post_key, reason, "forex post failed");
        Ok::<Sent, crate::domains::error::DomainError>(Sent::Failed)
    };
    let later = |reason: String, wait_ms: i64| async move {
        if now - post.created_at > POST_TTL_MS {
            return fail(format!("not sent within 2 hours: {reason}")).await;
        }
        repo::retry_post_at(db, tenant, &post.id, now + wait_ms, &reason, now).await?;
        Ok(Sent::Later)
    };
    let creds = match resolver.credentials(tenant, BotRole::SignalBot).await {
        Ok(creds) => creds,
        Err(e) => return later(e.to_string(), RETRY_MS).await,
    };
    let Some(channel) = creds.vip_channel_id else {
        return later("the Signal Bot has no VIP channel".into(), RETRY_MS).await;
    };
    let reply_to = match &post.reply_to_key {
        Some(key) => repo::message_id_of(db, tenant, key).await?,
        None => None,
    };
    // The AI writes its note before the claim: a crash here loses nothing but the draft.
    let mut text = post.text.clone();
    if let (Some(client), Some(context)) = (ai, post.ai_context_json.as_deref())
        && let Ok(context) = serde_json::from_str::<NoteContext>(context)
        && let Some(note) = super::commentary::write(client, &context).await
    {
        text = note;
    }
    if !repo::mark_sending(db, tenant, &post.id, &text, now).await? {
        return Ok(Sent::Later);
    }
    let options = SendOptions {
        reply_to_message_id: reply_to,
        ..SendOptions::default()
    };
    match creds.client.send_message(channel, &text, &options).await {
        Ok(message) => {
            repo::finish_post(
                db,
                tenant,
                &post.id,
                PostStatus::Sent,
                Some(message.message_id),
                None,
                now,
            )
            .await?;
            metrics::counter!("forex_posts_sent_total").increment(1);
            Ok(Sent::Yes)
        }
        Err(TelegramError::RetryAfter { secs }) => {
            repo::retry_post_at(
                db,
                tenant,
                &post.id,
                now + secs as i64 * 1000,
                "rate limited by Telegram",
                now,
            )
            .await?;
            Ok(Sent::Later)
        }
        Err(e @ TelegramError::Server { .. }) => {
            repo::retry_post_at(db, tenant, &post.id, now + RETRY_MS, &e.to_string(), now).await?;
            Ok(Sent::Later)
        }
        Err(e @ TelegramError::Network(_)) => {
            // The request may have reached Telegram: never sent again.
            repo::finish_post(
                db,
                tenant,
                &post.id,
                PostStatus::Uncertain,
                None,
                Some(&e.to_string()),
                now,
            )
            .await?;
            Ok(Sent::Uncertain)
        }
        Err(e @ (TelegramError::Unauthorized | TelegramError::InvalidToken)) => {
            let _ = resolver.token_rejected(tenant, BotRole::SignalBot).await;
            repo::retry_post_at(db, tenant, &post.id, now + RETRY_MS, &e.to_string(), now).await?;
            Ok(Sent::Later)
        }
        Err(e) => fail(e.to_string()).await,
    }
}

//! The coupon bot's service: what it holds and the shared vocabulary of its parts. Receipt of
//! updates (receipt.rs), claiming and per-chat order (claims.rs), the conversation
//! (conversation.rs), its texts and keyboards (replies.rs) and image delivery (delivery.rs) are
//! each in their own file. Its collaborators are given at construction.
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use super::repo::{self, Finish, UpdateStatus};
use super::writer::Writer;
use crate::db::{Db, DbError};
use crate::domains::analytics::AnalyticsService;
use crate::domains::coupons::CouponService;
use crate::domains::error::{DomainError, DomainResult, chain};
use crate::domains::templates::TemplateService;
use crate::integrations::telegram::{TelegramError, TelegramService};
use crate::time::Clock;

pub use super::receipt::Receipt;

/// How long one instance holds an update it is processing before others may take it.
pub(super) const CLAIM_MS: i64 = 60_000;
/// Attempts before a transiently failing update is given up (`failed`).
pub const MAX_ATTEMPTS: i64 = 5;
/// Templates per page of the /generate keyboard.
pub const PAGE_SIZE: usize = 6;
/// Updates processed at once by one instance; beyond that they queue in memory (up to
/// [`WAITING`]), then wait in the table for the sweeper.
const CONCURRENCY: usize = 128;
/// Stored updates waiting in this process for a processing slot.
const WAITING: usize = 4096;

/// The coupon bot. Cheap to clone: spawned handling tasks hold their own handle.
#[derive(Clone)]
pub struct BotService(Arc<Inner>);

pub struct Inner {
    pub(super) db: Db,
    pub(super) clock: Clock,
    /// This instance's name, the holder of the claims it takes.
    pub(super) instance_id: String,
    pub(super) telegram: Arc<TelegramService>,
    pub(super) templates: TemplateService,
    pub(super) coupons: CouponService,
    pub(super) analytics: AnalyticsService,
    pub(super) permits: Arc<Semaphore>,
    pub(super) waiting: Arc<Semaphore>,
    /// Started on first use (it needs the runtime).
    writer: OnceLock<Writer>,
}

impl Deref for BotService {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// What the bot needs from the rest of the application.
pub struct BotDeps {
    pub db: Db,
    pub clock: Clock,
    pub instance_id: String,
    pub telegram: Arc<TelegramService>,
    pub templates: TemplateService,
    pub coupons: CouponService,
    pub analytics: AnalyticsService,
}

/// Updates of a bot by status, for its status card.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateCounts {
    pub pending: i64,
    pub done: i64,
    pub failed: i64,
}

impl BotService {
    pub fn new(deps: BotDeps) -> Self {
        Self(Arc::new(Inner {
            db: deps.db,
            clock: deps.clock,
            instance_id: deps.instance_id,
            telegram: deps.telegram,
            templates: deps.templates,
            coupons: deps.coupons,
            analytics: deps.analytics,
            permits: Arc::new(Semaphore::new(CONCURRENCY)),
            waiting: Arc::new(Semaphore::new(WAITING)),
            writer: OnceLock::new(),
        }))
    }

    pub(super) fn writer(&self) -> &Writer {
        self.writer.get_or_init(|| Writer::start(self.db.clone()))
    }

    /// Record how processing an update ended, with its user (group-committed); the chat's next
    /// pending update when it is finished.
    pub(super) async fn finish(&self, finish: Finish) -> Result<Option<i64>, DbError> {
        self.writer().finish(finish).await
    }

    /// How many of a bot's stored updates are pending, done and failed.
    pub async fn update_counts(&self, bot_id: &str) -> DomainResult<UpdateCounts> {
        let mut counts = UpdateCounts::default();
        for (status, n) in repo::update_counts(&self.db, bot_id).await? {
            match status {
                UpdateStatus::Pending => counts.pending = n,
                UpdateStatus::Done => counts.done = n,
                UpdateStatus::Failed => counts.failed = n,
            }
        }
        Ok(counts)
    }
}

/// Why processing stopped early.
#[derive(Debug)]
pub(super) enum Halt {
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
            other => Halt::Permanent(chain(&other)),
        }
    }
}

impl From<DomainError> for Halt {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Unavailable { message, .. } => Halt::Transient(message),
            other => Halt::Permanent(chain(&other)),
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

pub(super) type Step<T = ()> = Result<T, Halt>;

pub(super) fn counter(name: &'static str, reason: &'static str) {
    metrics::counter!(name, "reason" => reason).increment(1);
}

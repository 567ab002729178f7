//! The application as built at start-up: configuration, infrastructure and every service,
//! each constructed once with its collaborators (app.rs). Handlers and workers take it; services
//! never do.
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::clerk::ClerkVerifier;
use crate::auth::{Keys, LoginLimiter};
use crate::context::AppContext;
use crate::db::Db;
use crate::domains::bot::BotService;
use crate::domains::coupons::CouponService;
use crate::domains::templates::TemplateService;
use crate::domains::tenants::TenantService;
use crate::integrations::telegram::TelegramService;
use crate::storage::Storage;
use crate::time::Clock;

#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

pub struct AppInner {
    pub ctx: AppContext,
    pub db: Db,
    pub storage: Storage,
    pub clock: Clock,
    pub http: reqwest::Client,
    pub clerk: ClerkVerifier,
    pub login_limiter: LoginLimiter,
    /// Server-side sessions behind the admin cookie (logout revokes them).
    pub login_sessions: crate::auth::sessions::LoginSessions,
    pub metrics: PrometheusHandle,
    pub instance_id: String,
    pub readiness: Readiness,
    pub leadership: Leadership,
    /// Argon2 PHC of the admin password, set by bootstrap.
    pub admin_password_hash: OnceLock<String>,
    pub keys: OnceLock<Keys>,
    pub tenants: TenantService,
    pub templates: TemplateService,
    /// Telegram bots of every tenant: `state.telegram.bot_for_tenant(id)` gives a client.
    pub telegram: Arc<TelegramService>,
    pub bot: BotService,
    pub coupons: CouponService,
    pub campaigns: crate::domains::campaigns::CampaignService,
    pub analytics: crate::domains::analytics::AnalyticsService,
    pub broadcasts: crate::domains::broadcast::BroadcastService,
    pub backtests: crate::domains::backtests::BacktestService,
    /// Each workspace's bots and channels; `connections.resolver()` gives any domain a bot.
    pub connections: crate::domains::connections::ConnectionService,
    pub forex: crate::domains::forex::ForexService,
}

impl AppState {
    pub fn new(inner: AppInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// Database state as routes see it: `Starting` until migrations and bootstrap finished, then
/// `Up`/`Down` as the health probe finds it.
#[derive(Default)]
pub struct Readiness(AtomicU8);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbState {
    Starting,
    Up,
    Down,
}

impl Readiness {
    pub fn get(&self) -> DbState {
        match self.0.load(Ordering::SeqCst) {
            1 => DbState::Up,
            2 => DbState::Down,
            _ => DbState::Starting,
        }
    }

    pub fn set(&self, state: DbState) {
        let value = match state {
            DbState::Starting => 0,
            DbState::Up => 1,
            DbState::Down => 2,
        };
        self.0.store(value, Ordering::SeqCst);
    }
}

/// Whether this instance holds the leader lease, and which workers it is running.
#[derive(Default)]
pub struct Leadership {
    is_leader: AtomicBool,
    epoch: std::sync::atomic::AtomicI64,
    running: Mutex<Vec<&'static str>>,
}

impl Leadership {
    pub fn is_leader(&self) -> bool {
        self.is_leader.load(Ordering::SeqCst)
    }
    pub fn epoch(&self) -> i64 {
        self.epoch.load(Ordering::SeqCst)
    }
    pub fn set(&self, leader: bool, epoch: i64) {
        self.is_leader.store(leader, Ordering::SeqCst);
        self.epoch.store(epoch, Ordering::SeqCst);
    }
    pub fn set_running(&self, workers: Vec<&'static str>) {
        *self.running.lock().expect("leadership lock") = workers;
    }
    pub fn running(&self) -> Vec<&'static str> {
        self.running.lock().expect("leadership lock").clone()
    }
}

//! One `Config` for the whole process, read from flags, environment variables and an optional
//! `.env` (docs/design.md §3). Secrets are wrapped in [`Secret`] so `Debug` never prints them.
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::storage::{S3Config, StorageConfig};

/// A value that must never reach logs: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseConfig {
    Sqlite { path: PathBuf },
    Postgres { url: Secret },
}

impl DatabaseConfig {
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TelegramMode {
    Webhook,
    Polling,
}

/// Credentials and endpoints of the outside services; `None` turns the feature off.
#[derive(Clone, Debug, Default)]
pub struct Integrations {
    pub telegram_bot_token: Option<Secret>,
    pub telegram_webhook_secret: Option<Secret>,
    pub telegram_api_url: String,
    pub telegram_mode: Option<TelegramMode>,
    pub forex_bot_token: Option<Secret>,
    /// `TELEGRAM_API_ID` + `TELEGRAM_API_HASH` (my.telegram.org): the user account's MTProto
    /// application; without them the user account cannot sign in.
    pub telegram_api: Option<(i32, Secret)>,
    /// `FOREX_CHANNEL_ID` / `FOREX_FREE_CHANNEL_ID`: the Signal Bot's VIP and FREE channels,
    /// seeded with `FOREX_BOT_TOKEN` into the default workspace's connections.
    pub forex_channel_id: Option<String>,
    pub forex_free_channel_id: Option<String>,
    pub openai_api_key: Option<Secret>,
    pub openai_base_url: String,
    pub twelve_data_api_key: Option<Secret>,
    pub twelve_data_base_url: String,
    /// `TWELVE_DATA_CREDITS_PER_MINUTE`: the plan's per-minute credits (free plan: 8).
    pub twelve_data_credits_per_minute: u32,
    /// `MARKET_DATA_REPLAY`: an OHLC CSV replayed instead of the bundled EUR/USD hours (used
    /// when no Twelve Data key is set).
    pub market_data_replay: Option<PathBuf>,
    /// `MARKET_DATA_REPLAY_SYMBOL`: what the replayed file is (default EUR/USD, the bundled file).
    pub market_data_replay_symbol: String,
    /// `MARKET_DATA_REPLAY_SPEED`: replayed bars per wall second.
    pub market_data_replay_speed: f64,
    pub funderpro_api_url: Option<String>,
    pub funderpro_product_id: Option<String>,
    pub funderpro_api_key: Option<Secret>,
    pub stripe_secret_key: Option<Secret>,
    pub stripe_webhook_secret: Option<Secret>,
    pub stripe_api_base: String,
    /// Send to Telegram without pacing (`TELEGRAM_RATE_LIMIT=off`): fakes and benchmarks only.
    pub telegram_unpaced: bool,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: IpAddr,
    pub port: u16,
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    /// Plain admin password from the environment; unset means "generate one on first start".
    pub admin_password: Option<Secret>,
    /// Key material for session signing and token encryption; unset means "generate and keep in
    /// the database" so every instance sharing the database agrees.
    pub secret_key: Option<Secret>,
    pub clerk_issuers: Vec<String>,
    pub admin_emails: Vec<String>,
    pub admin_host: Option<String>,
    pub dash_host: Option<String>,
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    /// Upper bound on request bodies in bytes.
    pub max_body_bytes: usize,
    /// Use the right-most `X-Forwarded-For` address as the client (behind a load balancer).
    pub trust_forwarded_for: bool,
    /// `/metrics` on the public port only with `Authorization: Bearer METRICS_TOKEN`.
    pub metrics_token: Option<Secret>,
    /// `METRICS_ADDR`: a second listener serving only `/metrics` (no token), e.g. 127.0.0.1:9090.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Seed demo templates into the default workspace on first start.
    pub demo_data: bool,
    /// Leader lease timings (docs/design.md §9); shortened in tests.
    pub leader: LeaderTimings,
    pub integrations: Integrations,
    /// Job queue timings (workers/jobs.rs); shortened in tests.
    pub jobs: crate::workers::jobs::JobTimings,
    /// Broadcast sending rate.
    pub broadcast: BroadcastConfig,
    /// Pruning of rendered images cached in object storage.
    pub render_cache: RenderCacheConfig,
    /// How much rendering may run at once in the process (docs/rendering.md).
    pub render_budget: RenderBudgetConfig,
}

/// The process-wide render budget: at most `slots` renders at once and `bytes` of estimated
/// pixel memory in flight; a render that cannot start within `wait_ms` answers 503 with
/// `retry-after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderBudgetConfig {
    pub slots: usize,
    pub bytes: usize,
    pub wait_ms: u64,
}

impl Default for RenderBudgetConfig {
    fn default() -> Self {
        Self {
            slots: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8)),
            bytes: 192 * 1024 * 1024,
            wait_ms: 10_000,
        }
    }
}

/// Rendered coupons cached in object storage (`tenants/{id}/renders/`) are deleted by the leader's
/// `render-cache-pruner` once older than `max_age_ms`, and beyond the `max_per_tenant` newest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderCacheConfig {
    pub max_age_ms: i64,
    pub max_per_tenant: usize,
}

pub const DEFAULT_RENDER_CACHE_DAYS: u32 = 7;
pub const DEFAULT_RENDER_CACHE_PER_TENANT: usize = 1_000;

impl Default for RenderCacheConfig {
    fn default() -> Self {
        Self {
            max_age_ms: i64::from(DEFAULT_RENDER_CACHE_DAYS) * 24 * 3600 * 1000,
            max_per_tenant: DEFAULT_RENDER_CACHE_PER_TENANT,
        }
    }
}

/// Messages a second a broadcast sends at, and the ceiling a request may ask for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BroadcastConfig {
    pub rate_per_sec: f64,
    /// Telegram allows about 30 messages a second per bot; tests and benchmarks against the
    /// fake Bot API raise this in code (never through the environment).
    pub max_rate_per_sec: f64,
}

pub const DEFAULT_BROADCAST_RATE: f64 = 20.0;
pub const MAX_BROADCAST_RATE: f64 = 30.0;

impl Default for BroadcastConfig {
    fn default() -> Self {
        Self {
            rate_per_sec: DEFAULT_BROADCAST_RATE,
            max_rate_per_sec: MAX_BROADCAST_RATE,
        }
    }
}

impl Config {
    /// A config for tests and embedding: SQLite and local storage under `data_dir`, every
    /// integration off.
    pub fn local(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            database: DatabaseConfig::Sqlite {
                path: data_dir.join("promostack.db"),
            },
            storage: StorageConfig::Local {
                root: data_dir.join("objects"),
            },
            data_dir,
            admin_password: None,
            secret_key: None,
            clerk_issuers: Vec::new(),
            admin_emails: Vec::new(),
            admin_host: None,
            dash_host: None,
            public_url: None,
            log_format: LogFormat::Text,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            trust_forwarded_for: false,
            metrics_token: None,
            metrics_addr: None,
            leader: LeaderTimings::default(),
            demo_data: false,
            integrations: Integrations {
                telegram_api_url: DEFAULT_TELEGRAM_API_URL.into(),
                openai_base_url: DEFAULT_OPENAI_BASE_URL.into(),
                twelve_data_base_url: DEFAULT_TWELVE_DATA_BASE_URL.into(),
                twelve_data_credits_per_minute: 8,
                market_data_replay_symbol: "EUR/USD".into(),
                market_data_replay_speed: 1.0,
                stripe_api_base: DEFAULT_STRIPE_API_BASE.into(),
                ..Integrations::default()
            },
            jobs: Default::default(),
            broadcast: BroadcastConfig::default(),
            render_cache: RenderCacheConfig::default(),
            render_budget: RenderBudgetConfig::default(),
        }
    }
}

/// Lease time-to-live, renewal period and standby retry period, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderTimings {
    pub ttl_ms: i64,
    pub renew_every_ms: u64,
    pub retry_every_ms: u64,
}

impl Default for LeaderTimings {
    fn default() -> Self {
        // Failover within one TTL (+ a database round trip) of the leader's last renewal: the
        // standby retries at the lease's expiry. Three renewals per TTL ride out a slow query.
        Self {
            ttl_ms: 10_000,
            renew_every_ms: 3_000,
            retry_every_ms: 10_000,
        }
    }
}

pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_TWELVE_DATA_BASE_URL: &str = "https://api.twelvedata.com";
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";

/// Where the records live: `DATA_DIR/promostack.db` unless `DATABASE_URL` or `DB_HOST` name a
/// PostgreSQL server. Shared by `serve` and the maintenance commands.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[arg(long, env = "DB_HOST")]
    pub db_host: Option<String>,
    #[arg(long, env = "DB_PORT", default_value_t = 5432)]
    pub db_port: u16,
    #[arg(long, env = "DB_NAME", default_value = "promostack")]
    pub db_name: String,
    #[arg(long, env = "DB_USER", default_value = "postgres")]
    pub db_user: String,
    #[arg(long, env = "DB_PASSWORD", hide_env_values = true)]
    pub db_password: Option<String>,
}

impl TryFrom<DatabaseArgs> for DatabaseConfig {
    type Error = ConfigError;

    fn try_from(args: DatabaseArgs) -> Result<Self, ConfigError> {
        Ok(
            match (non_empty(args.database_url), non_empty(args.db_host)) {
                (Some(url), _) => {
                    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                        return Err(ConfigError::Invalid(
                        "DATABASE_URL must be a postgres:// URL (SQLite is the default when unset)"
                            .into(),
                    ));
                    }
                    DatabaseConfig::Postgres { url: Secret(url) }
                }
                (None, Some(host)) => {
                    let password = non_empty(args.db_password)
                        .map(|p| format!(":{}", percent_encode(&p)))
                        .unwrap_or_default();
                    let url = format!(
                        "postgres://{}{}@{}:{}/{}",
                        percent_encode(&args.db_user),
                        password,
                        host,
                        args.db_port,
                        args.db_name
                    );
                    DatabaseConfig::Postgres { url: Secret(url) }
                }
                (None, None) => DatabaseConfig::Sqlite {
                    path: args.data_dir.join("promostack.db"),
                },
            },
        )
    }
}

/// `promostack serve` flags; every one falls back to its environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[arg(long, env = "BIND", default_value = "0.0.0.0")]
    pub bind: IpAddr,
    #[arg(long, env = "PORT", default_value_t = 5000)]
    pub port: u16,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long, env = "SPACES_ACCESS_KEY", hide_env_values = true)]
    pub spaces_access_key: Option<String>,
    #[arg(long, env = "SPACES_SECRET_KEY", hide_env_values = true)]
    pub spaces_secret_key: Option<String>,
    #[arg(long, env = "SPACES_REGION", default_value = "nyc3")]
    pub spaces_region: String,
    #[arg(long, env = "SPACES_BUCKET")]
    pub spaces_bucket: Option<String>,
    #[arg(long, env = "SPACES_ENDPOINT")]
    pub spaces_endpoint: Option<String>,
    #[arg(long, env = "SPACES_CDN_URL")]
    pub spaces_cdn_url: Option<String>,
    #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Comma-separated Clerk issuer URLs whose JWKS may be trusted.
    #[arg(long, env = "CLERK_ISSUERS", value_delimiter = ',')]
    pub clerk_issuers: Vec<String>,
    /// Comma-separated emails of platform admins.
    #[arg(long, env = "ADMIN_EMAILS", value_delimiter = ',')]
    pub admin_emails: Vec<String>,
    #[arg(long, env = "ADMIN_HOST")]
    pub admin_host: Option<String>,
    #[arg(long, env = "DASH_HOST")]
    pub dash_host: Option<String>,
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    #[arg(long, env = "TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    #[arg(long, env = "METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Seed demo templates into the default workspace on first start.
    #[arg(long, env = "DEMO_DATA", default_value_t = true, action = clap::ArgAction::Set)]
    pub demo_data: bool,
    #[arg(long, env = "TELEGRAM_BOT_TOKEN", hide_env_values = true)]
    pub telegram_bot_token: Option<String>,
    #[arg(long, env = "TELEGRAM_BOT_TOKEN_TEST", hide_env_values = true)]
    pub telegram_bot_token_test: Option<String>,
    #[arg(long, env = "TELEGRAM_WEBHOOK_SECRET", hide_env_values = true)]
    pub telegram_webhook_secret: Option<String>,
    #[arg(long, env = "TELEGRAM_API_URL", default_value = DEFAULT_TELEGRAM_API_URL)]
    pub telegram_api_url: String,
    #[arg(long, env = "TELEGRAM_MODE", value_enum)]
    pub telegram_mode: Option<TelegramMode>,
    #[arg(long, env = "FOREX_BOT_TOKEN", hide_env_values = true)]
    pub forex_bot_token: Option<String>,
    #[arg(long, env = "TELEGRAM_API_ID")]
    pub telegram_api_id: Option<String>,
    #[arg(long, env = "TELEGRAM_API_HASH", hide_env_values = true)]
    pub telegram_api_hash: Option<String>,
    #[arg(long, env = "FOREX_CHANNEL_ID")]
    pub forex_channel_id: Option<String>,
    #[arg(long, env = "FOREX_FREE_CHANNEL_ID")]
    pub forex_free_channel_id: Option<String>,
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,
    #[arg(long, env = "OPENAI_BASE_URL", default_value = DEFAULT_OPENAI_BASE_URL)]
    pub openai_base_url: String,
    #[arg(long, env = "TWELVE_DATA_API_KEY", hide_env_values = true)]
    pub twelve_data_api_key: Option<String>,
    #[arg(long, env = "TWELVE_DATA_BASE_URL", default_value = DEFAULT_TWELVE_DATA_BASE_URL)]
    pub twelve_data_base_url: String,
    #[arg(long, env = "TWELVE_DATA_CREDITS_PER_MINUTE", default_value_t = 8)]
    pub twelve_data_credits_per_minute: u32,
    #[arg(long, env = "MARKET_DATA_REPLAY")]
    pub market_data_replay: Option<PathBuf>,
    #[arg(long, env = "MARKET_DATA_REPLAY_SYMBOL", default_value = "EUR/USD")]
    pub market_data_replay_symbol: String,
    #[arg(long, env = "MARKET_DATA_REPLAY_SPEED", default_value_t = 1.0)]
    pub market_data_replay_speed: f64,
    #[arg(long, env = "FUNDERPRO_API_URL")]
    pub funderpro_api_url: Option<String>,
    #[arg(long, env = "FUNDERPRO_PRODUCT_ID")]
    pub funderpro_product_id: Option<String>,
    #[arg(long, env = "FUNDERPRO_API_KEY", hide_env_values = true)]
    pub funderpro_api_key: Option<String>,
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,
    #[arg(long, env = "STRIPE_API_BASE", default_value = DEFAULT_STRIPE_API_BASE)]
    pub stripe_api_base: String,
    /// `on` paces sends after Telegram's limits; `off` only against a fake Bot API.
    #[arg(long, env = "TELEGRAM_RATE_LIMIT", default_value = "on")]
    pub telegram_rate_limit: String,
    /// Broadcast messages per second (at most 30, Telegram's per-bot limit).
    #[arg(long, env = "BROADCAST_RATE", default_value_t = DEFAULT_BROADCAST_RATE)]
    pub broadcast_rate: f64,
    /// Days a rendered image stays in the storage cache.
    #[arg(long, env = "RENDER_CACHE_DAYS", default_value_t = DEFAULT_RENDER_CACHE_DAYS)]
    pub render_cache_days: u32,
    /// Rendered images kept in the storage cache per workspace (the newest).
    #[arg(long, env = "RENDER_CACHE_PER_TENANT", default_value_t = DEFAULT_RENDER_CACHE_PER_TENANT)]
    pub render_cache_per_tenant: usize,
    /// Leader lease time-to-live in ms (operations and crash tests; renewal is a third of it).
    #[arg(long, env = "LEADER_LEASE_TTL_MS", hide = true)]
    pub leader_lease_ttl_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn secret(value: Option<String>) -> Option<Secret> {
    non_empty(value).map(Secret)
}

fn list(values: Vec<String>) -> Vec<String> {
    values
        .into_iter()
        .filter_map(|v| non_empty(Some(v)))
        .collect()
}

impl TryFrom<ServeArgs> for Config {
    type Error = ConfigError;

    fn try_from(args: ServeArgs) -> Result<Self, ConfigError> {
        let data_dir = args.database.data_dir.clone();
        let database = DatabaseConfig::try_from(args.database)?;
        let storage = match (
            secret(args.spaces_access_key),
            secret(args.spaces_secret_key),
            non_empty(args.spaces_bucket),
        ) {
            (Some(access_key), Some(secret_key), Some(bucket)) => StorageConfig::S3(S3Config {
                access_key: access_key.0,
                secret_key: secret_key.0,
                region: args.spaces_region,
                bucket,
                endpoint: non_empty(args.spaces_endpoint),
                cdn_url: non_empty(args.spaces_cdn_url),
            }),
            (None, None, None) => StorageConfig::Local {
                root: data_dir.join("objects"),
            },
            _ => {
                return Err(ConfigError::Invalid(
                    "object storage needs all of SPACES_ACCESS_KEY, SPACES_SECRET_KEY and SPACES_BUCKET (or none of them for local storage)".into(),
                ));
            }
        };
        if args.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "MAX_BODY_BYTES must be at least 1024".into(),
            ));
        }
        let public_url = non_empty(args.public_url).map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url
            && !url.starts_with("https://")
            && !url.starts_with("http://")
        {
            return Err(ConfigError::Invalid(
                "PUBLIC_URL must start with https://".into(),
            ));
        }
        // Production token wins over the test one, as in the original deployment.
        let telegram_bot_token =
            secret(args.telegram_bot_token).or_else(|| secret(args.telegram_bot_token_test));
        let metrics_token = secret(args.metrics_token);
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 16)
        {
            return Err(ConfigError::Invalid(
                "METRICS_TOKEN must be at least 16 characters".into(),
            ));
        }
        let metrics_addr = match non_empty(args.metrics_addr) {
            None => None,
            Some(addr) => Some(addr.trim().parse().map_err(|_| {
                ConfigError::Invalid(format!(
                    "METRICS_ADDR must be an address with a port, e.g. 127.0.0.1:9090 (got {addr})"
                ))
            })?),
        };
        let telegram_api = match (
            non_empty(args.telegram_api_id),
            secret(args.telegram_api_hash),
        ) {
            (None, None) => None,
            (Some(id), Some(hash)) => match id.trim().parse::<i32>() {
                Ok(id) if id > 0 => Some((id, hash)),
                _ => {
                    return Err(ConfigError::Invalid(
                        "TELEGRAM_API_ID must be the number my.telegram.org shows as api_id".into(),
                    ));
                }
            },
            _ => {
                return Err(ConfigError::Invalid(
                    "the user account needs both TELEGRAM_API_ID and TELEGRAM_API_HASH (or neither)".into(),
                ));
            }
        };
        if !(args.broadcast_rate > 0.0 && args.broadcast_rate <= MAX_BROADCAST_RATE) {
            return Err(ConfigError::Invalid(format!(
                "BROADCAST_RATE must be above 0 and at most {MAX_BROADCAST_RATE} messages a second (Telegram's limit per bot)"
            )));
        }
        let broadcast = BroadcastConfig {
            rate_per_sec: args.broadcast_rate,
            max_rate_per_sec: MAX_BROADCAST_RATE,
        };
        if args.render_cache_days == 0 || args.render_cache_per_tenant == 0 {
            return Err(ConfigError::Invalid(
                "RENDER_CACHE_DAYS and RENDER_CACHE_PER_TENANT must be at least 1".into(),
            ));
        }
        let render_cache = RenderCacheConfig {
            max_age_ms: i64::from(args.render_cache_days) * 24 * 3600 * 1000,
            max_per_tenant: args.render_cache_per_tenant,
        };
        let mut jobs = crate::workers::jobs::JobTimings::default();
        let mut leader = LeaderTimings::default();
        if let Some(ttl) = args.leader_lease_ttl_ms {
            if ttl < 1_500 {
                return Err(ConfigError::Invalid(
                    "LEADER_LEASE_TTL_MS must be at least 1500".into(),
                ));
            }
            leader = LeaderTimings {
                ttl_ms: ttl,
                renew_every_ms: (ttl / 3) as u64,
                retry_every_ms: ttl as u64,
            };
            // A dead runner's job is reaped once its lease would have expired.
            jobs.heartbeat_every_ms = (ttl / 6).max(250) as u64;
            jobs.stale_after_ms = ttl;
        }
        Ok(Config {
            bind: args.bind,
            port: args.port,
            data_dir,
            database,
            storage,
            admin_password: secret(args.admin_password),
            secret_key: secret(args.secret_key),
            clerk_issuers: list(args.clerk_issuers)
                .into_iter()
                .map(|i| i.trim_end_matches('/').to_owned())
                .collect(),
            admin_emails: list(args.admin_emails)
                .into_iter()
                .map(|e| e.to_lowercase())
                .collect(),
            admin_host: non_empty(args.admin_host).map(|h| h.to_lowercase()),
            dash_host: non_empty(args.dash_host).map(|h| h.to_lowercase()),
            public_url,
            log_format: args.log_format,
            max_body_bytes: args.max_body_bytes,
            trust_forwarded_for: args.trust_forwarded_for,
            metrics_token,
            metrics_addr,
            demo_data: args.demo_data,
            leader,
            integrations: Integrations {
                telegram_bot_token,
                telegram_webhook_secret: secret(args.telegram_webhook_secret),
                telegram_api_url: args.telegram_api_url,
                telegram_mode: args.telegram_mode,
                forex_bot_token: secret(args.forex_bot_token),
                telegram_api,
                forex_channel_id: args.forex_channel_id.filter(|s| !s.trim().is_empty()),
                forex_free_channel_id: args.forex_free_channel_id.filter(|s| !s.trim().is_empty()),
                openai_api_key: secret(args.openai_api_key),
                openai_base_url: args.openai_base_url,
                twelve_data_api_key: secret(args.twelve_data_api_key),
                twelve_data_base_url: args.twelve_data_base_url,
                twelve_data_credits_per_minute: args.twelve_data_credits_per_minute,
                market_data_replay: args.market_data_replay,
                market_data_replay_symbol: args.market_data_replay_symbol,
                market_data_replay_speed: args.market_data_replay_speed,
                funderpro_api_url: non_empty(args.funderpro_api_url),
                funderpro_product_id: non_empty(args.funderpro_product_id),
                funderpro_api_key: secret(args.funderpro_api_key),
                stripe_secret_key: secret(args.stripe_secret_key),
                stripe_webhook_secret: secret(args.stripe_webhook_secret),
                stripe_api_base: args.stripe_api_base,
                telegram_unpaced: args.telegram_rate_limit.trim().eq_ignore_ascii_case("off"),
            },
            jobs,
            broadcast,
            render_cache,
            render_budget: RenderBudgetConfig::default(),
        })
    }
}

/// Percent-encode a URL userinfo component (passwords may hold `@`, `:` or `/`).
fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(flags: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec!["promostack"];
        argv.extend_from_slice(flags);
        Config::try_from(Wrapper::try_parse_from(argv).expect("flags parse").args)
    }

    #[test]
    fn defaults_are_sqlite_and_local_storage() {
        let config = parse(&["--data-dir", "/tmp/x"]).unwrap();
        assert_eq!(config.database.backend(), "sqlite");
        assert!(matches!(config.storage, StorageConfig::Local { .. }));
        assert_eq!(config.port, 5000);
    }

    #[test]
    fn db_parts_build_an_encoded_url_and_debug_hides_it() {
        let config = parse(&[
            "--db-host",
            "db.internal",
            "--db-password",
            "p@ss:w/rd",
            "--db-name",
            "ps",
        ])
        .unwrap();
        let DatabaseConfig::Postgres { url } = &config.database else {
            panic!("postgres")
        };
        assert_eq!(
            url.expose(),
            "postgres://postgres:p%40ss%3Aw%2Frd@db.internal:5432/ps"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("p%40ss"), "{debug}");
    }

    #[test]
    fn render_cache_limits_default_and_must_be_positive() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.render_cache, RenderCacheConfig::default());
        assert_eq!(config.render_cache.max_age_ms, 7 * 24 * 3600 * 1000);
        let config = parse(&[
            "--render-cache-days",
            "2",
            "--render-cache-per-tenant",
            "50",
        ])
        .unwrap();
        assert_eq!(config.render_cache.max_age_ms, 2 * 24 * 3600 * 1000);
        assert_eq!(config.render_cache.max_per_tenant, 50);
        assert!(parse(&["--render-cache-days", "0"]).is_err());
        assert!(parse(&["--render-cache-per-tenant", "0"]).is_err());
    }

    #[test]
    fn partial_spaces_credentials_are_rejected() {
        let err = parse(&["--spaces-access-key", "AK"]).unwrap_err();
        assert!(err.to_string().contains("SPACES_SECRET_KEY"));
    }

    #[test]
    fn production_telegram_token_wins_over_test_token() {
        let config = parse(&[
            "--telegram-bot-token-test",
            "test",
            "--telegram-bot-token",
            "prod",
        ])
        .unwrap();
        assert_eq!(
            config.integrations.telegram_bot_token.unwrap().expose(),
            "prod"
        );
        let config = parse(&["--telegram-bot-token-test", "test"]).unwrap();
        assert_eq!(
            config.integrations.telegram_bot_token.unwrap().expose(),
            "test"
        );
    }
}

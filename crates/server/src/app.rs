//! Start-up and the server loop: `launch(config, listener, shutdown)` is what `serve` and the
//! tests both run.
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::clerk::ClerkVerifier;
use crate::auth::{Keys, LoginLimiter, password};
use crate::config::{Config, LogFormat, ServeArgs};
use crate::context::AppContext;
use crate::db::{self, Db, settings};
use crate::domains::analytics::AnalyticsService;
use crate::domains::bot::{BotDeps, BotService};
use crate::domains::broadcast::BroadcastService;
use crate::domains::campaigns::CampaignService;
use crate::domains::coupons::CouponService;
use crate::domains::templates::TemplateService;
use crate::domains::tenants::TenantService;
use crate::integrations::telegram::{self, TelegramService};
use crate::state::AppState;
use crate::state::{AppInner, DbState, Leadership, Readiness};
use crate::storage::Storage;
use crate::time::Clock;
use crate::workers::{self, Registry};

/// How often the database health probe runs once the app is up.
const DB_PROBE_EVERY: Duration = Duration::from_secs(3);
/// Back-off between bootstrap attempts while the database is unreachable at start-up.
const BOOTSTRAP_RETRY: Duration = Duration::from_secs(2);

/// `promostack serve`: read the configuration, log, listen, run until SIGTERM or Ctrl-C.
pub fn serve_main(args: ServeArgs) -> anyhow::Result<()> {
    serve_main_with(args, |_| {})
}

/// [`serve_main`] with `prepare` applied to the built state before it serves (the e2e fixture
/// swaps in fakes of what no test can reach, e.g. MTProto).
pub fn serve_main_with(args: ServeArgs, prepare: impl FnOnce(&AppState)) -> anyhow::Result<()> {
    let config = Config::try_from(args)?;
    init_tracing(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        tracing::info!(address = %listener.local_addr()?, "PromoStack listening; dashboard at http://localhost:{}", listener.local_addr()?.port());
        let state = build_state(config, Clock::system()).await?;
        prepare(&state);
        launch_with_state(state, Registry::standard(), listener, shutdown_signal()).await
    })
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested");
}

fn metrics_handle() -> PrometheusHandle {
    // One recorder per process: tests start several apps in one process and share it.
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Phase one: build the state from the configuration. Opens nothing that can fail on a remote
/// (the database pool is lazy), so a down database never stops start-up.
pub async fn build_state(config: Config, clock: Clock) -> anyhow::Result<AppState> {
    crate::install_crypto_provider();
    let ctx = AppContext::from_config(config);
    ctx.log_features();
    let db = Db::connect(&ctx.config.database)?;
    let storage = Storage::open(&ctx.config.storage)
        .await
        .context("opening object storage")?;
    let http = reqwest::Client::builder()
        .user_agent(concat!("promostack/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()?;
    let clerk = ClerkVerifier::new(ctx.config.clerk_issuers.clone(), http.clone());
    let tenants = TenantService::new(db.clone(), clock.clone());
    let coupons = CouponService::new(
        db.clone(),
        clock.clone(),
        tenants.clone(),
        crate::integrations::funderpro::FunderProClient::from_config(
            &ctx.config.integrations,
            http.clone(),
        ),
    );
    let templates = TemplateService::new(
        db.clone(),
        storage.clone(),
        clock.clone(),
        ctx.config.render_budget,
    );
    let telegram = Arc::new(TelegramService::new(
        db.clone(),
        clock.clone(),
        http.clone(),
        &ctx.config.integrations.telegram_api_url,
        if ctx.config.integrations.telegram_unpaced {
            telegram::Limits::UNLIMITED
        } else {
            telegram::Limits::TELEGRAM
        },
        telegram::RetryPolicy::default(),
        ctx.config.integrations.telegram_bot_token.clone(),
        ctx.config.integrations.telegram_webhook_secret.clone(),
    ));
    let connections = crate::domains::connections::ConnectionService::new(
        db.clone(),
        clock.clone(),
        crate::domains::connections::TelegramAccess {
            public_url: ctx.config.public_url.clone(),
            polling: ctx.config.integrations.telegram_mode
                == Some(crate::config::TelegramMode::Polling),
        },
        telegram.clone(),
        user_account_connector(&ctx.config.integrations),
    );
    let forex = crate::domains::forex::ForexService::new(
        db.clone(),
        clock.clone(),
        market_data(&ctx.config.integrations, http.clone(), clock.clone())?,
        connections.resolver().clone(),
        ctx.config.integrations.openai_api_key.clone().map(|key| {
            crate::integrations::openai::OpenAiClient::new(
                http.clone(),
                &ctx.config.integrations.openai_base_url,
                key,
            )
        }),
    );
    let analytics = AnalyticsService::new(db.clone(), clock.clone(), tenants.clone());
    let instance_id = format!("{}-{}", hostname(), uuid::Uuid::now_v7().simple());
    let bot = BotService::new(BotDeps {
        db: db.clone(),
        clock: clock.clone(),
        instance_id: instance_id.clone(),
        telegram: telegram.clone(),
        templates: templates.clone(),
        coupons: coupons.clone(),
        analytics: analytics.clone(),
    });
    let login_sessions = crate::auth::sessions::LoginSessions::new(db.clone(), clock.clone());
    Ok(AppState::new(AppInner {
        coupons,
        tenants,
        templates,
        telegram,
        bot,
        campaigns: CampaignService::new(db.clone(), storage.clone(), clock.clone()),
        analytics,
        broadcasts: BroadcastService::new(db.clone(), clock.clone(), ctx.config.broadcast),
        backtests: crate::domains::backtests::BacktestService::default(),
        connections,
        forex,
        ctx,
        db,
        storage,
        clock,
        http,
        clerk,
        login_limiter: LoginLimiter::default(),
        login_sessions,
        metrics: metrics_handle(),
        instance_id,
        readiness: Readiness::default(),
        leadership: Leadership::default(),
        admin_password_hash: OnceLock::new(),
        keys: OnceLock::new(),
    }))
}

/// `FOREX_BOT_TOKEN` (+ `FOREX_CHANNEL_ID`, `FOREX_FREE_CHANNEL_ID`) seeds the default
/// workspace's Signal Bot on every start (the environment wins while set). It goes through the
/// same live checks as a save from the page, in the background so start-up never waits on
/// Telegram; a failed check is logged with what to fix.
fn seed_signal_bot(state: &AppState, default_tenant_id: &str) {
    let i = &state.ctx.config.integrations;
    let Some(token) = &i.forex_bot_token else {
        return;
    };
    let input = crate::domains::connections::SaveBot {
        token: Some(token.expose().to_owned()),
        vip_channel: i.forex_channel_id.clone(),
        free_channel: i.forex_free_channel_id.clone(),
    };
    let connections = state.connections.clone();
    let tenant_id = default_tenant_id.to_owned();
    tokio::spawn(async move {
        match connections
            .save(
                &tenant_id,
                crate::domains::connections::BotRole::SignalBot,
                input,
            )
            .await
        {
            Ok(_) => {
                tracing::info!("FOREX_BOT_TOKEN: Signal Bot connected for the default workspace")
            }
            Err(e) => {
                tracing::warn!(error = %e, "FOREX_BOT_TOKEN: the Signal Bot could not be connected")
            }
        }
    });
}

/// `TELEGRAM_BOT_TOKEN` seeds the default workspace's Coupon Bot connection (the environment
/// wins while set; removing it turns that bot off). Written before serving, so the bot works
/// from the first request; getMe's checks follow in the background, retried while Telegram
/// cannot be reached.
async fn seed_coupon_bot(state: &AppState, default_tenant_id: &str) -> anyhow::Result<()> {
    let Some(token) = &state.ctx.config.integrations.telegram_bot_token else {
        state
            .connections
            .forget_env_coupon_bot(default_tenant_id)
            .await
            .map_err(|e| anyhow::anyhow!("removing the environment's Coupon Bot: {e}"))?;
        return Ok(());
    };
    let secret = state
        .telegram
        .webhook_secret(crate::integrations::telegram::DEFAULT_BOT_ID)
        .await?
        .context("the environment's bot was not stored")?;
    if let Err(e) = state
        .connections
        .seed_env_coupon_bot(default_tenant_id, token.expose(), secret.expose())
        .await
    {
        tracing::warn!(error = %e, "TELEGRAM_BOT_TOKEN: the Coupon Bot connection could not be written");
        return Ok(());
    }
    let connections = state.connections.clone();
    let tenant_id = default_tenant_id.to_owned();
    tokio::spawn(async move {
        for attempt in 0..10u32 {
            match connections.check_env_coupon_bot(&tenant_id).await {
                Ok(_) => return,
                Err(crate::domains::error::DomainError::Unavailable { .. }) => {
                    tokio::time::sleep(Duration::from_secs(5 << attempt.min(4))).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "TELEGRAM_BOT_TOKEN: the Coupon Bot's checks failed");
                    return;
                }
            }
        }
    });
    Ok(())
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "promostack".into())
}

/// Phase two, idempotent: migrations, default tenant, key material, admin password. Safe to run
/// on several instances at once and on every start.
pub async fn bootstrap(state: &AppState) -> anyhow::Result<()> {
    let applied = db::migrate(&state.db).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, backend = state.db.backend(), "migrations applied");
    }
    let default_tenant = state
        .tenants
        .ensure_default()
        .await
        .map_err(|e| anyhow::anyhow!("default tenant: {e}"))?;
    let config = &state.ctx.config;
    let now = state.clock.now();
    let secret = match &config.secret_key {
        Some(secret) => secret.expose().to_owned(),
        None => generated_secret(state).await?,
    };
    let _ = state.keys.set(Keys::derive(secret.as_bytes()));
    let hash = match &config.admin_password {
        Some(password) => {
            let password = password.expose().to_owned();
            tokio::task::spawn_blocking(move || password::hash(&password)).await?
        }
        None => {
            let generated = password::generate();
            let candidate = generated.clone();
            let phc = tokio::task::spawn_blocking(move || password::hash(&candidate)).await?;
            let (stored, inserted) =
                settings::get_or_insert(&state.db, "admin_password_hash", &phc, now).await?;
            if inserted {
                // Shown once on the terminal, never through the logger.
                println!("\n  PromoStack admin password (shown once, store it now): {generated}\n");
            }
            stored
        }
    };
    let _ = state.admin_password_hash.set(hash);
    let encryption = state.keys.get().expect("keys set above").encryption.clone();
    state.connections.set_key(encryption.clone());
    seed_signal_bot(state, default_tenant.id.as_str());
    state
        .telegram
        .bootstrap(encryption, &default_tenant.id)
        .await
        .context("storing the Telegram bot")?;
    seed_coupon_bot(state, default_tenant.id.as_str()).await?;
    if config.demo_data {
        // Once per installation, claimed through a settings row so parallel starts seed once.
        let (_, claimed) = settings::get_or_insert(&state.db, "demo_data_seeded", "1", now).await?;
        if claimed {
            let seeded = state
                .templates
                .seed_demo(&default_tenant.id)
                .await
                .map_err(|e| anyhow::anyhow!("demo templates: {e}"))?;
            tracing::info!(
                templates = seeded,
                "demo data seeded into the default workspace"
            );
        }
        // Its own claim: installations seeded before coupons existed get the demo codes too.
        let (_, claimed) =
            settings::get_or_insert(&state.db, "demo_coupons_seeded", "1", now).await?;
        if claimed {
            let seeded = state
                .coupons
                .seed_demo(&default_tenant.id)
                .await
                .map_err(|e| anyhow::anyhow!("demo coupons: {e}"))?;
            tracing::info!(
                coupons = seeded,
                "demo coupon codes listed in the default workspace"
            );
        }
        let (_, claimed) =
            settings::get_or_insert(&state.db, "demo_forex_seeded", "1", now).await?;
        if claimed {
            let (symbol, timeframe) = state.forex.market().replayed().unwrap_or((
                crate::domains::forex::settings::DEFAULT_SYMBOL.to_string(),
                promostack_signals::Timeframe::M15,
            ));
            state
                .forex
                .seed_demo(default_tenant.id.as_str(), &symbol, timeframe)
                .await
                .map_err(|e| anyhow::anyhow!("demo forex: {e}"))?;
            tracing::info!(%symbol, "forex signals turned on in the default workspace");
        }
    }
    Ok(())
}

/// Without `SECRET_KEY`: the key in `DATA_DIR/secret.key` (0600). An installation from before
/// kept it in the `settings` table: it moves to the file (same key, so stored tokens still
/// decrypt) and leaves the database.
async fn generated_secret(state: &AppState) -> anyhow::Result<String> {
    use crate::auth::key_file;
    let path = key_file::path_in(&state.ctx.config.data_dir);
    let legacy = settings::get(&state.db, "secret_key").await?;
    let from_db = legacy.clone();
    let (secret, origin) = tokio::task::spawn_blocking({
        let path = path.clone();
        move || key_file::load_or_create(&path, || from_db.unwrap_or_else(key_file::generate))
    })
    .await?
    .with_context(|| format!("the secret key file {}", path.display()))?;
    if legacy.as_deref() == Some(secret.as_str()) {
        settings::delete(&state.db, "secret_key").await?;
        tracing::info!(path = %path.display(), "moved the generated secret key out of the database into its file");
    } else if legacy.is_some() {
        tracing::warn!(path = %path.display(), "the database holds another generated key than this instance's file; the file wins (set SECRET_KEY on every instance)");
    } else if origin == key_file::Origin::Written {
        tracing::info!(path = %path.display(), "generated a secret key (mode 0600)");
    }
    if state.db.backend() == "postgres" {
        tracing::warn!(
            path = %path.display(),
            "SECRET_KEY is not set: this instance uses the key generated in its DATA_DIR. Every instance on this PostgreSQL database needs the same key, or each one refuses the others' sessions and cannot decrypt their bot tokens: set SECRET_KEY on all of them (docs/operations.md)"
        );
    }
    Ok(secret)
}

/// Twelve Data when `TWELVE_DATA_API_KEY` is set; else the replay of `MARKET_DATA_REPLAY` or of
/// the bundled EUR/USD hours (docs/forex.md). A replay file that does not parse stops the start
/// with the line at fault.
fn market_data(
    integrations: &crate::config::Integrations,
    http: reqwest::Client,
    clock: Clock,
) -> anyhow::Result<Arc<dyn crate::integrations::market_data::MarketData>> {
    use crate::integrations::market_data::{ReplaySource, TwelveData, replay};
    if let Some(key) = &integrations.twelve_data_api_key {
        return Ok(Arc::new(TwelveData::new(
            http,
            &integrations.twelve_data_base_url,
            key.clone(),
            integrations.twelve_data_credits_per_minute,
            clock,
        )));
    }
    let speed = integrations.market_data_replay_speed;
    Ok(match &integrations.market_data_replay {
        Some(path) => {
            let csv = std::fs::read_to_string(path)
                .with_context(|| format!("MARKET_DATA_REPLAY: reading {}", path.display()))?;
            Arc::new(
                ReplaySource::from_csv(
                    &csv,
                    &integrations.market_data_replay_symbol,
                    speed,
                    replay::DEFAULT_HISTORY,
                    clock,
                )
                .with_context(|| format!("MARKET_DATA_REPLAY {}", path.display()))?,
            )
        }
        None => Arc::new(ReplaySource::bundled(speed, clock)),
    })
}

/// grammers for the user account when `TELEGRAM_API_ID`/`TELEGRAM_API_HASH` are set.
fn user_account_connector(
    integrations: &crate::config::Integrations,
) -> Option<crate::domains::connections::user_account::ConnectorFactory> {
    use crate::integrations::telegram_user::grammers::{ApiCredentials, GrammersConnector};
    let (api_id, api_hash) = integrations.telegram_api.clone()?;
    Some(Arc::new(move |store, key| {
        let credentials = ApiCredentials {
            api_id,
            api_hash: api_hash.clone(),
        };
        Arc::new(GrammersConnector::new(credentials, store, key))
    }))
}

/// Serve `listener` until `shutdown` resolves; background work runs alongside.
pub async fn launch(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = build_state(config, Clock::system()).await?;
    launch_with_state(state, Registry::standard(), listener, shutdown).await
}

pub async fn launch_with_state(
    state: AppState,
    registry: Registry,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let metrics_server = match state.ctx.config.metrics_addr {
        Some(addr) => Some(serve_metrics(state.clone(), addr, stop_rx.clone()).await?),
        None => None,
    };
    let background = tokio::spawn(run_background(state.clone(), registry, stop_rx));
    let app = crate::api::router(state.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), background).await;
    if let Some(server) = metrics_server {
        let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    }
    state.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// `METRICS_ADDR`: `/metrics` alone on its own listener (for a scraper on a private network),
/// so the public port need not serve it.
async fn serve_metrics(
    state: AppState,
    addr: SocketAddr,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on METRICS_ADDR {addr}"))?;
    tracing::info!(address = %addr, "metrics listening");
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let state = state.clone();
            async move { crate::domains::system::routes::metrics_response(&state) }
        }),
    );
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    }))
}

/// Bootstrap (retrying while the database is down), then the leader campaign and health probe.
async fn run_background(state: AppState, registry: Registry, mut stop: watch::Receiver<bool>) {
    loop {
        match bootstrap(&state).await {
            Ok(()) => break,
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "bootstrap failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(BOOTSTRAP_RETRY) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
    state.readiness.set(DbState::Up);
    tracing::info!(
        backend = state.db.backend(),
        storage = state.storage.kind(),
        "ready"
    );
    let leader = tokio::spawn(workers::leader::run(state.clone(), registry, stop.clone()));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(DB_PROBE_EVERY) => {}
            _ = stop.changed() => break,
        }
        let schema = tokio::time::timeout(Duration::from_secs(2), state.db.schema_is_current())
            .await
            .unwrap_or_else(|_| Err(db::DbError::Unavailable("probe timed out".into())));
        let healthy = match schema {
            Ok(true) => true,
            // Reachable but empty or behind: the database was replaced (an empty one, an old
            // backup). Every route would fail, so build the schema again instead of waiting
            // for a restart.
            Ok(false) => {
                state.readiness.set(DbState::Down);
                tracing::warn!(
                    "the database schema is missing or behind; running migrations and bootstrap again"
                );
                match bootstrap(&state).await {
                    Ok(()) => true,
                    Err(err) => {
                        tracing::warn!(error = %format!("{err:#}"), "re-bootstrap failed; retrying");
                        false
                    }
                }
            }
            Err(_) => false,
        };
        let before = state.readiness.get();
        let after = if healthy { DbState::Up } else { DbState::Down };
        if before != after {
            tracing::warn!(?before, ?after, "database state changed");
            state.readiness.set(after);
        }
    }
    let _ = leader.await;
}

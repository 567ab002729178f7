//! The forex signals service of every workspace that turns it on: settings, the leader's tick
//! (market data in, one engine cycle per workspace, the post outbox out) and what the pages
//! and the API read (docs/forex.md).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use promostack_signals::Direction;
use promostack_signals::bars::Timeframe;
use promostack_signals::lifecycle::{ClosedSignal, OpenSignal, Outcome, SignalHeader};
use promostack_signals::messages::{Briefing, RecapPeriod, briefing_message, recap_message};
use promostack_signals::pips::PipCalculator;
use promostack_signals::strategy::{strategy_by_name, strategy_names};
use serde::Serialize;

use super::cycle::{self, CycleReport, KEEP_BARS, LiveSeries};
use super::poster::{self, PostReport};
use super::repo::{self, ConfigRow, SignalFilter, SignalRow};
use super::schedule::{self, Scheduled};
use super::settings::ForexSettings;
use crate::db::Db;
use crate::domains::connections::{BotCredentialResolver, BotRole};
use crate::domains::error::{DomainError, DomainResult};
use crate::integrations::market_data::{MarketData, MarketDataError};
use crate::integrations::openai::OpenAiClient;
use crate::time::Clock;

/// Bars asked for when a series has none stored yet.
pub const INITIAL_BARS: usize = 500;

#[derive(Clone)]
pub struct ForexService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: Clock,
    market: Arc<dyn MarketData>,
    resolver: BotCredentialResolver,
    /// Writes the notes after openings and closes when `OPENAI_API_KEY` is set.
    ai: Option<OpenAiClient>,
    series: Mutex<HashMap<SeriesKey, Arc<Mutex<LiveSeries>>>>,
    /// Market time of the next signal check / price check, per workspace (in memory: after a
    /// restart the first tick checks at once, which is harmless).
    next_check: Mutex<HashMap<String, i64>>,
    next_price: Mutex<HashMap<String, i64>>,
    /// Market time of the next briefing or recap per workspace: ticks skip it until then.
    next_schedule: Mutex<HashMap<String, i64>>,
    /// The last market-data error per series, for the status endpoint.
    last_error: Mutex<HashMap<SeriesKey, String>>,
}

/// A symbol and timeframe: one shared series of bars.
type SeriesKey = (String, Timeframe);

/// The settings as the API shows them, with the engine state beside them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForexConfigView {
    pub settings: ForexSettings,
    /// A strategy switch waiting for the open signal to close.
    pub queued_strategy: Option<String>,
    /// `/pause`: no new signals; open ones are followed to their end.
    pub paused: bool,
    /// Strategies to choose from.
    pub strategies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForexSignal {
    pub id: String,
    /// The workspace's signal number (`#7` in the posts).
    pub number: i64,
    pub symbol: String,
    pub timeframe: String,
    pub strategy: String,
    pub direction: String,
    pub entry: f64,
    pub stop_loss: f64,
    pub take_profits: [f64; 3],
    pub tp_split_percent: Vec<f64>,
    pub pip_size: f64,
    /// `open`, `tp1`, `tp2`, `tp3`, `sl`, `timeout`, `thesis_broken`.
    pub status: String,
    pub targets_hit: i64,
    /// Unix ms.
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub exit_price: Option<f64>,
    /// Net pips of a closed signal (partial closes weighted).
    pub net_pips: Option<f64>,
    /// The indicator values at entry (the original's `original_indicators_json`).
    #[schema(value_type = Object)]
    pub original_indicators: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalPage {
    pub signals: Vec<ForexSignal>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The open signal with its live numbers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenSignalView {
    pub signal: ForexSignal,
    /// The price the numbers are at (the last live price, else the last bar's close).
    pub price: Option<f64>,
    /// Pips of the open part at `price`, plus what the closed parts banked.
    pub live_pips: Option<f64>,
    pub realized_pips: f64,
    /// Percent of the way from entry to TP1 (negative: toward the stop).
    pub progress_to_tp1: Option<f64>,
    pub remaining_percent: f64,
    /// The live stop (moved to entry after the breakeven advisory, when configured).
    pub current_stop: f64,
    /// The time limit this signal was opened with (settings changes apply to later signals).
    pub hard_timeout_minutes: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignalBotStatus {
    pub enabled: bool,
    pub paused: bool,
    pub active_strategy: String,
    pub queued_strategy: Option<String>,
    pub symbol: String,
    pub timeframe: String,
    pub open_signal: Option<OpenSignalView>,
    /// `connected`, or what to do: "connect a Signal Bot", "give the Signal Bot a VIP channel".
    pub posting: String,
    pub signal_bot_connected: bool,
    /// `replay` or `twelve data`.
    pub market_source: String,
    /// The market's clock (unix ms): the replay position when replaying.
    pub market_time: i64,
    pub last_bar_close: Option<i64>,
    pub market_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sparkline {
    pub symbol: String,
    pub timeframe: String,
    /// `[unix ms of the bar's close, close price]`, oldest first.
    #[schema(value_type = Vec<Vec<f64>>)]
    pub points: Vec<(i64, f64)>,
}

/// Net pips per UTC day and per ISO week of closed signals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    pub daily: Vec<PipsBucket>,
    pub weekly: Vec<PipsBucket>,
    pub total_pips: f64,
    pub signals: usize,
    pub wins: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipsBucket {
    /// `YYYY-MM-DD` (the day, or the week's Monday).
    pub start: String,
    pub pips: f64,
    pub signals: usize,
}

/// A stored, closed signal as the engine's record (recaps).
pub fn closed_signal(row: &SignalRow) -> Option<ClosedSignal> {
    let outcome = match row.status.as_str() {
        "tp1" => Outcome::Tp1,
        "tp2" => Outcome::Tp2,
        "tp3" => Outcome::Tp3,
        "sl" => Outcome::StopLoss,
        "timeout" => Outcome::Timeout,
        "thesis_broken" => Outcome::ThesisBroken,
        "end_of_data" => Outcome::EndOfData,
        _ => return None,
    };
    let direction = if row.direction == "SELL" {
        Direction::Sell
    } else {
        Direction::Buy
    };
    let tp_split: Vec<f64> = serde_json::from_str(&row.tp_split_json).unwrap_or_default();
    let fraction = |i: usize| tp_split.get(i).copied().unwrap_or(0.0) / 100.0;
    let exit_price = row.exit_price?;
    Some(ClosedSignal {
        header: SignalHeader {
            id: row.seq as u64,
            symbol: row.symbol.clone(),
            strategy: row.strategy.clone(),
            direction,
            opened_at: row.opened_at / 1000,
            entry: row.entry,
            stop_loss: row.stop_loss,
            take_profits: [row.tp1, row.tp2, row.tp3],
            tp_fractions: [fraction(0), fraction(1), fraction(2)],
            pip_size: row.pip_size,
        },
        closed_at: row.closed_at? / 1000,
        exit_price,
        outcome,
        targets_hit: row.targets_hit.clamp(0, 3) as u8,
        stopped_at_breakeven: outcome == Outcome::StopLoss && exit_price == row.entry,
        net_pips: row.net_pips.unwrap_or(0.0),
        original_indicators: serde_json::from_str(&row.original_indicators_json)
            .ok()
            .flatten()
            .unwrap_or_default(),
    })
}

/// What one leader tick did (tests and logs).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TickReport {
    pub bars_stored: u64,
    pub cycles: usize,
    pub events: usize,
    pub posts_enqueued: usize,
    pub posts: PostReport,
    pub raced: usize,
    pub scheduled: usize,
}

fn internal(context: &str, e: impl std::error::Error + Send + Sync + 'static) -> DomainError {
    DomainError::internal_from(context.to_string(), e)
}

fn config_view(row: Option<&ConfigRow>) -> DomainResult<ForexConfigView> {
    let (settings, queued_strategy, paused) = match row {
        Some(row) => (settings_of(row)?, row.queued_strategy.clone(), row.paused),
        None => (ForexSettings::default(), None, false),
    };
    Ok(ForexConfigView {
        settings,
        queued_strategy,
        paused,
        strategies: strategy_names().iter().map(|s| s.to_string()).collect(),
    })
}

fn settings_of(row: &ConfigRow) -> DomainResult<ForexSettings> {
    serde_json::from_str(&row.settings_json).map_err(|e| internal("stored forex settings", e))
}

pub fn signal_view(row: &SignalRow) -> ForexSignal {
    ForexSignal {
        id: row.id.clone(),
        number: row.seq,
        symbol: row.symbol.clone(),
        timeframe: row.timeframe.clone(),
        strategy: row.strategy.clone(),
        direction: row.direction.clone(),
        entry: row.entry,
        stop_loss: row.stop_loss,
        take_profits: [row.tp1, row.tp2, row.tp3],
        tp_split_percent: serde_json::from_str(&row.tp_split_json).unwrap_or_default(),
        pip_size: row.pip_size,
        status: row.status.clone(),
        targets_hit: row.targets_hit,
        opened_at: row.opened_at,
        closed_at: row.closed_at,
        exit_price: row.exit_price,
        net_pips: row.net_pips,
        original_indicators: serde_json::from_str(&row.original_indicators_json)
            .unwrap_or(serde_json::Value::Null),
    }
}

impl ForexService {
    pub fn new(
        db: Db,
        clock: Clock,
        market: Arc<dyn MarketData>,
        resolver: BotCredentialResolver,
        ai: Option<OpenAiClient>,
    ) -> Self {
        ForexService {
            inner: Arc::new(Inner {
                db,
                clock,
                market,
                resolver,
                ai,
                series: Mutex::new(HashMap::new()),
                next_check: Mutex::new(HashMap::new()),
                next_price: Mutex::new(HashMap::new()),
                next_schedule: Mutex::new(HashMap::new()),
                last_error: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn market(&self) -> &dyn MarketData {
        self.inner.market.as_ref()
    }

    pub(super) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(super) fn resolver(&self) -> &BotCredentialResolver {
        &self.inner.resolver
    }

    async fn config_row(&self, tenant_id: &str) -> DomainResult<Option<ConfigRow>> {
        Ok(repo::config(self.db(), tenant_id).await?)
    }

    /// The stored settings, or the defaults of a workspace that never saved any.
    pub async fn config<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
    ) -> DomainResult<ForexConfigView> {
        config_view(self.config_row(tenant_id.as_ref()).await?.as_ref())
    }

    /// A partial update (`patch`: any settings fields), validated as a whole; nothing is
    /// stored when a field is wrong. A new `bot_active_bot_type` while a signal is open is
    /// queued, not applied (the open signal keeps its strategy).
    pub async fn update_config<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        patch: &serde_json::Value,
    ) -> DomainResult<ForexConfigView> {
        let tenant_id = tenant_id.as_ref();
        let current = self.config(tenant_id).await?.settings;
        let mut next = current.merged(patch)?;
        let switching = next.bot_active_bot_type != current.bot_active_bot_type;
        let mut queue = None;
        if switching && repo::open_signal(self.db(), tenant_id).await?.is_some() {
            queue = Some(next.bot_active_bot_type.clone());
            next.bot_active_bot_type = current.bot_active_bot_type.clone();
            next.params = current.params.clone();
        } else if switching && patch.get("params").is_none() {
            // A new strategy starts from its own defaults unless parameters came with it.
            if let Some(s) = strategy_by_name(&next.bot_active_bot_type) {
                next.params = s.default_params();
            }
        }
        let json = serde_json::to_string(&next).map_err(|e| internal("forex settings", e))?;
        let now = self.inner.clock.now();
        repo::save_settings(self.db(), tenant_id, next.enabled, &json, now).await?;
        if queue.is_some() || switching {
            repo::set_queued(self.db(), tenant_id, queue.as_deref(), now).await?;
        }
        self.inner
            .next_check
            .lock()
            .expect("checks")
            .remove(tenant_id);
        self.inner
            .next_schedule
            .lock()
            .expect("schedules")
            .remove(tenant_id);
        self.config(tenant_id).await
    }

    /// Switch the active strategy: now when no signal is open, else queued until it closes.
    pub async fn set_active<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        strategy: &str,
    ) -> DomainResult<SignalBotStatus> {
        if strategy_by_name(strategy).is_none() {
            return Err(DomainError::invalid_field(
                "strategy",
                format!(
                    "unknown strategy `{strategy}` (known: {})",
                    strategy_names().join(", ")
                ),
            ));
        }
        self.update_config(
            tenant_id,
            &serde_json::json!({ "bot_active_bot_type": strategy }),
        )
        .await?;
        self.status(tenant_id).await
    }

    pub async fn set_paused<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        paused: bool,
    ) -> DomainResult<()> {
        let tenant_id = tenant_id.as_ref();
        if self.config_row(tenant_id).await?.is_none() {
            self.update_config(tenant_id, &serde_json::json!({}))
                .await?;
        }
        repo::set_paused(self.db(), tenant_id, paused, self.inner.clock.now()).await?;
        Ok(())
    }

    /// Turn the service on for the demo workspace, following what the replay plays.
    pub async fn seed_demo(
        &self,
        tenant_id: &str,
        symbol: &str,
        timeframe: Timeframe,
    ) -> DomainResult<()> {
        if self.config_row(tenant_id).await?.is_some() {
            return Ok(());
        }
        let mut settings = ForexSettings::for_timeframe(timeframe);
        settings.enabled = true;
        settings.symbol = symbol.to_string();
        let json = serde_json::to_string(&settings).map_err(|e| internal("forex settings", e))?;
        repo::save_settings(self.db(), tenant_id, true, &json, self.inner.clock.now()).await?;
        Ok(())
    }

    pub async fn signals<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        filter: &SignalFilter,
        limit: i64,
        offset: i64,
    ) -> DomainResult<SignalPage> {
        let (rows, total) =
            repo::list_signals(self.db(), tenant_id.as_ref(), filter, limit, offset).await?;
        Ok(SignalPage {
            signals: rows.iter().map(signal_view).collect(),
            total,
            limit,
            offset,
        })
    }

    pub async fn signal<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        id: &str,
    ) -> DomainResult<ForexSignal> {
        repo::signal(self.db(), tenant_id.as_ref(), id)
            .await?
            .map(|r| signal_view(&r))
            .ok_or(DomainError::NotFound("signal"))
    }

    async fn series_for(
        &self,
        symbol: &str,
        timeframe: Timeframe,
    ) -> DomainResult<Arc<Mutex<LiveSeries>>> {
        let key = (symbol.to_string(), timeframe);
        if let Some(s) = self.inner.series.lock().expect("series").get(&key) {
            return Ok(s.clone());
        }
        let bars =
            repo::recent_bars(self.db(), symbol, timeframe.label(), KEEP_BARS as i64).await?;
        let series = Arc::new(Mutex::new(LiveSeries::new(timeframe, &bars)));
        Ok(self
            .inner
            .series
            .lock()
            .expect("series")
            .entry(key)
            .or_insert(series)
            .clone())
    }

    /// The last `points` closes of the workspace's symbol.
    pub async fn sparkline<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        points: usize,
    ) -> DomainResult<Sparkline> {
        let settings = self.config(tenant_id).await?.settings;
        let bars = repo::recent_bars(
            self.db(),
            &settings.symbol,
            settings.timeframe.label(),
            points.clamp(2, 1000) as i64,
        )
        .await?;
        let tf = settings.timeframe.seconds();
        Ok(Sparkline {
            symbol: settings.symbol.clone(),
            timeframe: settings.timeframe.label().to_string(),
            points: bars
                .iter()
                .map(|b| ((b.time + tf) * 1000, b.close))
                .collect(),
        })
    }

    /// Where posts would go: `Ok(true)` when a Signal Bot with a VIP channel is connected.
    async fn posting(&self, tenant_id: &str) -> (bool, String, bool) {
        match self
            .inner
            .resolver
            .credentials(tenant_id, BotRole::SignalBot)
            .await
        {
            Ok(c) if c.vip_channel_id.is_some() => (true, "connected".into(), true),
            Ok(_) => (
                false,
                "give the Signal Bot a VIP channel under Settings → Connections".into(),
                true,
            ),
            Err(e) => (false, e.to_string(), false),
        }
    }

    pub async fn status<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
    ) -> DomainResult<SignalBotStatus> {
        let tenant_id = tenant_id.as_ref();
        let row = self.config_row(tenant_id).await?;
        let view = config_view(row.as_ref())?;
        let settings = &view.settings;
        let open = repo::open_signal(self.db(), tenant_id).await?;
        let last =
            repo::recent_bars(self.db(), &settings.symbol, settings.timeframe.label(), 1).await?;
        let price = last.last().map(|b| b.close);
        let open_signal = match &open {
            Some(row) => Some(open_view(row, price)?),
            None => None,
        };
        let (_, posting, connected) = self.posting(tenant_id).await;
        let market_error = self
            .inner
            .last_error
            .lock()
            .expect("errors")
            .get(&(settings.symbol.clone(), settings.timeframe))
            .cloned();
        Ok(SignalBotStatus {
            enabled: settings.enabled,
            paused: view.paused,
            active_strategy: settings.bot_active_bot_type.clone(),
            queued_strategy: view.queued_strategy.clone(),
            symbol: settings.symbol.clone(),
            timeframe: settings.timeframe.label().to_string(),
            open_signal,
            posting,
            signal_bot_connected: connected,
            market_source: self.inner.market.name().to_string(),
            market_time: self.inner.market.now() * 1000,
            last_bar_close: row.and_then(|r| r.last_bar_close).map(|s| s * 1000),
            market_error,
        })
    }

    /// Daily and weekly net pips of the signals closed in the last `days` days (market time).
    pub async fn performance<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        days: i64,
    ) -> DomainResult<Performance> {
        let now_ms = self.inner.market.now() * 1000;
        let from = now_ms - days.clamp(1, 366) * 86_400_000;
        let rows = repo::closed_between(self.db(), tenant_id.as_ref(), from, now_ms + 1).await?;
        let day = |ms: i64| ms.div_euclid(86_400_000);
        let label = |d: i64| promostack_signals::bars::format_time(d * 86_400)[..10].to_string();
        let mut daily: Vec<PipsBucket> = Vec::new();
        let mut weekly: Vec<PipsBucket> = Vec::new();
        for r in &rows {
            let pips = r.net_pips.unwrap_or(0.0);
            let d = day(r.closed_at.unwrap_or(r.opened_at));
            // 1970-01-01 was a Thursday: Monday-based weeks start 3 days before.
            let week = d - (d + 3).rem_euclid(7);
            for (buckets, start) in [(&mut daily, d), (&mut weekly, week)] {
                let start = label(start);
                match buckets.last_mut() {
                    Some(b) if b.start == start => {
                        b.pips += pips;
                        b.signals += 1;
                    }
                    _ => buckets.push(PipsBucket {
                        start,
                        pips,
                        signals: 1,
                    }),
                }
            }
        }
        Ok(Performance {
            total_pips: rows.iter().filter_map(|r| r.net_pips).sum(),
            signals: rows.len(),
            wins: rows
                .iter()
                .filter(|r| r.net_pips.unwrap_or(0.0) > 0.0)
                .count(),
            daily,
            weekly,
        })
    }

    /// The stored bars of a workspace's series (the "backtest these settings" button).
    pub async fn stored_bars<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
    ) -> DomainResult<(ForexSettings, Vec<promostack_signals::Bar>)> {
        let settings = self.config(tenant_id).await?.settings;
        let bars = repo::recent_bars(
            self.db(),
            &settings.symbol,
            settings.timeframe.label(),
            KEEP_BARS as i64,
        )
        .await?;
        Ok((settings, bars))
    }

    /// Market data in for every followed series: only the bars not stored yet.
    async fn ingest(&self, configs: &[(ConfigRow, ForexSettings)]) -> DomainResult<u64> {
        let mut wanted: Vec<(String, Timeframe)> = configs
            .iter()
            .map(|(_, s)| (s.symbol.clone(), s.timeframe))
            .collect();
        wanted.sort_by(|a, b| (a.0.as_str(), a.1.seconds()).cmp(&(b.0.as_str(), b.1.seconds())));
        wanted.dedup();
        let mut stored = 0;
        let now_ms = self.inner.clock.now();
        for (symbol, timeframe) in wanted {
            let key = (symbol.clone(), timeframe);
            let newest = repo::newest_bar(self.db(), &symbol, timeframe.label()).await?;
            if let Some(newest) = newest {
                self.inner.market.resume_after(&symbol, timeframe, newest);
            }
            let series = self.series_for(&symbol, timeframe).await?;
            // Nothing new can have closed before the next bar's close.
            let next_close = newest.map_or(i64::MIN, |t| t + 2 * timeframe.seconds());
            if self.inner.market.now() < next_close {
                continue;
            }
            let limit = if newest.is_some() {
                KEEP_BARS
            } else {
                INITIAL_BARS
            };
            match self
                .inner
                .market
                .closed_bars(&symbol, timeframe, newest, limit)
                .await
            {
                Ok(bars) => {
                    self.inner.last_error.lock().expect("errors").remove(&key);
                    if bars.is_empty() {
                        continue;
                    }
                    stored += repo::insert_bars(
                        self.db(),
                        &symbol,
                        timeframe.label(),
                        &bars,
                        self.inner.market.name(),
                        now_ms,
                    )
                    .await?;
                    series.lock().expect("series").extend(&bars);
                    repo::prune_bars(self.db(), &symbol, timeframe.label(), KEEP_BARS as i64)
                        .await?;
                }
                Err(e) => {
                    if !matches!(e, MarketDataError::RateLimited { .. }) {
                        tracing::warn!(%symbol, timeframe = timeframe.label(), error = %e, "market data unavailable");
                    }
                    self.inner
                        .last_error
                        .lock()
                        .expect("errors")
                        .insert(key, e.to_string());
                }
            }
        }
        Ok(stored)
    }

    /// One leader tick: market data, a cycle for each workspace whose check is due, posts.
    pub async fn tick(&self) -> DomainResult<TickReport> {
        let mut report = TickReport::default();
        let mut configs = Vec::new();
        for row in repo::enabled_configs(self.db()).await? {
            match settings_of(&row) {
                Ok(settings) => configs.push((row, settings)),
                Err(e) => {
                    tracing::error!(tenant = %row.tenant_id, error = %e, "unreadable forex settings")
                }
            }
        }
        report.bars_stored = self.ingest(&configs).await?;
        let market_now = self.inner.market.now();
        let now_ms = self.inner.clock.now();
        for (row, settings) in &configs {
            let tenant = row.tenant_id.as_str();
            let due = self
                .inner
                .next_check
                .lock()
                .expect("checks")
                .get(tenant)
                .is_none_or(|at| market_now >= *at);
            let price_due = self
                .inner
                .next_price
                .lock()
                .expect("prices")
                .get(tenant)
                .is_none_or(|at| market_now >= *at);
            if !due && !price_due {
                continue;
            }
            let price = if price_due && !due {
                match self.inner.market.price(&settings.symbol).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::debug!(tenant, error = %e, "no live price");
                        None
                    }
                }
            } else {
                None
            };
            if !due && price.is_none() {
                self.inner
                    .next_price
                    .lock()
                    .expect("prices")
                    .insert(tenant.to_string(), market_now + settings.monitor_seconds);
                continue;
            }
            let series = self
                .series_for(&settings.symbol, settings.timeframe)
                .await?;
            let (post, _, _) = self.posting(tenant).await;
            // An immutable snapshot: a cycle awaits the database.
            let snapshot = series.lock().expect("series").snapshot();
            let result = cycle::run(
                self.db(),
                row,
                settings,
                &snapshot,
                market_now,
                price,
                post,
                self.inner.ai.is_some(),
                now_ms,
            )
            .await;
            match result {
                Ok(CycleReport {
                    events,
                    posts,
                    raced,
                    ..
                }) => {
                    report.cycles += 1;
                    report.events += events;
                    report.posts_enqueued += posts;
                    report.raced += usize::from(raced);
                    if !raced && due {
                        self.inner.next_check.lock().expect("checks").insert(
                            tenant.to_string(),
                            market_now + settings.signal_check_minutes * 60,
                        );
                    }
                    self.inner
                        .next_price
                        .lock()
                        .expect("prices")
                        .insert(tenant.to_string(), market_now + settings.monitor_seconds);
                }
                Err(e) => {
                    tracing::warn!(tenant, error = %e, "forex cycle failed; retried next tick")
                }
            }
        }
        for (row, settings) in &configs {
            match self.run_schedule(row, settings, market_now, now_ms).await {
                Ok(n) => report.scheduled += n,
                Err(e) => {
                    tracing::warn!(tenant = %row.tenant_id, error = %e, "forex schedule failed")
                }
            }
        }
        report.posts = poster::send_due(
            self.db(),
            &self.inner.resolver,
            self.inner.ai.as_ref(),
            now_ms,
        )
        .await?;
        Ok(report)
    }

    /// Enqueue the briefing and recaps that fell due since the last look (once each: keyed by
    /// kind and local date). A workspace's first look only starts the clock.
    async fn run_schedule(
        &self,
        row: &ConfigRow,
        settings: &ForexSettings,
        market_now: i64,
        now_ms: i64,
    ) -> DomainResult<usize> {
        let tenant = row.tenant_id.as_str();
        let next = self
            .inner
            .next_schedule
            .lock()
            .expect("schedules")
            .get(tenant)
            .copied();
        if next.is_some_and(|at| market_now < at) {
            return Ok(0);
        }
        if let Some(at) = schedule::next_after(settings, market_now)? {
            self.inner
                .next_schedule
                .lock()
                .expect("schedules")
                .insert(tenant.to_string(), at);
        }
        let Some(last_ms) = row.last_schedule_at else {
            let mut tx = self.db().begin().await?;
            repo::set_last_schedule(&mut tx, tenant, market_now * 1000).await?;
            tx.commit().await?;
            return Ok(0);
        };
        let due = schedule::due(settings, last_ms / 1000, market_now)?;
        if due.is_empty() {
            return Ok(0);
        }
        let (post, _, _) = self.posting(tenant).await;
        let mut texts = Vec::new();
        for occurrence in &due {
            texts.push(self.scheduled_text(tenant, settings, occurrence).await?);
        }
        let mut tx = self.db().begin().await?;
        let mut added = 0;
        if post {
            for (occurrence, text) in due.iter().zip(texts) {
                let created = repo::insert_post(
                    &mut tx,
                    &repo::PostRow {
                        id: uuid::Uuid::now_v7().to_string(),
                        tenant_id: tenant.to_string(),
                        post_key: occurrence.post_key(),
                        kind: occurrence.what.kind().to_string(),
                        signal_id: None,
                        reply_to_key: None,
                        text,
                        ai_context_json: None,
                        status: repo::PostStatus::Pending,
                        attempts: 0,
                        message_id: None,
                        error: None,
                        due_at: now_ms,
                        created_at: now_ms,
                        updated_at: now_ms,
                    },
                )
                .await?;
                added += usize::from(created);
            }
        }
        repo::set_last_schedule(&mut tx, tenant, market_now * 1000).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn scheduled_text(
        &self,
        tenant: &str,
        settings: &ForexSettings,
        occurrence: &schedule::Occurrence,
    ) -> DomainResult<String> {
        let day = 86_400;
        let closed = |from: i64, to: i64| async move {
            let rows = repo::closed_between(self.db(), tenant, from * 1000, to * 1000).await?;
            Ok::<Vec<ClosedSignal>, DomainError>(rows.iter().filter_map(closed_signal).collect())
        };
        let at = occurrence.at;
        Ok(match occurrence.what {
            Scheduled::DailyRecap => recap_message(
                RecapPeriod::Daily,
                at - day,
                at,
                &closed(at - day, at).await?,
            ),
            Scheduled::WeeklyRecap => recap_message(
                RecapPeriod::Weekly,
                at - 7 * day,
                at,
                &closed(at - 7 * day, at).await?,
            ),
            Scheduled::MorningBriefing => {
                let view = self.config(tenant).await?;
                let pip_size = PipCalculator::for_symbol(&settings.symbol).pip_size;
                let per_day = day / settings.timeframe.seconds();
                let bars = repo::recent_bars(
                    self.db(),
                    &settings.symbol,
                    settings.timeframe.label(),
                    per_day + 1,
                )
                .await?;
                let last_close = bars.last().map(|b| b.close);
                let change_pips = match (bars.first(), bars.last()) {
                    (Some(first), Some(last)) if bars.len() as i64 > per_day => {
                        Some((last.close - first.close) / pip_size)
                    }
                    _ => None,
                };
                let open = repo::open_signal(self.db(), tenant).await?;
                let open_state: Option<OpenSignal> = open
                    .as_ref()
                    .and_then(|r| r.state_json.as_deref())
                    .and_then(|s| serde_json::from_str(s).ok());
                let yesterday = closed(at - day, at).await?;
                let params = &settings.params;
                briefing_message(&Briefing {
                    symbol: &settings.symbol,
                    date: &occurrence.local_date,
                    pip_size,
                    last_close,
                    change_pips,
                    strategy: &settings.bot_active_bot_type,
                    queued: view.queued_strategy.as_deref(),
                    open: open_state.as_ref().map(|s| &s.header),
                    session_utc: params
                        .session_filter_enabled
                        .then_some((params.session_start_hour_utc, params.session_end_hour_utc)),
                    paused: view.paused,
                    yesterday: (yesterday.len(), yesterday.iter().map(|c| c.net_pips).sum()),
                })
            }
        })
    }

    /// A new leadership: posts an earlier leader left `sending` may have gone out.
    pub async fn recover_posts(&self) -> DomainResult<u64> {
        let n = poster::recover(self.db(), self.inner.clock.now()).await?;
        if n > 0 {
            tracing::warn!(
                posts = n,
                "forex posts left sending by an earlier leader marked uncertain"
            );
        }
        Ok(n)
    }

    pub async fn events<T: AsRef<str> + ?Sized>(
        &self,
        tenant_id: &T,
        signal_id: &str,
    ) -> DomainResult<Vec<repo::EventRow>> {
        Ok(repo::events_of(self.db(), tenant_id.as_ref(), signal_id).await?)
    }
}

fn open_view(row: &SignalRow, price: Option<f64>) -> DomainResult<OpenSignalView> {
    let signal = signal_view(row);
    let state: Option<OpenSignal> = match &row.state_json {
        Some(s) => Some(serde_json::from_str(s).map_err(|e| internal("stored open signal", e))?),
        None => None,
    };
    let (realized, remaining, stop) = state.as_ref().map_or((0.0, 1.0, row.stop_loss), |s| {
        (s.realized_pips, s.remaining, s.stop_loss)
    });
    let header = state.as_ref().map(|s| &s.header);
    let live_pips = price
        .zip(header)
        .map(|(p, h)| realized + remaining * h.pips_at(p));
    Ok(OpenSignalView {
        signal,
        price,
        live_pips,
        realized_pips: realized,
        progress_to_tp1: price.zip(header).map(|(p, h)| h.progress_to_tp1(p)),
        remaining_percent: remaining * 100.0,
        current_stop: stop,
        hard_timeout_minutes: state.as_ref().map(|s| s.timing.hard_timeout_minutes),
    })
}

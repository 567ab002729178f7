//! Runs a backtest on the bundled bars: validates the request against the strategy registry,
//! then replays on a blocking thread, one run at a time per process (a backtest is CPU work:
//! about a second on these 5,000 bars; more would starve the request handlers).
use std::sync::{Arc, LazyLock};

use promostack_signals::backtest::{BacktestOptions, BacktestReport, Costs, run_backtest};
use promostack_signals::bars::{OhlcSeries, Timeframe, UnixSeconds, parse_ohlc_csv, parse_time};
use promostack_signals::strategy::{STRATEGIES, StrategyParams, strategy_by_name, strategy_names};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::domains::error::{DomainError, DomainResult};

/// Real EUR/USD hourly bars, 2017-04-19 09:00 to 2018-02-07 15:00 UTC (the shared data set,
/// also the market replay's), committed so that every build can replay them.
use crate::integrations::market_data::replay::{BUNDLED_CSV, BUNDLED_SYMBOL};
pub const BUNDLED_FILE: &str = "EURUSD_H1.csv";

static BARS: LazyLock<Result<OhlcSeries, String>> =
    LazyLock::new(|| parse_ohlc_csv(BUNDLED_CSV).map_err(|e| e.to_string()));

/// The bundled bars, parsed once (on first use).
pub fn bundled_bars() -> DomainResult<&'static OhlcSeries> {
    BARS.as_ref()
        .map_err(|e| DomainError::internal(format!("bundled {BUNDLED_FILE}: {e}")))
}

/// What a run is asked to do; every field but `strategy` optional.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestRequest {
    /// A strategy name from `GET /api/backtests/strategies`.
    pub strategy: String,
    /// Overrides of the strategy's parameters, e.g. `{"rsi_oversold": 30}`.
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    /// `FROM..TO` (UTC, either side may be empty): trade only bars opening in [FROM, TO).
    pub timerange: Option<String>,
    /// Pips paid once per trade (default 0).
    pub spread: Option<f64>,
    /// Pips paid on every fill (default 0).
    pub slippage: Option<f64>,
}

impl BacktestRequest {
    const FIELDS: [&'static str; 5] = ["strategy", "params", "timerange", "spread", "slippage"];

    /// Read a request body field by field, so that a value of the wrong type is a 422 naming
    /// its field (a derived `Deserialize` would only say what type it expected).
    pub fn from_json(body: serde_json::Value) -> DomainResult<Self> {
        let serde_json::Value::Object(mut object) = body else {
            return Err(DomainError::invalid(
                "expected a JSON object: {\"strategy\": ..., \"params\": {...}, \"spread\": ..., \"slippage\": ..., \"timerange\": ...}",
            ));
        };
        if let Some(unknown) = object.keys().find(|k| !Self::FIELDS.contains(&k.as_str())) {
            return Err(DomainError::invalid(format!(
                "unknown field `{unknown}` (known: {})",
                Self::FIELDS.join(", ")
            )));
        }
        fn take<T: serde::de::DeserializeOwned>(
            object: &mut serde_json::Map<String, serde_json::Value>,
            field: &'static str,
            what: &str,
        ) -> DomainResult<Option<T>> {
            match object.remove(field) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => serde_json::from_value(v).map(Some).map_err(|_| {
                    DomainError::invalid_field(field, format!("{field} must be {what}"))
                }),
            }
        }
        let strategy: Option<String> = take(&mut object, "strategy", "a strategy name")?;
        Ok(BacktestRequest {
            strategy: strategy
                .ok_or_else(|| DomainError::invalid_field("strategy", "strategy is required"))?,
            params: take(&mut object, "params", "an object of parameter values")?,
            timerange: take(&mut object, "timerange", "a string FROM..TO")?,
            spread: take(&mut object, "spread", "a number of pips")?,
            slippage: take(&mut object, "slippage", "a number of pips")?,
        })
    }
}

/// The bundled data set, as the page states it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DataSet {
    pub file: String,
    pub symbol: String,
    pub timeframe: String,
    pub bars: usize,
    pub gaps: usize,
    pub first_bar: Option<UnixSeconds>,
    pub last_bar: Option<UnixSeconds>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StrategyInfo {
    pub name: &'static str,
    pub description: &'static str,
    /// Every parameter with its default value.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StrategyList {
    pub data: DataSet,
    pub strategies: Vec<StrategyInfo>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawdownPoint {
    /// Close of the trade.
    pub time: UnixSeconds,
    /// Pips below the highest closed-trade equity so far (>= 0).
    pub pips: f64,
}

/// The CLI's `--json` report (the same type, with `gaps`), plus the drawdown series.
#[derive(Debug, Serialize)]
pub struct BacktestRun {
    #[serde(flatten)]
    pub report: BacktestReport,
    pub gaps: usize,
    pub data: DataSet,
    pub drawdown: Vec<DrawdownPoint>,
}

/// The drawdown after each closed trade, from the report's equity series (starting at 0).
pub fn drawdown_series(report: &BacktestReport) -> Vec<DrawdownPoint> {
    let mut peak = 0.0_f64;
    report
        .equity
        .iter()
        .map(|p| {
            peak = peak.max(p.pips);
            DrawdownPoint {
                time: p.time,
                pips: peak - p.pips,
            }
        })
        .collect()
}

fn data_set(series: &OhlcSeries) -> DataSet {
    DataSet {
        file: BUNDLED_FILE.to_string(),
        symbol: BUNDLED_SYMBOL.to_string(),
        timeframe: Timeframe::H1.label().to_string(),
        bars: series.bars.len(),
        gaps: series.gaps.len(),
        first_bar: series.bars.first().map(|b| b.time),
        last_bar: series.bars.last().map(|b| b.time),
    }
}

/// A validated request, ready to replay.
struct Plan {
    options: BacktestOptions,
}

#[derive(Clone)]
pub struct BacktestService {
    permits: Arc<Semaphore>,
}

impl Default for BacktestService {
    fn default() -> Self {
        BacktestService {
            permits: Arc::new(Semaphore::new(1)),
        }
    }
}

/// Seconds a client should wait before retrying when the runner is busy.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

impl BacktestService {
    pub fn strategies(&self) -> DomainResult<StrategyList> {
        let series = bundled_bars()?;
        let strategies = STRATEGIES
            .iter()
            .map(|s| {
                Ok(StrategyInfo {
                    name: s.name(),
                    description: s.description(),
                    params: serde_json::to_value(s.default_params())
                        .map_err(|e| DomainError::internal_from("default params", e))?,
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        Ok(StrategyList {
            data: data_set(series),
            strategies,
        })
    }

    fn plan(&self, req: &BacktestRequest, series: &OhlcSeries) -> DomainResult<Plan> {
        let strategy = strategy_by_name(&req.strategy).ok_or_else(|| {
            DomainError::invalid_field(
                "strategy",
                format!(
                    "unknown strategy `{}` (known: {})",
                    req.strategy.trim(),
                    strategy_names().join(", ")
                ),
            )
        })?;
        let params = match &req.params {
            None | Some(serde_json::Value::Null) => None,
            Some(overrides) => Some(check_params(&strategy.default_params(), overrides)?),
        };
        let mut costs = Costs::default();
        for (field, value, slot) in [
            ("spread", req.spread, &mut costs.spread_pips),
            ("slippage", req.slippage, &mut costs.slippage_pips),
        ] {
            let v = value.unwrap_or(0.0);
            if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                return Err(DomainError::invalid_field(
                    field,
                    format!("{field} must be a number of pips from 0 to 100, got {v}"),
                ));
            }
            *slot = v;
        }
        let (from, to) = match req.timerange.as_deref().map(str::trim) {
            None | Some("") => (None, None),
            Some(text) => parse_timerange(text, series)?,
        };
        Ok(Plan {
            options: BacktestOptions {
                symbol: BUNDLED_SYMBOL.to_string(),
                pip_size: None,
                strategy: strategy.name().to_string(),
                params,
                timeframe: Timeframe::H1,
                costs,
                from,
                to,
            },
        })
    }

    /// Validate, then replay on a blocking thread. A second run while one is going is refused
    /// (`Unavailable`, retry after [`BUSY_RETRY_AFTER_SECS`]) rather than queued.
    pub async fn run(&self, req: BacktestRequest) -> DomainResult<BacktestRun> {
        let series = bundled_bars()?;
        let plan = self.plan(&req, series)?;
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| {
            DomainError::unavailable(
                "backtest runner",
                format!("a backtest is already running; try again in {BUSY_RETRY_AFTER_SECS} s"),
            )
        })?;
        let step = series.step_seconds.unwrap_or(3600);
        let report = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            run_backtest(&series.bars, step, &plan.options, &mut |_, _| {})
        })
        .await
        .map_err(|e| DomainError::internal_from("backtest task", e))?
        .map_err(|e| DomainError::invalid(e.to_string()))?;
        Ok(BacktestRun {
            drawdown: drawdown_series(&report),
            gaps: series.gaps.len(),
            data: data_set(series),
            report,
        })
    }

    /// The same report on other bars (a workspace's stored market bars with its forex
    /// settings: the Strategy & Config page's "backtest these settings"). Shares the one-run
    /// permit with [`run`](Self::run).
    pub async fn run_on_bars(
        &self,
        bars: Vec<promostack_signals::Bar>,
        options: BacktestOptions,
    ) -> DomainResult<BacktestRun> {
        if bars.len() < 2 {
            return Err(DomainError::conflict(
                "no stored bars yet: the service stores market data once it runs",
            ));
        }
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| {
            DomainError::unavailable(
                "backtest runner",
                format!("a backtest is already running; try again in {BUSY_RETRY_AFTER_SECS} s"),
            )
        })?;
        let step = options.timeframe.seconds();
        let data = DataSet {
            file: "stored market bars".to_string(),
            symbol: options.symbol.clone(),
            timeframe: options.timeframe.label().to_string(),
            bars: bars.len(),
            gaps: bars
                .windows(2)
                .filter(|w| w[1].time - w[0].time > step)
                .count(),
            first_bar: bars.first().map(|b| b.time),
            last_bar: bars.last().map(|b| b.time),
        };
        let report = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            run_backtest(&bars, step, &options, &mut |_, _| {})
        })
        .await
        .map_err(|e| DomainError::internal_from("backtest task", e))?
        .map_err(|e| DomainError::invalid(e.to_string()))?;
        Ok(BacktestRun {
            drawdown: drawdown_series(&report),
            gaps: data.gaps,
            data,
            report,
        })
    }

    /// Whether a run is going (for tests and the busy answer).
    pub fn busy(&self) -> bool {
        self.permits.available_permits() == 0
    }
}

/// `overrides` must be an object of the strategy's parameter names; each value must have the
/// parameter's type, and the whole must pass the strategy's validation.
fn check_params(
    defaults: &StrategyParams,
    overrides: &serde_json::Value,
) -> DomainResult<StrategyParams> {
    let Some(object) = overrides.as_object() else {
        return Err(DomainError::invalid_field(
            "params",
            "params must be a JSON object of parameter names and values",
        ));
    };
    let base = serde_json::to_value(defaults)
        .map_err(|e| DomainError::internal_from("default params", e))?;
    let known: Vec<&String> = base
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    for (name, value) in object {
        if !known.contains(&name) {
            return Err(DomainError::invalid_field(
                "params",
                format!(
                    "unknown parameter `{name}` (known: {})",
                    known
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut one = base.clone();
        if let Some(o) = one.as_object_mut() {
            o.insert(name.clone(), value.clone());
        }
        if let Err(e) = serde_json::from_value::<StrategyParams>(one) {
            return Err(DomainError::invalid_field(
                "params",
                format!("parameter `{name}`: {e}"),
            ));
        }
    }
    StrategyParams::with_overrides(defaults, overrides)
        .map_err(|e| DomainError::invalid_field("params", e.to_string()))
}

/// `FROM..TO`, either side optional, each a time the bars parser reads; both inside the data.
fn parse_timerange(
    text: &str,
    series: &OhlcSeries,
) -> DomainResult<(Option<UnixSeconds>, Option<UnixSeconds>)> {
    let bad = |m: String| DomainError::invalid_field("timerange", m);
    let Some((from, to)) = text.split_once("..") else {
        return Err(bad(format!(
            "timerange `{text}`: expected FROM..TO, e.g. 2017-06-01..2017-12-01"
        )));
    };
    let side = |s: &str, which: &str| -> DomainResult<Option<UnixSeconds>> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        parse_time(s).map(Some).ok_or_else(|| {
            bad(format!(
                "timerange: {which} `{s}` is not a time (YYYY-MM-DD[ HH:MM] UTC, ISO 8601 or unix seconds)"
            ))
        })
    };
    let (from, to) = (side(from, "FROM")?, side(to, "TO")?);
    let step = series.step_seconds.unwrap_or(3600);
    if let (Some(first), Some(last)) = (series.bars.first(), series.bars.last()) {
        let end = last.time + step;
        for t in [from, to].into_iter().flatten() {
            if t < first.time || t > end {
                return Err(bad(format!(
                    "timerange: {} is outside the data ({} to {})",
                    promostack_signals::bars::format_time(t),
                    promostack_signals::bars::format_time(first.time),
                    promostack_signals::bars::format_time(end)
                )));
            }
        }
    }
    if let (Some(a), Some(b)) = (from, to)
        && a >= b
    {
        return Err(bad("timerange: FROM must be before TO".to_string()));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(strategy: &str) -> BacktestRequest {
        BacktestRequest {
            strategy: strategy.into(),
            params: None,
            timerange: None,
            spread: None,
            slippage: None,
        }
    }

    #[test]
    fn bundled_bars_are_the_eurusd_hourly_file() {
        let series = bundled_bars().unwrap();
        assert_eq!(series.bars.len(), 5000);
        assert_eq!(series.step_seconds, Some(3600));
        assert_eq!(series.gaps.len(), 42);
    }

    #[tokio::test]
    async fn a_second_run_while_one_is_going_is_refused() {
        let service = BacktestService::default();
        let held = service.permits.clone().try_acquire_owned().unwrap();
        assert!(service.busy());
        let err = service.run(request("aggressive")).await.unwrap_err();
        assert!(
            matches!(err, DomainError::Unavailable { .. }),
            "busy runner: {err:?}"
        );
        drop(held);
        let run = service.run(request("conservative")).await.unwrap();
        assert_eq!(run.report.strategy, "conservative");
        assert!(!service.busy());
    }
}

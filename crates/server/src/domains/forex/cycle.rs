//! One workspace's signal cycle: the engine (crates/signals, the same one `promostack
//! backtest` runs) fed the bars that closed since the last cycle, and everything it produced
//! (signals, events, the posts they make) written in one transaction together with the
//! cycle's progress. The progress row is compared and set (`version`), so a cycle that
//! raced another one (a leader that lost its lease, a settings change) writes nothing and the
//! next cycle starts from the stored state again: no event is produced twice or lost.
use std::collections::HashMap;
use std::sync::Arc;

use promostack_signals::bars::{Bar, Timeframe};
use promostack_signals::engine::{EngineStep, SignalEngine};
use promostack_signals::lifecycle::{EventKind, OpenSignal, SignalEvent};
use promostack_signals::messages::{event_message, strategy_switch_message};
use promostack_signals::{IndicatorSnapshot, StandardIndicators};

use super::repo::{self, ConfigRow, EventRow, PostRow, PostStatus, SignalRow};
use super::settings::ForexSettings;
use crate::db::Db;
use crate::domains::error::{DomainError, DomainResult};

/// Bars kept per series, in the database and in memory (indicators are computed from the
/// first kept bar; EMA 200 forgets its start long before 5,000 bars).
pub const KEEP_BARS: usize = 5000;

/// One symbol and timeframe with the standard indicators computed on every bar: an immutable
/// snapshot that cycles read while new bars are appended to the next one.
#[derive(Clone)]
pub struct Series {
    pub timeframe: Timeframe,
    pub bars: Vec<Bar>,
    pub snapshots: Vec<IndicatorSnapshot>,
}

impl Series {
    pub fn newest_close(&self) -> Option<i64> {
        self.bars.last().map(|b| b.time + self.timeframe.seconds())
    }

    /// Index of the first bar closing after `close`.
    fn first_after(&self, close: i64) -> usize {
        let tf = self.timeframe.seconds();
        self.bars.partition_point(|b| b.time + tf <= close)
    }
}

/// A [`Series`] kept up to date as bars arrive; the indicators are streamed, never recomputed.
pub struct LiveSeries {
    current: Arc<Series>,
    indicators: StandardIndicators,
}

impl LiveSeries {
    pub fn new(timeframe: Timeframe, bars: &[Bar]) -> LiveSeries {
        let mut live = LiveSeries {
            current: Arc::new(Series {
                timeframe,
                bars: Vec::new(),
                snapshots: Vec::new(),
            }),
            indicators: StandardIndicators::new(),
        };
        live.extend(bars);
        live
    }

    /// Append the bars newer than the last one (older or repeated bars are ignored); the
    /// oldest are dropped beyond [`KEEP_BARS`].
    pub fn extend(&mut self, bars: &[Bar]) {
        let mut next = (*self.current).clone();
        let tf = next.timeframe.seconds();
        let before = next.bars.len();
        for bar in bars {
            if next.bars.last().is_some_and(|last| bar.time <= last.time) {
                continue;
            }
            next.snapshots
                .push(self.indicators.update(bar, bar.time + tf));
            next.bars.push(*bar);
        }
        if next.bars.len() == before {
            return;
        }
        if next.bars.len() > KEEP_BARS {
            let drop = next.bars.len() - KEEP_BARS;
            next.bars.drain(..drop);
            next.snapshots.drain(..drop);
        }
        self.current = Arc::new(next);
    }

    pub fn snapshot(&self) -> Arc<Series> {
        self.current.clone()
    }
}

/// What a cycle did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CycleReport {
    pub bars: usize,
    pub events: usize,
    pub posts: usize,
    /// Another writer moved the state first; nothing was written.
    pub raced: bool,
}

pub fn kind_label(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Opened { .. } => "opened",
        EventKind::TakeProfit { level: 1 } => "tp1",
        EventKind::TakeProfit { level: 2 } => "tp2",
        EventKind::TakeProfit { .. } => "tp3",
        EventKind::StopLoss { .. } => "stop_loss",
        EventKind::Progress { .. } => "progress",
        EventKind::Breakeven { .. } => "breakeven",
        EventKind::ThesisWeakening { .. } => "thesis_weakening",
        EventKind::ThesisBroken { .. } => "thesis_broken",
        EventKind::Timeout => "timeout",
        EventKind::EndOfData => "end_of_data",
    }
}

pub fn signal_post_key(seq: i64, n: i64) -> String {
    format!("signal:{seq:06}:{n:03}")
}

fn internal(context: &str, e: impl std::error::Error + Send + Sync + 'static) -> DomainError {
    DomainError::internal_from(context.to_string(), e)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The engine for `settings`, resumed from the stored open signal and sequence.
pub fn engine_for(
    settings: &ForexSettings,
    cfg: &ConfigRow,
    open: Option<&SignalRow>,
) -> DomainResult<SignalEngine> {
    let mut engine = SignalEngine::new(
        &settings.symbol,
        None,
        &settings.bot_active_bot_type,
        Some(settings.params.clone()),
    )
    .map_err(|e| DomainError::invalid_field("bot_active_bot_type", e.to_string()))?;
    engine.set_next_signal_id(cfg.next_signal_seq.max(1) as u64);
    if let Some(row) = open
        && let Some(state) = &row.state_json
    {
        let signal: OpenSignal =
            serde_json::from_str(state).map_err(|e| internal("stored open signal", e))?;
        engine.restore_open_signal(signal);
    }
    Ok(engine)
}

/// Run one cycle of a workspace over `series` up to the market time `now_s`, with an optional
/// live `price` observed after the bars. `post`: enqueue channel posts (a Signal Bot with a
/// VIP channel is connected; without one, signals are stored and shown, not posted). `now_ms`
/// stamps the rows.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    db: &Db,
    cfg: &ConfigRow,
    settings: &ForexSettings,
    series: &Series,
    now_s: i64,
    price: Option<f64>,
    post: bool,
    ai_notes: bool,
    now_ms: i64,
) -> DomainResult<CycleReport> {
    let tenant = cfg.tenant_id.as_str();
    let tf = settings.timeframe.seconds();
    let open_row = repo::open_signal(db, tenant).await?;
    let mut engine = engine_for(settings, cfg, open_row.as_ref())?;

    // A workspace that just turned forex on starts at the newest bar: history is not posted.
    let start = match cfg.last_bar_close {
        Some(close) => series.first_after(close),
        None => series.bars.len(),
    };
    // Each step with the bar it came from (its snapshot is the opening's indicator values).
    let mut steps: Vec<(EngineStep, Option<usize>)> = Vec::new();
    if let Some(name) = &cfg.queued_strategy {
        let switched = engine
            .queue_strategy_switch(name, None, now_s)
            .map_err(|e| DomainError::invalid_field("bot_active_bot_type", e.to_string()))?;
        steps.push((
            EngineStep {
                switched,
                ..EngineStep::default()
            },
            None,
        ));
    }
    let mut last_close = cfg.last_bar_close.or(series.newest_close());
    let mut bars = 0;
    for i in start..series.bars.len() {
        let bar = &series.bars[i];
        let close = bar.time + tf;
        if close > now_s {
            break;
        }
        let step = if cfg.paused {
            engine.monitor_bar(bar, close, &series.snapshots[i])
        } else {
            engine.on_bar(bar, close, &series.snapshots[i])
        };
        steps.push((step, Some(i)));
        last_close = Some(close);
        bars += 1;
    }
    if let Some(price) = price
        && engine.open_signal().is_some()
    {
        steps.push((engine.on_price(now_s, price, None), None));
    }
    let produced = steps
        .iter()
        .any(|(s, _)| !s.events.is_empty() || s.closed.is_some() || s.switched.is_some());
    let opened_max = steps
        .iter()
        .flat_map(|(s, _)| &s.events)
        .filter(|e| matches!(e.kind, EventKind::Opened { .. }))
        .map(|e| e.signal.id as i64 + 1)
        .max()
        .unwrap_or(0);
    let next_seq = opened_max.max(cfg.next_signal_seq);
    if bars == 0 && !produced && cfg.last_bar_close.is_some() {
        return Ok(CycleReport::default());
    }

    // The settings after a strategy switch the engine applied.
    let mut settings_after = settings.clone();
    settings_after.bot_active_bot_type = engine.strategy().name().to_string();
    settings_after.params = engine.params().clone();
    let settings_json =
        serde_json::to_string(&settings_after).map_err(|e| internal("forex settings", e))?;

    let mut tx = db.begin().await?;
    let moved = repo::advance(
        &mut tx,
        tenant,
        cfg.version,
        last_close,
        next_seq,
        &settings_json,
        engine.queued_strategy(),
        now_ms,
    )
    .await?;
    if moved == 0 {
        drop(tx);
        return Ok(CycleReport {
            raced: true,
            ..CycleReport::default()
        });
    }
    let mut report = CycleReport {
        bars,
        ..CycleReport::default()
    };
    // seq -> (row id, events so far)
    let mut signals: HashMap<i64, (String, i64)> = HashMap::new();
    if let Some(row) = &open_row {
        let count = repo::event_count(&mut tx, tenant, &row.id).await?;
        signals.insert(row.seq, (row.id.clone(), count));
    }
    for (step, bar_index) in &steps {
        for event in &step.events {
            let seq = event.signal.id as i64;
            if let EventKind::Opened { .. } = event.kind {
                let snapshot = bar_index.map(|i| &series.snapshots[i]);
                let row = new_signal_row(tenant, settings, event, snapshot, now_ms)?;
                repo::insert_signal(&mut tx, &row).await?;
                signals.insert(seq, (row.id, 0));
            }
            let Some((signal_id, count)) = signals.get_mut(&seq) else {
                return Err(DomainError::internal(format!(
                    "an event of signal {seq}, which is not stored"
                )));
            };
            let n = *count;
            *count += 1;
            repo::insert_event(
                &mut tx,
                &EventRow {
                    id: new_id(),
                    tenant_id: tenant.to_string(),
                    signal_id: signal_id.clone(),
                    seq: n,
                    kind: kind_label(&event.kind).to_string(),
                    at: event.time * 1000,
                    price: event.price,
                    move_pips: event.move_pips,
                    realized_pips: event.realized_pips,
                    progress_percent: event.progress_percent,
                    detail_json: serde_json::to_string(&event.kind)
                        .map_err(|e| internal("signal event", e))?,
                },
            )
            .await?;
            report.events += 1;
            if post {
                let key = signal_post_key(seq, n);
                let reply_to = (n > 0).then(|| signal_post_key(seq, 0));
                let added = repo::insert_post(
                    &mut tx,
                    &new_post(
                        tenant,
                        key.clone(),
                        kind_label(&event.kind),
                        Some(signal_id.clone()),
                        reply_to,
                        event_message(event),
                        now_ms,
                    ),
                )
                .await?;
                report.posts += usize::from(added);
                if ai_notes && let Some((template, context)) = super::commentary::note_for(event) {
                    let mut note = new_post(
                        tenant,
                        format!("{key}:note"),
                        "note",
                        Some(signal_id.clone()),
                        Some(signal_post_key(seq, 0)),
                        template,
                        now_ms,
                    );
                    note.ai_context_json = Some(
                        serde_json::to_string(&context).map_err(|e| internal("note context", e))?,
                    );
                    report.posts += usize::from(repo::insert_post(&mut tx, &note).await?);
                }
            }
        }
        if let Some(closed) = &step.closed {
            let seq = closed.header.id as i64;
            if let Some((signal_id, _)) = signals.get(&seq) {
                repo::update_signal(
                    &mut tx,
                    tenant,
                    signal_id,
                    closed.outcome.label(),
                    i64::from(closed.targets_hit),
                    closed.header.stop_loss,
                    Some(closed.closed_at * 1000),
                    Some(closed.exit_price),
                    Some(closed.net_pips),
                    None,
                    now_ms,
                )
                .await?;
            }
        }
        if let Some(switch) = &step.switched
            && post
        {
            let key = format!("switch:{}:{}", switch.time, switch.to);
            let added = repo::insert_post(
                &mut tx,
                &new_post(
                    tenant,
                    key,
                    "strategy_switch",
                    None,
                    None,
                    strategy_switch_message(switch),
                    now_ms,
                ),
            )
            .await?;
            report.posts += usize::from(added);
        }
    }
    if let Some(open) = engine.open_signal() {
        let seq = open.header.id as i64;
        if let Some((signal_id, _)) = signals.get(&seq) {
            let state = serde_json::to_string(open).map_err(|e| internal("open signal", e))?;
            repo::update_signal(
                &mut tx,
                tenant,
                signal_id,
                "open",
                i64::from(open.targets_hit),
                open.stop_loss,
                None,
                None,
                None,
                Some(&state),
                now_ms,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(report)
}

fn new_post(
    tenant: &str,
    key: String,
    kind: &str,
    signal_id: Option<String>,
    reply_to_key: Option<String>,
    text: String,
    now_ms: i64,
) -> PostRow {
    PostRow {
        id: new_id(),
        tenant_id: tenant.to_string(),
        post_key: key,
        kind: kind.to_string(),
        signal_id,
        reply_to_key,
        text,
        ai_context_json: None,
        status: PostStatus::Pending,
        attempts: 0,
        message_id: None,
        error: None,
        due_at: now_ms,
        created_at: now_ms,
        updated_at: now_ms,
    }
}

fn new_signal_row(
    tenant: &str,
    settings: &ForexSettings,
    event: &SignalEvent,
    snapshot: Option<&IndicatorSnapshot>,
    now_ms: i64,
) -> DomainResult<SignalRow> {
    let h = &event.signal;
    let EventKind::Opened { .. } = &event.kind else {
        return Err(DomainError::internal(
            "a signal row from a non-opening event",
        ));
    };
    Ok(SignalRow {
        id: new_id(),
        tenant_id: tenant.to_string(),
        seq: h.id as i64,
        symbol: h.symbol.clone(),
        timeframe: settings.timeframe.label().to_string(),
        strategy: h.strategy.clone(),
        direction: h.direction.label().to_string(),
        entry: h.entry,
        stop_loss: h.stop_loss,
        tp1: h.take_profits[0],
        tp2: h.take_profits[1],
        tp3: h.take_profits[2],
        tp_split_json: serde_json::to_string(&h.tp_fractions.map(|f| (f * 1000.0).round() / 10.0))
            .map_err(|e| internal("tp split", e))?,
        pip_size: h.pip_size,
        status: "open".to_string(),
        targets_hit: 0,
        opened_at: h.opened_at * 1000,
        closed_at: None,
        exit_price: None,
        net_pips: None,
        original_indicators_json: serde_json::to_string(&snapshot)
            .map_err(|e| internal("indicator snapshot", e))?,
        state_json: None,
        updated_at: now_ms,
    })
}

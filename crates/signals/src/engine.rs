//! One symbol's signal engine: the active strategy and its parameters, at most one open signal,
//! and a queued strategy switch that applies as soon as no signal is open. Pure: every call is
//! given the time.
use serde::Serialize;

use crate::bars::{Bar, UnixSeconds};
use crate::lifecycle::{
    ClosedSignal, Observation, OpenSignal, Revalidation, SignalEvent, SignalHeader,
};
use crate::pips::{BadPipSize, PipCalculator};
use crate::snapshot::IndicatorSnapshot;
use crate::strategy::{ParamsError, Strategy, StrategyParams, strategy_by_name, strategy_names};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("unknown strategy `{name}` (known: {known})")]
    UnknownStrategy { name: String, known: String },
    #[error(transparent)]
    Params(#[from] ParamsError),
    #[error(transparent)]
    PipSize(#[from] BadPipSize),
}

fn lookup(name: &str) -> Result<&'static dyn Strategy, EngineError> {
    strategy_by_name(name).ok_or_else(|| EngineError::UnknownStrategy {
        name: name.to_string(),
        known: strategy_names().join(", "),
    })
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StrategySwitch {
    pub time: UnixSeconds,
    pub from: String,
    pub to: String,
}

/// What one call produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineStep {
    pub events: Vec<SignalEvent>,
    pub closed: Option<ClosedSignal>,
    pub switched: Option<StrategySwitch>,
}

pub struct SignalEngine {
    symbol: String,
    pips: PipCalculator,
    strategy: &'static dyn Strategy,
    params: StrategyParams,
    queued: Option<(&'static dyn Strategy, StrategyParams)>,
    open: Option<OpenSignal>,
    next_id: u64,
}

impl SignalEngine {
    /// `params: None` uses the strategy's defaults; `pip_size: None` the symbol's default.
    pub fn new(
        symbol: &str,
        pip_size: Option<f64>,
        strategy: &str,
        params: Option<StrategyParams>,
    ) -> Result<Self, EngineError> {
        let strategy = lookup(strategy)?;
        let params = params.unwrap_or_else(|| strategy.default_params());
        params.validate()?;
        Ok(SignalEngine {
            symbol: symbol.to_string(),
            pips: PipCalculator::for_symbol_or(symbol, pip_size)?,
            strategy,
            params,
            queued: None,
            open: None,
            next_id: 1,
        })
    }

    pub fn symbol(&self) -> &str {
        &self.symbol
    }
    pub fn pips(&self) -> PipCalculator {
        self.pips
    }
    pub fn strategy(&self) -> &'static dyn Strategy {
        self.strategy
    }
    pub fn params(&self) -> &StrategyParams {
        &self.params
    }
    pub fn open_signal(&self) -> Option<&OpenSignal> {
        self.open.as_ref()
    }
    pub fn queued_strategy(&self) -> Option<&'static str> {
        self.queued.as_ref().map(|(s, _)| s.name())
    }

    /// Hot-reload the active strategy's parameters. An open signal keeps its levels; later
    /// re-validations and signals use the new values.
    pub fn set_params(&mut self, params: StrategyParams) -> Result<(), EngineError> {
        params.validate()?;
        self.params = params;
        Ok(())
    }

    /// Switch strategy now if no signal is open, else when the open one closes.
    pub fn queue_strategy_switch(
        &mut self,
        name: &str,
        params: Option<StrategyParams>,
        time: UnixSeconds,
    ) -> Result<Option<StrategySwitch>, EngineError> {
        let strategy = lookup(name)?;
        let params = params.unwrap_or_else(|| strategy.default_params());
        params.validate()?;
        self.queued = Some((strategy, params));
        Ok(self.apply_queued_switch(time))
    }

    fn apply_queued_switch(&mut self, time: UnixSeconds) -> Option<StrategySwitch> {
        if self.open.is_some() {
            return None;
        }
        let (strategy, params) = self.queued.take()?;
        let from = self.strategy.name().to_string();
        self.strategy = strategy;
        self.params = params;
        Some(StrategySwitch {
            time,
            from,
            to: strategy.name().to_string(),
        })
    }

    /// Resume monitoring a signal stored before a restart; ids continue after it.
    pub fn restore_open_signal(&mut self, signal: OpenSignal) {
        self.next_id = self.next_id.max(signal.header.id + 1);
        self.open = Some(signal);
    }

    pub fn set_next_signal_id(&mut self, id: u64) {
        self.next_id = id;
    }

    fn observe(
        &mut self,
        time: UnixSeconds,
        obs: Observation,
        current: Option<&IndicatorSnapshot>,
    ) -> EngineStep {
        let mut step = EngineStep::default();
        let Some(open) = self.open.as_mut() else {
            return step;
        };
        let revalidation = current.map(|current| Revalidation {
            strategy: self.strategy,
            params: &self.params,
            current,
        });
        let observed = open.observe(time, obs, revalidation);
        step.events = observed.events;
        if let Some((outcome, price)) = observed.closed
            && let Some(signal) = self.open.take()
        {
            step.closed = Some(signal.into_closed(time, outcome, price));
            step.switched = self.apply_queued_switch(time);
        }
        step
    }

    /// Monitor the open signal with a price (the service's minute tick). `current` indicator
    /// values, when given, allow a due thesis re-validation.
    pub fn on_price(
        &mut self,
        time: UnixSeconds,
        price: f64,
        current: Option<&IndicatorSnapshot>,
    ) -> EngineStep {
        self.observe(time, Observation::Price(price), current)
    }

    /// A bar closed at `close_time` with `snapshot` computed on it: monitor the open signal with
    /// the bar, then (if none is open) look for a new signal at the close.
    pub fn on_bar(
        &mut self,
        bar: &Bar,
        close_time: UnixSeconds,
        snapshot: &IndicatorSnapshot,
    ) -> EngineStep {
        let mut step = self.monitor_bar(bar, close_time, snapshot);
        let opened = self.check_for_signal(close_time, snapshot);
        step.events.extend(opened.events);
        step
    }

    /// Like [`on_bar`](Self::on_bar) without looking for a new signal (the service's paused
    /// state: open signals are still followed to their end).
    pub fn monitor_bar(
        &mut self,
        bar: &Bar,
        close_time: UnixSeconds,
        snapshot: &IndicatorSnapshot,
    ) -> EngineStep {
        let obs = Observation::Bar {
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
        };
        self.observe(close_time, obs, Some(snapshot))
    }

    /// Open a signal at `snapshot.close` if the strategy sees one, none is open and the session
    /// allows it. Never opens on missing or non-finite values.
    pub fn check_for_signal(
        &mut self,
        time: UnixSeconds,
        snapshot: &IndicatorSnapshot,
    ) -> EngineStep {
        let mut step = EngineStep::default();
        if self.open.is_some() || !self.params.in_session(time) || !snapshot.close.is_finite() {
            return step;
        }
        let Some(candidate) = self.strategy.check_for_signal(snapshot, &self.params) else {
            return step;
        };
        let Some(atr) = snapshot.atr_14.filter(|a| a.is_finite() && *a > 0.0) else {
            return step;
        };
        let Some(levels) =
            self.strategy
                .tp_sl(candidate.direction, snapshot.close, atr, &self.params)
        else {
            return step;
        };
        let header = SignalHeader {
            id: self.next_id,
            symbol: self.symbol.clone(),
            strategy: self.strategy.name().to_string(),
            direction: candidate.direction,
            opened_at: time,
            entry: levels.entry,
            stop_loss: levels.stop_loss,
            take_profits: levels.take_profits,
            tp_fractions: self.params.tp_fractions(),
            pip_size: self.pips.pip_size,
        };
        self.next_id += 1;
        let (signal, event) =
            OpenSignal::open(header, candidate.reasons, snapshot.clone(), &self.params);
        self.open = Some(signal);
        step.events.push(event);
        step
    }

    /// Close the open signal at `price` (backtest end of data).
    pub fn force_close(&mut self, time: UnixSeconds, price: f64) -> EngineStep {
        let mut step = EngineStep::default();
        if let Some(mut signal) = self.open.take() {
            step.events.push(signal.force_close(time, price));
            step.closed =
                Some(signal.into_closed(time, crate::lifecycle::Outcome::EndOfData, price));
            step.switched = self.apply_queued_switch(time);
        }
        step
    }
}

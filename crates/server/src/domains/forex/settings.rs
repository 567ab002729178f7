//! A workspace's forex settings (`forex_config`), parsed and validated once at the edge. The
//! JSON keeps the original's snake_case names (`bot_active_bot_type`); defaults are the
//! original's intervals (docs/forex.md lists each and where the seeds disagree).
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use promostack_signals::bars::Timeframe;
use promostack_signals::strategy::{ParamsError, StrategyParams, strategy_by_name, strategy_names};
use serde::{Deserialize, Serialize};

use crate::domains::error::{DomainError, DomainResult};

pub const DEFAULT_SYMBOL: &str = "XAU/USD";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ForexSettings {
    /// Run the service for this workspace (signals are generated and stored; posted when a
    /// Signal Bot with a VIP channel is connected).
    pub enabled: bool,
    /// Twelve Data's symbol, e.g. `XAU/USD`.
    pub symbol: String,
    /// `15m` or `1h`.
    #[schema(value_type = String, example = "15m")]
    pub timeframe: Timeframe,
    /// The active strategy (`aggressive`, `conservative`, `trend_pullback`).
    pub bot_active_bot_type: String,
    /// Minutes between signal checks (the original: 15 on 15-minute bars, 30 on hours).
    pub signal_check_minutes: i64,
    /// Seconds between price checks of the open signal.
    pub monitor_seconds: i64,
    /// IANA time zone of the briefing and recap times.
    pub time_zone: String,
    /// `HH:MM` in `time_zone`.
    pub morning_briefing_at: String,
    pub daily_recap_at: String,
    /// Day of the weekly recap (posted at `daily_recap_at`).
    pub weekly_recap_day: String,
    /// Telegram user ids allowed to send operator commands to the Signal Bot.
    pub admin_telegram_ids: Vec<i64>,
    /// Indicator thresholds, ATR multipliers, TP split, session filter and lifecycle timing.
    #[schema(value_type = Object)]
    pub params: StrategyParams,
}

impl Default for ForexSettings {
    fn default() -> Self {
        let strategy = "aggressive";
        ForexSettings {
            enabled: false,
            symbol: DEFAULT_SYMBOL.into(),
            timeframe: Timeframe::M15,
            bot_active_bot_type: strategy.into(),
            signal_check_minutes: 15,
            monitor_seconds: 60,
            time_zone: "UTC".into(),
            morning_briefing_at: "06:20".into(),
            daily_recap_at: "06:30".into(),
            weekly_recap_day: "monday".into(),
            admin_telegram_ids: Vec::new(),
            params: strategy_by_name(strategy)
                .map(|s| s.default_params())
                .unwrap_or_default(),
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field: Some(field),
        message: message.into(),
    }
}

pub fn parse_hhmm(field: &'static str, text: &str) -> DomainResult<Time> {
    let bad = || invalid(field, format!("`{text}` is not a time of day as HH:MM"));
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

pub fn parse_weekday(text: &str) -> DomainResult<Weekday> {
    Ok(match text.trim().to_ascii_lowercase().as_str() {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => {
            return Err(invalid(
                "weekly_recap_day",
                format!("`{text}` is not a day of the week (monday … sunday)"),
            ));
        }
    })
}

impl ForexSettings {
    /// The settings for a new workspace's timeframe: the original's check interval for it.
    pub fn for_timeframe(timeframe: Timeframe) -> Self {
        ForexSettings {
            timeframe,
            signal_check_minutes: if timeframe == Timeframe::H1 { 30 } else { 15 },
            ..ForexSettings::default()
        }
    }

    /// Every rule, the first broken one named by its field.
    pub fn validate(&self) -> DomainResult<()> {
        let symbol = self.symbol.trim();
        if symbol.is_empty()
            || symbol.len() > 20
            || !symbol
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | ':' | '.' | '-' | '_'))
        {
            return Err(invalid(
                "symbol",
                "a market symbol such as XAU/USD (letters, digits, / : . - _; at most 20)",
            ));
        }
        if strategy_by_name(&self.bot_active_bot_type).is_none() {
            return Err(invalid(
                "bot_active_bot_type",
                format!(
                    "unknown strategy `{}` (known: {})",
                    self.bot_active_bot_type,
                    strategy_names().join(", ")
                ),
            ));
        }
        if !(1..=24 * 60).contains(&self.signal_check_minutes) {
            return Err(invalid("signal_check_minutes", "must be 1 to 1440 minutes"));
        }
        if !(10..=3600).contains(&self.monitor_seconds) {
            return Err(invalid("monitor_seconds", "must be 10 to 3600 seconds"));
        }
        self.zone()?;
        parse_hhmm("morning_briefing_at", &self.morning_briefing_at)?;
        parse_hhmm("daily_recap_at", &self.daily_recap_at)?;
        parse_weekday(&self.weekly_recap_day)?;
        if self.admin_telegram_ids.len() > 50 || self.admin_telegram_ids.iter().any(|id| *id <= 0) {
            return Err(invalid(
                "admin_telegram_ids",
                "at most 50 positive Telegram user ids",
            ));
        }
        self.params.validate().map_err(|e| match e {
            ParamsError::Invalid { field, message } => invalid(field, message),
            ParamsError::Json(message) => invalid("params", message),
        })
    }

    pub fn zone(&self) -> DomainResult<TimeZone> {
        TimeZone::get(self.time_zone.trim()).map_err(|_| {
            invalid(
                "time_zone",
                format!(
                    "`{}` is not an IANA time zone such as Europe/London",
                    self.time_zone
                ),
            )
        })
    }

    /// `self` with the fields present in `patch` replaced (a partial update), validated.
    /// `params` merges field by field as well.
    pub fn merged(&self, patch: &serde_json::Value) -> DomainResult<ForexSettings> {
        let Some(patch) = patch.as_object() else {
            return Err(DomainError::Malformed {
                field: None,
                message: "the body must be a JSON object of settings".into(),
            });
        };
        let mut merged = serde_json::to_value(self)
            .map_err(|e| DomainError::internal_from("forex settings", e))?;
        let target = merged
            .as_object_mut()
            .expect("settings serialise to an object");
        for (key, value) in patch {
            let Some(slot) = target.get_mut(key.as_str()) else {
                return Err(DomainError::Invalid {
                    field: Some(known_field(key)),
                    message: format!("unknown setting `{key}`"),
                });
            };
            if key == "params" && !value.is_object() {
                return Err(invalid("params", "must be an object of parameters"));
            }
            merge(slot, value);
        }
        let settings: ForexSettings = match serde_json::from_value(merged) {
            Ok(settings) => settings,
            Err(e) => {
                let (field, message) = self.first_bad_field(patch, &e.to_string());
                return Err(invalid(field, message));
            }
        };
        settings.validate()?;
        Ok(settings)
    }
}

impl ForexSettings {
    /// Which input made deserialisation fail: each key applied alone (inside `params`, each
    /// parameter alone), the first that fails on its own.
    fn first_bad_field(
        &self,
        patch: &serde_json::Map<String, serde_json::Value>,
        whole: &str,
    ) -> (&'static str, String) {
        let base = serde_json::to_value(self).unwrap_or_default();
        let fails = |key: &str, value: &serde_json::Value| -> Option<String> {
            let mut one = base.clone();
            if let Some(slot) = one.get_mut(key) {
                merge(slot, value);
            }
            serde_json::from_value::<ForexSettings>(one)
                .err()
                .map(|e| e.to_string())
        };
        for (key, value) in patch {
            let Some(error) = fails(key, value) else {
                continue;
            };
            if key == "params"
                && let Some(fields) = value.as_object()
            {
                for (name, inner) in fields {
                    let single = serde_json::json!({ name.clone(): inner.clone() });
                    if let Some(error) = fails(key, &single) {
                        let field = param_field(name);
                        return (field, format!("{name}: {error}"));
                    }
                }
            }
            let field = known_field(key);
            return (field, format!("{key}: {error}"));
        }
        ("settings", whole.to_string())
    }
}

/// A static name for a strategy parameter (errors carry `&'static str` fields).
fn param_field(name: &str) -> &'static str {
    // The parameter names, made static once.
    static NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let defaults = serde_json::to_value(StrategyParams::default()).unwrap_or_default();
        defaults
            .as_object()
            .map(|o| {
                o.keys()
                    .map(|k| &*Box::leak(k.clone().into_boxed_str()))
                    .collect()
            })
            .unwrap_or_default()
    });
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("params")
}

/// Objects merge key by key (so `{"params": {"timing": {"hard_timeout_minutes": 240}}}`
/// keeps the other timing values); anything else replaces.
fn merge(slot: &mut serde_json::Value, patch: &serde_json::Value) {
    match (slot, patch) {
        (serde_json::Value::Object(current), serde_json::Value::Object(fields)) => {
            for (k, v) in fields {
                match current.get_mut(k) {
                    Some(inner) => merge(inner, v),
                    None => {
                        current.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, patch) => *slot = patch.clone(),
    }
}

/// A static name for an input key (errors carry `&'static str` fields).
fn known_field(key: &str) -> &'static str {
    const FIELDS: &[&str] = &[
        "enabled",
        "symbol",
        "timeframe",
        "bot_active_bot_type",
        "signal_check_minutes",
        "monitor_seconds",
        "time_zone",
        "morning_briefing_at",
        "daily_recap_at",
        "weekly_recap_day",
        "admin_telegram_ids",
        "params",
    ];
    FIELDS
        .iter()
        .find(|f| **f == key)
        .copied()
        .unwrap_or("settings")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_valid_and_the_hour_timeframe_checks_every_30_minutes() {
        ForexSettings::default().validate().unwrap();
        assert_eq!(
            ForexSettings::for_timeframe(Timeframe::H1).signal_check_minutes,
            30
        );
    }

    #[test]
    fn a_partial_update_merges_and_names_the_bad_field() {
        let base = ForexSettings::default();
        let merged = base
            .merged(&json!({"enabled": true, "params": {"adx_threshold": 22.0}}))
            .unwrap();
        assert!(merged.enabled);
        assert_eq!(merged.params.adx_threshold, 22.0);
        assert_eq!(merged.params.rsi_oversold, base.params.rsi_oversold);
        let field = |patch: serde_json::Value| match base.merged(&patch) {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(json!({"bot_active_bot_type": "yolo"})),
            Some("bot_active_bot_type")
        );
        assert_eq!(
            field(json!({"time_zone": "Mars/Olympus"})),
            Some("time_zone")
        );
        assert_eq!(
            field(json!({"daily_recap_at": "25:00"})),
            Some("daily_recap_at")
        );
        assert_eq!(
            field(json!({"params": {"atr_tp2_multiplier": 0.5}})),
            Some("atr_tp2_multiplier")
        );
        assert_eq!(
            field(json!({"signal_check_minutes": "soon"})),
            Some("signal_check_minutes")
        );
        assert_eq!(field(json!({"timeframe": "4h"})), Some("timeframe"));
        assert_eq!(field(json!({"colour": "red"})), Some("settings"));
        assert_eq!(
            field(json!({"params": {"timing": {"hard_timeout_minutes": 0}}})),
            Some("hard_timeout_minutes")
        );
        let four_hours = base
            .merged(&json!({"params": {"timing": {"hard_timeout_minutes": 240}}}))
            .unwrap();
        assert_eq!(four_hours.params.timing.hard_timeout_minutes, 240);
        assert_eq!(
            four_hours.params.timing.first_revalidation_minutes,
            base.params.timing.first_revalidation_minutes
        );
    }
}

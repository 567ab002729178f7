//! Thin Twelve Data client: `GET /time_series` and `GET /price` with the key as `apikey`.
//!
//! ```text
//! GET {base}/time_series?symbol=XAU/USD&interval=15min&outputsize=N&order=desc&timezone=UTC&apikey=K
//! 200 {"meta": {...}, "values": [{"datetime": "2026-12-04 10:15:00", "open": "2650.10",
//!      "high": "...", "low": "...", "close": "..."}, ...], "status": "ok"}
//! GET {base}/price?symbol=XAU/USD&apikey=K  ->  200 {"price": "2650.12"}
//! errors: {"code": 429|400|401|404|..., "message": "...", "status": "error"}, with the same
//!         HTTP status or with HTTP 200: both are checked
//! ```
//! Prices arrive as strings. The newest row of a time series is the bar still forming; only
//! bars whose close is not after `now` are returned. Every call costs one credit of a
//! per-minute budget (the free plan's 8 by default); a 429 empties the budget until the
//! next minute, so a rate-limited source is not hammered.
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use super::{Bar, BoxFuture, MarketData, MarketDataError, MarketResult, Timeframe, UnixSeconds};
use crate::config::Secret;
use crate::time::Clock;

const NAME: &str = "twelve data";
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Twelve Data's own cap on `outputsize`.
pub const MAX_OUTPUT: usize = 5000;

pub struct TwelveData {
    http: reqwest::Client,
    base_url: String,
    api_key: Secret,
    clock: Clock,
    budget: Mutex<CreditBudget>,
}

/// Calls allowed per wall minute.
#[derive(Debug)]
struct CreditBudget {
    per_minute: u32,
    minute: i64,
    used: u32,
}

impl CreditBudget {
    /// Take a credit for a call now, or say how long until the next minute.
    fn take(&mut self, now_s: i64) -> Result<(), u64> {
        let minute = now_s.div_euclid(60);
        if minute != self.minute {
            self.minute = minute;
            self.used = 0;
        }
        if self.used >= self.per_minute {
            return Err((60 - now_s.rem_euclid(60)) as u64);
        }
        self.used += 1;
        Ok(())
    }

    fn exhaust(&mut self, now_s: i64) {
        self.minute = now_s.div_euclid(60);
        self.used = self.per_minute;
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
struct SeriesBody {
    #[serde(default)]
    values: Vec<SeriesValue>,
}

#[derive(Deserialize)]
struct SeriesValue {
    datetime: String,
    open: String,
    high: String,
    low: String,
    close: String,
}

#[derive(Deserialize)]
struct PriceBody {
    price: String,
}

pub fn interval(timeframe: Timeframe) -> &'static str {
    match timeframe {
        Timeframe::M15 => "15min",
        Timeframe::H1 => "1h",
    }
}

impl TwelveData {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        api_key: Secret,
        credits_per_minute: u32,
        clock: Clock,
    ) -> Self {
        TwelveData {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            clock,
            budget: Mutex::new(CreditBudget {
                per_minute: credits_per_minute.max(1),
                minute: i64::MIN,
                used: 0,
            }),
        }
    }

    fn now_s(&self) -> i64 {
        self.clock.now().div_euclid(1000)
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> MarketResult<bytes::Bytes> {
        let now = self.now_s();
        self.budget
            .lock()
            .expect("credit budget")
            .take(now)
            .map_err(|retry_after_s| MarketDataError::RateLimited {
                source_name: NAME,
                retry_after_s,
            })?;
        let unavailable = |reason: String| MarketDataError::Unavailable {
            source_name: NAME,
            reason,
        };
        let params = query
            .iter()
            .copied()
            .chain([("apikey", self.api_key.expose())]);
        let url = reqwest::Url::parse_with_params(&format!("{}{path}", self.base_url), params)
            .map_err(|_| unavailable("TWELVE_DATA_BASE_URL is not a URL".to_string()))?;
        let response = self
            .http
            .get(url)
            .timeout(TIMEOUT)
            .send()
            .await
            // Without the URL: it carries the key.
            .map_err(|e| unavailable(describe(&e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(describe(&e)))?;
        // Errors come as {"status":"error"} with the HTTP status or with 200.
        let error = serde_json::from_slice::<ErrorBody>(&body)
            .ok()
            .filter(|e| e.status.as_deref() == Some("error") || !status.is_success());
        if let Some(e) = error {
            let code = e.code.unwrap_or(i64::from(status.as_u16()));
            let message = e.message.unwrap_or_else(|| format!("HTTP {status}"));
            if code == 429 {
                self.budget.lock().expect("credit budget").exhaust(now);
                return Err(MarketDataError::RateLimited {
                    source_name: NAME,
                    retry_after_s: (60 - now.rem_euclid(60)) as u64,
                });
            }
            if code >= 500 {
                return Err(unavailable(format!("{code}: {message}")));
            }
            return Err(MarketDataError::Refused {
                source_name: NAME,
                code,
                message,
            });
        }
        if !status.is_success() {
            return Err(unavailable(format!("HTTP {status}")));
        }
        Ok(body)
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "the request failed".to_string()
    }
}

fn number(field: &str, text: &str) -> MarketResult<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| MarketDataError::Unavailable {
            source_name: NAME,
            reason: format!("`{field}` is not a positive number: {text:?}"),
        })
}

/// Rows (newest first) to bars (oldest first), dropping the forming bar and any at or before
/// `after`. A row that does not parse is an error for the whole answer: a gap in stored bars
/// is worse than a retry.
fn to_bars(
    values: Vec<SeriesValue>,
    timeframe: Timeframe,
    after: Option<UnixSeconds>,
    now: UnixSeconds,
) -> MarketResult<Vec<Bar>> {
    let mut bars = Vec::with_capacity(values.len());
    for v in values {
        let time = promostack_signals::bars::parse_time(&v.datetime).ok_or_else(|| {
            MarketDataError::Unavailable {
                source_name: NAME,
                reason: format!("`datetime` is not a time: {:?}", v.datetime),
            }
        })?;
        let bar = Bar {
            time,
            open: number("open", &v.open)?,
            high: number("high", &v.high)?,
            low: number("low", &v.low)?,
            close: number("close", &v.close)?,
        };
        if bar.high < bar.low {
            return Err(MarketDataError::Unavailable {
                source_name: NAME,
                reason: format!("bar {} has high below low", v.datetime),
            });
        }
        let closed = time + timeframe.seconds() <= now;
        if closed && after.is_none_or(|a| time > a) {
            bars.push(bar);
        }
    }
    bars.sort_by_key(|b| b.time);
    bars.dedup_by_key(|b| b.time);
    Ok(bars)
}

impl MarketData for TwelveData {
    fn name(&self) -> &'static str {
        NAME
    }

    fn now(&self) -> UnixSeconds {
        self.now_s()
    }

    fn closed_bars<'a>(
        &'a self,
        symbol: &'a str,
        timeframe: Timeframe,
        after: Option<UnixSeconds>,
        limit: usize,
    ) -> BoxFuture<'a, MarketResult<Vec<Bar>>> {
        Box::pin(async move {
            let now = self.now_s();
            // Only what is not stored yet: the bars opened since `after` (the forming one among
            // them) and `after` itself, so a gap in the answer shows.
            let wanted = match after {
                Some(a) => ((now - a) / timeframe.seconds()).max(0) as usize + 1,
                None => limit,
            };
            let outputsize = wanted.clamp(1, limit.clamp(1, MAX_OUTPUT)).to_string();
            let body = self
                .get(
                    "/time_series",
                    &[
                        ("symbol", symbol),
                        ("interval", interval(timeframe)),
                        ("outputsize", &outputsize),
                        ("order", "desc"),
                        ("timezone", "UTC"),
                    ],
                )
                .await?;
            let series: SeriesBody =
                serde_json::from_slice(&body).map_err(|e| MarketDataError::Unavailable {
                    source_name: NAME,
                    reason: format!("unreadable time series: {e}"),
                })?;
            to_bars(series.values, timeframe, after, now)
        })
    }

    fn price<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, MarketResult<Option<f64>>> {
        Box::pin(async move {
            let body = self.get("/price", &[("symbol", symbol)]).await?;
            let price: PriceBody =
                serde_json::from_slice(&body).map_err(|e| MarketDataError::Unavailable {
                    source_name: NAME,
                    reason: format!("unreadable price: {e}"),
                })?;
            number("price", &price.price).map(Some)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(datetime: &str, close: &str) -> SeriesValue {
        SeriesValue {
            datetime: datetime.into(),
            open: "2650.0".into(),
            high: "2660.5".into(),
            low: "2640.25".into(),
            close: close.into(),
        }
    }

    #[test]
    fn the_forming_bar_and_stored_bars_are_dropped_oldest_first() {
        let t = |s: &str| promostack_signals::bars::parse_time(s).unwrap();
        let now = t("2026-12-04 10:20:00");
        let rows = vec![
            row("2026-12-04 10:15:00", "2651"), // forming until 10:30
            row("2026-12-04 10:00:00", "2652"),
            row("2026-12-04 09:45:00", "2653"),
            row("2026-12-04 09:30:00", "2654"),
        ];
        let bars = to_bars(rows, Timeframe::M15, Some(t("2026-12-04 09:30:00")), now).unwrap();
        assert_eq!(
            bars.iter().map(|b| b.close).collect::<Vec<_>>(),
            [2653.0, 2652.0]
        );
    }

    #[test]
    fn a_bad_row_fails_the_answer() {
        let err = to_bars(
            vec![row("2026-12-04 10:00:00", "n/a")],
            Timeframe::H1,
            None,
            i64::MAX,
        )
        .unwrap_err();
        assert!(err.to_string().contains("`close`"), "{err}");
    }

    #[test]
    fn the_budget_refills_each_minute() {
        let mut b = CreditBudget {
            per_minute: 2,
            minute: i64::MIN,
            used: 0,
        };
        assert!(b.take(120).is_ok());
        assert!(b.take(130).is_ok());
        assert_eq!(b.take(150), Err(30));
        assert!(b.take(180).is_ok());
        b.exhaust(185);
        assert_eq!(b.take(186), Err(54));
    }
}

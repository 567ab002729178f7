//! OHLC bars: CSV parsing (from `&str`, no I/O), timestamps, gap report, resampling.
use serde::{Deserialize, Serialize};

/// Seconds since 1970-01-01T00:00:00Z. All times in this crate are UTC unix seconds.
pub type UnixSeconds = i64;

/// One OHLC bar; `time` is the bar's opening time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub time: UnixSeconds,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

/// Why a CSV was rejected. Every row-level error names the 1-based line of the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    #[error("the CSV is empty: expected a header row with open, high, low, close columns")]
    Empty,
    #[error("line 1: missing column `{0}` (the header needs open, high, low and close, any case)")]
    MissingColumn(&'static str),
    #[error("line {line}: expected {expected} fields like the header, found {found}")]
    FieldCount {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("line {line}: column `{column}`: `{value}` is not a finite number")]
    BadNumber {
        line: usize,
        column: String,
        value: String,
    },
    #[error(
        "line {line}: `{value}` is not a timestamp (expected YYYY-MM-DD[ HH:MM[:SS]] in UTC, an ISO 8601 time with offset, or unix seconds)"
    )]
    BadTime { line: usize, value: String },
    #[error("line {line}: column `{column}`: price {value} must be positive")]
    NonPositivePrice {
        line: usize,
        column: String,
        value: f64,
    },
    #[error("line {line}: high {high} is below low {low}")]
    HighBelowLow { line: usize, high: f64, low: f64 },
    #[error("line {line}: duplicate timestamp {time} (also on line {previous_line})")]
    DuplicateTime {
        line: usize,
        previous_line: usize,
        time: String,
    },
    #[error(
        "line {line}: timestamp {time} is earlier than line {previous_line} ({previous}); rows must be sorted by time"
    )]
    Unsorted {
        line: usize,
        previous_line: usize,
        time: String,
        previous: String,
    },
    #[error("the CSV has a header but no data rows")]
    NoRows,
}

/// A period longer than the series' usual step between two consecutive bars (weekends, outages).
/// Gaps are allowed: indicators treat bars as consecutive, the lifecycle uses real time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Gap {
    /// 1-based line of the bar after the gap.
    pub line: usize,
    pub from: UnixSeconds,
    pub to: UnixSeconds,
}

/// Parsed series plus what the parser noticed about it.
#[derive(Clone, Debug, PartialEq)]
pub struct OhlcSeries {
    pub bars: Vec<Bar>,
    /// The smallest step between consecutive bars (the series' native timeframe), if >= 2 bars.
    pub step_seconds: Option<i64>,
    pub gaps: Vec<Gap>,
}

struct Columns {
    time: usize,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
}

fn find_columns(header: &[&str]) -> Result<Columns, CsvError> {
    let names: Vec<String> = header
        .iter()
        .map(|h| unquote(h).trim().to_ascii_lowercase())
        .collect();
    let find = |wanted: &'static str| {
        names
            .iter()
            .position(|n| n == wanted)
            .ok_or(CsvError::MissingColumn(wanted))
    };
    let time = ["time", "date", "datetime", "timestamp"]
        .iter()
        .find_map(|w| names.iter().position(|n| n == w))
        .unwrap_or(0);
    Ok(Columns {
        time,
        open: find("open")?,
        high: find("high")?,
        low: find("low")?,
        close: find("close")?,
    })
}

fn unquote(field: &str) -> &str {
    let t = field.trim();
    t.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t)
}

/// Parse an OHLC CSV (docs/design.md §7): a header row; open/high/low/close in any case;
/// time from a column named time/date/datetime/timestamp, else the first column. Extra columns
/// (volume, ...) are ignored. Blank lines are skipped. Quoted fields may not contain commas.
pub fn parse_ohlc_csv(text: &str) -> Result<OhlcSeries, CsvError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let (_, header) = lines
        .find(|(_, l)| !l.trim().is_empty())
        .ok_or(CsvError::Empty)?;
    let header_fields: Vec<&str> = header.split(',').collect();
    let cols = find_columns(&header_fields)?;
    let width = header_fields.len();

    let mut bars: Vec<Bar> = Vec::with_capacity(text.len() / 48);
    let mut last_line = 0usize;
    let mut fields: Vec<&str> = Vec::with_capacity(width);
    for (line, raw) in lines {
        if raw.trim().is_empty() {
            continue;
        }
        fields.clear();
        fields.extend(raw.split(','));
        if fields.len() != width {
            return Err(CsvError::FieldCount {
                line,
                expected: width,
                found: fields.len(),
            });
        }
        let time_text = unquote(fields[cols.time]);
        let time = parse_time(time_text).ok_or_else(|| CsvError::BadTime {
            line,
            value: time_text.to_string(),
        })?;
        let num = |idx: usize, name: &str| -> Result<f64, CsvError> {
            let s = unquote(fields[idx]);
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    if v <= 0.0 {
                        Err(CsvError::NonPositivePrice {
                            line,
                            column: name.to_string(),
                            value: v,
                        })
                    } else {
                        Ok(v)
                    }
                }
                _ => Err(CsvError::BadNumber {
                    line,
                    column: name.to_string(),
                    value: s.to_string(),
                }),
            }
        };
        let bar = Bar {
            time,
            open: num(cols.open, "open")?,
            high: num(cols.high, "high")?,
            low: num(cols.low, "low")?,
            close: num(cols.close, "close")?,
        };
        if bar.high < bar.low {
            return Err(CsvError::HighBelowLow {
                line,
                high: bar.high,
                low: bar.low,
            });
        }
        if let Some(prev) = bars.last() {
            if bar.time == prev.time {
                return Err(CsvError::DuplicateTime {
                    line,
                    previous_line: last_line,
                    time: format_time(time),
                });
            }
            if bar.time < prev.time {
                return Err(CsvError::Unsorted {
                    line,
                    previous_line: last_line,
                    time: format_time(time),
                    previous: format_time(prev.time),
                });
            }
        }
        bars.push(bar);
        last_line = line;
    }
    if bars.is_empty() {
        return Err(CsvError::NoRows);
    }
    let step_seconds = bars.windows(2).map(|w| w[1].time - w[0].time).min();
    let gaps = match step_seconds {
        Some(step) => gap_report(text, &bars, step),
        None => Vec::new(),
    };
    Ok(OhlcSeries {
        bars,
        step_seconds,
        gaps,
    })
}

/// Gaps are rare, so their line numbers are recovered by a second, cheap pass.
fn gap_report(text: &str, bars: &[Bar], step: i64) -> Vec<Gap> {
    let gap_indices: Vec<usize> = (1..bars.len())
        .filter(|&i| bars[i].time - bars[i - 1].time > step)
        .collect();
    if gap_indices.is_empty() {
        return Vec::new();
    }
    // Data line numbers, in the order bars were pushed (skipping the header and blank lines).
    let data_lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .skip(1)
        .map(|(i, _)| i + 1)
        .collect();
    gap_indices
        .into_iter()
        .map(|i| Gap {
            line: data_lines.get(i).copied().unwrap_or(0),
            from: bars[i - 1].time,
            to: bars[i].time,
        })
        .collect()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')))
}

/// Parse `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS[.fff]` (space or `T`), with an
/// optional `Z` or `±HH:MM` offset (naive times are UTC), or plain unix seconds.
pub fn parse_time(text: &str) -> Option<UnixSeconds> {
    let s = text.trim();
    let b = s.as_bytes();
    if !b.is_empty() && b.iter().all(u8::is_ascii_digit) {
        return digits(b);
    }
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let rest = &b[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    if rest[0] != b' ' && rest[0] != b'T' {
        return None;
    }
    let rest = &rest[1..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let (hh, mm) = (digits(&rest[0..2])?, digits(&rest[3..5])?);
    let mut pos = 5;
    let mut ss = 0;
    if rest.len() >= 8 && rest[5] == b':' {
        ss = digits(&rest[6..8])?;
        pos = 8;
        if rest.len() > pos && rest[pos] == b'.' {
            pos += 1;
            let start = pos;
            while pos < rest.len() && rest[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos == start {
                return None;
            }
        }
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    secs += hh * 3600 + mm * 60 + ss;
    let tz = &rest[pos..];
    match tz {
        [] | [b'Z'] => Some(secs),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let off = digits(&[*h1, *h2])? * 3600 + digits(&[*m1, *m2])? * 60;
            Some(if *sign == b'+' {
                secs - off
            } else {
                secs + off
            })
        }
        _ => None,
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_time(t: UnixSeconds) -> String {
    let mut s = String::with_capacity(19);
    write_time(&mut s, t);
    s
}

/// Append `YYYY-MM-DD HH:MM:SS` (UTC) to `out` without allocating.
pub fn write_time(out: &mut String, t: UnixSeconds) {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let sod = t.rem_euclid(86_400);
    let two = |out: &mut String, v: i64| {
        out.push(char::from(b'0' + (v / 10) as u8));
        out.push(char::from(b'0' + (v % 10) as u8));
    };
    if (0..10_000).contains(&y) {
        two(out, y / 100);
        two(out, y % 100);
    } else {
        out.push_str(&y.to_string());
    }
    out.push('-');
    two(out, m);
    out.push('-');
    two(out, d);
    out.push(' ');
    two(out, sod / 3600);
    out.push(':');
    two(out, sod / 60 % 60);
    out.push(':');
    two(out, sod % 60);
}

/// Hour of day (0..=23, UTC).
pub fn hour_of_day(t: UnixSeconds) -> u8 {
    (t.rem_euclid(86_400) / 3600) as u8
}

/// `(year, month 1..=12)` of `t` (UTC).
pub fn year_month(t: UnixSeconds) -> (i64, i64) {
    let (y, m, _) = civil_from_days(t.div_euclid(86_400));
    (y, m)
}

/// Day of the week of `t` (UTC), 0 = Monday .. 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(t: UnixSeconds) -> u8 {
    (t.div_euclid(86_400) + 3).rem_euclid(7) as u8
}

pub const WEEKDAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// "15-minute", "1-hour", "4-hour", "1-day" or "N-second": a bar length for messages.
pub fn step_label(seconds: i64) -> String {
    match seconds {
        s if s > 0 && s % 86_400 == 0 => format!("{}-day", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{}-hour", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}-minute", s / 60),
        s => format!("{s}-second"),
    }
}

/// Start of the UTC day containing `t`.
pub fn day_start(t: UnixSeconds) -> UnixSeconds {
    t - t.rem_euclid(86_400)
}

/// The two timeframes signals are generated on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Timeframe {
    #[serde(rename = "15m")]
    M15,
    #[serde(rename = "1h")]
    H1,
}

impl Timeframe {
    pub const fn seconds(self) -> i64 {
        match self {
            Timeframe::M15 => 900,
            Timeframe::H1 => 3600,
        }
    }
    pub const fn label(self) -> &'static str {
        match self {
            Timeframe::M15 => "15m",
            Timeframe::H1 => "1h",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "15m" | "15min" | "m15" => Some(Timeframe::M15),
            "1h" | "60m" | "60min" | "h1" => Some(Timeframe::H1),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResampleError {
    #[error(
        "cannot build {} bars from {} bars: bars can only be combined into longer ones (the data's bar length must divide the timeframe); use a timeframe of at least {} or give finer data",
        step_label(*target), step_label(*from), step_label(*from)
    )]
    NotFiner { from: i64, target: i64 },
}

/// Aggregate bars into `target_seconds` buckets aligned to the unix epoch (so hours start on the
/// hour): open of the first bar, max high, min low, close of the last. A bucket with missing
/// finer bars (a gap) still becomes one bar from the bars it has. `source_step` is the series'
/// native step; equal steps return the bars unchanged.
pub fn resample(
    bars: &[Bar],
    source_step: i64,
    target_seconds: i64,
) -> Result<Vec<Bar>, ResampleError> {
    if source_step == target_seconds {
        return Ok(bars.to_vec());
    }
    if source_step <= 0 || source_step > target_seconds || target_seconds % source_step != 0 {
        return Err(ResampleError::NotFiner {
            from: source_step,
            target: target_seconds,
        });
    }
    let mut out: Vec<Bar> =
        Vec::with_capacity(bars.len() / (target_seconds / source_step) as usize + 1);
    for bar in bars {
        let bucket = bar.time - bar.time.rem_euclid(target_seconds);
        match out.last_mut() {
            Some(last) if last.time == bucket => {
                last.high = last.high.max(bar.high);
                last.low = last.low.min(bar.low);
                last.close = bar.close;
            }
            _ => out.push(Bar {
                time: bucket,
                ..*bar
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trips_through_text() {
        for t in [0, 86_399, 951_782_400, 1_492_592_400, 1_709_164_800 + 3_661] {
            assert_eq!(parse_time(&format_time(t)), Some(t), "{}", format_time(t));
        }
        assert_eq!(parse_time("2017-04-19 09:00:00"), Some(1_492_592_400));
        assert_eq!(parse_time("2017-04-19T09:00:00Z"), Some(1_492_592_400));
        assert_eq!(parse_time("2017-04-19T11:00:00+02:00"), Some(1_492_592_400));
        assert_eq!(parse_time("2017-04-19 09:00"), Some(1_492_592_400));
        assert_eq!(parse_time("1492592400"), Some(1_492_592_400));
        assert_eq!(parse_time("2017-02-29"), None);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn calendar_helpers() {
        // 2017-04-19 09:00 UTC was a Wednesday.
        assert_eq!(year_month(1_492_592_400), (2017, 4));
        assert_eq!(weekday(1_492_592_400), 2);
        assert_eq!(weekday(0), 3);
        assert_eq!(weekday(-1), 2);
        assert_eq!(step_label(900), "15-minute");
        assert_eq!(step_label(3600), "1-hour");
        assert_eq!(step_label(45), "45-second");
        let e = ResampleError::NotFiner {
            from: 3600,
            target: 900,
        };
        assert!(
            e.to_string()
                .starts_with("cannot build 15-minute bars from 1-hour bars")
        );
    }
}

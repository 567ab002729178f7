//! Report ranges in the tenant's time zone and the mapping of stored quarter-hour slots onto
//! local hours and days. Pure: no I/O, no clock (callers pass `now`).
//!
//! Every time zone in use has offsets, and DST shifts, that are whole quarter hours, so each
//! local hour and day starts on a UTC quarter hour. SQL groups rows by `created_at / 900000`
//! (one index walk) and this module folds those slots into local buckets, which stays exact on
//! DST days (23- and 25-hour days) and in zones such as Asia/Kathmandu (+05:45).
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::time::Millis;

/// Width of one stored slot: a quarter hour in milliseconds.
pub const SLOT_MS: i64 = 900_000;

/// One UTC day in milliseconds (`day` of the per-day rollups is `created_at / DAY_MS`).
pub const DAY_MS: i64 = 86_400_000;

/// Block lengths, in UTC days, of the template and code rollups, largest first. A block of span
/// `s` starts on a day that is a multiple of `s`. With 16/4/1 any run of whole days is tiled by at
/// most five runs of equal blocks (1s, 4s, 16s, 4s, 1s), 90 days by at most 14 blocks.
pub const SPANS: [i64; 3] = [16, 4, 1];

/// How a window reads the template and code rollups: whole UTC days as runs of blocks
/// `(span, first_day, end_day)` (blocks whose `day` is in `[first_day, end_day)`), and the partial
/// days at both edges as raw-row ranges `[from, to)` in ms. Unused entries are empty ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCover {
    pub blocks: [(i64, i64, i64); 5],
    pub edges: [(i64, i64); 2],
}

/// The `days` query values the original accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Today,
    Yesterday,
    Days(u16),
}

impl Range {
    pub fn parse(raw: &str) -> Option<Range> {
        match raw.trim() {
            "today" => Some(Range::Today),
            "yesterday" => Some(Range::Yesterday),
            "7" => Some(Range::Days(7)),
            "30" => Some(Range::Days(30)),
            "90" => Some(Range::Days(90)),
            _ => None,
        }
    }

    pub fn as_str(self) -> String {
        match self {
            Range::Today => "today".into(),
            Range::Yesterday => "yesterday".into(),
            Range::Days(n) => n.to_string(),
        }
    }

    pub fn granularity(self) -> Granularity {
        match self {
            Range::Today | Range::Yesterday => Granularity::Hourly,
            Range::Days(_) => Granularity::Daily,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Hourly,
    Daily,
}

/// A resolved report window: `[start, end)` in unix ms, local days `first..=last`.
#[derive(Debug, Clone)]
pub struct Window {
    pub tz: TimeZone,
    pub range: Range,
    pub first_day: Date,
    pub last_day: Date,
    pub start: Millis,
    pub end: Millis,
}

/// One bucket of the zero-filled series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// `"14:00"` (hourly) or `"Dec 01"` (daily).
    pub label: String,
    /// `"2026-12-01T14:00"` (hourly, local) or `"2026-12-01"` (daily).
    pub date: String,
}

fn start_of(day: Date, tz: &TimeZone) -> Result<Millis, jiff::Error> {
    Ok(day
        .to_zoned(tz.clone())?
        .start_of_day()?
        .timestamp()
        .as_millisecond())
}

impl Window {
    pub fn resolve(range: Range, tz: TimeZone, now: Millis) -> Result<Window, jiff::Error> {
        let today = Timestamp::from_millisecond(now)?
            .to_zoned(tz.clone())
            .date();
        let (first_day, last_day) = match range {
            Range::Today => (today, today),
            Range::Yesterday => {
                let y = today.yesterday()?;
                (y, y)
            }
            Range::Days(n) => (today.checked_sub((i64::from(n) - 1).days())?, today),
        };
        let start = start_of(first_day, &tz)?;
        let end = start_of(last_day.tomorrow()?, &tz)?;
        Ok(Window {
            tz,
            range,
            first_day,
            last_day,
            start,
            end,
        })
    }

    /// First slot (inclusive) and last slot (exclusive) the SQL filters on. Rounded outwards so
    /// a zone with a historic non-quarter offset still sees every row (folded by [`Self::bucket_of`]).
    pub fn slots(&self) -> (i64, i64) {
        (
            self.start.div_euclid(SLOT_MS),
            (self.end + SLOT_MS - 1).div_euclid(SLOT_MS),
        )
    }

    pub fn granularity(&self) -> Granularity {
        self.range.granularity()
    }

    /// The rollup blocks and raw edges that together cover `[start, end)` exactly once.
    pub fn day_cover(&self) -> DayCover {
        let first = (self.start + DAY_MS - 1).div_euclid(DAY_MS);
        let last = self.end.div_euclid(DAY_MS);
        let mut cover = DayCover {
            blocks: [(1, 0, 0); 5],
            edges: [(self.start, self.end), (0, 0)],
        };
        if first >= last {
            return cover;
        }
        cover.edges = [(self.start, first * DAY_MS), (last * DAY_MS, self.end)];
        // Greedy from the left: the largest aligned block that fits. Block sizes then rise and
        // fall (1s, 4s, 16s, 4s, 1s), so equal neighbours merge into at most five runs.
        let mut runs: Vec<(i64, i64, i64)> = Vec::new();
        let mut day = first;
        while day < last {
            let span = SPANS
                .into_iter()
                .find(|s| day % s == 0 && day + s <= last)
                .unwrap_or(1);
            match runs.last_mut() {
                Some(run) if run.0 == span && run.2 == day => run.2 = day + span,
                _ => runs.push((span, day, day + span)),
            }
            day += span;
        }
        debug_assert!(runs.len() <= 5, "{runs:?}");
        for (slot, run) in cover.blocks.iter_mut().zip(runs) {
            *slot = run;
        }
        cover
    }

    /// The zero-filled buckets: 24 local hours 00:00–23:00, or one per local day.
    pub fn buckets(&self) -> Vec<Bucket> {
        match self.granularity() {
            Granularity::Hourly => (0..24)
                .map(|hour| Bucket {
                    label: format!("{hour:02}:00"),
                    date: format!("{}T{hour:02}:00", self.first_day),
                })
                .collect(),
            Granularity::Daily => {
                let mut out = Vec::new();
                let mut day = self.first_day;
                while day <= self.last_day {
                    out.push(Bucket {
                        label: day.strftime("%b %d").to_string(),
                        date: day.to_string(),
                    });
                    match day.tomorrow() {
                        Ok(next) => day = next,
                        Err(_) => break,
                    }
                }
                out
            }
        }
    }

    /// Index into [`Self::buckets`] of the slot starting at `slot * SLOT_MS`, or `None` when it
    /// falls outside the window. On a 25-hour day both 01:00 hours fold into the one "01:00"
    /// bucket; on a 23-hour day the skipped hour stays zero.
    pub fn bucket_of(&self, slot: i64) -> Option<usize> {
        let at = (slot * SLOT_MS).max(self.start);
        if at >= self.end {
            return None;
        }
        let local = Timestamp::from_millisecond(at)
            .ok()?
            .to_zoned(self.tz.clone());
        match self.granularity() {
            Granularity::Hourly => Some(local.hour() as usize),
            Granularity::Daily => {
                let days = (local.date() - self.first_day).get_days();
                usize::try_from(days).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn parses_the_original_values_only() {
        assert_eq!(Range::parse("today"), Some(Range::Today));
        assert_eq!(Range::parse("90"), Some(Range::Days(90)));
        for bad in ["", "8", "-1", "all", "7d", "365"] {
            assert_eq!(Range::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn today_in_utc_is_24_hours() {
        let w = Window::resolve(Range::Today, TimeZone::UTC, ms("2026-03-10T15:30:00Z")).unwrap();
        assert_eq!(w.start, ms("2026-03-10T00:00:00Z"));
        assert_eq!(w.end, ms("2026-03-11T00:00:00Z"));
        assert_eq!(w.buckets().len(), 24);
        assert_eq!(w.bucket_of(ms("2026-03-10T14:45:00Z") / SLOT_MS), Some(14));
        assert_eq!(w.bucket_of(ms("2026-03-11T00:00:00Z") / SLOT_MS), None);
    }

    #[test]
    fn yesterday_and_days_are_local_days() {
        let tz = TimeZone::get("Asia/Tokyo").unwrap();
        // 2026-03-10 20:00 UTC is already 2026-03-11 05:00 in Tokyo.
        let now = ms("2026-03-10T20:00:00Z");
        let y = Window::resolve(Range::Yesterday, tz.clone(), now).unwrap();
        assert_eq!(y.first_day.to_string(), "2026-03-10");
        assert_eq!(y.start, ms("2026-03-09T15:00:00Z"));
        let week = Window::resolve(Range::Days(7), tz, now).unwrap();
        let buckets = week.buckets();
        assert_eq!(buckets.len(), 7);
        assert_eq!(buckets[0].date, "2026-03-05");
        assert_eq!(buckets[6].date, "2026-03-11");
        assert_eq!(buckets[6].label, "Mar 11");
        assert_eq!(
            week.bucket_of(ms("2026-03-10T14:59:00Z") / SLOT_MS),
            Some(5)
        );
        assert_eq!(
            week.bucket_of(ms("2026-03-10T15:00:00Z") / SLOT_MS),
            Some(6)
        );
    }

    #[test]
    fn spring_forward_day_has_23_hours_and_keeps_24_labels() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let w = Window::resolve(Range::Today, tz, ms("2026-03-08T18:00:00Z")).unwrap();
        assert_eq!(w.end - w.start, 23 * 3_600_000);
        assert_eq!(w.buckets().len(), 24);
        // 06:59 UTC is 01:59 EST; 07:00 UTC is 03:00 EDT (02:00 never happens).
        assert_eq!(w.bucket_of(ms("2026-03-08T06:45:00Z") / SLOT_MS), Some(1));
        assert_eq!(w.bucket_of(ms("2026-03-08T07:00:00Z") / SLOT_MS), Some(3));
    }

    #[test]
    fn fall_back_day_folds_the_repeated_hour() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let w = Window::resolve(Range::Today, tz, ms("2026-10-25T12:00:00Z")).unwrap();
        assert_eq!(w.end - w.start, 25 * 3_600_000);
        // 00:30 UTC = 02:30 CEST, 01:30 UTC = 02:30 CET: both in the 02:00 bucket.
        assert_eq!(w.bucket_of(ms("2026-10-25T00:30:00Z") / SLOT_MS), Some(2));
        assert_eq!(w.bucket_of(ms("2026-10-25T01:30:00Z") / SLOT_MS), Some(2));
        assert_eq!(w.bucket_of(ms("2026-10-25T22:59:00Z") / SLOT_MS), Some(23));
    }

    #[test]
    fn day_cover_tiles_every_window_exactly_once() {
        for zone in ["UTC", "Europe/Berlin", "Asia/Kathmandu", "America/New_York"] {
            let tz = TimeZone::get(zone).unwrap();
            for offset in 0..200 {
                let now = ms("2026-01-01T10:00:00Z") + offset * 29 * 3_600_000;
                for range in [
                    Range::Today,
                    Range::Yesterday,
                    Range::Days(7),
                    Range::Days(90),
                ] {
                    let w = Window::resolve(range, tz.clone(), now).unwrap();
                    let cover = w.day_cover();
                    // Every millisecond-day of the window is covered by exactly one piece.
                    let mut pieces: Vec<(i64, i64)> =
                        cover.edges.iter().copied().filter(|(a, b)| a < b).collect();
                    for (span, from, to) in cover.blocks {
                        assert!(from % span == 0 && to % span == 0);
                        let mut day = from;
                        while day < to {
                            pieces.push((day * DAY_MS, (day + span) * DAY_MS));
                            day += span;
                        }
                    }
                    pieces.sort();
                    assert_eq!(pieces.first().unwrap().0, w.start);
                    assert_eq!(pieces.last().unwrap().1, w.end);
                    for pair in pieces.windows(2) {
                        assert_eq!(pair[0].1, pair[1].0, "{zone} {range:?} {cover:?}");
                    }
                    for (from, to) in cover.edges {
                        assert!(to - from < DAY_MS || (from, to) == (w.start, w.end));
                    }
                }
            }
        }
    }

    #[test]
    fn quarter_hour_zones_map_exactly() {
        let tz = TimeZone::get("Asia/Kathmandu").unwrap();
        let w = Window::resolve(Range::Today, tz, ms("2026-03-10T12:00:00Z")).unwrap();
        assert_eq!(w.start % SLOT_MS, 0);
        // 2026-03-10 00:00 +05:45 = 2026-03-09 18:15 UTC.
        assert_eq!(w.start, ms("2026-03-09T18:15:00Z"));
        assert_eq!(w.bucket_of(ms("2026-03-09T19:14:00Z") / SLOT_MS), Some(0));
        assert_eq!(w.bucket_of(ms("2026-03-09T19:15:00Z") / SLOT_MS), Some(1));
    }
}

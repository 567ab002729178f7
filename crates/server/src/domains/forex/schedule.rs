//! The workspace's timed posts: the morning briefing and the daily and weekly recaps, at
//! local times in its time zone (cron patterns through croner on jiff, so DST days are right).
//! Times are market time: a replay's clock runs its days in minutes.
use std::str::FromStr;

use croner::Cron;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::settings::{ForexSettings, parse_hhmm, parse_weekday};
use crate::domains::error::{DomainError, DomainResult};

/// An occurrence missed while the service was down is still posted this long after its time;
/// older ones are skipped with a log line (a recap a day late is noise).
pub const CATCH_UP_SECONDS: i64 = 6 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduled {
    MorningBriefing,
    DailyRecap,
    WeeklyRecap,
}

impl Scheduled {
    pub fn kind(self) -> &'static str {
        match self {
            Scheduled::MorningBriefing => "morning_briefing",
            Scheduled::DailyRecap => "daily_recap",
            Scheduled::WeeklyRecap => "weekly_recap",
        }
    }
}

/// One due post: what, when (unix seconds) and the local date naming it in its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub what: Scheduled,
    pub at: i64,
    pub local_date: String,
}

impl Occurrence {
    pub fn post_key(&self) -> String {
        format!("{}:{}", self.what.kind(), self.local_date)
    }
}

fn weekday_name(day: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday::*;
    match day {
        Monday => "MON",
        Tuesday => "TUE",
        Wednesday => "WED",
        Thursday => "THU",
        Friday => "FRI",
        Saturday => "SAT",
        Sunday => "SUN",
    }
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> DomainError {
    DomainError::internal_from("forex schedule", e)
}

/// When the next of the three posts falls due after `now` (so a tick can skip the workspace
/// until then).
pub fn next_after(settings: &ForexSettings, now: i64) -> DomainResult<Option<i64>> {
    let zone: TimeZone = settings.zone()?;
    let now_zoned = Timestamp::from_second(now)
        .map_err(internal)?
        .to_zoned(zone);
    let mut next: Option<i64> = None;
    for (_, pattern) in patterns(settings)? {
        let cron = Cron::from_str(&pattern).map_err(internal)?;
        if let Ok(at) = cron.find_next_occurrence(&now_zoned, false) {
            let at = at.timestamp().as_second();
            next = Some(next.map_or(at, |n| n.min(at)));
        }
    }
    Ok(next)
}

fn patterns(settings: &ForexSettings) -> DomainResult<[(Scheduled, String); 3]> {
    let briefing = parse_hhmm("morning_briefing_at", &settings.morning_briefing_at)?;
    let recap = parse_hhmm("daily_recap_at", &settings.daily_recap_at)?;
    let weekly_day = parse_weekday(&settings.weekly_recap_day)?;
    Ok([
        (
            Scheduled::MorningBriefing,
            format!("{} {} * * *", briefing.minute(), briefing.hour()),
        ),
        (
            Scheduled::DailyRecap,
            format!("{} {} * * *", recap.minute(), recap.hour()),
        ),
        (
            Scheduled::WeeklyRecap,
            format!(
                "{} {} * * {}",
                recap.minute(),
                recap.hour(),
                weekday_name(weekly_day)
            ),
        ),
    ])
}

/// The occurrences in (`after`, `now`] (at most one of each), skipping those older than
/// [`CATCH_UP_SECONDS`].
pub fn due(settings: &ForexSettings, after: i64, now: i64) -> DomainResult<Vec<Occurrence>> {
    let zone: TimeZone = settings.zone()?;
    let patterns = patterns(settings)?;
    let now_zoned = Timestamp::from_second(now)
        .map_err(internal)?
        .to_zoned(zone);
    let mut due = Vec::new();
    for (what, pattern) in patterns {
        let cron = Cron::from_str(&pattern).map_err(internal)?;
        let Ok(last) = cron.find_previous_occurrence(&now_zoned, true) else {
            continue;
        };
        let at = last.timestamp().as_second();
        if at <= after {
            continue;
        }
        if now - at > CATCH_UP_SECONDS {
            tracing::info!(
                kind = what.kind(),
                at,
                "scheduled post skipped: missed by more than 6 h"
            );
            continue;
        }
        due.push(Occurrence {
            what,
            at,
            local_date: last.date().to_string(),
        });
    }
    Ok(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
    }

    fn settings(zone: &str) -> ForexSettings {
        ForexSettings {
            time_zone: zone.into(),
            ..ForexSettings::default()
        }
    }

    #[test]
    fn each_post_once_at_its_local_time() {
        let s = settings("UTC");
        // 06:25 UTC on a Monday: the briefing (06:20) is due, the recaps (06:30) are not.
        let monday_0625 = at("2026-11-30T06:25:00Z");
        let due_now = due(&s, monday_0625 - 600, monday_0625).unwrap();
        assert_eq!(
            due_now,
            vec![Occurrence {
                what: Scheduled::MorningBriefing,
                at: at("2026-11-30T06:20:00Z"),
                local_date: "2026-11-30".into()
            }]
        );
        // 06:31: both recaps (Monday), and nothing again a tick later.
        let kinds: Vec<_> = due(&s, monday_0625, monday_0625 + 360)
            .unwrap()
            .into_iter()
            .map(|o| o.post_key())
            .collect();
        assert_eq!(kinds, ["daily_recap:2026-11-30", "weekly_recap:2026-11-30"]);
        assert!(
            due(&s, monday_0625 + 360, monday_0625 + 361)
                .unwrap()
                .is_empty()
        );
        // Tuesday: the daily recap only.
        let tuesday = at("2026-12-01T06:31:00Z");
        let kinds: Vec<_> = due(&s, tuesday - 120, tuesday)
            .unwrap()
            .into_iter()
            .map(|o| o.post_key())
            .collect();
        assert_eq!(kinds, ["daily_recap:2026-12-01"]);
    }

    #[test]
    fn the_next_post_is_the_earliest_of_the_three() {
        let s = settings("UTC");
        assert_eq!(
            next_after(&s, at("2026-11-30T06:25:00Z")).unwrap(),
            Some(at("2026-11-30T06:30:00Z"))
        );
        assert_eq!(
            next_after(&s, at("2026-11-30T06:30:00Z")).unwrap(),
            Some(at("2026-12-01T06:20:00Z")),
            "strictly after"
        );
    }

    #[test]
    fn local_times_follow_the_zone_across_dst() {
        let s = settings("Europe/London");
        // 06:20 London is 06:20 UTC in winter and 05:20 UTC in summer (BST from 2026-03-29).
        let winter = due(&s, at("2026-03-28T06:00:00Z"), at("2026-03-28T06:21:00Z")).unwrap();
        assert_eq!(winter[0].at, at("2026-03-28T06:20:00Z"));
        let summer = due(&s, at("2026-03-29T05:00:00Z"), at("2026-03-29T05:21:00Z")).unwrap();
        assert_eq!(summer[0].at, at("2026-03-29T05:20:00Z"));
        assert_eq!(summer[0].local_date, "2026-03-29");
        let ny = settings("America/New_York");
        let evening = due(&ny, at("2026-12-04T11:00:00Z"), at("2026-12-04T11:21:00Z")).unwrap();
        assert_eq!(evening[0].at, at("2026-12-04T11:20:00Z"), "06:20 EST");
    }

    #[test]
    fn a_long_outage_skips_stale_posts_but_a_short_one_catches_up() {
        let s = settings("UTC");
        let after_restart = at("2026-12-02T09:00:00Z");
        let caught: Vec<_> = due(&s, at("2026-12-02T05:00:00Z"), after_restart)
            .unwrap()
            .into_iter()
            .map(|o| o.what)
            .collect();
        assert_eq!(caught, [Scheduled::MorningBriefing, Scheduled::DailyRecap]);
        let late = at("2026-12-02T13:00:00Z");
        assert!(
            due(&s, at("2026-12-02T05:00:00Z"), late)
                .unwrap()
                .is_empty()
        );
    }
}

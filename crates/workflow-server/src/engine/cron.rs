//! Cron schedules of workflows (`cron_schedule`), read as Temporal reads them: five fields
//! (minute, hour, day of month, month, day of week) in UTC, optionally after `CRON_TZ=UTC`;
//! the nicknames `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`; and
//! `@every <duration>` in Go's duration syntax (`90s`, `1h30m`, `1.5h`).

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// A parsed schedule.
#[derive(Debug, Clone)]
pub(crate) enum CronSchedule {
    Calendar(Box<Cron>),
    Every(Duration),
}

impl CronSchedule {
    /// Parses a schedule; the error says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut text = text.trim();
        for prefix in ["CRON_TZ=", "TZ="] {
            if let Some(rest) = text.strip_prefix(prefix) {
                let (zone, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                if !zone.eq_ignore_ascii_case("UTC") {
                    return Err(format!(
                        "time zone {zone} is not supported; schedules run in UTC"
                    ));
                }
                text = rest.trim();
            }
        }
        if let Some(every) = text.strip_prefix("@every") {
            let interval = go_duration(every.trim())?;
            if interval < Duration::from_secs(1) {
                return Err("@every needs an interval of at least 1s".to_string());
            }
            return Ok(Self::Every(interval));
        }
        if text.split_whitespace().count() > 5 {
            return Err(format!("{text:?} has more than five fields"));
        }
        CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map(|cron| Self::Calendar(Box::new(cron)))
            .map_err(|e| format!("{text:?}: {e}"))
    }

    /// Checks the `field` of a request: empty (no schedule) or a valid schedule. The error
    /// names the field and what is wrong.
    pub(crate) fn check(schedule: &str, field: &str) -> Result<(), String> {
        if schedule.is_empty() {
            return Ok(());
        }
        Self::parse(schedule)
            .map(drop)
            .map_err(|e| format!("{field} is invalid: {e}"))
    }

    /// How long after `closed` the next run starts: the first scheduled time after the
    /// closing run's `started` time that is not before `closed` (as Temporal computes it,
    /// so a run that overran skips the times it missed).
    pub(crate) fn backoff(&self, started: SystemTime, closed: SystemTime) -> Duration {
        let mut next = self.next_after(started);
        while next.is_some_and(|n| n < closed) {
            next = next.and_then(|n| self.next_after(n));
        }
        next.and_then(|n| n.duration_since(closed).ok())
            .unwrap_or_default()
    }

    fn next_after(&self, time: SystemTime) -> Option<SystemTime> {
        match self {
            // Go's cron keeps @every on whole seconds.
            Self::Every(interval) => {
                let since_epoch = time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
                let whole = Duration::from_secs(since_epoch.as_secs());
                Some(SystemTime::UNIX_EPOCH + whole + *interval)
            }
            Self::Calendar(cron) => {
                let at: DateTime<Utc> = time.into();
                cron.find_next_occurrence(&at, false)
                    .ok()
                    .map(SystemTime::from)
            }
        }
    }
}

/// Go's duration syntax: a sequence of decimal numbers with units (ns, us, µs, ms, s, m, h).
fn go_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration such as 90s or 1h30m");
    if text.is_empty() {
        return Err(bad());
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..number_end].parse().map_err(|_| bad())?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
            .into()
    }

    #[test]
    fn calendar_schedules_start_at_the_next_matching_minute_in_utc() {
        let hourly = CronSchedule::parse("CRON_TZ=UTC 0 * * * *").unwrap();
        let now = at("2026-11-25T05:10:30Z");
        assert_eq!(hourly.backoff(now, now), Duration::from_secs(49 * 60 + 30));
        let daily = CronSchedule::parse("@daily").unwrap();
        assert_eq!(
            daily.backoff(now, now),
            at("2026-11-26T00:00:00Z").duration_since(now).unwrap()
        );
        // A run that overran skips the times it missed.
        let every_minute = CronSchedule::parse("* * * * *").unwrap();
        let closed = at("2026-11-25T05:13:20Z");
        assert_eq!(every_minute.backoff(now, closed), Duration::from_secs(40));
    }

    #[test]
    fn every_takes_go_durations() {
        let schedule = CronSchedule::parse("@every 1h30m").unwrap();
        let now = at("2026-11-25T05:10:30Z");
        assert_eq!(schedule.backoff(now, now), Duration::from_secs(5400));
        assert!(matches!(
            CronSchedule::parse("@every 1.5s"),
            Ok(CronSchedule::Every(d)) if d == Duration::from_millis(1500)
        ));
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        for (text, says) in [
            ("61 * * * *", "61"),
            ("* * * *", "\"* * * *\""),
            ("0 0 * * * *", "more than five fields"),
            ("@every soon", "not a duration"),
            ("CRON_TZ=Europe/Paris 0 * * * *", "Europe/Paris"),
        ] {
            let error = CronSchedule::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}

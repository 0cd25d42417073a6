//! Reading a cron expression: nicknames, field count, croner's parser set
//! to our dialect, and error messages that name the field at fault.

use chrono::NaiveDateTime;
use croner::Cron;
use croner::errors::CronError;
use croner::parser::{CronParser, Seconds, Year};

use crate::CalendarError;

/// The nicknames we accept and the five-field expression each stands for.
const NICKNAMES: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// One field of the six-field (seconds first) layout.
struct Field {
    name: &'static str,
    range: &'static str,
}

const FIELDS: [Field; 6] = [
    Field {
        name: "second",
        range: "0-59",
    },
    Field {
        name: "minute",
        range: "0-59",
    },
    Field {
        name: "hour",
        range: "0-23",
    },
    Field {
        name: "day-of-month",
        range: "1-31",
    },
    Field {
        name: "month",
        range: "1-12",
    },
    Field {
        name: "day-of-week",
        range: "0-7",
    },
];

/// A parsed expression, matched against wall-clock times only. Cloning
/// it is cheap (the parsed pattern is shared), so many calendars of one
/// expression hold one pattern.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    cron: std::sync::Arc<Cron>,
    interval: bool,
}

impl Expr {
    /// Parses `source`: 5 fields, 6 with seconds first, or a nickname.
    pub(crate) fn parse(source: &str) -> Result<Self, CalendarError> {
        let expanded = expand_nickname(source.trim())?;
        let mut fields: Vec<&str> = expanded.split_whitespace().collect();
        match fields.len() {
            5 => fields.insert(0, "0"),
            6 => {}
            0 => return Err(cron_error("the expression is empty".to_owned())),
            n => {
                return Err(cron_error(format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week) \
                     or 6 with seconds first, found {n}"
                )));
            }
        }
        if fields[5].starts_with('+') {
            // croner reads a leading `+` as "day of month AND day of week";
            // our dialect always combines the two with OR.
            return Err(cron_error(format!(
                "day-of-week field: {} is not valid (a leading `+` is not supported; \
                 day of month and day of week combine with OR)",
                fields[5]
            )));
        }
        let normalized = fields.join(" ");
        let cron = parser()
            .parse(&normalized)
            .map_err(|e| cron_error(diagnose(&fields, &e)))?;
        Ok(Self {
            cron: std::sync::Arc::new(cron),
            // Hour `*` or `*/N`: the expression counts real time, not wall time.
            interval: fields[2].starts_with('*'),
        })
    }

    /// Whether the hour field starts with `*` (see the crate docs).
    pub(crate) fn is_interval(&self) -> bool {
        self.interval
    }

    /// The first matching wall time after `wall` (or at it, when `inclusive`).
    pub(crate) fn next_wall(&self, wall: &NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        self.cron.find_next_occurrence(wall, inclusive).ok()
    }
}

/// croner's parser in our dialect: optional seconds, no year field, and
/// day of month OR day of week (Vixie cron) when both are restricted.
fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .dom_and_dow(false)
        .build()
}

fn cron_error(reason: String) -> CalendarError {
    CalendarError::Cron { reason }
}

fn expand_nickname(source: &str) -> Result<&str, CalendarError> {
    if !source.starts_with('@') {
        return Ok(source);
    }
    NICKNAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(source))
        .map(|(_, expansion)| *expansion)
        .ok_or_else(|| {
            let known: Vec<&str> = NICKNAMES.iter().map(|(name, _)| *name).collect();
            cron_error(format!(
                "unknown nickname {source}: expected one of {}",
                known.join(", ")
            ))
        })
}

/// Finds the field croner rejects by parsing each one alone, every other
/// field set to `*`, and words croner's message for a person.
fn diagnose(fields: &[&str], whole: &CronError) -> String {
    for (index, field) in FIELDS.iter().enumerate() {
        let mut probe = ["*"; 6];
        probe[index] = fields[index];
        if let Err(error) = parser().parse(&probe.join(" ")) {
            return field_reason(field, fields[index], &error);
        }
    }
    clean(&whole.to_string())
}

fn field_reason(field: &Field, value: &str, error: &CronError) -> String {
    let Field { name, range } = field;
    match error {
        CronError::IllegalCharacters(_) => format!(
            "{name} field: {value} contains a character that is not allowed \
             (values {range}, with * , - /{})",
            extra_syntax(name)
        ),
        CronError::ComponentError(message) if message.starts_with("Nth") => {
            format!("{name} field: {value} is not valid (the week after # must be 1-5)")
        }
        CronError::ComponentError(message) if message.starts_with("Range") => {
            format!("{name} field: {value} is not valid (a range must run upward within {range})")
        }
        CronError::ComponentError(message) if message.contains("out of bounds") => {
            format!("{name} field: {value} is out of range {range}")
        }
        CronError::ComponentError(message) | CronError::InvalidPattern(message) => {
            format!("{name} field: {value} is not valid ({})", clean(message))
        }
        other => format!(
            "{name} field: {value} is not valid ({})",
            clean(&other.to_string())
        ),
    }
}

/// The special characters a field accepts beyond the common ones.
fn extra_syntax(name: &str) -> &'static str {
    match name {
        "day-of-month" => " L W ?",
        "day-of-week" => " L # ? and names SUN-SAT",
        "month" => " and names JAN-DEC",
        _ => "",
    }
}

/// croner's messages start with a capital and end with a full stop.
fn clean(message: &str) -> String {
    let trimmed = message.trim().trim_end_matches('.');
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(expr: &str) -> String {
        match Expr::parse(expr) {
            Err(CalendarError::Cron { reason }) => reason,
            other => panic!("{expr}: expected a cron error, got {other:?}"),
        }
    }

    #[test]
    fn each_field_is_named_in_its_error() {
        assert_eq!(
            reason("61 * * * *"),
            "minute field: 61 is out of range 0-59"
        );
        assert_eq!(reason("0 24 * * *"), "hour field: 24 is out of range 0-23");
        assert_eq!(
            reason("0 0 32 * *"),
            "day-of-month field: 32 is out of range 1-31"
        );
        assert_eq!(reason("0 0 1 13 *"), "month field: 13 is out of range 1-12");
        assert_eq!(
            reason("0 0 * * 8"),
            "day-of-week field: 8 is out of range 0-7"
        );
        assert_eq!(
            reason("60 0 0 * * *"),
            "second field: 60 is out of range 0-59"
        );
        assert!(reason("x * * * *").starts_with("minute field: x contains a character"));
        assert_eq!(
            reason("0 0 * * 1#6"),
            "day-of-week field: 1#6 is not valid (the week after # must be 1-5)"
        );
        assert_eq!(
            reason("0 0 5-1 * *"),
            "day-of-month field: 5-1 is not valid (a range must run upward within 1-31)"
        );
        assert_eq!(
            reason("0 0 1-2-3 * *"),
            "day-of-month field: 1-2-3 is not valid (invalid range syntax)"
        );
        assert!(reason("0 0 * * +1").starts_with("day-of-week field: +1 is not valid"));
    }

    #[test]
    fn field_count_and_nicknames_are_checked() {
        assert!(reason("* * * *").contains("found 4"));
        assert!(reason("0 0 0 1 1 * 2030").contains("found 7"));
        assert_eq!(reason("   "), "the expression is empty");
        assert!(reason("@reboot").starts_with("unknown nickname @reboot"));
    }

    #[test]
    fn interval_is_read_from_the_hour_field() {
        let interval = |e: &str| Expr::parse(e).map(|x| x.is_interval()).ok();
        assert_eq!(interval("*/15 * * * *"), Some(true));
        assert_eq!(interval("0 */2 * * *"), Some(true));
        assert_eq!(interval("*/10 * * * * *"), Some(true));
        assert_eq!(interval("@hourly"), Some(true));
        assert_eq!(interval("30 2 * * *"), Some(false));
        assert_eq!(interval("0 1-5 * * *"), Some(false));
        assert_eq!(interval("@daily"), Some(false));
        assert_eq!(interval("* * 3 * * *"), Some(false));
    }
}

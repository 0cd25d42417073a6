//! The period `GET /api/v1/insights` covers: read from its query strings
//! here, so that a bad value is a 422 naming the parameter, not serde's 400.

use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The longest period: 90 days.
pub const MAX_DAYS: i64 = 90;

/// The query of `GET /api/v1/insights`, as sent.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InsightsQuery {
    /// Start (RFC 3339, inclusive); default: 24 hours before `to`.
    #[serde(default)]
    pub from: Option<String>,
    /// End (RFC 3339, exclusive); default: now.
    #[serde(default)]
    pub to: Option<String>,
    /// `hour` (default) or `day`.
    #[serde(default)]
    pub bucket: Option<String>,
    /// Only the runs of this job (a UUID).
    #[serde(default)]
    pub job_id: Option<String>,
}

/// The size of a series bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// One hour.
    Hour,
    /// One day (UTC).
    Day,
}

impl Bucket {
    /// The `date_trunc` field.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }
}

/// A checked period.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    /// Start, inclusive.
    pub from: DateTime<Utc>,
    /// End, exclusive.
    pub to: DateTime<Utc>,
    /// Series bucket.
    pub bucket: Bucket,
    /// Only this job.
    pub job_id: Option<Uuid>,
}

/// Each parameter that is wrong, as `(?name, message)`.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(|(p, m)| format!("{p}: {m}")).collect::<Vec<_>>().join("; "))]
pub struct PeriodError(pub Vec<(String, String)>);

fn time(
    name: &str,
    value: Option<&str>,
    errors: &mut Vec<(String, String)>,
) -> Option<DateTime<Utc>> {
    let v = value?;
    match DateTime::parse_from_rfc3339(v) {
        Ok(t) => Some(t.to_utc()),
        Err(_) => {
            let shown: String = v.chars().take(64).collect();
            errors.push((
                format!("?{name}"),
                format!(
                    "`{name}` must be an RFC 3339 time such as 2026-12-01T00:00:00Z, not `{shown}`"
                ),
            ));
            None
        }
    }
}

impl Period {
    /// The period `q` asks for, at `now`; every problem at once.
    pub fn of(q: &InsightsQuery, now: DateTime<Utc>) -> Result<Self, PeriodError> {
        let mut errors = Vec::new();
        let to = time("to", q.to.as_deref(), &mut errors);
        let from = time("from", q.from.as_deref(), &mut errors);
        let bucket = match q.bucket.as_deref() {
            None | Some("hour") => Some(Bucket::Hour),
            Some("day") => Some(Bucket::Day),
            Some(other) => {
                let shown: String = other.chars().take(64).collect();
                errors.push((
                    "?bucket".to_owned(),
                    format!("`bucket` must be `hour` or `day`, not `{shown}`"),
                ));
                None
            }
        };
        let job_id = match q.job_id.as_deref().map(str::parse::<Uuid>) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                errors.push(("?job_id".to_owned(), "`job_id` must be a UUID".to_owned()));
                None
            }
        };
        let to = to.unwrap_or(now);
        let from = from.unwrap_or(to - Duration::hours(24));
        if errors.is_empty() {
            if from >= to {
                errors.push(("?from".to_owned(), "`from` must be before `to`".to_owned()));
            } else if to - from > Duration::days(MAX_DAYS) {
                errors.push((
                    "?from".to_owned(),
                    format!("the period may be at most {MAX_DAYS} days"),
                ));
            }
        }
        match bucket {
            Some(bucket) if errors.is_empty() => Ok(Self {
                from,
                to,
                bucket,
                job_id,
            }),
            _ => Err(PeriodError(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn q(from: Option<&str>, to: Option<&str>, bucket: Option<&str>) -> InsightsQuery {
        InsightsQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            bucket: bucket.map(str::to_owned),
            job_id: None,
        }
    }

    #[test]
    fn defaults_to_the_last_day_by_hour() {
        let now = Utc::now();
        let p = Period::of(&InsightsQuery::default(), now).unwrap();
        assert_eq!(p.to, now);
        assert_eq!(p.to - p.from, Duration::hours(24));
        assert_eq!(p.bucket, Bucket::Hour);
    }

    #[test]
    fn names_every_bad_parameter() {
        let e = Period::of(&q(Some("yesterday"), None, Some("week")), Utc::now()).unwrap_err();
        let names: Vec<&str> = e.0.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["?from", "?bucket"]);
    }

    #[test]
    fn refuses_long_and_reversed_periods() {
        let long = q(
            Some("2026-01-01T00:00:00Z"),
            Some("2026-06-01T00:00:00Z"),
            None,
        );
        assert!(Period::of(&long, Utc::now()).is_err());
        let reversed = q(
            Some("2026-02-01T00:00:00Z"),
            Some("2026-01-01T00:00:00Z"),
            None,
        );
        assert!(Period::of(&reversed, Utc::now()).is_err());
        let ok = q(
            Some("2026-01-01T00:00:00Z"),
            Some("2026-03-31T00:00:00Z"),
            Some("day"),
        );
        assert!(Period::of(&ok, Utc::now()).is_ok());
    }
}

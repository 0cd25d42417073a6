//! The installation prefix every subject, stream, consumer and bucket name derives from.

use std::fmt;

/// Longest accepted prefix; stream names stay well under NATS' limits.
const MAX_LEN: usize = 32;

/// A validated installation prefix (default `opsc`).
///
/// Several installations, and parallel tests, share one NATS by using
/// different prefixes. A prefix is lowercase ASCII letters, digits and `_`,
/// starts with a letter and is at most 32 characters, so it is valid both as
/// a subject token and (upper-cased) as a stream name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Prefix(String);

/// Why a string is not a valid [`Prefix`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// The string was empty.
    #[error("must not be empty")]
    Empty,
    /// The string was longer than 32 characters.
    #[error("must be at most {MAX_LEN} characters, got {0}")]
    TooLong(usize),
    /// The first character was not a lowercase letter.
    #[error("must start with a lowercase letter")]
    BadStart,
    /// A character outside `[a-z0-9_]` was found.
    #[error("may contain only lowercase letters, digits and '_', found {0:?}")]
    BadChar(char),
}

impl Prefix {
    /// Parses and validates a prefix.
    pub fn parse(raw: &str) -> Result<Self, PrefixError> {
        if raw.is_empty() {
            return Err(PrefixError::Empty);
        }
        if raw.len() > MAX_LEN {
            return Err(PrefixError::TooLong(raw.len()));
        }
        if !raw.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(PrefixError::BadStart);
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Err(PrefixError::BadChar(bad));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The prefix as written, for subjects and bucket names.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix upper-cased, for stream names (`opsc` → `OPSC`).
    pub fn upper(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Self("opsc".to_owned())
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Prefix {
    type Error = PrefixError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Prefix> for String {
    fn from(p: Prefix) -> Self {
        p.0
    }
}

impl std::str::FromStr for Prefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_typical_prefixes() {
        for ok in ["opsc", "t_1a2b", "prod2"] {
            assert_eq!(Prefix::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(Prefix::parse("opsc").unwrap().upper(), "OPSC");
    }

    #[test]
    fn rejects_what_would_break_subjects_or_stream_names() {
        assert_eq!(Prefix::parse(""), Err(PrefixError::Empty));
        assert_eq!(Prefix::parse("1abc"), Err(PrefixError::BadStart));
        assert_eq!(Prefix::parse("a.b"), Err(PrefixError::BadChar('.')));
        assert_eq!(Prefix::parse("a*"), Err(PrefixError::BadChar('*')));
        assert_eq!(Prefix::parse("Opsc"), Err(PrefixError::BadStart));
        assert_eq!(
            Prefix::parse(&"a".repeat(33)),
            Err(PrefixError::TooLong(33))
        );
    }
}

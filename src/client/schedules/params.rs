//! Parameters of a schedule's runs: `--param NAME=VALUE` converted as the
//! job declares them, and secret parameters read from files or standard
//! input, never from the command line (where other local users could see them).

use std::io::{self, BufRead, IsTerminal as _};
use std::path::Path;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};

use super::Usage;
use crate::client::output::sanitize;
use crate::client::prompt;

/// `NAME=VALUE` as the job declares the parameter (`int`, `bool`,
/// `multi_select` comma-separated; anything else a string).
pub fn parse(pair: &str, declared: &Value) -> Result<(String, Value), Usage> {
    let Some((name, raw)) = pair.split_once('=') else {
        return Err(Usage(format!(
            "--param {}: expected NAME=VALUE",
            sanitize(pair)
        )));
    };
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(Usage(format!(
            "--param {}: the name is empty",
            sanitize(pair)
        )));
    }
    let bad = |expected: &str| {
        Usage(format!(
            "--param {}: {expected} is expected",
            sanitize(&name)
        ))
    };
    let value = match declared[&name]["type"].as_str().unwrap_or("string") {
        "int" => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| bad("an int"))?,
        "bool" => match raw.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("true or false")),
        },
        "multi_select" => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        _ => Value::String(raw.to_owned()),
    };
    Ok((name, value))
}

/// Every `--param`, converted.
pub fn parse_all(pairs: &[String], declared: &Value) -> Result<Map<String, Value>, Usage> {
    pairs.iter().map(|p| parse(p, declared)).collect()
}

/// Where the secret parameters come from.
#[derive(Debug, Clone, Copy)]
pub struct SecretSources<'a> {
    /// `--secret-param NAME`: one line of standard input each, in this order
    /// (asked for without echo on a terminal).
    pub stdin: &'a [String],
    /// `--secret-param-file NAME=FILE`: the file's content, less one final newline.
    pub files: &'a [String],
}

/// The secret parameters' values, by name.
pub fn read_secrets(src: SecretSources<'_>) -> anyhow::Result<Vec<(String, SecretString)>> {
    let mut out = Vec::new();
    for spec in src.files {
        let Some((name, path)) = spec.split_once('=') else {
            return Err(Usage(format!(
                "--secret-param-file {}: expected NAME=FILE",
                sanitize(spec)
            ))
            .into());
        };
        out.push((checked_name(name)?, from_file(Path::new(path))?));
    }
    if !src.stdin.is_empty() {
        let terminal = io::stdin().is_terminal();
        let mut input = io::stdin().lock();
        for name in src.stdin {
            let name = checked_name(name)?;
            let value = if terminal {
                let asked = rpassword::prompt_password(format!(
                    "Value of secret parameter {}: ",
                    sanitize(&name)
                ))
                .context("reading a secret parameter from the terminal")?;
                SecretString::from(asked)
            } else {
                from_lines(&mut input, &name)?
            };
            if value.expose_secret().is_empty() {
                return Err(Usage(format!("no value given for secret parameter {name}")).into());
            }
            out.push((name, value));
        }
    }
    Ok(out)
}

fn checked_name(name: &str) -> Result<String, Usage> {
    let name = name.trim();
    if name.is_empty() || name.contains('=') {
        return Err(Usage(format!(
            "secret parameter name {:?}: give the name only; the value is read from standard input or --secret-param-file",
            sanitize(name.split('=').next().unwrap_or_default())
        )));
    }
    Ok(name.to_owned())
}

/// The next line of `input` as the value of `name`.
fn from_lines(input: &mut impl BufRead, name: &str) -> anyhow::Result<SecretString> {
    let line = prompt::read_line(input)
        .context("reading secret parameters from standard input")?
        .ok_or_else(|| {
            Usage(format!(
                "no value for secret parameter {} on standard input (one line per --secret-param)",
                sanitize(name)
            ))
        })?;
    Ok(SecretString::from(line))
}

fn from_file(path: &Path) -> anyhow::Result<SecretString> {
    let mut text = std::fs::read_to_string(path).map_err(|e| {
        Usage(format!(
            "cannot read the secret parameter file {}: {e}",
            path.display()
        ))
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_follow_the_declared_types() {
        let declared = json!({"n": {"type": "int"}, "on": {"type": "bool"},
                              "many": {"type": "multi_select"}});
        let got = parse_all(
            &[
                "n=3".into(),
                "on=false".into(),
                "many=a,b".into(),
                "s=x=y".into(),
            ],
            &declared,
        )
        .unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"n": 3, "on": false, "many": ["a", "b"], "s": "x=y"})
        );
        for bad in ["novalue", "=x", "n=1.5", "on=yes"] {
            assert!(parse(bad, &declared).is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_values_come_one_per_line_and_never_from_the_name() {
        let mut input = io::Cursor::new("s3cret\r\nsecond\n");
        assert_eq!(
            from_lines(&mut input, "a").unwrap().expose_secret(),
            "s3cret"
        );
        assert_eq!(
            from_lines(&mut input, "b").unwrap().expose_secret(),
            "second"
        );
        let e = from_lines(&mut input, "c").unwrap_err();
        assert!(e.to_string().contains("secret parameter c"), "{e}");
        let e = checked_name("token=hunter2").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn a_secret_file_loses_one_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        std::fs::write(&path, "line\n\n").unwrap();
        assert_eq!(from_file(&path).unwrap().expose_secret(), "line\n");
    }
}

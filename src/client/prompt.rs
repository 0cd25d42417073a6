//! Asking a person for names, passwords and codes; or reading them from stdin.
//!
//! Passwords are read from the terminal without echo, or one per line from
//! standard input with `--password-stdin`; they never appear in an error.

use std::io::{self, BufRead, Write as _};

use anyhow::{Context as _, bail};
use secrecy::{ExposeSecret as _, SecretString};

/// The next line of `input` without its line ending; `None` at end of input.
pub fn read_line(input: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    Ok(Some(line))
}

/// The next non-empty line of `input`, as a secret; `what` names it in errors.
pub fn secret_from(input: &mut impl BufRead, what: &str) -> anyhow::Result<SecretString> {
    let line = read_line(input)
        .with_context(|| format!("reading the {what} from standard input"))?
        .unwrap_or_default();
    if line.is_empty() {
        bail!("no {what} on standard input");
    }
    Ok(SecretString::from(line))
}

/// The next non-empty line of standard input, as a secret.
pub fn secret_from_stdin(what: &str) -> anyhow::Result<SecretString> {
    secret_from(&mut io::stdin().lock(), what)
}

/// Asks for a secret on the terminal without echo.
pub fn secret(prompt: &str) -> anyhow::Result<SecretString> {
    let value = rpassword::prompt_password(prompt)
        .context("reading a password from the terminal (use --password-stdin without one)")?;
    if value.is_empty() {
        bail!("no password given");
    }
    Ok(SecretString::from(value))
}

/// Asks twice for a new password on the terminal; both must match.
pub fn new_password() -> anyhow::Result<SecretString> {
    let first = secret("New password: ")?;
    let second = secret("Repeat it: ")?;
    if first.expose_secret() != second.expose_secret() {
        bail!("the passwords do not match");
    }
    Ok(first)
}

/// Asks for a line (echoed) on standard error, reading standard input.
pub fn line(prompt: &str) -> anyhow::Result<String> {
    let mut err = io::stderr().lock();
    write!(err, "{prompt}").and_then(|()| err.flush())?;
    let value = read_line(&mut io::stdin().lock())
        .context("reading standard input")?
        .unwrap_or_default();
    let value = value.trim().to_owned();
    if value.is_empty() {
        bail!("nothing entered");
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_their_ending_but_keep_inner_blanks() {
        let mut input = io::Cursor::new("pass word \r\n123456\nlast");
        assert_eq!(read_line(&mut input).unwrap().unwrap(), "pass word ");
        assert_eq!(read_line(&mut input).unwrap().unwrap(), "123456");
        assert_eq!(read_line(&mut input).unwrap().unwrap(), "last");
        assert_eq!(read_line(&mut input).unwrap(), None);
    }

    #[test]
    fn an_empty_secret_is_refused_without_echoing_anything() {
        let mut input = io::Cursor::new("\n");
        let e = secret_from(&mut input, "password").unwrap_err();
        assert_eq!(e.to_string(), "no password on standard input");
        let mut input = io::Cursor::new("s3cret\n");
        let s = secret_from(&mut input, "password").unwrap();
        assert_eq!(s.expose_secret(), "s3cret");
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}

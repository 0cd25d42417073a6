//! The tiny Windows host behind the shells: what a command line does.
//!
//! A command line is the WinRS `Command` joined with its `Arguments`, run as
//! `cmd.exe /c` would: `%NAME%` expanded from the environment first, `^`
//! escaping outside quotes, then one command. `powershell.exe` hands its
//! script to [`crate::powershell`]; everything else is one of the `cmd`
//! built-ins the crate documentation lists. Command chaining and
//! redirection (`&`, `|`, `<`, `>` outside quotes) are refused.

use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::fs::Fs;
use crate::ntlm::from_utf16le;
use crate::powershell;
use crate::process::{Console, Context};

/// What `Get-CimInstance Win32_OperatingSystem` and `$PSVersionTable` report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerFacts {
    /// `Win32_OperatingSystem.Caption`.
    pub os_caption: String,
    /// `Win32_OperatingSystem.Version`, e.g. `10.0.20348`.
    pub os_version: String,
    /// `$PSVersionTable.PSVersion`, e.g. `5.1.20348.2849`.
    pub powershell_version: String,
}

impl Default for PeerFacts {
    fn default() -> Self {
        Self {
            os_caption: "Microsoft Windows Server 2022 Standard".into(),
            os_version: "10.0.20348".into(),
            powershell_version: "5.1.20348.2849".into(),
        }
    }
}

/// The host's identity, facts and files.
#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub hostname: String,
    pub domain: Option<String>,
    pub facts: PeerFacts,
    pub fs: Arc<Mutex<Fs>>,
}

/// The exit code powershell.exe gives for command-line errors (0xFFFD0000).
const PWSH_BAD_ARGUMENTS: i32 = -196_608;

impl Host {
    /// The NetBIOS domain of local accounts' logons (`USERDOMAIN`).
    pub(crate) fn user_domain(&self) -> &str {
        self.domain.as_deref().unwrap_or(&self.hostname)
    }

    /// The environment and directory a new shell of `user` starts with.
    pub(crate) fn context(&self, user: &str) -> Context {
        let profile = format!("C:\\Users\\{user}");
        let temp = format!("{profile}\\AppData\\Local\\Temp");
        let mut ctx = Context {
            user: user.to_owned(),
            env: Default::default(),
            cwd: profile.clone(),
        };
        for (k, v) in [
            ("COMPUTERNAME", self.hostname.as_str()),
            ("USERNAME", user),
            ("USERDOMAIN", self.user_domain()),
            ("USERPROFILE", profile.as_str()),
            ("TEMP", temp.as_str()),
            ("TMP", temp.as_str()),
            ("SystemRoot", "C:\\Windows"),
            ("windir", "C:\\Windows"),
            ("ComSpec", "C:\\Windows\\system32\\cmd.exe"),
        ] {
            ctx.set_var(k, Some(v.to_owned()));
        }
        ctx
    }

    /// Runs a command line in `ctx`, writing to `console`; the exit code.
    pub(crate) fn execute(
        &self,
        ctx: Context,
        command: &str,
        args: &[String],
        console: &Console,
    ) -> i32 {
        let mut line = command.trim().to_owned();
        for a in args {
            line.push(' ');
            line.push_str(a);
        }
        self.cmd(ctx, line.trim(), console)
    }

    fn cmd(&self, ctx: Context, line: &str, console: &Console) -> i32 {
        let expanded = expand(&ctx, line);
        let line = match unescape(&expanded) {
            Ok(line) => line,
            Err(op) => {
                console.err(
                    format!("The operator {op} (chaining, piping, redirection) is not supported by this WinRM test peer.\r\n")
                        .as_bytes(),
                );
                return 1;
            }
        };
        let line = line.trim();
        let (program, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let name = program
            .trim_matches('"')
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let out = |text: String| {
            console.out(text.as_bytes());
            0
        };
        let fail = |text: &str| {
            console.err(format!("{text}\r\n").as_bytes());
            1
        };
        match name.as_str() {
            "" => 0,
            "powershell" | "powershell.exe" => self.powershell(ctx, rest, console),
            "cmd" | "cmd.exe" => match rest.split_once(char::is_whitespace) {
                Some((c, inner)) if c.eq_ignore_ascii_case("/c") => {
                    self.cmd(ctx, inner.trim(), console)
                }
                _ => fail("Only cmd /c <command> is supported by this WinRM test peer."),
            },
            "hostname" | "hostname.exe" => out(format!("{}\r\n", self.hostname)),
            "whoami" | "whoami.exe" => {
                out(format!("{}\\{}\r\n", self.user_domain(), ctx.user).to_lowercase())
            }
            "echo." => out("\r\n".into()),
            "echo" if rest.is_empty() => out("ECHO is on.\r\n".into()),
            "echo" => out(format!("{rest}\r\n")),
            "ver" => out(format!(
                "\r\nMicrosoft Windows [Version {}]\r\n",
                self.facts.os_version
            )),
            "cd" | "chdir" if rest.is_empty() => out(format!("{}\r\n", ctx.cwd)),
            "type" => {
                let path = crate::fs::resolve(&ctx.cwd, rest.trim_matches('"'));
                let fs = self.fs.lock().unwrap_or_else(PoisonError::into_inner);
                match path.map(|p| fs.read(&p)) {
                    Some(Ok(bytes)) => {
                        console.out(&bytes);
                        0
                    }
                    _ => fail("The system cannot find the file specified."),
                }
            }
            "set" => {
                let prefix = rest.to_ascii_uppercase();
                let lines: String = ctx
                    .env
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(_, (name, value))| format!("{name}={value}\r\n"))
                    .collect();
                if lines.is_empty() {
                    fail(&format!("Environment variable {rest} not defined"))
                } else {
                    out(lines)
                }
            }
            "exit" => rest
                .trim_start_matches("/b")
                .trim_start_matches("/B")
                .trim()
                .parse()
                .unwrap_or(0),
            _ => fail(&format!(
                "'{program}' is not recognized as an internal or external command,\r\n\
                 operable program or batch file."
            )),
        }
    }

    fn powershell(&self, ctx: Context, args: &str, console: &Console) -> i32 {
        let mut words = args.split_whitespace();
        while let Some(word) = words.next() {
            let Some(param) = word.strip_prefix(['-', '/']).map(str::to_ascii_lowercase) else {
                let script: Vec<&str> = std::iter::once(word).chain(words).collect();
                return powershell::run(self, ctx, console, &script.join(" "));
            };
            match param.as_str() {
                "encodedcommand" | "enc" | "ec" | "e" => {
                    let decoded = words
                        .next()
                        .and_then(|b| B64.decode(b).ok())
                        .filter(|b| b.len() % 2 == 0);
                    return match decoded {
                        Some(bytes) => powershell::run(self, ctx, console, &from_utf16le(&bytes)),
                        None => bad_arguments(
                            console,
                            "Cannot process the command because the value specified with -EncodedCommand \
                             is not properly encoded. The value must be Base64 encoded.",
                        ),
                    };
                }
                "command" | "c" => {
                    let script: Vec<&str> = words.collect();
                    return powershell::run(self, ctx, console, script.join(" ").trim_matches('"'));
                }
                "executionpolicy" | "ep" | "inputformat" | "outputformat" | "windowstyle" => {
                    words.next();
                }
                "noprofile" | "nop" | "noninteractive" | "noni" | "nologo" => {}
                _ => {
                    return bad_arguments(
                        console,
                        &format!("The argument '{word}' is not supported by this peer."),
                    );
                }
            }
        }
        0
    }
}

/// `%NAME%` replaced by the variable's value; an undefined one stays as it
/// is, as on a cmd command line.
fn expand(ctx: &Context, line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('%') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('%') {
            Some(close) if close > 0 => {
                let name = &after[..close];
                match ctx.var(name) {
                    Some(value) => {
                        out.push_str(value);
                        rest = &after[close + 1..];
                    }
                    None => {
                        out.push('%');
                        out.push_str(name);
                        rest = &after[close..];
                    }
                }
            }
            _ => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes `^` escapes outside quotes; an unescaped `&`, `|`, `<` or `>`
/// outside quotes is refused (returned as the error).
fn unescape(line: &str) -> Result<String, char> {
    let mut out = String::with_capacity(line.len());
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            '^' if !quoted => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '&' | '|' | '<' | '>' if !quoted => return Err(c),
            _ => out.push(c),
        }
    }
    Ok(out)
}

fn bad_arguments(console: &Console, message: &str) -> i32 {
    console.err(format!("{message}\r\n").as_bytes());
    PWSH_BAD_ARGUMENTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmd_lines_expand_variables_and_refuse_operators() {
        let mut ctx = Context {
            user: "u".into(),
            env: Default::default(),
            cwd: "C:\\".into(),
        };
        ctx.set_var("Greeting", Some("hi there".into()));
        assert_eq!(
            expand(&ctx, "echo %GREETING% %nope% 100%"),
            "echo hi there %nope% 100%"
        );
        assert_eq!(
            unescape("echo \"a & b\" c^&d").unwrap(),
            "echo \"a & b\" c&d"
        );
        assert_eq!(unescape("echo a & del x"), Err('&'));
        assert_eq!(unescape("dir > out.txt"), Err('>'));
    }
}

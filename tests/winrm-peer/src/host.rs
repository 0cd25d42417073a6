//! The tiny Windows host behind the shells: what a command line does.
//!
//! A command line is the WinRS `Command` joined with its `Arguments`, run as
//! `cmd.exe /c` would. `powershell.exe` hands its script to
//! [`crate::powershell`]; everything else is one of the `cmd` built-ins the
//! crate documentation lists.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::ntlm::from_utf16le;
use crate::powershell;

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

/// The host's identity and facts.
#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub hostname: String,
    pub domain: Option<String>,
    pub facts: PeerFacts,
}

/// What a finished command left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

impl Outcome {
    pub(crate) fn ok(stdout: String) -> Self {
        Self {
            stdout: stdout.into_bytes(),
            ..Self::default()
        }
    }
}

/// The exit code powershell.exe gives for command-line errors (0xFFFD0000).
const PWSH_BAD_ARGUMENTS: i32 = -196_608;

impl Host {
    /// Runs a command line for `user`.
    pub(crate) fn execute(&self, user: &str, command: &str, args: &[String]) -> Outcome {
        let mut line = command.trim().to_owned();
        for a in args {
            line.push(' ');
            line.push_str(a);
        }
        self.cmd(user, line.trim())
    }

    /// The NetBIOS domain of local accounts' logons (`USERDOMAIN`).
    pub(crate) fn user_domain(&self) -> &str {
        self.domain.as_deref().unwrap_or(&self.hostname)
    }

    fn cmd(&self, user: &str, line: &str) -> Outcome {
        let (program, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let name = program
            .trim_matches('"')
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match name.as_str() {
            "" => Outcome::default(),
            "powershell" | "powershell.exe" => self.powershell(user, rest),
            "cmd" | "cmd.exe" => match rest.split_once(char::is_whitespace) {
                Some((c, inner)) if c.eq_ignore_ascii_case("/c") => self.cmd(user, inner.trim()),
                _ => Outcome::default(),
            },
            "hostname" | "hostname.exe" => Outcome::ok(format!("{}\r\n", self.hostname)),
            "whoami" | "whoami.exe" => {
                Outcome::ok(format!("{}\\{}\r\n", self.user_domain(), user).to_lowercase())
            }
            "echo" if rest.is_empty() => Outcome::ok("ECHO is on.\r\n".into()),
            "echo" => Outcome::ok(format!("{rest}\r\n")),
            "ver" => Outcome::ok(format!(
                "\r\nMicrosoft Windows [Version {}]\r\n",
                self.facts.os_version
            )),
            "exit" => {
                let code = rest
                    .trim_start_matches("/b")
                    .trim_start_matches("/B")
                    .trim();
                Outcome {
                    exit_code: code.parse().unwrap_or(0),
                    ..Outcome::default()
                }
            }
            _ => Outcome {
                stderr: format!(
                    "'{program}' is not recognized as an internal or external command,\r\n\
                     operable program or batch file.\r\n"
                )
                .into_bytes(),
                exit_code: 1,
                ..Outcome::default()
            },
        }
    }

    fn powershell(&self, user: &str, args: &str) -> Outcome {
        let mut words = args.split_whitespace();
        while let Some(word) = words.next() {
            let Some(param) = word.strip_prefix(['-', '/']).map(str::to_ascii_lowercase) else {
                return self.run_script(user, &words_from(word, words));
            };
            match param.as_str() {
                "encodedcommand" | "enc" | "ec" | "e" => {
                    let decoded = words
                        .next()
                        .and_then(|b| B64.decode(b).ok())
                        .filter(|b| b.len() % 2 == 0);
                    return match decoded {
                        Some(bytes) => self.run_script(user, &from_utf16le(&bytes)),
                        None => bad_arguments(
                            "Cannot process the command because the value specified with -EncodedCommand \
                             is not properly encoded. The value must be Base64 encoded.",
                        ),
                    };
                }
                "command" | "c" => {
                    let script: Vec<&str> = words.collect();
                    return self.run_script(user, script.join(" ").trim_matches('"'));
                }
                "executionpolicy" | "ep" | "inputformat" | "outputformat" | "windowstyle" => {
                    words.next();
                }
                "noprofile" | "nop" | "noninteractive" | "noni" | "nologo" => {}
                _ => {
                    return bad_arguments(&format!(
                        "The argument '{word}' is not supported by this peer."
                    ));
                }
            }
        }
        Outcome::default()
    }

    fn run_script(&self, user: &str, script: &str) -> Outcome {
        powershell::run(self, user, script)
    }
}

fn words_from<'a>(first: &'a str, rest: impl Iterator<Item = &'a str>) -> String {
    std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join(" ")
}

fn bad_arguments(message: &str) -> Outcome {
    Outcome {
        stderr: format!("{message}\r\n").into_bytes(),
        exit_code: PWSH_BAD_ARGUMENTS,
        ..Outcome::default()
    }
}

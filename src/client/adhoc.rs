//! `opsconductor run`: one command across targets without saving a job
//! (`POST /api/v1/adhoc-runs`), followed live by default, each output line
//! prefixed with its target; the exit status tells how it went on all of
//! them (0 all succeeded, 1 any failed, 130 cancelled).

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};

use super::ClientEnv;
use super::output::{self, ViewArgs};

/// `run` arguments.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("executor").args(["winrm", "local"])))]
pub struct AdhocArgs {
    #[command(flatten)]
    pub output: ViewArgs,
    /// Targets to run on: names or ids, comma-separated (repeatable).
    #[arg(
        long = "targets",
        visible_alias = "target",
        short = 't',
        value_name = "T,…",
        value_delimiter = ','
    )]
    pub targets: Vec<String>,
    /// Run on the members of this target group: name or id (repeatable).
    #[arg(long = "group", short = 'g', value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Run on the targets carrying this tag (repeatable: all must match).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Run the command over WinRM, as a PowerShell script (default: SSH).
    #[arg(long)]
    pub winrm: bool,
    /// Run the command on a worker host with /bin/sh instead of on targets
    /// (admins only, in a pool that allows local_exec).
    #[arg(long)]
    pub local: bool,
    /// The worker pool of a --local command (default: `default`).
    #[arg(long, requires = "local", value_name = "POOL")]
    pub pool: Option<String>,
    /// Targets running the command at once at most (default 50).
    #[arg(long = "parallel", short = 'P', value_name = "N")]
    pub parallel: Option<u32>,
    /// Seconds the command may take on each target (default 300).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Start it even inside an open maintenance window (audited).
    #[arg(long)]
    pub override_window: bool,
    /// Start it and print only the run's id (`-o json|yaml`: the api's
    /// answer); follow it later with `runs follow`.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// The command and its arguments, after `--`. They are joined with
    /// spaces and run by the remote shell, as ssh does: quote what the
    /// remote shell must not expand. A template, as in a job
    /// (`{{ target.hostname }}`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

/// The request body for `args`.
pub fn body(args: &AdhocArgs) -> Value {
    let executor = if args.local {
        "local"
    } else if args.winrm {
        "winrm"
    } else {
        "ssh"
    };
    let targets: Vec<&str> = args
        .targets
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    let mut body = json!({
        "command": args.command.join(" "),
        "executor": executor,
        "targets": targets,
        "groups": args.groups,
        "tags": args.tags,
    });
    for (key, value) in [
        ("parallelism", args.parallel.map(Value::from)),
        ("timeout_secs", args.timeout.map(Value::from)),
        ("pool", args.pool.clone().map(Value::from)),
    ] {
        if let Some(v) = value {
            body[key] = v;
        }
    }
    if args.override_window {
        body["override_window"] = Value::Bool(true);
    }
    body
}

/// Runs `opsconductor run`.
pub async fn run(env: &ClientEnv, args: AdhocArgs) -> anyhow::Result<ExitCode> {
    if !args.local && args.targets.is_empty() && args.groups.is_empty() && args.tags.is_empty() {
        bail!("say where to run it: --targets, --group or --tag (or --local for a worker host)");
    }
    let mut api = super::connect(env)?;
    let accepted: Value = api
        .send(Method::POST, &["api", "v1", "adhoc-runs"], &body(&args))
        .await
        .context("starting the command")?;
    let run_id = accepted["run_id"].as_str().unwrap_or_default().to_owned();
    if run_id.is_empty() {
        bail!("the api accepted the command but named no run");
    }
    let out = args.output;
    if args.detach {
        super::jobs::started(out, &accepted, &run_id, false)?;
        return Ok(ExitCode::SUCCESS);
    }
    let format = super::jobs::follow_format(out);
    if !format.is_data() {
        // On standard error, so standard output holds only the output.
        eprintln!(
            "opsconductor: run {} started; Ctrl-C stops following, `opsconductor runs cancel {0}` stops it",
            output::sanitize(&run_id)
        );
    }
    super::follow::follow(&mut api, &run_id, format).await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: AdhocArgs,
    }

    fn parse(line: &[&str]) -> Result<AdhocArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("run").chain(line.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn the_command_is_everything_after_the_options() {
        let a = parse(&["--targets", "web-1,web-2", "--", "uname", "-a"]).unwrap();
        let b = body(&a);
        assert_eq!(b["command"], "uname -a");
        assert_eq!(b["targets"], json!(["web-1", "web-2"]));
        assert_eq!(b["executor"], "ssh");
        assert!(b.get("parallelism").is_none());
        let a = parse(&[
            "-t",
            "w",
            "--parallel",
            "3",
            "--timeout",
            "9",
            "ls",
            "-l",
            "--x",
        ])
        .unwrap();
        let b = body(&a);
        assert_eq!(b["command"], "ls -l --x");
        assert_eq!(
            (b["parallelism"].clone(), b["timeout_secs"].clone()),
            (json!(3), json!(9))
        );
        let a = parse(&["--group", "G", "--tag", "prod", "--winrm", "--", "Get-Date"]).unwrap();
        let b = body(&a);
        assert_eq!(
            (b["groups"].clone(), b["tags"].clone()),
            (json!(["G"]), json!(["prod"]))
        );
        assert_eq!(b["executor"], "winrm");
        let a = parse(&["--local", "--pool", "p", "--", "id"]).unwrap();
        assert_eq!(body(&a)["executor"], "local");
        assert_eq!(body(&a)["pool"], "p");
    }

    #[test]
    fn usage_mistakes_are_refused() {
        assert!(parse(&["--targets", "w"]).is_err(), "no command");
        assert!(parse(&["--winrm", "--local", "--", "id"]).is_err());
        assert!(
            parse(&["-t", "w", "--pool", "p", "--", "id"]).is_err(),
            "--pool needs --local"
        );
    }
}

//! `winrm.exec`: a PowerShell script or a cmd command line on the target,
//! its output streamed as it arrives.

use opsc_proto::events::OutputStream;

use super::spec::ExecSpec;
use super::{Remote, describe, scripts};
use crate::steps::{StepCall, StepOutcome, StepType};
use crate::template::Quoting;
use crate::winrm::{Session, Shell, ShellOptions};

/// The `winrm.exec` step.
#[derive(Debug)]
pub struct WinrmExec;

#[async_trait::async_trait]
impl StepType for WinrmExec {
    fn quoting(&self, key: &str) -> Quoting {
        match key {
            "script" => Quoting::PowerShell,
            "command" => Quoting::Cmd,
            _ => Quoting::None,
        }
    }

    fn needs_target(&self) -> bool {
        true
    }

    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        let spec = match ExecSpec::parse(call.with) {
            Ok(s) => s,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let remote = match Remote::of(&call, "winrm.exec") {
            Ok(r) => r,
            Err(e) => return StepOutcome::failed(e, None),
        };
        let (options, text) = match spec.shell {
            Shell::PowerShell => (
                ShellOptions::default(),
                scripts::exec_script(&spec.text, &spec.env, spec.cwd.as_deref()),
            ),
            Shell::Cmd => (
                ShellOptions {
                    env: spec.env.clone(),
                    cwd: spec.cwd.clone(),
                },
                spec.text.clone(),
            ),
        };
        let session = match remote.open(&call, &options).await {
            Ok(Some(s)) => s,
            Ok(None) => return StepOutcome::failed("interrupted", None),
            Err(e) => return StepOutcome::failed(e, None),
        };
        let outcome = stream(&session, spec.shell, &text, &call).await;
        session.close().await;
        outcome
    }
}

/// Starts the command and hands its output to the sink as it comes.
async fn stream(session: &Session, shell: Shell, text: &str, call: &StepCall<'_>) -> StepOutcome {
    let id = tokio::select! {
        id = session.start(shell, text) => match id {
            Ok(id) => id,
            Err(e) => return StepOutcome::failed(describe(e), None),
        },
        () = call.cancel.cancelled() => return StepOutcome::failed("interrupted", None),
    };
    let mut exit_code = None;
    loop {
        let received = tokio::select! {
            r = session.receive(&id) => r,
            () = call.cancel.cancelled() => {
                session.terminate(&id).await;
                return StepOutcome::failed("interrupted", None);
            }
        };
        let r = match received {
            Ok(r) => r,
            Err(e) => {
                session.terminate(&id).await;
                return StepOutcome::failed(describe(e), None);
            }
        };
        call.output.chunk(OutputStream::Stdout, &r.stdout).await;
        call.output.chunk(OutputStream::Stderr, &r.stderr).await;
        exit_code = r.exit_code.or(exit_code);
        if r.done {
            break;
        }
    }
    session.terminate(&id).await;
    StepOutcome::from_exit(exit_code)
}

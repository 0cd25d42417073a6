//! Remote shells (MS-WSMV 3.1.4): Create, Command, Receive, Signal, Delete
//! on the `cmd` resource.
//!
//! A Command starts a [`Process`] and answers at once; a Receive waits (up
//! to the request's `OperationTimeout`, else `w:TimedOut`) until the command
//! has output to hand out or has ended. Output goes out with `Running`, the
//! end in a later Receive with `Done` and the exit code, as with a real
//! process whose exit follows its last write. A `terminate` signal or a
//! Delete stops the command; `ctrl_c` stops it with `STATUS_CONTROL_C_EXIT`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use tokio_util::sync::CancellationToken;

use crate::host::Host;
use crate::process::{Chunk, Process};
use crate::soap::{self, Body, Fault, Request, action, escape};

const STATE_DONE: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done";
const STATE_RUNNING: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running";
const SIGNAL_TERMINATE: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate";
const SIGNAL_CTRL_C: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c";
/// `ERROR_WINRS_SHELL_NOT_FOUND` as WinRM reports it.
const SHELL_NOT_FOUND: u32 = 2_150_858_843;
/// `ERROR_WSMAN_OPERATION_TIMEDOUT`.
const OPERATION_TIMED_OUT: u32 = 2_150_858_793;
/// `ERROR_DIRECTORY`.
const BAD_DIRECTORY: u32 = 267;
/// WinRM's `MaxTimeoutms` default, for a request without `OperationTimeout`.
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// The shells open on the host, across connections and users.
#[derive(Debug, Default)]
pub(crate) struct Shells {
    open: HashMap<String, Shell>,
}

impl Shells {
    /// Commands that have not ended.
    pub(crate) fn running(&self) -> usize {
        self.open
            .values()
            .flat_map(|s| s.commands.values())
            .filter(|p| p.running())
            .count()
    }
}

#[derive(Debug)]
struct Shell {
    owner: String,
    env: Vec<(String, String)>,
    cwd: Option<String>,
    commands: HashMap<String, Arc<Process>>,
}

/// Who is asking, and where.
#[derive(Debug)]
pub(crate) struct Caller<'a> {
    pub user: &'a str,
    pub endpoint: &'a str,
}

/// What a shell operation needs of the peer.
#[derive(Debug)]
pub(crate) struct Env<'a> {
    pub shells: &'a Mutex<Shells>,
    pub host: &'a Host,
    /// The peer's shutdown: it stops every command.
    pub stop: &'a CancellationToken,
}

/// Runs one shell operation; the response envelope or a fault.
pub(crate) async fn handle(
    env: Env<'_>,
    caller: &Caller<'_>,
    req: Request,
) -> Result<String, Fault> {
    if req.resource_uri.as_deref() != Some(soap::RESOURCE_CMD) {
        return Err(Fault::sender(
            "w:DestinationUnreachable",
            "The WS-Management service cannot process the request because the resource URI is not supported by this peer.",
        ));
    }
    let rel = req.message_id.as_str();
    if let Body::Receive { command_id } = &req.body {
        let process = {
            let mut shells = env.shells.lock().unwrap_or_else(PoisonError::into_inner);
            let shell = shell_of(&mut shells, req.shell_id.as_deref(), caller)?;
            command_of(shell, command_id.as_deref())?
        };
        let (id, process) = process;
        let wait = req.operation_timeout.unwrap_or(DEFAULT_OPERATION_TIMEOUT);
        return match process.receive(wait).await {
            Some(chunk) => Ok(soap::response(action::RECEIVE, rel, &receive(&id, &chunk))),
            None => Err(timed_out()),
        };
    }
    let mut shells = env.shells.lock().unwrap_or_else(PoisonError::into_inner);
    match req.body {
        Body::Create { env: vars, cwd } => {
            let id = uuid::Uuid::new_v4().to_string().to_uppercase();
            shells.open.insert(
                id.clone(),
                Shell {
                    owner: caller.user.to_owned(),
                    env: vars,
                    cwd,
                    commands: HashMap::new(),
                },
            );
            Ok(soap::response(action::CREATE, rel, &created(&id, caller)))
        }
        Body::Command { command, args } => {
            let shell = shell_of(&mut shells, req.shell_id.as_deref(), caller)?;
            let mut ctx = env.host.context(caller.user);
            for (k, v) in &shell.env {
                ctx.set_var(k, Some(v.clone()));
            }
            if let Some(dir) = &shell.cwd {
                let fs = env.host.fs.lock().unwrap_or_else(PoisonError::into_inner);
                match crate::fs::resolve(&ctx.cwd, dir).filter(|d| fs.is_dir(d)) {
                    Some(d) => ctx.cwd = d.display,
                    None => return Err(bad_directory()),
                }
            }
            let host = env.host.clone();
            let process = Process::spawn(env.stop.child_token(), move |console| {
                host.execute(ctx, &command, &args, console)
            });
            let id = uuid::Uuid::new_v4().to_string().to_uppercase();
            shell.commands.insert(id.clone(), process);
            let body = format!(
                "<rsp:CommandResponse><rsp:CommandId>{id}</rsp:CommandId></rsp:CommandResponse>"
            );
            Ok(soap::response(action::COMMAND, rel, &body))
        }
        Body::Signal { command_id, code } => {
            let shell = shell_of(&mut shells, req.shell_id.as_deref(), caller)?;
            let (id, process) = command_of(shell, command_id.as_deref())?;
            if code != SIGNAL_TERMINATE && code != SIGNAL_CTRL_C {
                return Err(Fault::sender(
                    "w:InvalidParameter",
                    format!("The signal code {code} is not valid."),
                ));
            }
            process.stop();
            if code == SIGNAL_TERMINATE {
                shell.commands.remove(&id);
            }
            Ok(soap::response(action::SIGNAL, rel, "<rsp:SignalResponse/>"))
        }
        Body::Delete => {
            shell_of(&mut shells, req.shell_id.as_deref(), caller)?;
            if let Some(shell) = req.shell_id.as_ref().and_then(|id| shells.open.remove(id)) {
                shell.commands.values().for_each(|p| p.stop());
            }
            Ok(soap::response(action::DELETE, rel, ""))
        }
        Body::Receive { .. } | Body::Other => Err(Fault::sender(
            "a:ActionNotSupported",
            format!("The action {} is not supported by the service.", req.action),
        )),
    }
}

fn timed_out() -> Fault {
    let text = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ";
    Fault {
        code: "s:Receiver",
        subcode: "w:TimedOut",
        reason: text.into(),
        detail: Some((OPERATION_TIMED_OUT, text.into())),
    }
}

fn bad_directory() -> Fault {
    Fault {
        code: "s:Receiver",
        subcode: "w:InternalError",
        reason: "The directory name is invalid. ".into(),
        detail: Some((BAD_DIRECTORY, "The directory name is invalid. ".into())),
    }
}

fn shell_of<'s>(
    shells: &'s mut Shells,
    id: Option<&str>,
    caller: &Caller<'_>,
) -> Result<&'s mut Shell, Fault> {
    let id = id.unwrap_or_default();
    match shells.open.get_mut(id) {
        // Another user's shell is as invisible as a missing one.
        Some(shell) if shell.owner.eq_ignore_ascii_case(caller.user) => Ok(shell),
        _ => Err(Fault {
            code: "s:Sender",
            subcode: "w:InvalidSelectors",
            reason: "The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ".into(),
            detail: Some((
                SHELL_NOT_FOUND,
                format!(
                    "The request for the Windows Remote Shell with ShellId {id} failed because the shell was not found \
                     on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists \
                     on the server. Provide the correct ShellId or create a new shell and retry the operation. "
                ),
            )),
        }),
    }
}

fn command_of(shell: &Shell, id: Option<&str>) -> Result<(String, Arc<Process>), Fault> {
    let id = id.unwrap_or_default().to_owned();
    match shell.commands.get(&id) {
        Some(p) => Ok((id, Arc::clone(p))),
        None => Err(Fault::sender(
            "w:InvalidParameter",
            format!(
                "The WS-Management service cannot process the request because the CommandId {id} is not valid."
            ),
        )),
    }
}

fn created(id: &str, caller: &Caller<'_>) -> String {
    let endpoint = escape(caller.endpoint);
    let owner = escape(caller.user);
    format!(
        "<x:ResourceCreated><a:Address>{endpoint}</a:Address><a:ReferenceParameters>\
         <w:ResourceURI>{res}</w:ResourceURI><w:SelectorSet><w:Selector Name=\"ShellId\">{id}</w:Selector>\
         </w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>\
         <rsp:Shell xmlns:rsp=\"http://schemas.microsoft.com/wbem/wsman/1/windows/shell\"><rsp:ShellId>{id}</rsp:ShellId>\
         <rsp:ResourceUri>{res}</rsp:ResourceUri><rsp:Owner>{owner}</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>\
         <rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>\
         <rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>\
         <rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>",
        res = soap::RESOURCE_CMD,
    )
}

fn stream(name: &str, id: &str, data: &[u8], end: bool) -> String {
    let end = if end { " End=\"true\"" } else { "" };
    format!(
        "<rsp:Stream Name=\"{name}\" CommandId=\"{id}\"{end}>{}</rsp:Stream>",
        B64.encode(data)
    )
}

fn receive(id: &str, chunk: &Chunk) -> String {
    let mut body = String::from("<rsp:ReceiveResponse>");
    match chunk {
        Chunk::Output { stdout, stderr } => {
            for (name, data) in [("stdout", stdout), ("stderr", stderr)] {
                if !data.is_empty() {
                    body.push_str(&stream(name, id, data, false));
                }
            }
            body.push_str(&format!(
                "<rsp:CommandState CommandId=\"{id}\" State=\"{STATE_RUNNING}\"/>"
            ));
        }
        Chunk::Done(code) => {
            body.push_str(&stream("stdout", id, &[], true));
            body.push_str(&stream("stderr", id, &[], true));
            body.push_str(&format!(
                "<rsp:CommandState CommandId=\"{id}\" State=\"{STATE_DONE}\"><rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState>"
            ));
        }
    }
    body.push_str("</rsp:ReceiveResponse>");
    body
}

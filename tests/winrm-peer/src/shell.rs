//! Remote shells (MS-WSMV 3.1.4): Create, Command, Receive, Signal, Delete
//! on the `cmd` resource, with commands run by [`crate::host`].

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::host::{Host, Outcome};
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

/// The shells open on the host, across connections and users.
#[derive(Debug, Default)]
pub(crate) struct Shells {
    open: HashMap<String, Shell>,
}

#[derive(Debug)]
struct Shell {
    owner: String,
    commands: HashMap<String, Command>,
}

#[derive(Debug)]
struct Command {
    outcome: Outcome,
    /// Output goes out in the first Receive, the final state in the next,
    /// as with a real process whose exit follows its last write.
    output_sent: bool,
}

/// Who is asking, and where.
#[derive(Debug)]
pub(crate) struct Caller<'a> {
    pub user: &'a str,
    pub endpoint: &'a str,
}

/// Runs one shell operation; the response envelope or a fault.
pub(crate) fn handle(
    shells: &mut Shells,
    host: &Host,
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
    match req.body {
        Body::Create => {
            let id = uuid::Uuid::new_v4().to_string().to_uppercase();
            shells.open.insert(
                id.clone(),
                Shell {
                    owner: caller.user.to_owned(),
                    commands: HashMap::new(),
                },
            );
            Ok(soap::response(action::CREATE, rel, &created(&id, caller)))
        }
        Body::Command { command, args } => {
            let shell = shell_of(shells, req.shell_id.as_deref(), caller)?;
            let outcome = host.execute(caller.user, &command, &args);
            let id = uuid::Uuid::new_v4().to_string().to_uppercase();
            shell.commands.insert(
                id.clone(),
                Command {
                    outcome,
                    output_sent: false,
                },
            );
            let body = format!(
                "<rsp:CommandResponse><rsp:CommandId>{id}</rsp:CommandId></rsp:CommandResponse>"
            );
            Ok(soap::response(action::COMMAND, rel, &body))
        }
        Body::Receive { command_id } => {
            let shell = shell_of(shells, req.shell_id.as_deref(), caller)?;
            let (id, cmd) = command_of(shell, command_id.as_deref())?;
            Ok(soap::response(action::RECEIVE, rel, &receive(&id, cmd)))
        }
        Body::Signal { command_id, code } => {
            let shell = shell_of(shells, req.shell_id.as_deref(), caller)?;
            let (id, _) = command_of(shell, command_id.as_deref())?;
            if code != SIGNAL_TERMINATE && code != SIGNAL_CTRL_C {
                return Err(Fault::sender(
                    "w:InvalidParameter",
                    format!("The signal code {code} is not valid."),
                ));
            }
            if code == SIGNAL_TERMINATE {
                shell.commands.remove(&id);
            }
            Ok(soap::response(action::SIGNAL, rel, "<rsp:SignalResponse/>"))
        }
        Body::Delete => {
            shell_of(shells, req.shell_id.as_deref(), caller)?;
            if let Some(id) = &req.shell_id {
                shells.open.remove(id);
            }
            Ok(soap::response(action::DELETE, rel, ""))
        }
        Body::Other => Err(Fault::sender(
            "a:ActionNotSupported",
            format!("The action {} is not supported by the service.", req.action),
        )),
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

fn command_of<'s>(
    shell: &'s mut Shell,
    id: Option<&str>,
) -> Result<(String, &'s mut Command), Fault> {
    let id = id.unwrap_or_default().to_owned();
    match shell.commands.get_mut(&id) {
        Some(cmd) => Ok((id, cmd)),
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

fn receive(id: &str, cmd: &mut Command) -> String {
    let has_output = !cmd.outcome.stdout.is_empty() || !cmd.outcome.stderr.is_empty();
    let send_output = has_output && !cmd.output_sent;
    cmd.output_sent |= send_output;
    let o = &cmd.outcome;
    let mut body = String::from("<rsp:ReceiveResponse>");
    if send_output {
        for (name, data) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            if !data.is_empty() {
                body.push_str(&stream(name, id, data, false));
            }
        }
        body.push_str(&format!(
            "<rsp:CommandState CommandId=\"{id}\" State=\"{STATE_RUNNING}\"/>"
        ));
    } else {
        body.push_str(&stream("stdout", id, &[], true));
        body.push_str(&stream("stderr", id, &[], true));
        body.push_str(&format!(
            "<rsp:CommandState CommandId=\"{id}\" State=\"{STATE_DONE}\"><rsp:ExitCode>{}</rsp:ExitCode></rsp:CommandState>",
            o.exit_code
        ));
    }
    body.push_str("</rsp:ReceiveResponse>");
    body
}

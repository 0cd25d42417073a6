//! WS-Management over SOAP 1.2: reading requests (namespace-aware, whatever
//! the prefixes) and writing responses and faults the way WinRM does.

use roxmltree::{Document, Node};

pub(crate) const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
pub(crate) const NS_WSA: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
pub(crate) const NS_WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
pub(crate) const NS_RSP: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell";
/// The `cmd` shell resource.
pub const RESOURCE_CMD: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";
/// Action URIs of the shell operations.
pub mod action {
    /// WS-Transfer Create (a shell).
    pub const CREATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create";
    /// WS-Transfer Delete (a shell).
    pub const DELETE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete";
    /// Start a command in a shell.
    pub const COMMAND: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command";
    /// Poll a command's output.
    pub const RECEIVE: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive";
    /// Signal a command (terminate, ctrl_c).
    pub const SIGNAL: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal";
}

/// A parsed WS-Management request.
#[derive(Debug)]
pub(crate) struct Request {
    pub action: String,
    /// `w:OperationTimeout`: how long a Receive may wait for output.
    pub operation_timeout: Option<std::time::Duration>,
    pub resource_uri: Option<String>,
    pub message_id: String,
    pub to: Option<String>,
    pub shell_id: Option<String>,
    pub body: Body,
}

/// The operation-specific part of a request.
#[derive(Debug)]
pub(crate) enum Body {
    Create {
        /// `rsp:Environment` variables.
        env: Vec<(String, String)>,
        /// `rsp:WorkingDirectory`.
        cwd: Option<String>,
    },
    Command {
        command: String,
        args: Vec<String>,
    },
    Receive {
        command_id: Option<String>,
    },
    Signal {
        command_id: Option<String>,
        code: String,
    },
    Delete,
    Other,
}

/// A WS-Management fault; WinRM answers it with HTTP 500.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    /// `s:Sender` or `s:Receiver`.
    pub code: &'static str,
    /// The subcode, e.g. `w:InvalidSelectors`.
    pub subcode: &'static str,
    pub reason: String,
    /// `WSManFault` code and message, when Windows adds one.
    pub detail: Option<(u32, String)>,
}

impl Fault {
    pub(crate) fn sender(subcode: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code: "s:Sender",
            subcode,
            reason: reason.into(),
            detail: None,
        }
    }
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name((ns, name)))
}

fn text(node: Option<Node<'_, '_>>) -> Option<String> {
    node.and_then(|n| n.text()).map(|t| t.trim().to_owned())
}

/// Reads an envelope.
pub(crate) fn parse(xml: &str) -> Result<Request, Fault> {
    let invalid = |why: &str| Fault::sender("w:SchemaValidationError", why.to_owned());
    let doc = Document::parse(xml).map_err(|e| {
        invalid(&format!(
            "The SOAP XML in the message is not well formed: {e}"
        ))
    })?;
    let env = doc.root_element();
    if !env.has_tag_name((NS_SOAP, "Envelope")) {
        return Err(invalid("The message is not a SOAP 1.2 envelope."));
    }
    let header =
        child(env, NS_SOAP, "Header").ok_or_else(|| invalid("The envelope has no Header."))?;
    let body = child(env, NS_SOAP, "Body").ok_or_else(|| invalid("The envelope has no Body."))?;
    let action = text(child(header, NS_WSA, "Action")).ok_or_else(|| {
        Fault::sender(
            "a:MessageInformationHeaderRequired",
            "A required header is missing: Action.",
        )
    })?;
    let message_id = text(child(header, NS_WSA, "MessageID")).unwrap_or_default();
    let shell_id = child(header, NS_WSMAN, "SelectorSet")
        .and_then(|set| {
            set.children().find(|s| {
                s.has_tag_name((NS_WSMAN, "Selector")) && s.attribute("Name") == Some("ShellId")
            })
        })
        .and_then(|s| s.text())
        .map(|t| t.trim().to_owned());
    let body = match action.as_str() {
        action::CREATE => {
            let shell = child(body, NS_RSP, "Shell");
            Body::Create {
                env: shell
                    .and_then(|s| child(s, NS_RSP, "Environment"))
                    .map(|e| {
                        e.children()
                            .filter(|v| v.has_tag_name((NS_RSP, "Variable")))
                            .filter_map(|v| {
                                let name = v.attribute("Name")?;
                                Some((name.to_owned(), v.text().unwrap_or_default().to_owned()))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                cwd: text(shell.and_then(|s| child(s, NS_RSP, "WorkingDirectory"))),
            }
        }
        action::DELETE => Body::Delete,
        action::COMMAND => {
            let line = child(body, NS_RSP, "CommandLine")
                .ok_or_else(|| invalid("Command without CommandLine."))?;
            Body::Command {
                command: text(child(line, NS_RSP, "Command")).unwrap_or_default(),
                args: line
                    .children()
                    .filter(|n| n.has_tag_name((NS_RSP, "Arguments")))
                    .map(|n| n.text().unwrap_or_default().to_owned())
                    .collect(),
            }
        }
        action::RECEIVE => {
            let stream =
                child(body, NS_RSP, "Receive").and_then(|r| child(r, NS_RSP, "DesiredStream"));
            Body::Receive {
                command_id: stream
                    .and_then(|s| s.attribute("CommandId"))
                    .map(str::to_owned),
            }
        }
        action::SIGNAL => {
            let signal = child(body, NS_RSP, "Signal")
                .ok_or_else(|| invalid("Signal without a Signal element."))?;
            Body::Signal {
                command_id: signal.attribute("CommandId").map(str::to_owned),
                code: text(child(signal, NS_RSP, "Code")).unwrap_or_default(),
            }
        }
        _ => Body::Other,
    };
    Ok(Request {
        operation_timeout: text(child(header, NS_WSMAN, "OperationTimeout"))
            .as_deref()
            .and_then(duration),
        action,
        resource_uri: text(child(header, NS_WSMAN, "ResourceURI")),
        message_id,
        to: text(child(header, NS_WSA, "To")),
        shell_id,
        body,
    })
}

/// An `xs:duration` of seconds, as WinRM clients write it: `PT60S`, `PT20.000S`.
fn duration(text: &str) -> Option<std::time::Duration> {
    let secs = text.strip_prefix("PT")?.strip_suffix('S')?;
    let secs: f64 = secs.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| std::time::Duration::from_secs_f64(secs))
}

/// Escapes text for XML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

const ENVELOPE_OPEN: &str = r#"<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">"#;

/// A response envelope: `<action>Response`, related to the request's MessageID.
pub(crate) fn response(action: &str, relates_to: &str, body: &str) -> String {
    envelope(&format!("{action}Response"), relates_to, body)
}

fn envelope(action: &str, relates_to: &str, body: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string().to_uppercase();
    let relates = escape(relates_to);
    format!(
        "{ENVELOPE_OPEN}<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{id}</a:MessageID>\
         <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>\
         <a:RelatesTo>{relates}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )
}

/// A fault envelope, as WinRM sends with HTTP 500.
pub(crate) fn fault(f: &Fault, relates_to: &str, machine: &str) -> String {
    let detail = f.detail.as_ref().map_or_else(String::new, |(code, message)| {
        format!(
            "<s:Detail><f:WSManFault xmlns:f=\"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault\" \
             Code=\"{code}\" Machine=\"{}\"><f:Message>{}</f:Message></f:WSManFault></s:Detail>",
            escape(machine),
            escape(message)
        )
    });
    let body = format!(
        "<s:Fault><s:Code><s:Value>{}</s:Value><s:Subcode><s:Value>{}</s:Value></s:Subcode></s:Code>\
         <s:Reason><s:Text xml:lang=\"en-US\">{}</s:Text></s:Reason>{detail}</s:Fault>",
        f.code,
        f.subcode,
        escape(&f.reason)
    );
    envelope(
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
        relates_to,
        &body,
    )
}

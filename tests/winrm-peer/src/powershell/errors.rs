//! Error records: what fails, how PowerShell words it, and how
//! `powershell.exe` writes the records to a redirected stderr (CLIXML).

use crate::fs::IoError;

/// How far an error reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// Non-terminating (`Write-Error`, a cmdlet's item error): the
    /// statement goes on; `-ErrorAction` and `$ErrorActionPreference` apply.
    Item,
    /// Statement-terminating (a .NET exception, a binding error, an unknown
    /// command): the next statement runs unless `$ErrorActionPreference` is
    /// `Stop`.
    Statement,
    /// Script-terminating (`throw`, `-ErrorAction Stop`): the script ends.
    Script,
}

/// A failure, with the parts of its record.
#[derive(Debug, Clone)]
pub(super) struct PsError {
    /// What the record names as the failing command (`Set-Location`, ...).
    pub command: String,
    pub message: String,
    /// `CategoryInfo`.
    pub category: String,
    /// `FullyQualifiedErrorId`.
    pub id: String,
    pub reach: Reach,
    /// `false` under `-ErrorAction SilentlyContinue`: the statement fails
    /// but no record is written.
    pub shown: bool,
}

impl PsError {
    pub(super) fn new(command: &str, message: String, category: String, id: &str) -> Self {
        Self {
            command: command.to_owned(),
            message,
            category,
            id: id.to_owned(),
            reach: Reach::Statement,
            shown: true,
        }
    }

    pub(super) fn item(mut self) -> Self {
        self.reach = Reach::Item;
        self
    }

    pub(super) fn not_found(name: &str) -> Self {
        Self::new(
            name,
            format!(
                "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable \
                 program. Check the spelling of the name, or if a path was included, verify that the path is correct \
                 and try again."
            ),
            format!("ObjectNotFound: ({name}:String) [], CommandNotFoundException"),
            "CommandNotFoundException",
        )
    }

    /// Something real PowerShell has, which this peer does not interpret.
    pub(super) fn unsupported(what: &str) -> Self {
        Self::new(
            what,
            format!("'{what}' is not supported by this WinRM test peer."),
            "NotImplemented: (:) [], NotSupportedException".into(),
            "NotSupportedException",
        )
    }

    pub(super) fn parse(what: &str, message: &str) -> Self {
        Self::new(
            what,
            message.to_owned(),
            "ParserError: (:) [], ParentContainsErrorRecordException".into(),
            "ParseError",
        )
    }

    pub(super) fn no_parameter(cmdlet: &str, name: &str) -> Self {
        Self::new(
            cmdlet,
            format!("A parameter cannot be found that matches parameter name '{name}'."),
            format!("InvalidArgument: (:) [{cmdlet}], ParameterBindingException"),
            &format!("NamedParameterNotFound,{cmdlet}"),
        )
    }

    pub(super) fn missing_argument(cmdlet: &str, name: &str) -> Self {
        Self::new(
            cmdlet,
            format!("Cannot bind argument to parameter '{name}' because it is null or missing."),
            format!("InvalidData: (:) [{cmdlet}], ParameterBindingValidationException"),
            &format!("ParameterArgumentValidationError,{cmdlet}"),
        )
    }

    pub(super) fn path_not_found(cmdlet: &str, path: &str) -> Self {
        Self::new(
            cmdlet,
            format!("Cannot find path '{path}' because it does not exist."),
            format!("ObjectNotFound: ({path}:String) [{cmdlet}], ItemNotFoundException"),
            &format!("PathNotFound,{cmdlet}"),
        )
        .item()
    }

    /// A .NET method threw.
    pub(super) fn method(name: &str, argc: usize, e: &IoError) -> Self {
        Self::new(
            name,
            format!(
                "Exception calling \"{name}\" with \"{argc}\" argument(s): \"{}\"",
                e.message
            ),
            "NotSpecified: (:) [], MethodInvocationException".into(),
            e.kind,
        )
    }

    pub(super) fn no_method(type_name: &str, name: &str) -> Self {
        Self::new(
            name,
            format!(
                "Method invocation failed because [{type_name}] does not contain a method named '{name}'."
            ),
            "InvalidOperation: (:) [], RuntimeException".into(),
            "MethodNotFound",
        )
    }
}

/// An error record as the console host formats it.
pub(super) fn record(e: &PsError, line_no: usize, stmt: &str) -> String {
    let underline = "~".repeat(e.command.chars().count().max(1));
    let first_line = stmt.lines().next().unwrap_or_default();
    format!(
        "{} : {}\r\nAt line:{line_no} char:1\r\n+ {first_line}\r\n+ {underline}\r\n    + CategoryInfo          : {}\r\n    \
         + FullyQualifiedErrorId : {}\r\n \r\n",
        e.command, e.message, e.category, e.id
    )
}

/// Error records serialized the way powershell.exe writes redirected stderr.
pub(super) fn clixml(errors: &[String]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">",
    );
    for line in errors.iter().flat_map(|e| e.split_inclusive("\r\n")) {
        let escaped = crate::soap::escape(line)
            .replace('\r', "_x000D_")
            .replace('\n', "_x000A_");
        out.push_str(&format!("<S S=\"Error\">{escaped}</S>"));
    }
    out.push_str("</Objs>");
    out
}

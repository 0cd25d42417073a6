//! The .NET members scripts call directly: `[Convert]` base64,
//! `[IO.File]`, `[IO.Directory]`, `[IO.FileMode]`, and the `FileStream`
//! that `[IO.File]::Open` returns. Relative paths resolve against the
//! process's current directory, not the PowerShell location, as in .NET.

use std::sync::{MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::Interp;
use super::errors::PsError;
use super::value::Value;
use crate::fs::{Fs, FullPath, IoError};

const FILE_MODES: [&str; 6] = [
    "CreateNew",
    "Create",
    "Open",
    "OpenOrCreate",
    "Truncate",
    "Append",
];

fn bad_count(method: &str, n: usize) -> PsError {
    PsError::new(
        method,
        format!("Cannot find an overload for \"{method}\" and the argument count: \"{n}\"."),
        "NotSpecified: (:) [], MethodException".into(),
        "MethodCountCouldNotFindBest",
    )
}

fn bad_argument(method: &str, v: &Value, want: &str) -> PsError {
    PsError::new(
        method,
        format!(
            "Cannot convert argument \"{}\", with value: \"{}\", for \"{method}\" to type \"{want}\".",
            v.type_name(),
            v.text()
        ),
        "NotSpecified: (:) [], MethodException".into(),
        "MethodArgumentConversionInvalidCastArgument",
    )
}

impl Interp<'_> {
    pub(super) fn fs(&self) -> MutexGuard<'_, Fs> {
        self.host.fs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A path argument of a .NET method, resolved against the process
    /// directory.
    fn net_path(&self, method: &str, argc: usize, v: &Value) -> Result<FullPath, PsError> {
        let text = v.text();
        crate::fs::resolve(&self.ctx.cwd, &text).ok_or_else(|| {
            let e = IoError {
                kind: "NotSupportedException",
                message: format!("The given path's format is not supported: '{text}'."),
            };
            PsError::method(method, argc, &e)
        })
    }

    /// `[Type]::Member` (`args` is `None`) or `[Type]::Method(args)`.
    pub(super) fn call_static(
        &mut self,
        type_name: &str,
        member: &str,
        args: Option<Vec<Value>>,
    ) -> Result<Value, PsError> {
        let lower = type_name.trim().to_ascii_lowercase();
        let ty = lower.strip_prefix("system.").unwrap_or(&lower);
        let full = match ty {
            "convert" => "System.Convert",
            "io.file" => "System.IO.File",
            "io.directory" => "System.IO.Directory",
            "io.filemode" => "System.IO.FileMode",
            _ => {
                return Err(PsError::new(
                    type_name,
                    format!("Unable to find type [{type_name}]."),
                    format!("InvalidOperation: ({type_name}:TypeName) [], RuntimeException"),
                    "TypeNotFound",
                ));
            }
        };
        let Some(args) = args else {
            return match FILE_MODES.iter().find(|m| m.eq_ignore_ascii_case(member)) {
                Some(mode) if full == "System.IO.FileMode" => {
                    Ok(Value::Enum("System.IO.FileMode", (*mode).to_owned()))
                }
                _ => Err(PsError::unsupported(&format!("[{type_name}]::{member}"))),
            };
        };
        let method = member.to_ascii_lowercase();
        let n = args.len();
        let want = |count: usize| {
            if n == count {
                Ok(())
            } else {
                Err(bad_count(member, n))
            }
        };
        let io = |e: IoError| PsError::method(member, n, &e);
        match (full, method.as_str()) {
            ("System.Convert", "frombase64string") => {
                want(1)?;
                let text: String = args[0].text().split_whitespace().collect();
                B64.decode(text).map(Value::Bytes).map_err(|_| {
                    io(IoError {
                        kind: "FormatException",
                        message: "The input is not a valid Base-64 string as it contains a non-base 64 character, \
                                  more than two padding characters, or an illegal character among the padding characters. "
                            .into(),
                    })
                })
            }
            ("System.Convert", "tobase64string") => {
                want(1)?;
                match &args[0] {
                    Value::Bytes(b) => Ok(Value::Str(B64.encode(b))),
                    other => Err(bad_argument(member, other, "System.Byte[]")),
                }
            }
            ("System.IO.File", "exists") => {
                want(1)?;
                let text = args[0].text();
                let found =
                    crate::fs::resolve(&self.ctx.cwd, &text).is_some_and(|p| self.fs().is_file(&p));
                Ok(Value::Bool(found))
            }
            ("System.IO.Directory", "exists") => {
                want(1)?;
                let text = args[0].text();
                let found =
                    crate::fs::resolve(&self.ctx.cwd, &text).is_some_and(|p| self.fs().is_dir(&p));
                Ok(Value::Bool(found))
            }
            ("System.IO.Directory", "createdirectory") => {
                want(1)?;
                let p = self.net_path(member, n, &args[0])?;
                self.fs().create_dir_all(&p).map_err(io)?;
                Ok(Value::Dir(p.display))
            }
            ("System.IO.File", "writeallbytes") => {
                want(2)?;
                let p = self.net_path(member, n, &args[0])?;
                let Value::Bytes(bytes) = &args[1] else {
                    return Err(bad_argument(member, &args[1], "System.Byte[]"));
                };
                self.fs().write(&p, bytes.clone()).map_err(io)?;
                Ok(Value::Null)
            }
            ("System.IO.File", "writealltext") => {
                want(2)?;
                let p = self.net_path(member, n, &args[0])?;
                self.fs()
                    .write(&p, args[1].text().into_bytes())
                    .map_err(io)?;
                Ok(Value::Null)
            }
            ("System.IO.File", "readallbytes") => {
                want(1)?;
                let p = self.net_path(member, n, &args[0])?;
                self.fs().read(&p).map(Value::Bytes).map_err(io)
            }
            ("System.IO.File", "readalltext") => {
                want(1)?;
                let p = self.net_path(member, n, &args[0])?;
                let bytes = self.fs().read(&p).map_err(io)?;
                let text = String::from_utf8_lossy(&bytes);
                Ok(Value::Str(text.trim_start_matches('\u{feff}').to_owned()))
            }
            ("System.IO.File", "delete") => {
                want(1)?;
                let p = self.net_path(member, n, &args[0])?;
                self.fs().delete_file(&p).map_err(io)?;
                Ok(Value::Null)
            }
            ("System.IO.File", "move") => {
                want(2)?;
                let from = self.net_path(member, n, &args[0])?;
                let to = self.net_path(member, n, &args[1])?;
                self.fs().move_file(&from, &to, false).map_err(io)?;
                Ok(Value::Null)
            }
            ("System.IO.File", "open") => {
                want(2)?;
                let p = self.net_path(member, n, &args[0])?;
                let mode = args[1].text();
                let mut fs = self.fs();
                match mode.to_ascii_lowercase().as_str() {
                    "append" => fs.append(&p, &[]).map_err(io)?,
                    "create" => fs.write(&p, Vec::new()).map_err(io)?,
                    "createnew" if fs.is_file(&p) => {
                        return Err(io(IoError {
                            kind: "IOException",
                            message: format!("The file '{}' already exists.", p.display),
                        }));
                    }
                    "createnew" => fs.write(&p, Vec::new()).map_err(io)?,
                    _ => {
                        return Err(PsError::unsupported(&format!(
                            "[IO.File]::Open with the mode {mode}"
                        )));
                    }
                }
                drop(fs);
                self.streams.push(Some(p));
                Ok(Value::Stream(self.streams.len() - 1))
            }
            _ => Err(PsError::no_method(full, member)),
        }
    }

    /// A method of a `FileStream` opened for appending.
    pub(super) fn stream_method(
        &mut self,
        index: usize,
        name: &str,
        args: &[Value],
    ) -> Result<Value, PsError> {
        let method = name.to_ascii_lowercase();
        let path = self.streams.get(index).cloned().flatten();
        match (method.as_str(), path) {
            ("close" | "dispose", _) => {
                if let Some(slot) = self.streams.get_mut(index) {
                    *slot = None;
                }
                Ok(Value::Null)
            }
            ("write" | "flush", None) => Err(PsError::method(
                name,
                args.len(),
                &IoError {
                    kind: "ObjectDisposedException",
                    message: "Cannot access a closed file.".into(),
                },
            )),
            ("flush", Some(_)) => Ok(Value::Null),
            ("write", Some(path)) => {
                let [Value::Bytes(bytes), offset, count] = args else {
                    return Err(bad_count(name, args.len()));
                };
                let (Some(offset), Some(count)) = (offset.int(), count.int()) else {
                    return Err(bad_argument(name, offset, "System.Int32"));
                };
                let range = usize::try_from(offset)
                    .ok()
                    .zip(usize::try_from(count).ok())
                    .and_then(|(o, c)| Some(o..o.checked_add(c)?))
                    .filter(|r| r.end <= bytes.len());
                let Some(range) = range else {
                    return Err(PsError::method(
                        name,
                        3,
                        &IoError {
                            kind: "ArgumentException",
                            message: "Offset and length were out of bounds for the array or count is greater \
                                      than the number of elements from index to the end of the source collection."
                                .into(),
                        },
                    ));
                };
                self.fs()
                    .append(&path, &bytes[range])
                    .map_err(|e| PsError::method(name, 3, &e))?;
                Ok(Value::Null)
            }
            _ => Err(PsError::no_method("System.IO.FileStream", name)),
        }
    }
}

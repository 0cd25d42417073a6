//! Targets as CSV: one row a target; credentials by name or id; tags `;`-separated.

use std::collections::HashMap;

use uuid::Uuid;

use super::{
    FieldError, HostKeyPolicy, HttpSettings, OsType, SshSettings, TargetSpec, WinrmScheme,
    WinrmSettings,
};

/// The columns, in order.
pub const COLUMNS: [&str; 16] = [
    "name",
    "hostname",
    "os_type",
    "pool",
    "enabled",
    "tags",
    "metadata",
    "ssh_port",
    "ssh_credential",
    "ssh_host_key_policy",
    "winrm_scheme",
    "winrm_port",
    "winrm_credential",
    "winrm_verify_tls",
    "http_base_url",
    "http_credential",
];

fn e(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn parse_bool(field: &str, v: &str, default: bool) -> Result<bool, FieldError> {
    match v.trim().to_lowercase().as_str() {
        "" => Ok(default),
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(e(field, "must be true or false")),
    }
}

fn parse_port(field: &str, v: &str) -> Result<Option<u16>, FieldError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    v.trim()
        .parse::<u16>()
        .map(Some)
        .map_err(|_| e(field, "must be a port number"))
}

fn keep<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|x| errors.push(x)).ok()
}

/// Reads a CSV text into rows of target documents (or the row's errors).
/// `credentials` maps credential names to ids.
pub fn read(
    text: &str,
    credentials: &HashMap<String, Uuid>,
) -> Result<Vec<Result<TargetSpec, Vec<FieldError>>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|x| format!("CSV header: {x}"))?
        .clone();
    if let Some(unknown) = headers.iter().find(|h| !COLUMNS.contains(h)) {
        return Err(format!(
            "unknown CSV column {unknown:?}; columns are {}",
            COLUMNS.join(",")
        ));
    }
    for required in ["name", "hostname", "os_type"] {
        if !headers.iter().any(|h| h == required) {
            return Err(format!("the CSV needs a {required} column"));
        }
    }
    let credential = |field: &str, v: &str| -> Result<Option<Uuid>, FieldError> {
        if v.is_empty() {
            return Ok(None);
        }
        if let Ok(id) = v.parse::<Uuid>() {
            return Ok(Some(id));
        }
        credentials
            .get(v)
            .copied()
            .map(Some)
            .ok_or_else(|| e(field, format!("no credential named {v:?}")))
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|x| format!("CSV: {x}"))?;
        let get = |col: &str| {
            headers
                .iter()
                .position(|h| h == col)
                .and_then(|i| record.get(i))
                .unwrap_or("")
        };
        let mut errors = Vec::new();
        let os_type = keep(
            &mut errors,
            serde_json::from_value::<OsType>(serde_json::json!(get("os_type"))).map_err(|_| {
                e(
                    "os_type",
                    "must be windows, linux, unix, network_device or other",
                )
            }),
        );
        let enabled = keep(&mut errors, parse_bool("enabled", get("enabled"), true));
        let metadata = if get("metadata").is_empty() {
            Some(Default::default())
        } else {
            keep(
                &mut errors,
                crate::strict::numbers_in_range(get("metadata").as_bytes())
                    .map_err(|why| e("metadata", &why))
                    .and_then(|()| {
                        serde_json::from_str(get("metadata"))
                            .map_err(|_| e("metadata", "must be a JSON object"))
                    }),
            )
        };
        let ssh = match keep(
            &mut errors,
            credential("ssh_credential", get("ssh_credential")),
        )
        .flatten()
        {
            None => None,
            Some(credential_id) => {
                let policy = match get("ssh_host_key_policy") {
                    "" | "strict" => Some(HostKeyPolicy::Strict),
                    "accept-new" => Some(HostKeyPolicy::AcceptNew),
                    _ => keep(
                        &mut errors,
                        Err(e("ssh_host_key_policy", "must be strict or accept-new")),
                    ),
                };
                let port = keep(&mut errors, parse_port("ssh_port", get("ssh_port")))
                    .flatten()
                    .unwrap_or(22);
                policy.map(|host_key_policy| SshSettings {
                    port,
                    credential_id,
                    connect_timeout_secs: 10,
                    host_key_policy,
                })
            }
        };
        let winrm = match keep(
            &mut errors,
            credential("winrm_credential", get("winrm_credential")),
        )
        .flatten()
        {
            None => None,
            Some(credential_id) => {
                let scheme = match get("winrm_scheme") {
                    "" | "https" => Some(WinrmScheme::Https),
                    "http" => Some(WinrmScheme::Http),
                    _ => keep(&mut errors, Err(e("winrm_scheme", "must be http or https"))),
                };
                let port = keep(&mut errors, parse_port("winrm_port", get("winrm_port"))).flatten();
                let verify_tls = keep(
                    &mut errors,
                    parse_bool("winrm_verify_tls", get("winrm_verify_tls"), true),
                )
                .unwrap_or(true);
                scheme.map(|scheme| WinrmSettings {
                    scheme,
                    port,
                    credential_id,
                    verify_tls,
                })
            }
        };
        let http = if get("http_base_url").is_empty() {
            None
        } else {
            let credential_id = keep(
                &mut errors,
                credential("http_credential", get("http_credential")),
            )
            .flatten();
            Some(HttpSettings {
                base_url: get("http_base_url").to_owned(),
                credential_id,
                verify_tls: true,
            })
        };
        let pool = if get("pool").is_empty() {
            "default".to_owned()
        } else {
            get("pool").to_owned()
        };
        let tags = get("tags")
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        rows.push(match (errors.is_empty(), os_type, enabled, metadata) {
            (true, Some(os_type), Some(enabled), Some(metadata)) => Ok(TargetSpec {
                name: get("name").to_owned(),
                hostname: get("hostname").to_owned(),
                os_type,
                ssh,
                winrm,
                http,
                tags,
                metadata,
                pool,
                enabled,
            }),
            _ => Err(errors),
        });
    }
    Ok(rows)
}

/// Writes target documents as CSV (credentials by id).
pub fn write(targets: &[TargetSpec]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(COLUMNS);
    for t in targets {
        let s = t.ssh.as_ref();
        let wr = t.winrm.as_ref();
        let h = t.http.as_ref();
        let opt = |v: Option<String>| v.unwrap_or_default();
        let fields = [
            t.name.clone(),
            t.hostname.clone(),
            t.os_type.as_str().to_owned(),
            t.pool.clone(),
            t.enabled.to_string(),
            t.tags.join(";"),
            if t.metadata.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&t.metadata).unwrap_or_default()
            },
            opt(s.map(|s| s.port.to_string())),
            opt(s.map(|s| s.credential_id.to_string())),
            opt(s.map(|s| {
                if s.host_key_policy == HostKeyPolicy::Strict {
                    "strict"
                } else {
                    "accept-new"
                }
                .to_owned()
            })),
            opt(wr.map(|w| {
                if w.scheme == WinrmScheme::Http {
                    "http"
                } else {
                    "https"
                }
                .to_owned()
            })),
            opt(wr.and_then(|w| w.port).map(|p| p.to_string())),
            opt(wr.map(|w| w.credential_id.to_string())),
            opt(wr.map(|w| w.verify_tls.to_string())),
            opt(h.map(|h| h.base_url.clone())),
            opt(h.and_then(|h| h.credential_id).map(|c| c.to_string())),
        ];
        // Neutralise spreadsheet formulas in exported text.
        let safe: Vec<String> = fields
            .into_iter()
            .map(|f| {
                if f.starts_with(['=', '+', '@', '\t', '\r']) {
                    format!("'{f}")
                } else {
                    f
                }
            })
            .collect();
        let _ = w.write_record(&safe);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

//! `[telemetry]`: OpenTelemetry traces exported over OTLP/HTTP (protobuf).
//! Off unless `otlp_endpoint` is set.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Role};

/// `[telemetry]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Base address of an OTLP/HTTP collector, e.g. `http://collector:4318`
    /// (spans go to `<endpoint>/v1/traces`). None (the default): no traces.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of this process's spans; default
    /// `opsconductor-<role>` (roles joined by `+` when several run here).
    pub service_name: Option<String>,
    /// Share of new traces recorded (0.0 to 1.0); a trace started
    /// elsewhere follows its parent's decision.
    pub sample_ratio: f64,
    /// Seconds one export to the collector may take before it is given up.
    pub export_timeout_secs: u64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: None,
            sample_ratio: 1.0,
            export_timeout_secs: 10,
        }
    }
}

impl TelemetryConfig {
    /// Whether traces are exported.
    pub fn enabled(&self) -> bool {
        self.otlp_endpoint.is_some()
    }

    /// The URL spans are posted to: the endpoint with `/v1/traces`
    /// appended, unless it already ends with it.
    pub fn traces_url(&self) -> Option<String> {
        let base = self.otlp_endpoint.as_deref()?.trim().trim_end_matches('/');
        Some(if base.ends_with("/v1/traces") {
            base.to_owned()
        } else {
            format!("{base}/v1/traces")
        })
    }

    /// The `service.name` for a process running `roles`.
    pub fn service_name_for(&self, roles: &[Role]) -> String {
        if let Some(name) = &self.service_name {
            return name.clone();
        }
        let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
        match names.as_slice() {
            [] => "opsconductor".to_owned(),
            _ => format!("opsconductor-{}", names.join("+")),
        }
    }

    /// Refuses a malformed endpoint, ratio, timeout or service name.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(endpoint) = &self.otlp_endpoint {
            let ok = url::Url::parse(endpoint.trim()).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty())
                    && u.query().is_none()
                    && u.fragment().is_none()
            });
            if !ok {
                return Err(ConfigError::new(
                    "telemetry.otlp_endpoint",
                    format!(
                        "{endpoint:?} is not an http:// or https:// collector address like http://collector:4318"
                    ),
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.sample_ratio) {
            return Err(ConfigError::new(
                "telemetry.sample_ratio",
                "must be between 0.0 and 1.0",
            ));
        }
        if !(1..=300).contains(&self.export_timeout_secs) {
            return Err(ConfigError::new(
                "telemetry.export_timeout_secs",
                "must be between 1 and 300",
            ));
        }
        if let Some(name) = &self.service_name {
            let ok = !name.trim().is_empty()
                && name.len() <= 128
                && name.chars().all(|c| c.is_ascii_graphic());
            if !ok {
                return Err(ConfigError::new(
                    "telemetry.service_name",
                    "must be 1-128 printable characters without spaces",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_endpoint(e: &str) -> TelemetryConfig {
        TelemetryConfig {
            otlp_endpoint: Some(e.to_owned()),
            ..TelemetryConfig::default()
        }
    }

    #[test]
    fn off_by_default() {
        let t = TelemetryConfig::default();
        assert!(!t.enabled());
        assert_eq!(t.traces_url(), None);
        assert!(t.validate().is_ok());
    }

    #[test]
    fn endpoint_gets_the_traces_path_once() {
        assert_eq!(
            with_endpoint("http://collector:4318/")
                .traces_url()
                .as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(
            with_endpoint("https://c.example.com/v1/traces")
                .traces_url()
                .as_deref(),
            Some("https://c.example.com/v1/traces")
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_setting_named() {
        for bad in [
            "collector:4318",
            "ftp://c:21",
            "http://",
            "not a url",
            "http://c?x=1",
        ] {
            let e = with_endpoint(bad).validate().unwrap_err();
            assert!(
                e.setting
                    .contains("telemetry.otlp_endpoint (OPSC_TELEMETRY_OTLP_ENDPOINT)"),
                "{bad}: {e}"
            );
        }
        let ratio = TelemetryConfig {
            sample_ratio: 1.5,
            ..TelemetryConfig::default()
        };
        assert!(ratio.validate().is_err());
        let timeout = TelemetryConfig {
            export_timeout_secs: 0,
            ..TelemetryConfig::default()
        };
        assert!(timeout.validate().is_err());
    }

    #[test]
    fn service_name_defaults_to_the_roles() {
        let t = TelemetryConfig::default();
        assert_eq!(t.service_name_for(&[Role::Worker]), "opsconductor-worker");
        assert_eq!(
            t.service_name_for(&[Role::Api, Role::Notifier]),
            "opsconductor-api+notifier"
        );
        let named = TelemetryConfig {
            service_name: Some("ops-eu".to_owned()),
            ..t
        };
        assert_eq!(named.service_name_for(&[Role::Api]), "ops-eu");
    }
}

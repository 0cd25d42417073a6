//! Opening the installation's KV buckets.
//!
//! Buckets are provisioned with the rest of the topology (their streams are
//! created directly, which works on NATS 2.9 and current releases alike);
//! roles open them by suffix with [`Bus::bucket`].

use async_nats::jetstream::kv;

use super::Bus;

/// Why a bucket could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open KV bucket {name}: {reason}")]
pub struct BucketError {
    /// The full bucket name.
    pub name: String,
    /// The server's or client's reason.
    pub reason: String,
}

impl Bus {
    /// The full name of the bucket with this suffix (`<prefix>_<suffix>`,
    /// see `opsc_proto::topology::bucket`).
    pub fn bucket_name(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.prefix())
    }

    /// Opens the bucket with this suffix (see `opsc_proto::topology::bucket`).
    pub async fn bucket(&self, suffix: &str) -> Result<kv::Store, BucketError> {
        let name = self.bucket_name(suffix);
        self.js.get_key_value(&name).await.map_err(|e| BucketError {
            name: name.clone(),
            reason: e.to_string(),
        })
    }
}

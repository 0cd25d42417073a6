//! Parsed job versions, kept in memory: a version never changes once
//! stored, so an entry never goes stale. Admission reads the definition of
//! every run; this saves the database a read and the api a parse.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opsc_proto::job::JobDefinition;
use uuid::Uuid;

/// Versions kept at most; past it the cache starts over (it refills with
/// what is used).
const CAPACITY: usize = 4096;

/// Definitions by job and version.
type Entries = HashMap<(Uuid, i32), Arc<JobDefinition>>;

/// The cache; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct DefinitionCache {
    entries: Arc<Mutex<Entries>>,
}

impl DefinitionCache {
    /// The definition of `job` at `version`, if cached.
    pub fn get(&self, job: Uuid, version: i32) -> Option<Arc<JobDefinition>> {
        self.entries.lock().ok()?.get(&(job, version)).cloned()
    }

    /// Remembers a definition.
    pub fn put(&self, job: Uuid, version: i32, def: Arc<JobDefinition>) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert((job, version), def);
        }
    }

    /// Forgets every version of `job` (it was deleted: a new job could not
    /// reuse its id, but memory need not hold it).
    pub fn forget(&self, job: Uuid) {
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|(j, _), _| *j != job);
        }
    }
}

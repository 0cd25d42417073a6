//! Names in documents: a job definition may name its targets and groups, a
//! target document its credentials, and a group document its members by
//! name as well as by id ([`opsc_proto::job::Ref`]). Before such a document
//! is read strictly, every name in it is replaced by the id it resolves to,
//! so what is stored, exported and sent on the bus holds ids only.
//!
//! A name resolves to the one target (group, credential) named exactly so,
//! or else to the only one whose name equals it ignoring case; none is
//! "unknown", several are "ambiguous", each an error at the name's place.
//! Names resolve among everything an operator may list (targets, groups and
//! credentials are all listable by operators, the only callers who save
//! these documents), so an error says nothing the caller could not read;
//! whether a resolved credential may be used is decided afterwards exactly
//! as for an id (its type, then its scope), with the same words.

use std::collections::HashMap;

use opsc_proto::job::Ref;
use opsc_proto::job_check::PathError;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use super::FieldError;
use crate::store::{credential, target, target_group};

/// What a name in a document stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A target.
    Target,
    /// A target group.
    Group,
    /// A credential.
    Credential,
}

impl Kind {
    /// The noun in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Target => "target",
            Self::Group => "group",
            Self::Credential => "credential",
        }
    }
}

/// Resolves names against the database, loading each kind's names once.
pub struct Resolver<'a, C> {
    db: &'a C,
    loaded: HashMap<Kind, Vec<(Uuid, String)>>,
}

impl<C> std::fmt::Debug for Resolver<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("loaded", &self.loaded.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<'a, C: ConnectionTrait> Resolver<'a, C> {
    /// A resolver reading `db`.
    pub fn new(db: &'a C) -> Self {
        Self {
            db,
            loaded: HashMap::new(),
        }
    }

    async fn names(&mut self, kind: Kind) -> Result<&[(Uuid, String)], sea_orm::DbErr> {
        if !self.loaded.contains_key(&kind) {
            let rows: Vec<(Uuid, String)> = match kind {
                Kind::Target => {
                    target::Entity::find()
                        .select_only()
                        .columns([target::Column::Id, target::Column::Name])
                        .into_tuple()
                        .all(self.db)
                        .await?
                }
                Kind::Group => {
                    target_group::Entity::find()
                        .select_only()
                        .columns([target_group::Column::Id, target_group::Column::Name])
                        .into_tuple()
                        .all(self.db)
                        .await?
                }
                Kind::Credential => {
                    credential::Entity::find()
                        .select_only()
                        .columns([credential::Column::Id, credential::Column::Name])
                        .into_tuple()
                        .all(self.db)
                        .await?
                }
            };
            self.loaded.insert(kind, rows);
        }
        Ok(self
            .loaded
            .get(&kind)
            .map(Vec::as_slice)
            .unwrap_or_default())
    }

    /// The id `text` stands for, or why it stands for none. An id is taken
    /// as it is (whether it exists is the document's validation's concern,
    /// as before names were accepted).
    pub async fn resolve(
        &mut self,
        kind: Kind,
        text: &str,
    ) -> Result<Result<Uuid, String>, sea_orm::DbErr> {
        let name = match Ref::parse(text) {
            Ref::Id(id) => return Ok(Ok(id)),
            Ref::Name(name) => name,
        };
        let all = self.names(kind).await?;
        if let Some((id, _)) = all.iter().find(|(_, n)| *n == name) {
            return Ok(Ok(*id));
        }
        let folded = name.to_lowercase();
        let like: Vec<&(Uuid, String)> = all
            .iter()
            .filter(|(_, n)| n.to_lowercase() == folded)
            .collect();
        let noun = kind.noun();
        Ok(match like.as_slice() {
            [] => Err(format!("no {noun} named `{name}`")),
            [(id, _)] => Ok(*id),
            several => {
                let mut shown: Vec<String> =
                    several.iter().map(|(_, n)| format!("`{n}`")).collect();
                shown.sort();
                Err(format!(
                    "`{name}` is ambiguous: {} {noun}s have that name when case is ignored ({}); use the exact name or the id",
                    several.len(),
                    shown.join(", ")
                ))
            }
        })
    }

    /// Replaces the names at `pointer` in `doc` (a string, or an array of
    /// them; anything else is left for the strict reading to judge) by ids.
    /// Every name that does not resolve is an error at its place; returns
    /// how many names were replaced.
    pub async fn rewrite(
        &mut self,
        doc: &mut Value,
        pointer: &str,
        kind: Kind,
        errors: &mut Vec<PathError>,
    ) -> Result<usize, sea_orm::DbErr> {
        let Some(slot) = doc.pointer_mut(pointer) else {
            return Ok(0);
        };
        let mut places: Vec<(String, &mut Value)> = match slot {
            Value::Array(items) => items
                .iter_mut()
                .enumerate()
                .map(|(i, v)| (format!("{pointer}/{i}"), v))
                .collect(),
            other => vec![(pointer.to_owned(), other)],
        };
        let mut replaced = 0;
        for (at, value) in &mut places {
            let Some(text) = value.as_str() else {
                continue;
            };
            if matches!(Ref::parse(text), Ref::Id(_)) {
                continue;
            }
            match self.resolve(kind, text).await? {
                Ok(id) => {
                    **value = Value::String(id.to_string());
                    replaced += 1;
                }
                Err(why) => errors.push(PathError::new(at.clone(), why)),
            }
        }
        Ok(replaced)
    }
}

/// Where a job definition names targets and groups: the job's selection
/// and each step's.
pub fn job_places(doc: &Value) -> Vec<(String, Kind)> {
    let steps = doc
        .get("steps")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut places = vec![
        ("/targets/targets".to_owned(), Kind::Target),
        ("/targets/groups".to_owned(), Kind::Group),
    ];
    for i in 0..steps {
        places.push((format!("/steps/{i}/targets/targets"), Kind::Target));
        places.push((format!("/steps/{i}/targets/groups"), Kind::Group));
    }
    places
}

/// Where a target document names credentials.
pub const TARGET_PLACES: [(&str, Kind); 3] = [
    ("/ssh/credential_id", Kind::Credential),
    ("/winrm/credential_id", Kind::Credential),
    ("/http/credential_id", Kind::Credential),
];

/// Where a group document names targets.
pub const GROUP_PLACES: [(&str, Kind); 1] = [("/members", Kind::Target)];

/// Replaces every name at `places` in `doc`; the errors (empty when every
/// name resolved) and how many names were replaced.
pub async fn rewrite_all<C: ConnectionTrait>(
    resolver: &mut Resolver<'_, C>,
    doc: &mut Value,
    places: &[(String, Kind)],
) -> Result<(Vec<PathError>, usize), sea_orm::DbErr> {
    let mut errors = Vec::new();
    let mut replaced = 0;
    for (pointer, kind) in places {
        replaced += resolver.rewrite(doc, pointer, *kind, &mut errors).await?;
    }
    Ok((errors, replaced))
}

/// [`rewrite_all`] with a fixed list of places.
pub async fn rewrite_fixed<C: ConnectionTrait>(
    resolver: &mut Resolver<'_, C>,
    doc: &mut Value,
    places: &[(&str, Kind)],
) -> Result<Vec<PathError>, sea_orm::DbErr> {
    let owned: Vec<(String, Kind)> = places.iter().map(|(p, k)| ((*p).to_owned(), *k)).collect();
    Ok(rewrite_all(resolver, doc, &owned).await?.0)
}

/// Replaces the credential names of a target document (a JSON tree, not
/// yet read strictly) by ids; the errors of the fields naming none.
pub async fn target_document<C: ConnectionTrait>(
    resolver: &mut Resolver<'_, C>,
    doc: &mut Value,
) -> Result<Vec<FieldError>, sea_orm::DbErr> {
    Ok(fields(rewrite_fixed(resolver, doc, &TARGET_PLACES).await?))
}

/// Replaces the member names of a group document by ids; the errors of the
/// members naming no target.
pub async fn group_document<C: ConnectionTrait>(
    db: &C,
    doc: &mut Value,
) -> Result<Vec<FieldError>, sea_orm::DbErr> {
    let mut resolver = Resolver::new(db);
    Ok(fields(
        rewrite_fixed(&mut resolver, doc, &GROUP_PLACES).await?,
    ))
}

fn fields(errors: Vec<PathError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| FieldError {
            field: field_of(&e.path),
            message: e.message,
        })
        .collect()
}

/// A document field as target and group errors name it (`ssh.credential_id`,
/// `members.2`) from its JSON pointer.
pub fn field_of(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_cover_the_job_and_every_step() {
        let doc = serde_json::json!({"steps": [{}, {}]});
        let places: Vec<String> = job_places(&doc).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            places,
            [
                "/targets/targets",
                "/targets/groups",
                "/steps/0/targets/targets",
                "/steps/0/targets/groups",
                "/steps/1/targets/targets",
                "/steps/1/targets/groups",
            ]
        );
        assert_eq!(field_of("/ssh/credential_id"), "ssh.credential_id");
        assert_eq!(field_of("/members/2"), "members.2");
    }
}

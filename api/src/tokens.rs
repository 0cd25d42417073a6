//! API tokens: long-lived bearer tokens for automation, owned by a user,
//! with a role no higher than the owner's.

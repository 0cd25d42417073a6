//! Inventory domains (credentials, targets, groups, connection tests) as problem+json.

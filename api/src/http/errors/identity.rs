//! Identity domains (logins, MFA, API tokens, audit queries) as problem+json.

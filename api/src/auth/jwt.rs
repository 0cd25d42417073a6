//! Access tokens: compact JWS with HS256, verified by `jsonwebtoken`.
//!
//! Only tokens this api issued are accepted. The header is checked strictly
//! first — exactly `{"alg":"HS256","typ":"JWT","kid":<current kid>}`, no
//! other field — because `jsonwebtoken` tolerates extra header fields; then
//! `jsonwebtoken` verifies the signature with the algorithm pinned to HS256
//! and requires `exp`, `iat`, `iss`, `aud` and `sub`, with the expected issuer
//! and audience. Unknown claims, other algorithms (`none` included), a string
//! `exp`, or a bad signature are all refused.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::DerivedKeys;

/// Issuer of every access token.
pub const ISSUER: &str = "opsconductor";
/// Audience of every access token.
pub const AUDIENCE: &str = "opsconductor-api";
/// The registered claims a token must carry.
const REQUIRED_CLAIMS: [&str; 5] = ["exp", "iat", "iss", "aud", "sub"];
/// How far in the future `iat` may lie (clock skew between replicas).
const IAT_SKEW_SECS: i64 = 60;

/// The header every token must carry, and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Token id.
    pub jti: Uuid,
    /// The session (refresh-token family) it belongs to; revoking the
    /// session revokes the token.
    pub sid: Uuid,
    /// Whether the session passed a second factor.
    pub mfa: bool,
}

/// Why a token was refused. Callers answer 401 for all of them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// Algorithm, type or key id not the pinned ones.
    #[error("unexpected token header")]
    Header,
    /// Signature does not verify.
    #[error("bad signature")]
    Signature,
    /// Claims missing, of the wrong type, or unknown.
    #[error("bad claims")]
    Claims,
    /// Wrong issuer or audience.
    #[error("wrong issuer or audience")]
    Audience,
    /// Past `exp`, or issued in the future.
    #[error("expired")]
    Expired,
}

impl From<&ErrorKind> for TokenError {
    fn from(kind: &ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => Self::Expired,
            ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience | ErrorKind::InvalidSubject => {
                Self::Audience
            }
            ErrorKind::InvalidAlgorithm
            | ErrorKind::MissingAlgorithm
            | ErrorKind::InvalidAlgorithmName => Self::Header,
            ErrorKind::MissingRequiredClaim(_)
            | ErrorKind::InvalidClaimFormat(_)
            | ErrorKind::Json(_) => Self::Claims,
            _ => Self::Malformed,
        }
    }
}

/// The pinned validation: HS256 only, every required claim, our issuer and
/// audience, no leeway on `exp`.
fn validation() -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&REQUIRED_CLAIMS);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.leeway = 0;
    v.validate_exp = true;
    v
}

/// Signs `claims` with the current key.
pub fn sign(keys: &DerivedKeys, claims: &Claims) -> String {
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some(keys.jwt_kid.clone());
    // Encoding only fails for a key of the wrong family or claims that do
    // not serialise; neither can happen with an HMAC key and these claims.
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&keys.jwt)).unwrap_or_default()
}

/// Checks the header before anything else is read: exactly the pinned
/// algorithm, type and key id.
fn check_header(keys: &DerivedKeys, token: &str) -> Result<(), TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Header)?;
    if header.alg != "HS256" || header.typ != "JWT" || header.kid != keys.jwt_kid {
        return Err(TokenError::Header);
    }
    Ok(())
}

/// Verifies a token at time `now` (seconds since the epoch) and returns its
/// claims.
pub fn verify(keys: &DerivedKeys, token: &str, now: i64) -> Result<Claims, TokenError> {
    check_header(keys, token)?;
    let claims =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&keys.jwt), &validation())
            .map_err(|e| TokenError::from(e.kind()))?
            .claims;
    // `jsonwebtoken` checks `exp` against the system clock; the caller's
    // clock decides too, and `iat` may not lie in the future.
    if claims.exp <= now || claims.iat > now + IAT_SKEW_SECS {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn keys() -> DerivedKeys {
        DerivedKeys::from_master(&[7u8; 32])
    }

    fn claims(now: i64) -> Claims {
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: Uuid::now_v7(),
            iat: now,
            exp: now + 900,
            jti: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            mfa: false,
        }
    }

    fn forge(header: &serde_json::Value, claims: &serde_json::Value, key: &[u8]) -> String {
        let h = B64.encode(header.to_string());
        let c = B64.encode(claims.to_string());
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        m.update(format!("{h}.{c}").as_bytes());
        format!("{h}.{c}.{}", B64.encode(m.finalize().into_bytes()))
    }

    #[test]
    fn round_trip() {
        let now = now();
        let c = claims(now);
        assert_eq!(verify(&keys(), &sign(&keys(), &c), now).unwrap(), c);
    }

    #[test]
    fn refuses_alg_none_other_keys_and_algorithms() {
        let k = keys();
        let now = now();
        let c = serde_json::to_value(claims(now)).unwrap();
        let none = format!(
            "{}.{}.",
            B64.encode(serde_json::json!({"alg":"none","typ":"JWT","kid":k.jwt_kid}).to_string()),
            B64.encode(c.to_string())
        );
        assert_eq!(verify(&k, &none, now), Err(TokenError::Header));
        let other_key = forge(
            &serde_json::json!({"alg":"HS256","typ":"JWT","kid":k.jwt_kid}),
            &c,
            &[9u8; 32],
        );
        assert_eq!(verify(&k, &other_key, now), Err(TokenError::Signature));
        let hs512 = forge(
            &serde_json::json!({"alg":"HS512","typ":"JWT","kid":k.jwt_kid}),
            &c,
            &k.jwt,
        );
        assert_eq!(verify(&k, &hs512, now), Err(TokenError::Header));
        let other_kid = forge(
            &serde_json::json!({"alg":"HS256","typ":"JWT","kid":"k0"}),
            &c,
            &k.jwt,
        );
        assert_eq!(verify(&k, &other_kid, now), Err(TokenError::Header));
    }

    #[test]
    fn refuses_expired_string_exp_missing_and_extra_claims() {
        let k = keys();
        let now = now();
        let h = serde_json::json!({"alg":"HS256","typ":"JWT","kid":k.jwt_kid});
        let mut c = serde_json::to_value(claims(now)).unwrap();
        assert_eq!(
            verify(&k, &forge(&h, &c, &k.jwt), now + 901),
            Err(TokenError::Expired)
        );
        c["exp"] = serde_json::json!((now + 900).to_string());
        assert_eq!(
            verify(&k, &forge(&h, &c, &k.jwt), now),
            Err(TokenError::Claims)
        );
        let mut missing = serde_json::to_value(claims(now)).unwrap();
        missing.as_object_mut().unwrap().remove("aud");
        assert_eq!(
            verify(&k, &forge(&h, &missing, &k.jwt), now),
            Err(TokenError::Claims)
        );
        let mut extra = serde_json::to_value(claims(now)).unwrap();
        extra["role"] = serde_json::json!("admin");
        assert_eq!(
            verify(&k, &forge(&h, &extra, &k.jwt), now),
            Err(TokenError::Claims)
        );
        let mut aud = serde_json::to_value(claims(now)).unwrap();
        aud["aud"] = serde_json::json!("someone-else");
        assert_eq!(
            verify(&k, &forge(&h, &aud, &k.jwt), now),
            Err(TokenError::Audience)
        );
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let k = keys();
        let now = now();
        let token = sign(&k, &claims(now));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut c: serde_json::Value =
            serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
        c["sub"] = serde_json::json!(Uuid::nil());
        parts[1] = B64.encode(c.to_string());
        assert_eq!(
            verify(&k, &parts.join("."), now),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn requires_every_registered_claim_and_a_strict_header() {
        let k = keys();
        let now = now();
        let h = serde_json::json!({"alg":"HS256","typ":"JWT","kid":k.jwt_kid});
        for claim in ["exp", "iat", "iss", "sub"] {
            let mut c = serde_json::to_value(claims(now)).unwrap();
            c.as_object_mut().unwrap().remove(claim);
            assert_eq!(
                verify(&k, &forge(&h, &c, &k.jwt), now),
                Err(TokenError::Claims),
                "{claim}"
            );
        }
        let c = serde_json::to_value(claims(now)).unwrap();
        let extra = serde_json::json!({"alg":"HS256","typ":"JWT","kid":k.jwt_kid,"jku":"http://x"});
        assert_eq!(
            verify(&k, &forge(&extra, &c, &k.jwt), now),
            Err(TokenError::Header)
        );
        let no_kid = serde_json::json!({"alg":"HS256","typ":"JWT"});
        assert_eq!(
            verify(&k, &forge(&no_kid, &c, &k.jwt), now),
            Err(TokenError::Header)
        );
        // Expired by the system clock even when the caller's clock is stale.
        let mut old = claims(now - 3600);
        old.exp = now - 10;
        assert_eq!(
            verify(&k, &sign(&k, &old), now - 3600),
            Err(TokenError::Expired)
        );
        // Issued in the future.
        let future = claims(now + 600);
        assert_eq!(
            verify(&k, &sign(&k, &future), now),
            Err(TokenError::Expired)
        );
        assert_eq!(verify(&k, "a.b", now), Err(TokenError::Malformed));
    }
}

//! Access tokens: compact JWS with HS256, strictly parsed.
//!
//! Only tokens this api issued are accepted: the header must be exactly
//! `{"alg":"HS256","typ":"JWT","kid":<current kid>}`; the claims must carry
//! numeric `exp`, `iat`, and the expected `iss`, `aud` and `sub`; unknown
//! header fields or claims, other algorithms (`none` included), a string
//! `exp`, or a bad signature are all rejected the same way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::keys::DerivedKeys;

/// Issuer of every access token.
pub const ISSUER: &str = "opsconductor";
/// Audience of every access token.
pub const AUDIENCE: &str = "opsconductor-api";

#[derive(Debug, Serialize, Deserialize)]
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

fn mac(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// Signs `claims` with the current key.
pub fn sign(keys: &DerivedKeys, claims: &Claims) -> String {
    let header = Header {
        alg: "HS256".into(),
        typ: "JWT".into(),
        kid: keys.jwt_kid.clone(),
    };
    let h = B64.encode(serde_json::to_vec(&header).unwrap_or_default());
    let c = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{h}.{c}");
    let mut m = mac(&keys.jwt);
    m.update(signing_input.as_bytes());
    let sig = B64.encode(m.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// Verifies a token and returns its claims.
pub fn verify(keys: &DerivedKeys, token: &str, now: i64) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
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
    let sig = B64.decode(s).map_err(|_| TokenError::Malformed)?;
    let mut m = mac(&keys.jwt);
    m.update(h.as_bytes());
    m.update(b".");
    m.update(c.as_bytes());
    m.verify_slice(&sig).map_err(|_| TokenError::Signature)?;
    let claims: Claims = B64
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Claims)?;
    if claims.iss != ISSUER || claims.aud != AUDIENCE {
        return Err(TokenError::Audience);
    }
    // A minute of leeway for clock skew between replicas.
    if claims.exp <= now || claims.iat > now + 60 {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let now = 1_800_000_000;
        let c = claims(now);
        assert_eq!(verify(&keys(), &sign(&keys(), &c), now).unwrap(), c);
    }

    #[test]
    fn refuses_alg_none_other_keys_and_algorithms() {
        let k = keys();
        let now = 1_800_000_000;
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
        let now = 1_800_000_000;
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
        let now = 1_800_000_000;
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
}

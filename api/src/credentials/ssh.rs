//! SSH private keys: parse (with the passphrase), derive public key and fingerprint.

use russh::keys::HashAlg;

/// What is shown about a key.
#[derive(Debug)]
pub struct KeyFacts {
    /// e.g. `ssh-ed25519`.
    pub algorithm: String,
    /// OpenSSH public key line.
    pub public_key: String,
    /// `SHA256:…`.
    pub fingerprint: String,
}

/// Parses an OpenSSH or PEM (PKCS#1/PKCS#8) key; a passphrase is required
/// for an encrypted key and must be right.
pub fn inspect(pem: &str, passphrase: Option<&str>) -> Result<KeyFacts, String> {
    let key = russh::keys::decode_secret_key(pem.trim(), passphrase).map_err(|e| {
        let text = e.to_string().to_lowercase();
        if passphrase.is_some() {
            "the passphrase is wrong, or private_key is not a valid key".to_owned()
        } else if text.contains("encrypt")
            || text.contains("decrypt")
            || text.contains("passphrase")
        {
            "the private key is encrypted: give its passphrase".to_owned()
        } else {
            "private_key is not an OpenSSH or PEM private key (RSA, Ed25519, ECDSA)".to_owned()
        }
    })?;
    let public = key.public_key();
    Ok(KeyFacts {
        algorithm: public.algorithm().as_str().to_owned(),
        public_key: public.to_openssh().map_err(|e| e.to_string())?,
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
    })
}

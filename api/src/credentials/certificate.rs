//! PEM certificates: parse and derive subject, issuer and validity.

/// What is shown about a certificate.
#[derive(Debug)]
pub struct CertFacts {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Valid from (RFC 3339).
    pub not_before: String,
    /// Valid until (RFC 3339).
    pub not_after: String,
}

/// Parses the first certificate of a PEM text.
pub fn inspect(pem: &str) -> Result<CertFacts, String> {
    let bad = || "certificate must be a PEM X.509 certificate".to_owned();
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.trim().as_bytes()).map_err(|_| bad())?;
    let cert = pem.parse_x509().map_err(|_| bad())?;
    let ts = |t: x509_parser::time::ASN1Time| {
        chrono::DateTime::from_timestamp(t.timestamp(), 0)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default()
    };
    Ok(CertFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: ts(cert.validity().not_before),
        not_after: ts(cert.validity().not_after),
    })
}

//! Input validation for platform identifiers.
//!
//! - [`validate_slug`]: tenant/agent slugs, `[a-z0-9][a-z0-9-]{1,30}[a-z0-9]`.
//! - [`validate_email`]: the RFC 5322 `addr-spec` short form (`dot-atom@dot-atom`),
//!   no quoted strings, comments, IP literals, whitespace or control characters.
//!
//! Pseudonyms for personal data ([`Keyring::pseudonymize`](crate::Keyring::pseudonymize))
//! are in `pseudonym.rs`.

use crate::error::{Error, Result};

/// Checks a slug: 3 to 32 characters of `[a-z0-9-]`, starting and ending with `[a-z0-9]`.
///
/// # Errors
/// [`Error::InvalidArgument`].
pub fn validate_slug(s: &str) -> Result<()> {
    const MSG: &str = "slug must match [a-z0-9][a-z0-9-]{1,30}[a-z0-9]";
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.len() < 3 || b.len() > 32 {
        return Err(Error::InvalidArgument(MSG));
    }
    let (first, last) = (b[0], b[b.len() - 1]);
    if !alnum(first) || !alnum(last) || !b.iter().all(|&c| alnum(c) || c == b'-') {
        return Err(Error::InvalidArgument(MSG));
    }
    Ok(())
}

/// The largest email address accepted, in bytes (RFC 5321 path limit minus `<>`).
pub const MAX_EMAIL_LEN: usize = 254;

fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&c)
}

/// Checks an email address in the RFC 5322 short form: `local@domain`, where the
/// local part is a dot-atom (at most 64 bytes) and the domain is at least two
/// DNS labels (`[A-Za-z0-9]` and inner `-`, 1 to 63 bytes each). Quoted local parts,
/// comments, IP literals, spaces, newlines and other control characters are refused.
///
/// # Errors
/// [`Error::InvalidArgument`].
pub fn validate_email(s: &str) -> Result<()> {
    const MSG: &str = "email must be local@domain.tld in RFC 5322 dot-atom form";
    if s.len() > MAX_EMAIL_LEN {
        return Err(Error::InvalidArgument(MSG));
    }
    let (local, domain) = s.rsplit_once('@').ok_or(Error::InvalidArgument(MSG))?;
    if local.is_empty() || local.len() > 64 {
        return Err(Error::InvalidArgument(MSG));
    }
    for atom in local.split('.') {
        if atom.is_empty() || !atom.bytes().all(is_atext) {
            return Err(Error::InvalidArgument(MSG));
        }
    }
    let mut labels = 0usize;
    for label in domain.split('.') {
        let b = label.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-');
        if !ok {
            return Err(Error::InvalidArgument(MSG));
        }
        labels += 1;
    }
    if labels < 2 {
        return Err(Error::InvalidArgument(MSG));
    }
    Ok(())
}

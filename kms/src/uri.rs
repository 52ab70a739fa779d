//! The subset of RFC 7512 PKCS#11 URIs that names one AES secret key, parsed strictly.
//!
//! `pkcs11:<path-attr>(;<path-attr>)*[?<query-attr>(&<query-attr>)*]` with path attributes
//! `token`, `manufacturer`, `serial`, `model`, `slot-id`, `object`, `id`, `type` (only
//! `secret-key`) and the query attribute `pin-source` (only `file:<path>`). Values are
//! percent-decoded (RFC 3986). Refused, each with a fixed text naming it: another scheme,
//! an empty or repeated attribute, an unknown attribute, a character outside the RFC's
//! value alphabet, a bad percent escape, text that is not UTF-8 where text is expected,
//! `pin-value` (the URI is stored in the wrapped keyring's clear text: a PIN never goes
//! there) and `module-name` / `module-path` (which library to load comes from the
//! configuration, never from a stored text).
//!
//! The maintained crates.io parser (`pkcs11-uri` 0.1) is built on the older `pkcs11` crate and
//! `anyhow` and accepts more than this; this subset is small enough to parse here.

use crate::KmsError;
use percent_encoding::percent_decode_str;
use std::path::PathBuf;

/// A parsed PKCS#11 URI naming one secret key on one token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pkcs11Uri {
    /// Token label (`token=`).
    pub token: Option<String>,
    /// Token manufacturer (`manufacturer=`).
    pub manufacturer: Option<String>,
    /// Token serial number (`serial=`).
    pub serial: Option<String>,
    /// Token model (`model=`).
    pub model: Option<String>,
    /// Slot id (`slot-id=`).
    pub slot_id: Option<u64>,
    /// Key object label (`object=`).
    pub object: Option<String>,
    /// Key object id bytes (`id=`, percent-encoded).
    pub id: Option<Vec<u8>>,
    /// Where the user PIN is read from (`pin-source=file:<path>`).
    pub pin_file: Option<PathBuf>,
}

impl core::fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Nothing here is a secret, but a PIN file's path is shown only as present.
        f.debug_struct("Pkcs11Uri")
            .field("token", &self.token)
            .field("manufacturer", &self.manufacturer)
            .field("serial", &self.serial)
            .field("model", &self.model)
            .field("slot_id", &self.slot_id)
            .field("object", &self.object)
            .field("id", &self.id)
            .field("pin_file", &self.pin_file.is_some())
            .finish()
    }
}

/// The longest URI accepted (it is stored in every wrapped keyring).
pub const MAX_URI_LEN: usize = 4096;

fn bad(what: &'static str) -> KmsError {
    KmsError::InvalidKekSpec(what)
}

/// RFC 7512 `pk11-pchar` / `pk11-qchar` minus the separators: unreserved, `%`, and the
/// sub-delimiters it allows (`:` `[` `]` `@` `!` `$` `'` `(` `)` `*` `+` `,` `=`; `&` also in
/// path values, `/` `?` `|` also in query values).
fn value_char_ok(c: u8, query: bool) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b':'
                | b'['
                | b']'
                | b'@'
                | b'!'
                | b'$'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'='
        )
        || (!query && c == b'&')
        || (query && matches!(c, b'/' | b'?' | b'|'))
}

fn decode_bytes(raw: &str, query: bool) -> Result<Vec<u8>, KmsError> {
    let b = raw.as_bytes();
    if b.is_empty() {
        return Err(bad("PKCS#11 URI attribute with an empty value"));
    }
    for (i, &c) in b.iter().enumerate() {
        if !value_char_ok(c, query) {
            return Err(bad(
                "PKCS#11 URI value has a character that must be percent-encoded",
            ));
        }
        if c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(bad("PKCS#11 URI has a bad percent escape"));
        }
    }
    Ok(percent_decode_str(raw).collect())
}

fn decode_text(raw: &str, query: bool) -> Result<String, KmsError> {
    String::from_utf8(decode_bytes(raw, query)?)
        .map_err(|_| bad("PKCS#11 URI text value is not UTF-8"))
}

fn set<T>(slot: &mut Option<T>, v: T) -> Result<(), KmsError> {
    if slot.is_some() {
        return Err(bad("PKCS#11 URI repeats an attribute"));
    }
    *slot = Some(v);
    Ok(())
}

impl Pkcs11Uri {
    /// Parses `pkcs11:…` strictly (see the module docs).
    ///
    /// # Errors
    /// [`KmsError::InvalidKekSpec`] naming what is wrong; [`KmsError::KeyNotFound`] when the
    /// URI names no key object (neither `object` nor `id`).
    pub fn parse(uri: &str) -> Result<Pkcs11Uri, KmsError> {
        if uri.len() > MAX_URI_LEN {
            return Err(bad("PKCS#11 URI longer than 4096 bytes"));
        }
        let rest = match uri.get(..7) {
            Some(s) if s.eq_ignore_ascii_case("pkcs11:") => &uri[7..],
            _ => return Err(bad("PKCS#11 URI does not start with pkcs11:")),
        };
        if rest.contains('#') {
            return Err(bad("PKCS#11 URI has a fragment"));
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut u = Pkcs11Uri {
            token: None,
            manufacturer: None,
            serial: None,
            model: None,
            slot_id: None,
            object: None,
            id: None,
            pin_file: None,
        };
        let mut typ_seen = false;
        if !path.is_empty() {
            for attr in path.split(';') {
                let (name, raw) = attr
                    .split_once('=')
                    .ok_or_else(|| bad("PKCS#11 URI attribute without '='"))?;
                match name {
                    "token" => set(&mut u.token, decode_text(raw, false)?)?,
                    "manufacturer" => set(&mut u.manufacturer, decode_text(raw, false)?)?,
                    "serial" => set(&mut u.serial, decode_text(raw, false)?)?,
                    "model" => set(&mut u.model, decode_text(raw, false)?)?,
                    "object" => set(&mut u.object, decode_text(raw, false)?)?,
                    "id" => set(&mut u.id, decode_bytes(raw, false)?)?,
                    "slot-id" => {
                        let t = decode_text(raw, false)?;
                        if !t.bytes().all(|c| c.is_ascii_digit()) || t.len() > 20 {
                            return Err(bad("PKCS#11 URI slot-id is not a decimal number"));
                        }
                        let n = t
                            .parse::<u64>()
                            .map_err(|_| bad("PKCS#11 URI slot-id is not a decimal number"))?;
                        set(&mut u.slot_id, n)?;
                    }
                    "type" => {
                        if typ_seen {
                            return Err(bad("PKCS#11 URI repeats an attribute"));
                        }
                        typ_seen = true;
                        if decode_text(raw, false)? != "secret-key" {
                            return Err(bad("PKCS#11 URI type must be secret-key (an AES key)"));
                        }
                    }
                    "" => return Err(bad("PKCS#11 URI attribute without a name")),
                    _ => return Err(bad("PKCS#11 URI has an unknown path attribute")),
                }
            }
        }
        if let Some(q) = query {
            for attr in q.split('&') {
                let (name, raw) = attr
                    .split_once('=')
                    .ok_or_else(|| bad("PKCS#11 URI attribute without '='"))?;
                match name {
                    "pin-source" => {
                        let v = decode_text(raw, true)?;
                        let p = v.strip_prefix("file:").ok_or_else(|| {
                            bad("PKCS#11 URI pin-source must be file:<path>")
                        })?;
                        // file:///abs/path or file:/abs/path or file:relative
                        let p = p.strip_prefix("//").unwrap_or(p);
                        if p.is_empty() || p.contains('\0') {
                            return Err(bad("PKCS#11 URI pin-source has no path"));
                        }
                        set(&mut u.pin_file, PathBuf::from(p))?;
                    }
                    "pin-value" => {
                        return Err(bad(
                            "PKCS#11 URI pin-value is refused (the URI is stored in clear): use pin-source=file: or KEYCUSTODY_PKCS11_PIN",
                        ))
                    }
                    "module-name" | "module-path" => {
                        return Err(bad(
                            "PKCS#11 URI module-name/module-path is refused: set KEYCUSTODY_PKCS11_MODULE",
                        ))
                    }
                    _ => return Err(bad("PKCS#11 URI has an unknown query attribute")),
                }
            }
        }
        if u.object.is_none() && u.id.is_none() {
            return Err(KmsError::KeyNotFound(
                "the PKCS#11 URI names no key: add object=<label> or id=<%xx bytes>",
            ));
        }
        Ok(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_subset() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=My%20Token;object=kek-1;id=%01%a0;type=secret-key;slot-id=7?pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("My Token"));
        assert_eq!(u.object.as_deref(), Some("kek-1"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 0xa0][..]));
        assert_eq!(u.slot_id, Some(7));
        assert_eq!(
            u.pin_file.as_deref(),
            Some(std::path::Path::new("/run/pin"))
        );
        let u = Pkcs11Uri::parse("PKCS11:object=a?pin-source=file:///x/y").unwrap();
        assert_eq!(u.pin_file.as_deref(), Some(std::path::Path::new("/x/y")));
        assert!(format!("{u:?}").contains("pin_file: true"));
    }

    #[test]
    fn refuses_bad_uris_with_named_errors() {
        let cases: &[(&str, &str)] = &[
            ("pkcs12:object=a", "does not start with pkcs11:"),
            ("object=a", "does not start with pkcs11:"),
            ("pkcs11:object=a;object=b", "repeats an attribute"),
            ("pkcs11:object=", "empty value"),
            ("pkcs11:object", "without '='"),
            ("pkcs11:=a;object=b", "without a name"),
            ("pkcs11:object=a;color=red", "unknown path attribute"),
            ("pkcs11:object=a?foo=bar", "unknown query attribute"),
            ("pkcs11:object=a b", "must be percent-encoded"),
            ("pkcs11:object=a/b", "must be percent-encoded"),
            ("pkcs11:object=a%2", "bad percent escape"),
            ("pkcs11:object=a%zz", "bad percent escape"),
            ("pkcs11:object=%ff", "not UTF-8"),
            ("pkcs11:object=a#frag", "fragment"),
            ("pkcs11:object=a;type=private", "must be secret-key"),
            ("pkcs11:object=a;slot-id=-1", "slot-id"),
            ("pkcs11:object=a;slot-id=99999999999999999999", "slot-id"),
            ("pkcs11:object=a?pin-value=1234", "pin-value is refused"),
            (
                "pkcs11:object=a?module-path=/tmp/evil.so",
                "module-name/module-path is refused",
            ),
            (
                "pkcs11:object=a?pin-source=|cat",
                "pin-source must be file:",
            ),
            ("pkcs11:object=a?pin-source=file:", "no path"),
        ];
        for (uri, want) in cases {
            let e = Pkcs11Uri::parse(uri).unwrap_err();
            assert!(matches!(e, KmsError::InvalidKekSpec(_)), "{uri}: {e:?}");
            assert!(e.to_string().contains(want), "{uri}: {e}");
            assert!(!e.to_string().contains("1234"));
        }
        let long = format!("pkcs11:object={}", "a".repeat(MAX_URI_LEN));
        assert!(Pkcs11Uri::parse(&long).is_err());
    }

    #[test]
    fn a_uri_naming_no_key_says_what_is_missing() {
        for uri in [
            "pkcs11:",
            "pkcs11:token=t",
            "pkcs11:token=t?pin-source=file:/p",
        ] {
            let e = Pkcs11Uri::parse(uri).unwrap_err();
            assert!(matches!(e, KmsError::KeyNotFound(_)), "{uri}: {e:?}");
            assert!(e.to_string().contains("object=<label> or id="), "{e}");
        }
    }

    #[test]
    fn arbitrary_input_never_panics_and_ok_always_names_a_key() {
        // A deterministic xorshift over an alphabet of the grammar's own characters.
        const ALPHABET: &[u8] = b"pkcs11:;?&=%0aF/ #tokenobjectidtypeslot-idpin-sourcefile:\xff-";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut s = String::from(if x & 1 == 0 { "pkcs11:" } else { "" });
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 48) as usize;
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(ALPHABET[(x % ALPHABET.len() as u64) as usize] as char);
            }
            if let Ok(u) = Pkcs11Uri::parse(&s) {
                assert!(u.object.is_some() || u.id.is_some(), "{s:?}");
            }
        }
    }
}

//! Per-tenant JSON Web Tokens (HS256, RFC 7519).
//!
//! The HMAC secret of tenant `t` is `derive(keycustody/v1/jwt, t)` under a root key:
//! nothing is stored per tenant, and one tenant's tokens never verify for another.
//! The header is exactly `{"alg":"HS256","typ":"JWT","kid":"<kid>"}`; the kid names
//! the root key, so tokens keep verifying across a rotation while the old key is
//! `decrypt-only`. Verification pins `alg` to `HS256` (`none`, `HS512`, `RS256`, ...
//! are refused before any key is touched), checks the MAC in constant time before
//! reading the payload, and then checks `exp` (required), `nbf`, `iat`, `aud` and
//! `iss` with a leeway.

use crate::ct::constant_time_equal;
use crate::error::{Error, MalformedKind, Result};
use crate::kdf::LABEL_JWT;
use crate::keyring::Keyring;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::Sha256;
use std::collections::BTreeSet;

type HmacSha256 = Hmac<Sha256>;

/// The largest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The largest claims object accepted by [`Keyring::sign_jwt`], in bytes.
pub const MAX_CLAIMS_LEN: usize = 8 * 1024;
/// The longest token lifetime, in seconds (one year).
pub const MAX_TTL: u64 = 366 * 86_400;
/// The largest leeway accepted, in seconds (one day).
pub const MAX_LEEWAY: u64 = 86_400;

/// What [`Keyring::verify_jwt_at`] requires besides the signature and `exp`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwtVerifyOptions {
    /// When set, the `aud` claim (a string or an array of strings) must contain it.
    /// When unset, a token carrying `aud` is refused (as PyJWT does).
    pub audience: Option<String>,
    /// When set, the `iss` claim must equal it.
    pub issuer: Option<String>,
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat` (at most one day).
    pub leeway: u64,
}

impl JwtVerifyOptions {
    /// Requires the `aud` claim to contain `audience`; `None` refuses any token carrying `aud`.
    #[must_use]
    pub fn with_audience(mut self, audience: Option<&str>) -> Self {
        self.audience = audience.map(str::to_owned);
        self
    }

    /// Requires the `iss` claim to equal `issuer` (`None`: not checked).
    #[must_use]
    pub fn with_issuer(mut self, issuer: Option<&str>) -> Self {
        self.issuer = issuer.map(str::to_owned);
        self
    }

    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat` (at most one day).
    #[must_use]
    pub fn with_leeway(mut self, leeway: u64) -> Self {
        self.leeway = leeway;
        self
    }
}

fn jwt_malformed() -> Error {
    Error::Malformed(MalformedKind::Jwt)
}

fn secret(keyring: &Keyring, kid: Option<u32>, tenant: &str) -> Result<(u32, crate::SecretBytes)> {
    keyring.derive_labeled(kid, LABEL_JWT, tenant, 32)
}

fn mac(key: &[u8], signing_input: &[u8]) -> Result<[u8; 32]> {
    let mut m = HmacSha256::new_from_slice(key).map_err(|_| Error::InvalidArgument("key"))?;
    m.update(signing_input);
    Ok(m.finalize().into_bytes().into())
}

/// A numeric date claim: a JSON integer, or a finite float (truncated), as RFC 7519 allows.
fn numeric_date(v: &Value, claim: &'static str) -> Result<i64> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && f.abs() < 9.0e15 => {
            // In range by the check above; truncation toward zero is intended.
            #[allow(clippy::cast_possible_truncation)]
            Ok(f.trunc() as i64)
        }
        _ => Err(Error::ClaimMismatch(claim)),
    }
}

impl Keyring {
    /// The HS256 secret of `tenant` under the primary key, and its kid: for handing
    /// to a service that verifies this tenant's tokens with a stock JWT library.
    ///
    /// # Errors
    /// [`Error::InvalidOwner`]; key errors.
    pub fn jwt_secret(&self, tenant: &str) -> Result<(u32, crate::SecretBytes)> {
        secret(self, None, tenant)
    }

    /// Signs `claims_json` (a JSON object) as an HS256 JWT for `tenant`, adding
    /// `iat = now` and `exp = now + ttl_seconds`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the claims are not a JSON object, repeat a key
    /// (in any object), already set `exp` or `iat`, or the ttl is not 1 s to one year; [`Error::TooLarge`];
    /// [`Error::InvalidOwner`]; key errors.
    pub fn sign_jwt_at(
        &self,
        tenant: &str,
        claims_json: &str,
        ttl_seconds: u64,
        now: i64,
    ) -> Result<String> {
        if claims_json.len() > MAX_CLAIMS_LEN {
            return Err(Error::TooLarge {
                limit: MAX_CLAIMS_LEN,
            });
        }
        if ttl_seconds == 0 || ttl_seconds > MAX_TTL {
            return Err(Error::InvalidArgument("ttl must be 1 s to one year"));
        }
        let claims: Map<String, Value> = serde_json::from_str(claims_json)
            .map_err(|_| Error::InvalidArgument("claims must be a JSON object"))?;
        if !no_duplicate_keys(claims_json.as_bytes()) {
            return Err(Error::InvalidArgument("claims must not repeat a key"));
        }
        if claims.contains_key("exp") || claims.contains_key("iat") {
            return Err(Error::InvalidArgument(
                "claims must not set exp or iat (they come from now and ttl)",
            ));
        }
        let ttl = i64::try_from(ttl_seconds).map_err(|_| Error::InvalidArgument("ttl"))?;
        let exp = now
            .checked_add(ttl)
            .ok_or(Error::InvalidArgument("now out of range"))?;
        // The caller's JSON text is kept byte for byte (no re-serialisation, so the
        // token does not depend on a JSON library's key order); iat and exp are
        // appended to the object.
        let text = claims_json.trim();
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .ok_or(Error::InvalidArgument("claims must be a JSON object"))?
            .trim_end();
        let sep = if claims.is_empty() { "" } else { "," };
        let body = if claims.is_empty() { "" } else { inner };
        let payload = format!("{{{body}{sep}\"iat\":{now},\"exp\":{exp}}}");
        let (kid, key) = secret(self, None, tenant)?;
        let header = format!("{{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"{kid}\"}}");
        let mut token = URL_SAFE_NO_PAD.encode(header.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let tag = mac(key.expose_secret(), token.as_bytes())?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(tag));
        Ok(token)
    }

    /// [`Keyring::sign_jwt_at`] at the current wall-clock time (native targets only).
    ///
    /// # Errors
    /// As [`Keyring::sign_jwt_at`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn sign_jwt(&self, tenant: &str, claims_json: &str, ttl_seconds: u64) -> Result<String> {
        self.sign_jwt_at(tenant, claims_json, ttl_seconds, crate::clock::unix_now()?)
    }

    /// Verifies a token of `tenant` at time `now` and returns its claims as JSON text.
    ///
    /// Presentation and data errors: this returns the claims, so a token that does not
    /// verify is an `Err`; everything about the presented token is a *rejection*
    /// (answer 401): `Malformed` (`Jwt`), `TooLarge`, `SignatureInvalid`,
    /// `UnknownKey` / `KeyRetired` (the token's kid), `Expired`, `NotYetValid`,
    /// `ClaimMismatch`. Only `InvalidOwner` (the tenant) and `InvalidArgument` (the
    /// leeway) come from the caller's own arguments.
    ///
    /// # Errors
    /// [`Error::TooLarge`]; [`Error::Malformed`] ([`MalformedKind::Jwt`]) for anything
    /// that is not three base64url parts with a JSON-object header and payload, a
    /// header or payload that repeats a key (in any object), or a header without a
    /// decimal `kid` or with `crit`; [`Error::SignatureInvalid`] for
    /// an `alg` other than `HS256` or a MAC that does not verify;
    /// [`Error::UnknownKey`] / [`Error::KeyRetired`] for the kid; [`Error::Expired`];
    /// [`Error::NotYetValid`] (`nbf` or `iat` in the future);
    /// [`Error::ClaimMismatch`] (`"exp"` missing or not a number, `"aud"`, `"iss"`,
    /// `"nbf"`, `"iat"` not numbers); [`Error::InvalidArgument`] for a leeway over a day.
    pub fn verify_jwt_at(
        &self,
        tenant: &str,
        token: &str,
        options: &JwtVerifyOptions,
        now: i64,
    ) -> Result<String> {
        if options.leeway > MAX_LEEWAY {
            return Err(Error::InvalidArgument("leeway must be at most one day"));
        }
        crate::kdf::check_owner(tenant)?;
        let parsed = parse_jwt(token)?;
        let (_, key) = secret(self, Some(parsed.kid), tenant)?;
        // A valid tag of this input until it is compared: wiped.
        let expected =
            zeroize::Zeroizing::new(mac(key.expose_secret(), parsed.signing_input.as_bytes())?);
        if !constant_time_equal(&expected[..], &parsed.signature) {
            return Err(Error::SignatureInvalid);
        }
        let claims: Map<String, Value> =
            serde_json::from_slice(&parsed.payload).map_err(|_| jwt_malformed())?;
        if !no_duplicate_keys(&parsed.payload) {
            return Err(jwt_malformed());
        }
        check_claims(&claims, options, now)?;
        String::from_utf8(parsed.payload).map_err(|_| jwt_malformed())
    }

    /// [`Keyring::verify_jwt_at`] at the current wall-clock time (native targets only).
    ///
    /// # Errors
    /// As [`Keyring::verify_jwt_at`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn verify_jwt(
        &self,
        tenant: &str,
        token: &str,
        options: &JwtVerifyOptions,
    ) -> Result<String> {
        self.verify_jwt_at(tenant, token, options, crate::clock::unix_now()?)
    }
}

/// A token split and checked for shape, before any key is used.
#[derive(Debug)]
#[non_exhaustive]
pub struct ParsedJwt {
    /// The root key id from the header's `kid`.
    pub kid: u32,
    /// `base64url(header) "." base64url(payload)`: the MAC input.
    pub signing_input: String,
    /// The decoded payload bytes (not yet authenticated).
    pub payload: Vec<u8>,
    /// The decoded signature (32 bytes for HS256).
    pub signature: Vec<u8>,
}

/// Splits a token and checks its header: exactly three base64url (no padding)
/// parts, a JSON-object header that repeats no key, with `"alg":"HS256"`, a decimal
/// `kid` string and no `crit`. Pure function of its input, for fuzzing; the payload is not parsed.
///
/// # Errors
/// [`Error::TooLarge`]; [`Error::Malformed`] ([`MalformedKind::Jwt`]);
/// [`Error::SignatureInvalid`] for any `alg` but `HS256` or a signature that is
/// not 32 bytes.
pub fn parse_jwt(token: &str) -> Result<ParsedJwt> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::TooLarge {
            limit: MAX_TOKEN_LEN,
        });
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(jwt_malformed());
    };
    let header_bytes = URL_SAFE_NO_PAD.decode(h64).map_err(|_| jwt_malformed())?;
    let header: Map<String, Value> =
        serde_json::from_slice(&header_bytes).map_err(|_| jwt_malformed())?;
    if !no_duplicate_keys(&header_bytes) {
        return Err(jwt_malformed());
    }
    match header.get("alg") {
        Some(Value::String(a)) if a == "HS256" => {}
        Some(Value::String(_)) => return Err(Error::SignatureInvalid),
        _ => return Err(jwt_malformed()),
    }
    if header.contains_key("crit") {
        return Err(jwt_malformed());
    }
    let kid = match header.get("kid") {
        Some(Value::String(k))
            if !k.is_empty() && k.len() <= 10 && k.bytes().all(|b| b.is_ascii_digit()) =>
        {
            k.parse::<u32>().map_err(|_| jwt_malformed())?
        }
        _ => return Err(jwt_malformed()),
    };
    if kid == 0 {
        return Err(jwt_malformed());
    }
    let payload = URL_SAFE_NO_PAD.decode(p64).map_err(|_| jwt_malformed())?;
    let signature = URL_SAFE_NO_PAD.decode(s64).map_err(|_| jwt_malformed())?;
    if signature.len() != 32 {
        return Err(Error::SignatureInvalid);
    }
    let signing_input = token[..h64.len() + 1 + p64.len()].to_owned();
    Ok(ParsedJwt {
        kid,
        signing_input,
        payload,
        signature,
    })
}

/// Whether `json` (already known to parse) has no object that repeats a key, at any
/// depth, keys compared after unescaping (`"sub"` and `"\u0073ub"` are one key).
/// `serde_json::Map` keeps the last of two equal keys while other readers keep the
/// first, so a token that repeats a key could mean two things: it is refused.
fn no_duplicate_keys(json: &[u8]) -> bool {
    serde_json::from_slice::<NoDuplicateKeys>(json).is_ok()
}

/// A JSON value checked for repeated object keys and then dropped.
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("JSON without repeated object keys")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> core::result::Result<Self, E> {
        Ok(self)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> core::result::Result<Self, E> {
        Ok(self)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> core::result::Result<Self, E> {
        Ok(self)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> core::result::Result<Self, E> {
        Ok(self)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> core::result::Result<Self, E> {
        Ok(self)
    }

    fn visit_unit<E: de::Error>(self) -> core::result::Result<Self, E> {
        Ok(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Self, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<Self, A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                return Err(de::Error::custom("repeated object key"));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(self)
    }
}

fn check_claims(claims: &Map<String, Value>, options: &JwtVerifyOptions, now: i64) -> Result<()> {
    let leeway = i64::try_from(options.leeway).map_err(|_| Error::InvalidArgument("leeway"))?;
    let exp = numeric_date(claims.get("exp").ok_or(Error::ClaimMismatch("exp"))?, "exp")?;
    if now.saturating_sub(leeway) >= exp {
        return Err(Error::Expired);
    }
    if let Some(v) = claims.get("nbf") {
        if numeric_date(v, "nbf")? > now.saturating_add(leeway) {
            return Err(Error::NotYetValid);
        }
    }
    if let Some(v) = claims.get("iat") {
        if numeric_date(v, "iat")? > now.saturating_add(leeway) {
            return Err(Error::NotYetValid);
        }
    }
    match (&options.audience, claims.get("aud")) {
        (None, None) => {}
        (None, Some(_)) | (Some(_), None) => return Err(Error::ClaimMismatch("aud")),
        (Some(want), Some(Value::String(a))) => {
            if a != want {
                return Err(Error::ClaimMismatch("aud"));
            }
        }
        (Some(want), Some(Value::Array(list))) => {
            if !list.iter().any(|a| a.as_str() == Some(want.as_str())) {
                return Err(Error::ClaimMismatch("aud"));
            }
        }
        (Some(_), Some(_)) => return Err(Error::ClaimMismatch("aud")),
    }
    if let Some(want) = &options.issuer {
        match claims.get("iss") {
            Some(Value::String(i)) if i == want => {}
            _ => return Err(Error::ClaimMismatch("iss")),
        }
    }
    Ok(())
}

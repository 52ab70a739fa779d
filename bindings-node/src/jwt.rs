//! Per-tenant HS256 JSON Web Tokens: the secret is derived per tenant from the
//! keyring (nothing is stored per tenant) and the header names the kid, so
//! tokens keep verifying across a rotation.

use crate::conv;
use crate::error::{run, Fail, Res};
use crate::keyring::Keyring;
use napi::bindgen_prelude::{Function, JsObjectValue, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;

/// What `verifyJwt` checks besides the signature and `exp`.
// Only declares the TypeScript interface of the options argument, which is read
// property by property in `conv` (so a wrong type never echoes the value).
#[allow(dead_code)]
#[napi(object)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwtVerifyOptions {
    /// When set, the `aud` claim (a string or an array) must contain it; when unset,
    /// a token carrying `aud` is refused.
    pub audience: Option<String>,
    /// When set, the `iss` claim must equal it.
    pub issuer: Option<String>,
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat` (default 0, at most 86400).
    pub leeway: Option<u32>,
    /// The time to verify at (Unix seconds); defaults to the system clock.
    pub now: Option<i64>,
}

fn json_fn<'e, A, R>(env: &'e Env, name: &str) -> Res<Function<'e, A, R>>
where
    A: napi::bindgen_prelude::JsValuesTupleIntoVec,
    R: napi::bindgen_prelude::FromNapiValue,
{
    let global = env.get_global()?;
    let json: napi::bindgen_prelude::Object<'_> = global.get_named_property("JSON")?;
    Ok(json.get_named_property(name)?)
}

/// Claims as JSON text: a string is taken as JSON text, an object is `JSON.stringify`-ed.
fn claims_json(env: &Env, v: Unknown<'_>) -> Res<String> {
    const EXPECTED: &str = "an object of claims or its JSON text";
    match v.get_type()? {
        ValueType::String => conv::string(v, "claims"),
        ValueType::Object => {
            let stringify: Function<'_, Unknown<'_>, Unknown<'_>> = json_fn(env, "stringify")?;
            // A throwing toJSON or a cycle: the exception is cleared and replaced by ours.
            let out = stringify.call(v).map_err(|_| Fail::Type {
                arg: "claims",
                expected: EXPECTED,
            })?;
            conv::string(out, "claims")
        }
        _ => Err(Fail::Type {
            arg: "claims",
            expected: EXPECTED,
        }),
    }
}

#[napi]
impl Keyring {
    /// Signs an HS256 JWT for `tenant` with the tenant's derived secret (primary key).
    /// `claims` is an object (or its JSON text); `iat` and `exp` (= now + ttlSeconds)
    /// are added and must not be set. `now` (Unix seconds) defaults to the clock.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` (claims not an object, iat/exp set, ttl outside 1 s to 366 days), `KC_INVALID_OWNER`, `KC_TOO_LARGE`.
    #[napi]
    pub fn sign_jwt(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
        #[napi(ts_arg_type = "Record<string, unknown> | string")] claims: Unknown<'_>,
        #[napi(ts_arg_type = "number")] ttl_seconds: Unknown<'_>,
        #[napi(ts_arg_type = "number")] now: Option<Unknown<'_>>,
    ) -> napi::Result<String> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            let claims = claims_json(env, claims)?;
            let ttl = conv::len(ttl_seconds, "ttlSeconds")?;
            let ttl = u64::try_from(ttl).unwrap_or(u64::MAX);
            let now = conv::now_or_clock(conv::opt_i64(now, "now")?)?;
            Ok(self.inner.sign_jwt_at(&tenant, &claims, ttl, now)?)
        })
    }

    /// Verifies a JWT signed by `signJwt` for `tenant` and returns its claims.
    /// Only HS256 is accepted (`none` and every other `alg` are refused); the kid in
    /// the header selects the key; `exp` is required, `nbf`/`iat` are checked.
    ///
    /// @throws {Error} `KC_SIGNATURE_INVALID` (wrong tenant, key or alg), `KC_EXPIRED`, `KC_NOT_YET_VALID`, `KC_CLAIM_MISMATCH` (aud, iss, exp), `KC_MALFORMED`, `KC_UNKNOWN_KEY`, `KC_KEY_RETIRED`.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn verify_jwt<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
        #[napi(ts_arg_type = "string")] token: Unknown<'_>,
        #[napi(ts_arg_type = "JwtVerifyOptions")] options: Option<Unknown<'_>>,
    ) -> napi::Result<Unknown<'e>> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            let token = conv::secret_string(token, "token")?;
            let mut opts = keycustody::JwtVerifyOptions::default();
            let mut now = None;
            if let Some(o) = conv::opt_object(options, "options")? {
                if let Some(v) = conv::prop(&o, "audience")? {
                    opts.audience = Some(conv::string(v, "options.audience")?);
                }
                if let Some(v) = conv::prop(&o, "issuer")? {
                    opts.issuer = Some(conv::string(v, "options.issuer")?);
                }
                if let Some(v) = conv::prop(&o, "leeway")? {
                    let l = conv::len(v, "options.leeway")?;
                    opts.leeway = u64::try_from(l).unwrap_or(u64::MAX);
                }
                now = conv::opt_i64(conv::prop(&o, "now")?, "options.now")?;
            }
            let now = conv::now_or_clock(now)?;
            let claims = self.inner.verify_jwt_at(&tenant, &token, &opts, now)?;
            let parse: Function<'_, String, Unknown<'_>> = json_fn(env, "parse")?;
            Ok(parse.call(claims)?)
        })
    }
}

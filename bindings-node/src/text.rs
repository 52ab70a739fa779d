//! Text helpers: secret scrubbing, slug/email validation, pseudonyms.

use crate::conv;
use crate::error::run;
use crate::keyring::Keyring;
use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;

/// Replaces known secret shapes in `text` (LLM provider keys, GitHub/Stripe/Slack
/// tokens, Telegram bot tokens, JWTs, `Authorization:` values, PEM private keys,
/// keycustody API keys, ...) with `[REDACTED:<kind>]`. For logs and error reports.
#[napi]
pub fn scrub(env: &Env, #[napi(ts_arg_type = "string")] text: Unknown<'_>) -> napi::Result<String> {
    run(env, || {
        let text = conv::secret_string(text, "text")?;
        Ok(keycustody::scrub(&text))
    })
}

/// Checks a slug: 3 to 32 characters of `[a-z0-9-]`, starting and ending with `[a-z0-9]`.
/// Returns nothing; throws if invalid.
///
/// @throws {Error} `KC_INVALID_ARGUMENT`.
#[napi]
pub fn validate_slug(
    env: &Env,
    #[napi(ts_arg_type = "string")] s: Unknown<'_>,
) -> napi::Result<()> {
    run(env, || {
        let s = conv::string(s, "slug")?;
        Ok(keycustody::validate_slug(&s)?)
    })
}

/// Checks an email address (`local@domain`, dot-atom local part, at least two DNS labels;
/// no quotes, spaces or control characters). Returns nothing; throws if invalid.
///
/// @throws {Error} `KC_INVALID_ARGUMENT`.
#[napi]
pub fn validate_email(
    env: &Env,
    #[napi(ts_arg_type = "string")] s: Unknown<'_>,
) -> napi::Result<()> {
    run(env, || {
        let s = conv::string(s, "email")?;
        Ok(keycustody::validate_email(&s)?)
    })
}

#[napi]
impl Keyring {
    /// A stable pseudonym (64 hex characters, keyed HMAC-SHA256 under the primary key)
    /// for an IP address, email or other identifier, for logs and analytics. The value
    /// is taken byte for byte: normalise it first. Pseudonyms change on rotation.
    ///
    /// @throws {Error} `KC_TOO_LARGE` over 64 KiB.
    #[napi]
    pub fn pseudonymize(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] value: Unknown<'_>,
    ) -> napi::Result<String> {
        run(env, || {
            let v = conv::secret_string(value, "value")?;
            Ok(self.inner.pseudonymize(&v)?)
        })
    }

    /// `pseudonymize` with a per-tenant key, so pseudonyms cannot be joined across tenants.
    ///
    /// @throws {Error} `KC_INVALID_OWNER`, `KC_TOO_LARGE`.
    #[napi]
    pub fn pseudonymize_for(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
        #[napi(ts_arg_type = "string")] value: Unknown<'_>,
    ) -> napi::Result<String> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            let v = conv::secret_string(value, "value")?;
            Ok(self.inner.pseudonymize_for(&tenant, &v)?)
        })
    }
}

//! The rest of the core keyring API: explicit secrets, key states, binary envelopes.

use crate::conv::{self, secret_buffer};
use crate::error::run;
use crate::keyring::Keyring;
use napi::bindgen_prelude::{Buffer, BufferSlice, Unknown};
use napi::Env;
use napi_derive::napi;

/// A tenant's JWT secret and the key id it was derived under.
#[napi(object)]
pub struct JwtSecret {
    /// The key id (put it in the `kid` header).
    pub kid: u32,
    /// The 32-byte HS256 secret. Hand it only to the service verifying this tenant's tokens.
    pub secret: Buffer,
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSecret")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[napi]
impl Keyring {
    /// Adds a given secret (32 to 1024 bytes; a string is taken as its UTF-8 bytes) as a
    /// `decrypt-only` key and returns its kid; `promote(kid)` then makes it seal.
    ///
    /// @throws {Error} `KC_INVALID_ARGUMENT` for a secret outside 32 to 1024 bytes, `KC_TOO_LARGE`.
    #[napi]
    pub fn add_key_with_secret(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string | Uint8Array")] secret: Unknown<'_>,
    ) -> napi::Result<u32> {
        run(env, || {
            let secret = conv::bytes(secret, "secret")?.to_owned_bytes();
            let secret = keycustody::SecretBytes::new(secret.to_vec());
            Ok(self.inner.add_key_with_secret(secret)?)
        })
    }

    /// The state of one key: `"active"`, `"decrypt-only"` or `"retired"`.
    ///
    /// @throws {Error} `KC_UNKNOWN_KEY`.
    #[napi]
    pub fn state_of(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "number")] kid: Unknown<'_>,
    ) -> napi::Result<String> {
        run(env, || {
            let kid = conv::kid(kid, "kid")?;
            Ok(self.inner.state_of(kid)?.as_str().to_owned())
        })
    }

    /// `seal`, returning the binary envelope (for a BYTEA/BLOB column): 33 bytes larger than the plaintext.
    ///
    /// @throws {Error} as `seal`.
    #[napi]
    pub fn seal_binary<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] plaintext: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> napi::Result<BufferSlice<'e>> {
        run(env, || {
            let owner = conv::string(owner, "owner")?;
            let plaintext = conv::bytes(plaintext, "plaintext")?;
            let context = conv::opt_bytes(context, "context")?;
            conv::seal_binary_to_buffer(
                env,
                &self.inner,
                &owner,
                plaintext.as_slice(),
                context.as_slice(),
            )
        })
    }

    /// `open` for a binary envelope (from `sealBinary`).
    ///
    /// @throws {Error} as `open`.
    #[napi]
    pub fn open_binary<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
        #[napi(ts_arg_type = "Uint8Array")] envelope: Unknown<'_>,
        #[napi(ts_arg_type = "string | Uint8Array")] context: Option<Unknown<'_>>,
    ) -> napi::Result<BufferSlice<'e>> {
        run(env, || {
            let owner = conv::string(owner, "owner")?;
            let envelope = conv::binary(envelope, "envelope")?;
            let context = conv::opt_bytes(context, "context")?;
            conv::open_binary_to_buffer(
                env,
                &self.inner,
                &owner,
                envelope.as_slice(),
                context.as_slice(),
            )
        })
    }

    /// The HS256 secret of `tenant` under the primary key and its kid, for a service that
    /// verifies this tenant's tokens with a stock JWT library.
    ///
    /// @throws {Error} `KC_INVALID_OWNER`.
    #[napi]
    pub fn jwt_secret(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] tenant: Unknown<'_>,
    ) -> napi::Result<JwtSecret> {
        run(env, || {
            let tenant = conv::string(tenant, "tenant")?;
            let (kid, secret) = self.inner.jwt_secret(&tenant)?;
            Ok(JwtSecret {
                kid,
                secret: secret_buffer(secret),
            })
        })
    }
}

//! Legacy decrypt-only readers, for migrating old ciphertexts to `kc1`:
//! PBKDF2-HMAC-SHA256 + AES-256-GCM blobs and `openssl enc -aes-256-cbc -pbkdf2` files.
//! PBKDF2 takes milliseconds by design: prefer the `*Async` forms on a server.

use crate::conv::{self, secret_buffer_copy};
use crate::error::{run, Res};
use crate::tasks::{BytesTask, Deferred, Work};
use napi::bindgen_prelude::{AsyncTask, BufferSlice, Object, Unknown};
use napi::Env;
use napi_derive::napi;

/// Parameters of the PBKDF2 + AES-GCM legacy format (all optional).
// Only declares the TypeScript interface of the options argument, which is read
// property by property in `conv` (so a wrong type never echoes the value).
#[allow(dead_code)]
#[napi(object)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pbkdf2GcmOptions {
    /// PBKDF2 iterations (default 100000, at most 10,000,000).
    pub iterations: Option<u32>,
    /// Salt length at the start of the blob (default 16, 1 to 64).
    pub salt_len: Option<u32>,
    /// IV length after the salt (only 12 is supported).
    pub iv_len: Option<u32>,
}

fn params(options: Option<Object<'_>>) -> Res<keycustody::Pbkdf2GcmParams> {
    let mut p = keycustody::Pbkdf2GcmParams::default();
    if let Some(o) = options {
        if let Some(v) = conv::prop(&o, "iterations")? {
            p.iterations = conv::kid(v, "options.iterations")?;
        }
        if let Some(v) = conv::prop(&o, "saltLen")? {
            p.salt_len = conv::len(v, "options.saltLen")?;
        }
        if let Some(v) = conv::prop(&o, "ivLen")? {
            p.iv_len = conv::len(v, "options.ivLen")?;
        }
    }
    Ok(p)
}

fn pbkdf2_gcm_work(
    blob: Unknown<'_>,
    password: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> Res<Work<keycustody::SecretBytes>> {
    let blob = conv::string(blob, "blob")?;
    let password = conv::bytes(password, "password")?.to_owned_bytes();
    let p = params(conv::opt_object(options, "options")?)?;
    Ok(Box::new(move || {
        keycustody::decrypt_legacy_pbkdf2_gcm(&blob, &password, p)
    }))
}

fn openssl_work(
    data: Unknown<'_>,
    password: Unknown<'_>,
    iterations: Option<Unknown<'_>>,
) -> Res<Work<keycustody::SecretBytes>> {
    let data = conv::binary(data, "data")?.to_owned_bytes();
    let password = conv::bytes(password, "password")?.to_owned_bytes();
    let iterations = conv::opt_kid(iterations, "iterations", keycustody::DEFAULT_ITERATIONS)?;
    Ok(Box::new(move || {
        keycustody::decrypt_openssl_enc(&data, &password, iterations)
    }))
}

/// Decrypts a legacy `base64(salt16 || iv12 || ciphertext || tag16)` blob whose key is
/// PBKDF2-HMAC-SHA256(password, salt, 100000 iterations by default). Blocks for the
/// PBKDF2 time; see `decryptLegacyPbkdf2GcmAsync`.
///
/// @throws {Error} `KC_DECRYPT_FAILED` (wrong password, tampering), `KC_MALFORMED`, `KC_INVALID_ARGUMENT` (options).
#[napi]
pub fn decrypt_legacy_pbkdf2_gcm<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "string")] blob: Unknown<'_>,
    #[napi(ts_arg_type = "string | Uint8Array")] password: Unknown<'_>,
    #[napi(ts_arg_type = "Pbkdf2GcmOptions")] options: Option<Unknown<'_>>,
) -> napi::Result<BufferSlice<'e>> {
    run(env, || {
        let work = pbkdf2_gcm_work(blob, password, options)?;
        secret_buffer_copy(env, &work()?)
    })
}

/// `decryptLegacyPbkdf2Gcm` on the libuv thread pool. Rejects as it throws.
#[napi(ts_return_type = "Promise<Buffer>")]
pub fn decrypt_legacy_pbkdf2_gcm_async(
    #[napi(ts_arg_type = "string")] blob: Unknown<'_>,
    #[napi(ts_arg_type = "string | Uint8Array")] password: Unknown<'_>,
    #[napi(ts_arg_type = "Pbkdf2GcmOptions")] options: Option<Unknown<'_>>,
) -> AsyncTask<BytesTask> {
    AsyncTask::new(BytesTask(Deferred::new(pbkdf2_gcm_work(
        blob, password, options,
    ))))
}

/// Decrypts an `openssl enc -aes-256-cbc -pbkdf2 -iter N` file (binary, `Salted__` header;
/// `iterations` default 100000, as given to openssl).
///
/// @throws {Error} `KC_DECRYPT_FAILED` (wrong password or damage), `KC_MALFORMED`, `KC_INVALID_ARGUMENT`.
#[napi]
pub fn decrypt_openssl_enc<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "Uint8Array")] data: Unknown<'_>,
    #[napi(ts_arg_type = "string | Uint8Array")] password: Unknown<'_>,
    #[napi(ts_arg_type = "number")] iterations: Option<Unknown<'_>>,
) -> napi::Result<BufferSlice<'e>> {
    run(env, || {
        let work = openssl_work(data, password, iterations)?;
        secret_buffer_copy(env, &work()?)
    })
}

/// `decryptOpensslEnc` on the libuv thread pool. Rejects as it throws.
#[napi(ts_return_type = "Promise<Buffer>")]
pub fn decrypt_openssl_enc_async(
    #[napi(ts_arg_type = "Uint8Array")] data: Unknown<'_>,
    #[napi(ts_arg_type = "string | Uint8Array")] password: Unknown<'_>,
    #[napi(ts_arg_type = "number")] iterations: Option<Unknown<'_>>,
) -> AsyncTask<BytesTask> {
    AsyncTask::new(BytesTask(Deferred::new(openssl_work(
        data, password, iterations,
    ))))
}

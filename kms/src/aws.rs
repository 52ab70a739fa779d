//! `aws-kms`: the DEK wrapped by AWS KMS `Encrypt` / `Decrypt` with the §7 encryption context.

use crate::{KekConfig, KmsError};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_kms::error::SdkError;
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use std::time::Duration;
use zeroize::Zeroizing;

/// The KEK type name.
pub const KEK_TYPE: &str = keycustody::KEK_AWS_KMS;

/// Core's encryption context (DESIGN §7) of the wrapped DEK of `owner`'s keyring.
fn encryption_context(owner: &str) -> std::collections::HashMap<String, String> {
    keycustody::aws_kms_encryption_context(owner)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn unavailable(reason: &'static str) -> KmsError {
    KmsError::KekUnavailable {
        kek: KEK_TYPE,
        reason,
    }
}

/// Runs `f` on a thread with no tokio runtime: a current-thread runtime cannot be
/// driven (or dropped) from inside another one.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| match s.spawn(f).join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        })
    } else {
        f()
    }
}

/// Builds a runtime and a KMS client from the standard AWS configuration chain (region,
/// credentials, `AWS_ENDPOINT_URL_KMS`), then runs `op` on it.
fn with_client<T: Send>(
    cfg: &KekConfig,
    op: impl AsyncFnOnce(&Client) -> Result<T, KmsError> + Send,
) -> Result<T, KmsError> {
    let endpoint = cfg.aws_endpoint_url.clone();
    off_runtime(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|_| unavailable("no async runtime"))?;
        rt.block_on(async move {
            let http = aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https();
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .http_client(http)
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(5))
                        .operation_timeout(Duration::from_secs(30))
                        .build(),
                )
                .retry_config(RetryConfig::standard().with_max_attempts(3));
            if let Some(url) = endpoint {
                loader = loader.endpoint_url(url);
            }
            let sdk = loader.load().await;
            let client = Client::new(&sdk);
            op(&client).await
        })
    })
}

/// Maps a transport-level SDK failure (no service answer) to `KekUnavailable`.
fn transport<E, R>(e: &SdkError<E, R>) -> KmsError {
    match e {
        SdkError::ConstructionFailure(_) => {
            unavailable("request not built (no region or credentials configured?)")
        }
        SdkError::TimeoutError(_) => unavailable("timed out"),
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => unavailable("unreachable"),
        SdkError::DispatchFailure(_) => {
            unavailable("request not sent (no region, endpoint or credentials configured?)")
        }
        SdkError::ResponseError(_) => unavailable("unreadable response"),
        _ => unavailable("refused the request"),
    }
}

/// KMS `Encrypt(KeyId = key, Plaintext = dek, EncryptionContext = {keycustody, owner})`:
/// the `CiphertextBlob`.
///
/// # Errors
/// `KekUnavailable` when KMS cannot be reached or refuses (unknown key, access denied, ...).
pub fn encrypt_dek(
    cfg: &KekConfig,
    key: &str,
    dek: &[u8],
    owner: &str,
) -> Result<Vec<u8>, KmsError> {
    with_client(cfg, async |c: &Client| {
        let r = c
            .encrypt()
            .key_id(key)
            .plaintext(Blob::new(dek.to_vec()))
            .set_encryption_context(Some(encryption_context(owner)))
            .send()
            .await;
        match r {
            Ok(out) => out
                .ciphertext_blob
                .map(Blob::into_inner)
                .ok_or_else(|| unavailable("answer without a CiphertextBlob")),
            Err(SdkError::ServiceError(_)) => Err(unavailable("refused the request")),
            Err(e) => Err(transport(&e)),
        }
    })
}

/// KMS `Decrypt(KeyId = key, CiphertextBlob = wrapped, EncryptionContext = {keycustody,
/// owner})`: the DEK, in a wiped buffer.
///
/// # Errors
/// `DecryptFailed` when KMS says the ciphertext does not open (wrong context, owner or
/// key, tampering); `KekUnavailable` when it cannot be reached or refuses.
pub fn decrypt_dek(
    cfg: &KekConfig,
    key: &str,
    wrapped: &[u8],
    owner: &str,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    with_client(cfg, async |c: &Client| {
        let r = c
            .decrypt()
            .key_id(key)
            .ciphertext_blob(Blob::new(wrapped.to_vec()))
            .set_encryption_context(Some(encryption_context(owner)))
            .send()
            .await;
        match r {
            Ok(out) => match out.plaintext {
                Some(p) => Ok(Zeroizing::new(p.into_inner())),
                None => Err(unavailable("answer without a Plaintext")),
            },
            Err(SdkError::ServiceError(se)) => Err(match se.err() {
                DecryptError::InvalidCiphertextException(_)
                | DecryptError::IncorrectKeyException(_) => {
                    KmsError::Core(keycustody::Error::DecryptFailed)
                }
                _ => unavailable("refused the request"),
            }),
            Err(e) => Err(transport(&e)),
        }
    })
}

/// Creates a symmetric KMS key (for tests and first-time setup); returns its key id.
///
/// # Errors
/// `KekUnavailable` when KMS cannot be reached or refuses.
#[doc(hidden)]
pub fn create_key(cfg: &KekConfig) -> Result<String, KmsError> {
    with_client(cfg, async |c: &Client| {
        match c
            .create_key()
            .description("keycustody test KEK")
            .send()
            .await
        {
            Ok(out) => out
                .key_metadata
                .map(|m| m.key_id)
                .ok_or_else(|| unavailable("answer without KeyMetadata")),
            Err(SdkError::ServiceError(_)) => Err(unavailable("refused the request")),
            Err(e) => Err(transport(&e)),
        }
    })
}

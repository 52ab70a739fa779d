//! `keycustody.Keyring` and `keycustody.KeyInfo`.

use std::path::PathBuf;

use keycustody::SecretBytes;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::args::{
    run, secret_bytes, secret_str, Binary, Data, Kid, Len, PublicStr, Seconds, Text, UnixTime,
};
use crate::errors::ToPyResult;

/// A set of root keys: one active primary, any number of decrypt-only and retired keys.
/// Thread-safe: one instance can be shared by every thread of a process.
#[pyclass(module = "keycustody", frozen, name = "Keyring")]
pub(crate) struct PyKeyring {
    pub(crate) inner: keycustody::Keyring,
}

/// What can be said about a key without revealing it.
#[pyclass(module = "keycustody", frozen, name = "KeyInfo", eq)]
#[derive(PartialEq, Eq)]
pub(crate) struct PyKeyInfo {
    #[pyo3(get)]
    kid: u32,
    #[pyo3(get)]
    state: &'static str,
    #[pyo3(get)]
    fingerprint: String,
}

#[pymethods]
impl PyKeyInfo {
    fn __repr__(&self) -> String {
        format!(
            "KeyInfo(kid={}, state='{}', fingerprint='{}')",
            self.kid, self.state, self.fingerprint
        )
    }
}

impl PyKeyring {
    /// Opens a binary envelope straight into a new `bytes` object: the plaintext exists only
    /// there (no Rust copy to wipe; core wipes the buffer if opening fails, and the
    /// half-made object is then freed).
    fn open_into<'py>(
        &self,
        py: Python<'py>,
        owner: &str,
        envelope: &[u8],
        context: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        // A malformed envelope is refused before anything is allocated, as `open_binary`.
        let len = keycustody::inspect_binary(envelope).to_py()?.plaintext_len;
        PyBytes::new_with(py, len, |out| {
            run(py, envelope.len(), || {
                self.inner.open_binary_into(owner, envelope, context, out)
            })
            .to_py()
        })
    }
}

#[pymethods]
impl PyKeyring {
    /// A new keyring with one fresh random 32-byte key, kid 1, active.
    #[staticmethod]
    fn generate() -> PyResult<Self> {
        Ok(PyKeyring {
            inner: keycustody::Keyring::generate().to_py()?,
        })
    }

    /// Parses the JSON text form.
    #[staticmethod]
    fn parse(py: Python<'_>, text: Text) -> PyResult<Self> {
        let inner = run(py, text.len(), || keycustody::Keyring::parse(&text)).to_py()?;
        Ok(PyKeyring { inner })
    }

    /// Reads the text form from an environment variable.
    #[staticmethod]
    #[pyo3(signature = (var = Text::from(keycustody::KEYRING_ENV_VAR)), text_signature = "(var='KEYCUSTODY_KEYRING')")]
    fn from_env(var: Text) -> PyResult<Self> {
        Ok(PyKeyring {
            inner: keycustody::Keyring::from_env(&var).to_py()?,
        })
    }

    /// Reads the text form from a file that only its owner can access.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py
            .detach(|| keycustody::Keyring::from_file(&path))
            .to_py()?;
        Ok(PyKeyring { inner })
    }

    /// Adopts an existing platform secret (its bytes exactly as given) as the only key.
    #[staticmethod]
    #[pyo3(signature = (secret, kid = Kid(keycustody::DEFAULT_KID)), text_signature = "(secret, kid=1)")]
    fn from_secret(secret: Data<'_>, kid: Kid) -> PyResult<Self> {
        Ok(PyKeyring {
            inner: keycustody::Keyring::from_secret(secret.as_slice(), kid.0).to_py()?,
        })
    }

    /// The JSON text form (contains every secret: store it like a private key).
    fn export<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        Ok(secret_str(py, &self.inner.export().to_py()?))
    }

    /// Adds a fresh random key as decrypt-only and returns its kid.
    fn add_key(&self) -> PyResult<u32> {
        self.inner.add_key().to_py()
    }

    /// Adds the given secret (32 to 1024 bytes) as a decrypt-only key and returns its kid.
    fn add_key_with_secret(&self, secret: Data<'_>) -> PyResult<u32> {
        self.inner
            .add_key_with_secret(SecretBytes::new(secret.as_slice().to_vec()))
            .to_py()
    }

    /// Makes `kid` the primary; the old primary becomes decrypt-only.
    fn promote(&self, kid: Kid) -> PyResult<()> {
        self.inner.promote(kid.0).to_py()
    }

    /// add_key() then promote(), for a single instance. Returns the new kid.
    fn rotate(&self) -> PyResult<u32> {
        self.inner.rotate().to_py()
    }

    /// Retires `kid`: envelopes under it then fail with KeyRetiredError.
    fn retire(&self, kid: Kid) -> PyResult<()> {
        self.inner.retire(kid.0).to_py()
    }

    /// Removes `kid`'s secret, leaving a retired tombstone (the kid is never reused): envelopes under it then fail with KeyRetiredError.
    fn remove(&self, kid: Kid) -> PyResult<()> {
        self.inner.remove(kid.0).to_py()
    }

    /// The kid of the primary (active) key.
    #[getter]
    fn primary_kid(&self) -> u32 {
        self.inner.primary_kid()
    }

    /// Every key with its state and public fingerprint, in kid order.
    fn kids(&self) -> Vec<PyKeyInfo> {
        self.inner
            .kids()
            .into_iter()
            .map(|k| PyKeyInfo {
                kid: k.kid,
                state: k.state.as_str(),
                fingerprint: k.fingerprint,
            })
            .collect()
    }

    /// The state of one key: "active", "decrypt-only" or "retired".
    fn state_of(&self, kid: Kid) -> PyResult<&'static str> {
        Ok(self.inner.state_of(kid.0).to_py()?.as_str())
    }

    /// Seals `plaintext` for `owner` (and `context`) under the primary key: a "kc1." string.
    #[pyo3(signature = (owner, plaintext, context = Data::default()), text_signature = "($self, owner, plaintext, context=b'')")]
    fn seal(
        &self,
        py: Python<'_>,
        owner: PublicStr<'_>,
        plaintext: Data<'_>,
        context: Data<'_>,
    ) -> PyResult<String> {
        let owner = owner.as_str()?;
        let (p, c) = (plaintext.as_slice(), context.as_slice());
        run(py, p.len(), || self.inner.seal(owner, p, c)).to_py()
    }

    /// seal() returning the binary form.
    #[pyo3(signature = (owner, plaintext, context = Data::default()), text_signature = "($self, owner, plaintext, context=b'')")]
    fn seal_binary<'py>(
        &self,
        py: Python<'py>,
        owner: PublicStr<'_>,
        plaintext: Data<'_>,
        context: Data<'_>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let owner = owner.as_str()?;
        let (p, c) = (plaintext.as_slice(), context.as_slice());
        if p.len() > keycustody::MAX_PLAINTEXT {
            // Core refuses it (an invalid owner first, as always) before anything is allocated.
            self.inner.seal_binary_into(owner, p, c, &mut []).to_py()?;
        }
        // Sealed straight into the new `bytes` object: no intermediate vector, and no copy of
        // the plaintext (core's AES-GCM encrypts from it into the output, out of place).
        let len = keycustody::Keyring::sealed_len(p.len());
        PyBytes::new_with(py, len, |out| {
            run(py, p.len(), || {
                self.inner.seal_binary_into(owner, p, c, out)
            })
            .to_py()
        })
    }

    /// Opens a "kc1." envelope sealed for `owner` and `context`.
    #[pyo3(signature = (owner, envelope, context = Data::default()), text_signature = "($self, owner, envelope, context=b'')")]
    fn open<'py>(
        &self,
        py: Python<'py>,
        owner: PublicStr<'_>,
        envelope: PublicStr<'_>,
        context: Data<'_>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (owner, envelope) = (owner.as_str()?, envelope.as_str()?);
        // The text form's errors first (prefix, length, base64, header), as `Keyring::open`.
        let bin = run(py, envelope.len(), || keycustody::envelope_binary(envelope)).to_py()?;
        self.open_into(py, owner, &bin, context.as_slice())
    }

    /// open() for the binary form.
    #[pyo3(signature = (owner, envelope, context = Data::default()), text_signature = "($self, owner, envelope, context=b'')")]
    fn open_binary<'py>(
        &self,
        py: Python<'py>,
        owner: PublicStr<'_>,
        envelope: Binary<'_>,
        context: Data<'_>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let owner = owner.as_str()?;
        self.open_into(py, owner, envelope.0.as_slice(), context.as_slice())
    }

    /// open() requiring the plaintext to be UTF-8; returns str.
    #[pyo3(signature = (owner, envelope, context = Data::default()), text_signature = "($self, owner, envelope, context=b'')")]
    fn open_text<'py>(
        &self,
        py: Python<'py>,
        owner: PublicStr<'_>,
        envelope: PublicStr<'_>,
        context: Data<'_>,
    ) -> PyResult<Bound<'py, PyString>> {
        let (owner, envelope) = (owner.as_str()?, envelope.as_str()?);
        let c = context.as_slice();
        let plain = run(py, envelope.len(), || {
            self.inner.open_text(owner, envelope, c)
        })
        .to_py()?;
        Ok(secret_str(py, &plain))
    }

    /// Whether the envelope was sealed under a key other than the primary (header only).
    fn needs_rewrap(&self, envelope: PublicStr<'_>) -> PyResult<bool> {
        let envelope = envelope.as_str()?;
        self.inner.needs_rewrap(envelope).to_py()
    }

    /// The envelope sealed under the primary key (the same string if it already is).
    #[pyo3(signature = (owner, envelope, context = Data::default()), text_signature = "($self, owner, envelope, context=b'')")]
    fn rewrap(
        &self,
        py: Python<'_>,
        owner: PublicStr<'_>,
        envelope: PublicStr<'_>,
        context: Data<'_>,
    ) -> PyResult<String> {
        let (owner, envelope) = (owner.as_str()?, envelope.as_str()?);
        let c = context.as_slice();
        run(py, envelope.len(), || self.inner.rewrap(owner, envelope, c)).to_py()
    }

    /// Seals `keyring` (a tenant keyring) under this keyring for `tenant`: a kc1 envelope
    /// with the fixed context `keycustody/v1/keyring`.
    fn seal_keyring(
        &self,
        tenant: PublicStr<'_>,
        keyring: &Bound<'_, PyKeyring>,
    ) -> PyResult<String> {
        self.inner
            .seal_keyring(tenant.as_str()?, &keyring.get().inner)
            .to_py()
    }

    /// Opens a tenant keyring sealed by `seal_keyring` for `tenant`.
    fn open_keyring(&self, tenant: PublicStr<'_>, envelope: PublicStr<'_>) -> PyResult<PyKeyring> {
        let inner = self
            .inner
            .open_keyring(tenant.as_str()?, envelope.as_str()?)
            .to_py()?;
        Ok(PyKeyring { inner })
    }

    /// A key for a custom purpose, per owner, under the primary key.
    #[pyo3(signature = (purpose, owner, length = Len(keycustody::DEFAULT_DERIVED_KEY_LEN)), text_signature = "($self, purpose, owner, length=32)")]
    fn derive_key<'py>(
        &self,
        py: Python<'py>,
        purpose: Text,
        owner: Text,
        length: Len,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let key = self.inner.derive_key(&purpose, &owner, length.0).to_py()?;
        Ok(secret_bytes(py, &key))
    }

    /// A stable pseudonym (hex HMAC-SHA256) for an IP, email or other identifier.
    fn pseudonymize(&self, py: Python<'_>, value: Text) -> PyResult<String> {
        run(py, value.len(), || self.inner.pseudonymize(&value)).to_py()
    }

    /// pseudonymize() with a per-tenant key, so pseudonyms cannot be joined across tenants.
    fn pseudonymize_for(&self, py: Python<'_>, tenant: Text, value: Text) -> PyResult<String> {
        run(py, value.len(), || {
            self.inner.pseudonymize_for(&tenant, &value)
        })
        .to_py()
    }

    /// Signs claims (a dict, or JSON text kept byte for byte) as an HS256 JWT for `tenant`,
    /// adding iat = now and exp = now + ttl_seconds.
    #[pyo3(signature = (tenant, claims, ttl_seconds, now = None))]
    fn sign_jwt(
        &self,
        py: Python<'_>,
        tenant: Text,
        claims: &Bound<'_, PyAny>,
        ttl_seconds: Seconds,
        now: Option<UnixTime>,
    ) -> PyResult<String> {
        crate::jwt::sign(py, &self.inner, &tenant, claims, ttl_seconds, now)
    }

    /// Verifies a token of `tenant` (HS256 only; exp, nbf, iat, aud, iss checked); returns its claims.
    #[pyo3(signature = (tenant, token, audience = None, issuer = None, leeway = Seconds(0), now = None), text_signature = "($self, tenant, token, audience=None, issuer=None, leeway=0, now=None)")]
    #[allow(clippy::too_many_arguments)]
    fn verify_jwt<'py>(
        &self,
        py: Python<'py>,
        tenant: Text,
        token: Text,
        audience: Option<Text>,
        issuer: Option<Text>,
        leeway: Seconds,
        now: Option<UnixTime>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::jwt::verify(
            py,
            &self.inner,
            &tenant,
            &token,
            audience,
            issuer,
            leeway,
            now,
        )
    }

    /// The HS256 secret of `tenant` under the primary key, with its kid: (kid, secret).
    fn jwt_secret<'py>(
        &self,
        py: Python<'py>,
        tenant: Text,
    ) -> PyResult<(u32, Bound<'py, PyBytes>)> {
        crate::jwt::secret(py, &self.inner, &tenant)
    }

    /// Issues a 6-digit one-time code for `subject` (valid 15 minutes, 5 attempts).
    #[pyo3(signature = (subject, now = None))]
    fn issue_code(
        &self,
        subject: Text,
        now: Option<UnixTime>,
    ) -> PyResult<crate::otp::PyIssuedCode> {
        crate::otp::issue(&self.inner, &subject, now)
    }

    /// Checks a code against its stored record; write `record` back when `changed`.
    #[pyo3(signature = (subject, code, record, now = None))]
    fn verify_code(
        &self,
        subject: Text,
        code: Text,
        record: Text,
        now: Option<UnixTime>,
    ) -> PyResult<crate::otp::PyCodeCheck> {
        crate::otp::verify(&self.inner, &subject, &code, &record, now)
    }

    fn __repr__(&self) -> String {
        let keys: Vec<String> = self
            .inner
            .kids()
            .iter()
            .map(|k| format!("({}, '{}')", k.kid, k.state.as_str()))
            .collect();
        format!(
            "Keyring(primary_kid={}, keys=[{}])",
            self.inner.primary_kid(),
            keys.join(", ")
        )
    }
}

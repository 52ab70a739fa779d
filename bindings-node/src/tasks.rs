//! Promise-returning variants: the core call runs on the libuv thread pool.
//!
//! Arguments are converted (and copied) on the JavaScript thread before the
//! Promise is returned; a conversion failure is kept and rejects the Promise,
//! so an async function never throws synchronously.

use crate::conv::{secret_buffer, AsciiText, SecretText};
use crate::error::{to_js, Fail, Res};
use napi::bindgen_prelude::Buffer;
use napi::{Env, Task};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The core call to run on a worker thread.
pub(crate) type Work<T> = Box<dyn FnOnce() -> keycustody::Result<T> + Send>;

/// An async call's state: the work to run, or why its arguments did not convert.
pub struct Deferred<T> {
    work: Option<Work<T>>,
    fail: Option<Fail>,
}

impl<T> Deferred<T> {
    pub(crate) fn new(work: Res<Work<T>>) -> Self {
        match work {
            Ok(w) => Deferred {
                work: Some(w),
                fail: None,
            },
            Err(f) => Deferred {
                work: None,
                fail: Some(f),
            },
        }
    }

    pub(crate) fn compute(&mut self) -> Outcome<T> {
        match self.work.take() {
            Some(w) => Outcome::Done(w()),
            None => Outcome::ArgError,
        }
    }

    pub(crate) fn settle<J>(
        &mut self,
        env: &Env,
        out: Outcome<T>,
        ok: impl FnOnce(T) -> Res<J>,
    ) -> napi::Result<J> {
        match out {
            Outcome::Done(Ok(v)) => ok(v).map_err(|f| to_js(env, f)),
            Outcome::Done(Err(e)) => Err(to_js(env, Fail::Core(e))),
            Outcome::ArgError => {
                let fail = self
                    .fail
                    .take()
                    .unwrap_or_else(|| crate::error::internal("async task lost its arguments"));
                Err(to_js(env, fail))
            }
        }
    }
}

/// What the worker thread produced.
pub enum Outcome<T> {
    /// The core call ran.
    Done(keycustody::Result<T>),
    /// The arguments did not convert; the failure is kept in `Deferred`.
    ArgError,
}

/// An async call resolving to a `Buffer` of secret bytes.
pub struct BytesTask(pub(crate) Deferred<keycustody::SecretBytes>);

impl Task for BytesTask {
    type Output = Outcome<keycustody::SecretBytes>;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.0.compute())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        self.0.settle(&env, output, |b| Ok(secret_buffer(b)))
    }
}

/// `openAsync`'s arguments, converted on the JavaScript thread.
pub(crate) struct OpenArgs {
    pub(crate) keyring: Arc<keycustody::Keyring>,
    pub(crate) owner: String,
    /// The envelope's text (no secret); freed on the pool once decoded.
    pub(crate) envelope: String,
    pub(crate) context: Zeroizing<Vec<u8>>,
    /// The result: a `Buffer` made on the JavaScript thread with the plaintext's length
    /// ([`crate::conv::open_output_buffer`]), filled on the pool, never seen by JavaScript
    /// before the Promise resolves with it. `None` for a text whose length no envelope has.
    pub(crate) out: Option<Buffer>,
}

/// `openAsync`: the plaintext is decrypted on the pool straight into a `Buffer` in V8's
/// memory, as the sync `open` does on the JavaScript thread (see [`OpenArgs::out`]).
pub struct OpenTask {
    args: Option<OpenArgs>,
    fail: Option<Fail>,
}

impl OpenTask {
    pub(crate) fn new(args: Res<OpenArgs>) -> Self {
        match args {
            Ok(a) => OpenTask {
                args: Some(a),
                fail: None,
            },
            Err(f) => OpenTask {
                args: None,
                fail: Some(f),
            },
        }
    }
}

impl Task for OpenTask {
    /// `None`: the plaintext is in `out`; `Some`: it was decrypted into a new vector.
    type Output = Outcome<Option<keycustody::SecretBytes>>;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let Some(a) = self.args.as_mut() else {
            return Ok(Outcome::ArgError);
        };
        let envelope = std::mem::take(&mut a.envelope);
        Ok(Outcome::Done(crate::conv::open_into_slice(
            &a.keyring,
            &a.owner,
            envelope,
            &a.context,
            a.out.as_deref_mut(),
        )))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        match output {
            Outcome::Done(Ok(Some(b))) => Ok(secret_buffer(b)),
            Outcome::Done(Ok(None)) => self
                .args
                .as_mut()
                .and_then(|a| a.out.take())
                .ok_or_else(|| to_js(&env, crate::error::internal("async open lost its buffer"))),
            Outcome::Done(Err(e)) => Err(to_js(&env, Fail::Core(e))),
            Outcome::ArgError => {
                let fail = self
                    .fail
                    .take()
                    .unwrap_or_else(|| crate::error::internal("async task lost its arguments"));
                Err(to_js(&env, fail))
            }
        }
    }
}

/// An async call resolving to a (non-secret) string, e.g. an envelope (its text is
/// built on the worker thread; V8 copies it as Latin-1 when it is ASCII).
pub struct StringTask(pub(crate) Deferred<AsciiText>);

impl Task for StringTask {
    type Output = Outcome<AsciiText>;
    type JsValue = AsciiText;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.0.compute())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        self.0.settle(&env, output, Ok)
    }
}

/// An async call resolving to a secret string: V8 copies it from the secret's own
/// buffer, which is wiped right after (no intermediate `String`).
pub struct SecretStringTask(pub(crate) Deferred<keycustody::SecretString>);

impl Task for SecretStringTask {
    type Output = Outcome<keycustody::SecretString>;
    type JsValue = SecretText;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(self.0.compute())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        self.0.settle(&env, output, |s| Ok(SecretText(s)))
    }
}

macro_rules! opaque_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t)).finish_non_exhaustive()
            }
        }
    )*};
}
opaque_debug!(BytesTask, OpenTask, StringTask, SecretStringTask);

impl<T> std::fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Outcome<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome").finish_non_exhaustive()
    }
}

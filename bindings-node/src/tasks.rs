//! Promise-returning variants: the core call runs on the libuv thread pool.
//!
//! Arguments are converted (and copied) on the JavaScript thread before the
//! Promise is returned; a conversion failure is kept and rejects the Promise,
//! so an async function never throws synchronously.

use crate::conv::{secret_buffer, AsciiText, SecretText};
use crate::error::{to_js, Fail, Res};
use napi::bindgen_prelude::Buffer;
use napi::{Env, Task};

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
opaque_debug!(BytesTask, StringTask, SecretStringTask);

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

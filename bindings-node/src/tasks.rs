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

/// An async call's state: what the pool needs (its converted arguments, or the work to run
/// on them), or why the arguments did not convert. The one place that failure is kept and
/// becomes the Promise's rejection.
pub struct Deferred<A> {
    args: Option<A>,
    fail: Option<Fail>,
}

impl<A> Deferred<A> {
    pub(crate) fn new(args: Res<A>) -> Self {
        match args {
            Ok(a) => Deferred {
                args: Some(a),
                fail: None,
            },
            Err(f) => Deferred {
                args: None,
                fail: Some(f),
            },
        }
    }

    /// The JavaScript value of what the pool produced: `ok` of the result, or the core's
    /// error, or the argument failure kept by [`Deferred::new`].
    pub(crate) fn settle<T, J>(
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

impl<T> Deferred<Work<T>> {
    /// Runs the work (on the pool), once.
    pub(crate) fn compute(&mut self) -> Outcome<T> {
        Outcome::of(self.args.take().map(|w| w()))
    }
}

/// What the worker thread produced.
pub enum Outcome<T> {
    /// The core call ran.
    Done(keycustody::Result<T>),
    /// The arguments did not convert; the failure is kept in `Deferred`.
    ArgError,
}

impl<T> Outcome<T> {
    /// What the core call returned, `None` when there were no arguments to call it with.
    fn of(done: Option<keycustody::Result<T>>) -> Self {
        done.map_or(Outcome::ArgError, Outcome::Done)
    }
}

/// An async call resolving to a `Buffer` of secret bytes.
pub struct BytesTask(pub(crate) Deferred<Work<keycustody::SecretBytes>>);

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
/// memory, as the sync `open` does on the JavaScript thread (see [`OpenArgs::out`]). The
/// arguments stay in the task until it resolves, so `out` is given back (or dropped) on the
/// JavaScript thread.
pub struct OpenTask(pub(crate) Deferred<OpenArgs>);

impl Task for OpenTask {
    /// `None`: the plaintext is in `out`; `Some`: it was decrypted into a new vector.
    type Output = Outcome<Option<keycustody::SecretBytes>>;
    type JsValue = Buffer;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(Outcome::of(self.0.args.as_mut().map(|a| {
            crate::conv::open_into_slice(
                &a.keyring,
                &a.owner,
                std::mem::take(&mut a.envelope),
                &a.context,
                a.out.as_deref_mut(),
            )
        })))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        let out = self.0.args.as_mut().and_then(|a| a.out.take());
        self.0.settle(&env, output, |opened| match opened {
            Some(b) => Ok(secret_buffer(b)),
            None => out.ok_or_else(|| crate::error::internal("async open lost its buffer")),
        })
    }
}

/// An async call resolving to a (non-secret) string, e.g. an envelope (its text is
/// built on the worker thread; V8 copies it as Latin-1 when it is ASCII).
pub struct StringTask(pub(crate) Deferred<Work<AsciiText>>);

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
pub struct SecretStringTask(pub(crate) Deferred<Work<keycustody::SecretString>>);

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

impl<A> std::fmt::Debug for Deferred<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Outcome<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome").finish_non_exhaustive()
    }
}

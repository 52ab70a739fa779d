//! A streaming body wrapper enforcing a size limit and an idle timeout, without
//! buffering: each frame is passed on as soon as it arrives.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Boxed error type of proxied bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a guarded body stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardError {
    /// More bytes than the limit.
    TooLarge,
    /// No frame within the idle timeout.
    Idle,
    /// The wrapped body itself failed (e.g. a client's malformed chunked encoding).
    Broken,
}

impl std::fmt::Display for GuardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GuardError::TooLarge => "body exceeds the size limit",
            GuardError::Idle => "body idle timeout",
            GuardError::Broken => "body malformed or cut off",
        })
    }
}

impl std::error::Error for GuardError {}

/// Finds a [`GuardError`] in an error's source chain.
pub fn find_guard_error(e: &(dyn std::error::Error + 'static)) -> Option<GuardError> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(g) = err.downcast_ref::<GuardError>() {
            return Some(*g);
        }
        cur = err.source();
    }
    None
}

/// The wrapper.
#[derive(Debug)]
pub struct Guarded<B> {
    inner: B,
    remaining: u64,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
    done: bool,
    ended: Option<tokio::sync::oneshot::Sender<()>>,
    mark_broken: bool,
}

impl<B> Guarded<B> {
    /// Wraps `inner`: at most `limit` bytes, at most `idle` between frames.
    pub fn new(inner: B, limit: u64, idle: Duration) -> Guarded<B> {
        Guarded {
            inner,
            remaining: limit,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            done: false,
            ended: None,
            mark_broken: false,
        }
    }

    /// Like [`Guarded::new`], for a request body: an error of the inner body is
    /// reported as [`GuardError::Broken`], and the returned receiver resolves when
    /// the body has been read to its end (or dropped, or failed).
    pub fn request(
        inner: B,
        limit: u64,
        idle: Duration,
    ) -> (Guarded<B>, tokio::sync::oneshot::Receiver<()>)
    where
        B: Body,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut g = Guarded::new(inner, limit, idle);
        g.mark_broken = true;
        if g.inner.is_end_stream() {
            let _ = tx.send(());
        } else {
            g.ended = Some(tx);
        }
        (g, rx)
    }

    fn end(&mut self) {
        if let Some(t) = self.ended.take() {
            let _ = t.send(());
        }
    }
}

impl<B> Body for Guarded<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    let n = d.len() as u64;
                    if n > this.remaining {
                        this.done = true;
                        return Poll::Ready(Some(Err(Box::new(GuardError::TooLarge))));
                    }
                    this.remaining -= n;
                }
                this.timer.as_mut().reset(Instant::now() + this.idle);
                if this.inner.is_end_stream() {
                    this.end();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                if this.mark_broken {
                    drop(e.into());
                    return Poll::Ready(Some(Err(Box::new(GuardError::Broken))));
                }
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(None) => {
                this.done = true;
                this.end();
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.timer.as_mut().poll(cx).is_ready() {
                    this.done = true;
                    Poll::Ready(Some(Err(Box::new(GuardError::Idle))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[tokio::test]
    async fn passes_small_bodies_and_stops_large_ones() {
        let b = Guarded::new(
            Full::new(Bytes::from_static(b"hello")),
            5,
            Duration::from_secs(60),
        );
        assert_eq!(b.collect().await.unwrap().to_bytes(), "hello");
        let b = Guarded::new(
            Full::new(Bytes::from_static(b"hello!")),
            5,
            Duration::from_secs(60),
        );
        let e = b.collect().await.unwrap_err();
        assert_eq!(find_guard_error(e.as_ref()), Some(GuardError::TooLarge));
    }

    struct Never;
    impl Body for Never {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn idle_body_times_out() {
        // A body that never yields: with paused time the idle timer fires
        // deterministically, without real waiting.
        let b = Guarded::new(Never, 100, Duration::from_secs(5));
        let e = b.collect().await.unwrap_err();
        assert_eq!(find_guard_error(e.as_ref()), Some(GuardError::Idle));
    }
}

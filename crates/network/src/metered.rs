//! A socket wrapper that remembers when bytes last arrived, so the dead-peer timeout counts
//! any traffic, not only whole frames: a peer busy sending one large frame over a slow link is
//! alive while its bytes trickle in.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// When bytes last arrived on one socket, in ms since the clock's start.
#[derive(Clone)]
pub(crate) struct LastRead {
    start: Instant,
    ms: Arc<AtomicU64>,
}

impl LastRead {
    pub fn new() -> Self {
        Self { start: Instant::now(), ms: Arc::default() }
    }

    fn touch(&self) {
        self.ms.store(self.start.elapsed().as_millis() as u64, Relaxed);
    }

    /// How long ago bytes last arrived (or the clock started).
    pub fn idle(&self) -> std::time::Duration {
        let last = std::time::Duration::from_millis(self.ms.load(Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// `S` with every successful read of at least one byte recorded in a [`LastRead`].
pub(crate) struct Metered<S> {
    inner: S,
    last: LastRead,
}

impl<S> Metered<S> {
    pub fn new(inner: S, last: LastRead) -> Self {
        Self { inner, last }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.last.touch();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

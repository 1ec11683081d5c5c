//! The connections of `serve` turn hyper's own error answers into the JSON error body.
//!
//! hyper answers some requests before any of our code sees them: a request target over
//! 64 KiB (`414`), headers over its buffer (`431`) and unparseable requests (`400`). Those
//! answers are a bare status line with `content-length: 0` and no `content-type`, written
//! in one piece just before hyper closes the connection. [`JsonErrors`] recognises such a
//! head on the way out (every answer of ours has a `content-type`) and writes the same
//! status with a JSON body instead, so every error a client sees is JSON.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The client's address, as `ConnectInfo` of every request.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The JSON response replacing hyper's bare error head `head`, if it is one.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    if !head.ends_with(b"\r\n\r\n") || head.len() > 1024 || !head.starts_with(b"HTTP/1.") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let status: u16 = text.get(9..12)?.parse().ok()?;
    let lower = text.to_ascii_lowercase();
    if lower.contains("\r\ncontent-type:") || !lower.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let (code, message) = match status {
        400 => ("bad_request", "the request could not be parsed as HTTP/1.1"),
        414 => ("uri_too_long", "the request target is over the size limit"),
        431 => (
            "headers_too_large",
            "the request head (target and headers) is over the size limit",
        ),
        _ => return None,
    };
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let status_line = text.split("\r\n").next()?;
    Some(
        format!(
            "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A connection whose bare error heads from hyper are rewritten as JSON responses.
pub struct JsonErrors<T> {
    inner: T,
    /// Bytes of a replacement still to be written.
    pending: Vec<u8>,
}

impl<T> JsonErrors<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncWrite + Unpin> JsonErrors<T> {
    /// Writes what is pending; `Ready(Ok)` once nothing is.
    fn drain(&mut self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            match Pin::new(&mut self.inner).poll_write(context, &self.pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(written)) => {
                    self.pending.drain(..written);
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(context, buffer)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.drain(context) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => return Poll::Pending,
        }
        if let Some(response) = replacement(buffer) {
            self.pending = response;
            // The replacement counts as written; it is flushed before anything else.
            let _ = self.drain(context);
            return Poll::Ready(Ok(buffer.len()));
        }
        Pin::new(&mut self.inner).poll_write(context, buffer)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(context) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_flush(context),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.drain(context) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_shutdown(context),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_hypers_bare_error_heads() {
        let bare =
            b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 03:00:00 GMT\r\n\r\n";
        let rewritten = String::from_utf8(replacement(bare).unwrap()).unwrap();
        assert!(rewritten.starts_with("HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\n"));
        let body = rewritten.split("\r\n\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "uri_too_long");
        assert!(rewritten.contains(&format!("content-length: {}\r\n", body.len())));
        // Our own answers carry a content type and are left alone.
        let ours =
            b"HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(ours).is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(
            replacement(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n")
                .is_some()
        );
    }
}

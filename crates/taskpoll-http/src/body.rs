//! Reading a body under a size cap, and quoting one in an error.

use crate::Transport;

/// The default cap on a response body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// It is larger than the cap.
    #[error(
        "response body larger than the {cap}-byte cap (raise the adapter's max response size if this is expected)"
    )]
    TooLarge {
        /// The cap.
        cap: usize,
    },
    /// The connection failed while reading it.
    #[error(transparent)]
    Transport(#[from] Transport),
}

/// Reads a response body, refusing it as soon as it passes `cap` bytes (at once when
/// `Content-Length` says so).
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge { cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Transport::from)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short, printable excerpt of a body for error messages (at most 200 characters).
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let mut out: String = trimmed.chars().take(200).collect();
    if trimmed.chars().count() > 200 {
        out.push('…');
    }
    out
}

//! Request/response header rewriting: strip hop-by-hop and every client-sent
//! credential, inject the real key.

use super::routes::Kind;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};

/// Headers that carry credentials; whatever the client sent in them is dropped.
pub const AUTH_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "cookie",
];

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including those named in `Connection`.
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(*n);
    }
}

/// Rewrites a client request's headers for the upstream: drops hop-by-hop
/// headers, `Host` and every credential header, then injects `key`.
pub fn rewrite_request(h: &mut HeaderMap, kind: Kind, key: &Injected) {
    strip_hop_by_hop(h);
    h.remove(hyper::header::HOST);
    for n in AUTH_HEADERS {
        h.remove(*n);
    }
    let name = match kind {
        Kind::Anthropic => HeaderName::from_static("x-api-key"),
        Kind::Google => HeaderName::from_static("x-goog-api-key"),
        Kind::Bearer => hyper::header::AUTHORIZATION,
    };
    let v = match kind {
        Kind::Bearer => key.bearer.clone(),
        _ => key.raw.clone(),
    };
    h.insert(name, v);
}

/// A key ready to inject (both header forms, marked sensitive so that hyper
/// never indexes or prints them).
#[derive(Clone)]
pub struct Injected {
    raw: HeaderValue,
    bearer: HeaderValue,
}

impl std::fmt::Debug for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Injected([REDACTED])")
    }
}

impl Injected {
    /// Builds the header values; `None` when the key has bytes a header cannot carry.
    pub fn new(key: &[u8]) -> Option<Injected> {
        let key = key.trim_ascii();
        if key.is_empty() {
            return None;
        }
        let mut raw = HeaderValue::from_bytes(key).ok()?;
        raw.set_sensitive(true);
        let mut b = zeroize::Zeroizing::new(Vec::with_capacity(key.len() + 7));
        b.extend_from_slice(b"Bearer ");
        b.extend_from_slice(key);
        let mut bearer = HeaderValue::from_bytes(&b).ok()?;
        bearer.set_sensitive(true);
        Some(Injected { raw, bearer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("Bearer proxy-managed"),
        );
        h.insert("x-api-key", HeaderValue::from_static("proxy-managed"));
        h.insert("x-goog-api-key", HeaderValue::from_static("client-key"));
        h.insert("api-key", HeaderValue::from_static("azure"));
        h.insert("proxy-authorization", HeaderValue::from_static("Basic x"));
        h.insert("cookie", HeaderValue::from_static("s=1"));
        h.insert("host", HeaderValue::from_static("proxy:3101"));
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-drop-me"),
        );
        h.insert("x-drop-me", HeaderValue::from_static("1"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h
    }

    #[test]
    fn anthropic_gets_x_api_key_only() {
        let mut h = client_headers();
        rewrite_request(
            &mut h,
            Kind::Anthropic,
            &Injected::new(b"sk-ant-real\n").unwrap(),
        );
        assert_eq!(h["x-api-key"], "sk-ant-real");
        assert!(h["x-api-key"].is_sensitive());
        for gone in [
            "authorization",
            "x-goog-api-key",
            "api-key",
            "proxy-authorization",
            "cookie",
            "host",
            "connection",
            "x-drop-me",
            "transfer-encoding",
        ] {
            assert!(!h.contains_key(gone), "{gone}");
        }
        assert_eq!(h["anthropic-version"], "2023-06-01");
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h.get_all("x-api-key").iter().count(), 1);
    }

    #[test]
    fn google_and_bearer() {
        let k = Injected::new(b"real").unwrap();
        let mut h = client_headers();
        rewrite_request(&mut h, Kind::Google, &k);
        assert_eq!(h["x-goog-api-key"], "real");
        assert!(!h.contains_key("x-api-key") && !h.contains_key("authorization"));
        let mut h = client_headers();
        rewrite_request(&mut h, Kind::Bearer, &k);
        assert_eq!(h["authorization"], "Bearer real");
        assert!(!h.contains_key("x-api-key") && !h.contains_key("x-goog-api-key"));
    }

    #[test]
    fn unusable_keys_are_refused() {
        assert!(Injected::new(b"").is_none());
        assert!(Injected::new(b"  \n").is_none());
        assert!(Injected::new(b"a\nb").is_none());
        assert!(Injected::new(b"a\0b").is_none());
        assert_eq!(
            format!("{:?}", Injected::new(b"sk-secret").unwrap()),
            "Injected([REDACTED])"
        );
    }
}

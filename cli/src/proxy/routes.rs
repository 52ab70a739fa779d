//! The routes file: which upstream each `/proxy/<route>/` prefix goes to, how its
//! key is injected, and its rate limit.
//!
//! ```json
//! {"routes": {
//!   "anthropic": {"upstream": "https://api.anthropic.com", "kind": "anthropic", "secret": "ANTHROPIC_API_KEY"},
//!   "openai": {"upstream": "https://api.openai.com", "kind": "openai", "secret": "OPENAI_API_KEY", "burst": 60, "per_second": 20}
//! }}
//! ```

use hyper::Uri;
use std::collections::BTreeMap;

/// How the provider expects its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `x-api-key: KEY`.
    Anthropic,
    /// `x-goog-api-key: KEY`.
    Google,
    /// `Authorization: Bearer KEY` (OpenAI, OpenRouter, and the rest).
    Bearer,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "anthropic" => Some(Kind::Anthropic),
            "google" | "gemini" => Some(Kind::Google),
            "openai" | "openrouter" | "bearer" | "groq" | "mistral" | "deepseek" | "xai" => {
                Some(Kind::Bearer)
            }
            _ => None,
        }
    }
}

/// One route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// The base path, without a trailing `/` (may be empty).
    pub base_path: String,
    /// How the key goes in.
    pub kind: Kind,
    /// The vault secret holding the key.
    pub secret: String,
    /// Token bucket size.
    pub burst: u32,
    /// Token bucket refill per second.
    pub per_second: f64,
}

/// Default bucket size.
pub const DEFAULT_BURST: u32 = 60;
/// Default refill rate.
pub const DEFAULT_PER_SECOND: f64 = 20.0;
/// The largest routes file.
pub const MAX_ROUTES_FILE: u64 = 1024 * 1024;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    routes: BTreeMap<String, RouteJson>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteJson {
    upstream: String,
    kind: String,
    secret: String,
    #[serde(default)]
    burst: Option<u32>,
    #[serde(default)]
    per_second: Option<f64>,
}

/// Checks a route name: `[a-z0-9][a-z0-9_-]{0,63}`.
pub fn valid_route_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

/// Parses the routes file text. Errors name the route and the field, never a value
/// that could be a secret (the file holds none anyway).
///
/// # Errors
/// A fixed message naming what is wrong.
pub fn parse(text: &str) -> Result<BTreeMap<String, Route>, String> {
    let f: FileJson = serde_json::from_str(text).map_err(|e| {
        format!(
            "routes file is not valid: line {} column {}: expected {{\"routes\": {{NAME: {{\"upstream\", \"kind\", \"secret\", [\"burst\"], [\"per_second\"]}}}}}}",
            e.line(),
            e.column()
        )
    })?;
    if f.routes.is_empty() {
        return Err("routes file defines no routes".into());
    }
    let mut out = BTreeMap::new();
    for (name, r) in f.routes {
        if !valid_route_name(&name) {
            return Err(format!(
                "route {name:?}: names must match [a-z0-9][a-z0-9_-]* (at most 64)"
            ));
        }
        let kind = Kind::parse(&r.kind).ok_or_else(|| {
            format!("route {name:?}: unknown kind (use anthropic, google, openai, openrouter or bearer)")
        })?;
        crate::vault::check_name(&r.secret)
            .map_err(|_| format!("route {name:?}: secret must be a vault secret name"))?;
        let uri: Uri = r
            .upstream
            .parse()
            .map_err(|_| format!("route {name:?}: upstream is not a URL"))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_string(),
            _ => {
                return Err(format!(
                    "route {name:?}: upstream must be http:// or https://"
                ))
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| format!("route {name:?}: upstream has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!(
                "route {name:?}: upstream must not carry credentials"
            ));
        }
        if uri.query().is_some() {
            return Err(format!("route {name:?}: upstream must not have a query"));
        }
        let burst = r.burst.unwrap_or(DEFAULT_BURST);
        let per_second = r.per_second.unwrap_or(DEFAULT_PER_SECOND);
        if burst == 0 || !(per_second.is_finite() && per_second > 0.0) {
            return Err(format!(
                "route {name:?}: burst and per_second must be positive"
            ));
        }
        out.insert(
            name,
            Route {
                scheme,
                authority: authority.as_str().to_string(),
                base_path: uri.path().trim_end_matches('/').to_string(),
                kind,
                secret: r.secret,
                burst,
                per_second,
            },
        );
    }
    Ok(out)
}

/// Splits `/proxy/<route>/<rest>` into `(route, "/<rest>")`; `None` otherwise.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/proxy/")?;
    match rest.find('/') {
        Some(i) => Some((&rest[..i], &rest[i..])),
        None => Some((rest, "")),
    }
}

/// Whether a path has a `.` or `..` segment (also percent-encoded), which could
/// climb out of the route's base path upstream.
pub fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|seg| {
        let s = seg.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    })
}

/// Removes the `key` query parameter (Google's query-string key) from a query.
pub fn strip_key_param(query: &str) -> String {
    query
        .split('&')
        .filter(|p| {
            let name = p.split('=').next().unwrap_or("");
            !name.eq_ignore_ascii_case("key")
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Route {
    /// The upstream URI for a request path remainder and query.
    ///
    /// # Errors
    /// When the result is not a valid URI.
    pub(crate) fn upstream_uri(&self, rest: &str, query: Option<&str>) -> Result<Uri, ()> {
        let mut pq = String::with_capacity(self.base_path.len() + rest.len() + 16);
        pq.push_str(&self.base_path);
        pq.push_str(rest);
        if pq.is_empty() {
            pq.push('/');
        }
        // `key=` carries Google's key, or a proxy token on any route: never forwarded.
        let q = query.map(strip_key_param);
        if let Some(q) = q.filter(|q| !q.is_empty()) {
            pq.push('?');
            pq.push_str(&q);
        }
        Uri::builder()
            .scheme(self.scheme.as_str())
            .authority(self.authority.as_str())
            .path_and_query(pq)
            .build()
            .map_err(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"routes": {
        "anthropic": {"upstream": "https://api.anthropic.com", "kind": "anthropic", "secret": "ANTHROPIC_API_KEY"},
        "google": {"upstream": "https://generativelanguage.googleapis.com/v1beta/", "kind": "google", "secret": "GOOGLE_KEY", "burst": 5, "per_second": 1.5},
        "openai": {"upstream": "http://127.0.0.1:8080", "kind": "openai", "secret": "OPENAI_API_KEY"}
    }}"#;

    #[test]
    fn parses_routes() {
        let r = parse(GOOD).unwrap();
        assert_eq!(r.len(), 3);
        let a = &r["anthropic"];
        assert_eq!(a.kind, Kind::Anthropic);
        assert_eq!(a.base_path, "");
        assert_eq!((a.burst, a.per_second), (DEFAULT_BURST, DEFAULT_PER_SECOND));
        let g = &r["google"];
        assert_eq!(g.base_path, "/v1beta");
        assert_eq!((g.burst, g.per_second), (5, 1.5));
        assert_eq!(r["openai"].kind, Kind::Bearer);
    }

    #[test]
    fn rejects_malformed_routes() {
        let cases = [
            ("not json", "not valid"),
            (r#"{"routes": {}}"#, "no routes"),
            (
                r#"{"routes": {"A": {"upstream": "http://x", "kind": "openai", "secret": "K"}}}"#,
                "names must match",
            ),
            (
                r#"{"routes": {"a": {"upstream": "http://x", "kind": "nope", "secret": "K"}}}"#,
                "unknown kind",
            ),
            (
                r#"{"routes": {"a": {"upstream": "http://x", "kind": "openai", "secret": "1K"}}}"#,
                "secret must be",
            ),
            (
                r#"{"routes": {"a": {"upstream": "ftp://x", "kind": "openai", "secret": "K"}}}"#,
                "http:// or https://",
            ),
            (
                r#"{"routes": {"a": {"upstream": "/relative", "kind": "openai", "secret": "K"}}}"#,
                "http:// or https://",
            ),
            (
                r#"{"routes": {"a": {"upstream": "http://u:p@x", "kind": "openai", "secret": "K"}}}"#,
                "credentials",
            ),
            (
                r#"{"routes": {"a": {"upstream": "http://x/?key=1", "kind": "openai", "secret": "K"}}}"#,
                "query",
            ),
            (
                r#"{"routes": {"a": {"upstream": "http://x", "kind": "openai", "secret": "K", "burst": 0}}}"#,
                "positive",
            ),
            (
                r#"{"routes": {"a": {"upstream": "http://x", "kind": "openai", "secret": "K", "per_second": -1}}}"#,
                "positive",
            ),
            (
                r#"{"routes": {"a": {"upstream": "http://x", "kind": "openai", "secret": "K", "extra": 1}}}"#,
                "not valid",
            ),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn splits_paths() {
        assert_eq!(
            split_path("/proxy/openai/v1/chat"),
            Some(("openai", "/v1/chat"))
        );
        assert_eq!(split_path("/proxy/openai"), Some(("openai", "")));
        assert_eq!(split_path("/other/openai"), None);
        assert!(has_dot_segment("/v1/../x"));
        assert!(has_dot_segment("/v1/%2E%2e/x"));
        assert!(has_dot_segment("/./x"));
        assert!(!has_dot_segment("/v1/..x/a.b"));
    }

    #[test]
    fn builds_upstream_uris() {
        let r = parse(GOOD).unwrap();
        assert_eq!(
            r["google"]
                .upstream_uri("/models/g:generate", Some("alt=sse&key=leak&KEY=x"))
                .unwrap()
                .to_string(),
            "https://generativelanguage.googleapis.com/v1beta/models/g:generate?alt=sse"
        );
        assert_eq!(
            r["openai"]
                .upstream_uri("/v1/models", Some("a=1&key=2"))
                .unwrap()
                .to_string(),
            "http://127.0.0.1:8080/v1/models?a=1"
        );
        assert_eq!(
            r["anthropic"].upstream_uri("", None).unwrap().to_string(),
            "https://api.anthropic.com/"
        );
    }
}

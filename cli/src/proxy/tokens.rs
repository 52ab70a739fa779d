//! Per-agent proxy tokens: each agent presents its own API key (DESIGN §5, prefix
//! `kcp`) where its SDK puts the provider key; the proxy knows which agent calls
//! and which routes it was granted.
//!
//! The tokens file (JSON, mode 0600, never group/other-readable or -writable)
//! holds only SHA-256 hashes of the tokens:
//!
//! ```json
//! {"v": 1, "tokens": [
//!   {"agent": "agent-7", "hash": "<64 hex>", "hint": "kcp_Ab12…wXyZ",
//!    "routes": ["openai"], "created": 1764590000}
//! ]}
//! ```

use super::keys::{stamp, Stamp};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// The prefix of proxy tokens.
pub const PREFIX: &str = "kcp";
/// The largest tokens file.
pub const MAX_TOKENS_FILE: u64 = 4 * 1024 * 1024;
/// The most tokens in one file.
pub const MAX_TOKENS: usize = 10_000;

/// One granted token (its hash only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// The agent's name (goes into audit entries as the actor).
    pub agent: String,
    /// Lowercase SHA-256 hex of the token.
    pub hash: String,
    /// `kcp_` + first 4 + `…` + last 4 characters, for listings.
    pub hint: String,
    /// The routes this token may use.
    pub routes: Vec<String>,
    /// Unix seconds when it was issued.
    pub created: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    v: u32,
    tokens: Vec<TokenEntry>,
}

/// The parsed tokens file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    entries: Vec<TokenEntry>,
    by_hash: HashMap<String, usize>,
}

/// Checks an agent name: `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`.
pub fn valid_agent_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn valid_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

fn valid_hint(s: &str) -> bool {
    s.len() <= 64
        && s.starts_with("kcp_")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '…')
}

/// Why a tokens file was refused. Messages name the entry (by agent or index)
/// and the field; the file holds no token, only hashes, and no hash is printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokensError(pub String);

impl std::fmt::Display for TokensError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Tokens {
    /// Parses tokens-file text.
    ///
    /// # Errors
    /// [`TokensError`] naming what is wrong.
    pub fn parse(text: &[u8]) -> Result<Tokens, TokensError> {
        let f: FileJson = serde_json::from_slice(text).map_err(|e| {
            TokensError(format!(
                "tokens file is not valid: line {} column {}: expected {{\"v\": 1, \"tokens\": [{{\"agent\", \"hash\", \"hint\", \"routes\", \"created\"}}]}}",
                e.line(),
                e.column()
            ))
        })?;
        if f.v != 1 {
            return Err(TokensError(
                "tokens file: unsupported version (want 1)".into(),
            ));
        }
        if f.tokens.len() > MAX_TOKENS {
            return Err(TokensError(format!(
                "tokens file: more than {MAX_TOKENS} tokens"
            )));
        }
        let mut t = Tokens::default();
        let mut agents = BTreeSet::new();
        for (i, e) in f.tokens.into_iter().enumerate() {
            if !valid_agent_name(&e.agent) {
                return Err(TokensError(format!(
                    "tokens file: entry {i}: agent names must match [A-Za-z0-9][A-Za-z0-9_.-]* (at most 64)"
                )));
            }
            let who = &e.agent;
            if !agents.insert(e.agent.clone()) {
                return Err(TokensError(format!(
                    "tokens file: agent {who:?} appears twice"
                )));
            }
            if !valid_hash(&e.hash) {
                return Err(TokensError(format!(
                    "tokens file: agent {who:?}: hash must be 64 lowercase hex characters"
                )));
            }
            if !valid_hint(&e.hint) {
                return Err(TokensError(format!(
                    "tokens file: agent {who:?}: hint is not a kcp_ token hint"
                )));
            }
            if e.routes.is_empty() || e.routes.len() > 256 {
                return Err(TokensError(format!(
                    "tokens file: agent {who:?}: routes must list 1 to 256 routes"
                )));
            }
            if e.routes.iter().any(|r| !super::routes::valid_route_name(r)) {
                return Err(TokensError(format!(
                    "tokens file: agent {who:?}: a route name is not [a-z0-9][a-z0-9_-]*"
                )));
            }
            if t.by_hash.contains_key(&e.hash) {
                return Err(TokensError(format!(
                    "tokens file: agent {who:?}: hash duplicates another agent's"
                )));
            }
            t.by_hash.insert(e.hash.clone(), t.entries.len());
            t.entries.push(e);
        }
        Ok(t)
    }

    /// The file text (pretty JSON, trailing newline).
    pub fn to_text(&self) -> String {
        let f = FileJson {
            v: 1,
            tokens: self.entries.clone(),
        };
        let mut s = serde_json::to_string_pretty(&f).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[TokenEntry] {
        &self.entries
    }

    /// The entry whose hash is `hash`.
    pub fn by_hash(&self, hash: &str) -> Option<&TokenEntry> {
        self.by_hash.get(hash).map(|&i| &self.entries[i])
    }

    /// Routes named by some token but absent from `routes`.
    pub fn unknown_routes<'a>(&'a self, known: &dyn Fn(&str) -> bool) -> Vec<(&'a str, &'a str)> {
        self.entries
            .iter()
            .flat_map(|e| e.routes.iter().map(move |r| (e.agent.as_str(), r.as_str())))
            .filter(|(_, r)| !known(r))
            .collect()
    }

    /// Adds an entry.
    ///
    /// # Errors
    /// When the agent already has a token.
    pub fn add(&mut self, e: TokenEntry) -> Result<(), TokensError> {
        if self.entries.iter().any(|x| x.agent == e.agent) {
            return Err(TokensError(format!(
                "agent {:?} already has a token; revoke it first",
                e.agent
            )));
        }
        if self.entries.len() >= MAX_TOKENS {
            return Err(TokensError(format!("at most {MAX_TOKENS} tokens")));
        }
        self.by_hash.insert(e.hash.clone(), self.entries.len());
        self.entries.push(e);
        Ok(())
    }

    /// Removes the entries of `agent` or with hint `hint`; returns how many.
    pub fn revoke(&mut self, agent: Option<&str>, hint: Option<&str>) -> usize {
        let before = self.entries.len();
        self.entries
            .retain(|e| Some(e.agent.as_str()) != agent && Some(e.hint.as_str()) != hint);
        self.by_hash = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.hash.clone(), i))
            .collect();
        before - self.entries.len()
    }
}

/// Refuses a file that group or others may read or write (tokens, routes).
///
/// # Errors
/// A message naming the file and its mode.
pub fn check_private(path: &Path, what: &str, allow_group_read: bool) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {what} {}: {}", path.display(), e.kind()))?;
    let mode = m.mode() & 0o777;
    let bad = if allow_group_read { 0o022 } else { 0o077 };
    if mode & bad != 0 {
        return Err(format!(
            "{what} {} has mode {mode:o}: it must not be {} by group or others (chmod {})",
            path.display(),
            if allow_group_read {
                "writable"
            } else {
                "readable or writable"
            },
            if allow_group_read { "go-w" } else { "600" }
        ));
    }
    Ok(())
}

/// Reads and parses a tokens file after checking its permissions. A missing file
/// is an empty set of tokens when `missing_ok`.
///
/// # Errors
/// A message naming the file and what is wrong.
pub fn load(path: &Path, missing_ok: bool) -> Result<Tokens, String> {
    if missing_ok
        && matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
    {
        return Ok(Tokens::default());
    }
    check_private(path, "tokens file", false)?;
    let data = crate::vault::fsutil::read_limited(path, MAX_TOKENS_FILE)
        .map_err(|e| format!("cannot read tokens file {}: {e}", path.display()))?;
    Tokens::parse(&data).map_err(|e| format!("{} ({})", e.0, path.display()))
}

/// Where the credential an SDK sends as its API key is found.
pub fn presented<'a>(headers: &'a hyper::HeaderMap, query: Option<&'a str>) -> Presented<'a> {
    let mut found: Vec<&str> = Vec::new();
    let mut bad = false;
    for v in headers.get_all(hyper::header::AUTHORIZATION) {
        match v.to_str().ok().and_then(|s| {
            let (scheme, rest) = s.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
        }) {
            Some(t) => found.push(t),
            None => bad = true,
        }
    }
    for n in ["x-api-key", "x-goog-api-key"] {
        for v in headers.get_all(n) {
            match v.to_str() {
                Ok(t) => found.push(t.trim()),
                Err(_) => bad = true,
            }
        }
    }
    if let Some(q) = query {
        for p in q.split('&') {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            if k.eq_ignore_ascii_case("key") {
                found.push(v);
            }
        }
    }
    if bad {
        return Presented::Malformed;
    }
    match found.split_first() {
        None => Presented::None,
        Some((first, rest)) if rest.iter().all(|x| x == first) => Presented::One(first),
        Some(_) => Presented::Conflicting,
    }
}

/// What a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No credential at all.
    None,
    /// One credential (possibly in several places, all equal).
    One(&'a str),
    /// Different credentials in different places.
    Conflicting,
    /// An `Authorization` header that is not `Bearer`, or a non-text header.
    Malformed,
}

/// The tokens file cannot be used (loose permissions, malformed); the reason was
/// printed when it was (re)loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokensUnusable;

/// One load of the tokens file: its stamp and what it held.
type Loaded = (Option<Stamp>, Result<Arc<Tokens>, TokensUnusable>);

/// The tokens file as the running proxy sees it: re-read whenever the file's
/// inode, size, mtime or ctime changes (checked on every request), so a revocation
/// applies to the next request.
pub struct TokenStore {
    path: PathBuf,
    current: RwLock<Arc<Loaded>>,
    reload: Mutex<()>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TokenStore {
    /// Loads the file at `path` (a missing file is no tokens).
    ///
    /// # Errors
    /// As [`load`].
    pub fn open(path: PathBuf) -> Result<TokenStore, String> {
        let st = stamp(&path);
        let t = load(&path, true)?;
        Ok(TokenStore {
            path,
            current: RwLock::new(Arc::new((st, Ok(Arc::new(t))))),
            reload: Mutex::new(()),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn snapshot(&self) -> Arc<Loaded> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// The current tokens, re-read first if the file changed (or when `force`).
    /// `Err` when the file cannot be used (loose permissions, malformed): the
    /// proxy then refuses every request until it is fixed.
    ///
    /// # Errors
    /// [`TokensUnusable`].
    pub fn get(&self, force: bool) -> Result<Arc<Tokens>, TokensUnusable> {
        let now = stamp(&self.path);
        let snap = self.snapshot();
        if snap.0 == now && !force {
            return snap.1.clone();
        }
        let _g = match self.reload.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let snap = self.snapshot();
        if snap.0 == now && !force {
            return snap.1.clone();
        }
        let next = match load(&self.path, true) {
            Ok(t) => Ok(Arc::new(t)),
            Err(e) => {
                eprintln!("keycustody proxy: tokens file reload failed, refusing requests: {e}");
                Err(TokensUnusable)
            }
        };
        let out = next.clone();
        match self.current.write() {
            Ok(mut g) => *g = Arc::new((now, next)),
            Err(p) => *p.into_inner() = Arc::new((now, next)),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(agent: &str, hash: &str) -> TokenEntry {
        TokenEntry {
            agent: agent.into(),
            hash: hash.into(),
            hint: "kcp_Ab12…wXyZ".into(),
            routes: vec!["openai".into()],
            created: 1,
        }
    }

    #[test]
    fn round_trips_and_looks_up() {
        let mut t = Tokens::default();
        t.add(entry("a", &"a".repeat(64))).unwrap();
        t.add(entry("b", &"b".repeat(64))).unwrap();
        assert!(t.add(entry("a", &"c".repeat(64))).is_err());
        let back = Tokens::parse(t.to_text().as_bytes()).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.by_hash(&"b".repeat(64)).unwrap().agent, "b");
        let mut back = back;
        assert_eq!(back.revoke(Some("a"), None), 1);
        assert!(back.by_hash(&"a".repeat(64)).is_none());
        assert_eq!(back.by_hash(&"b".repeat(64)).unwrap().agent, "b");
        assert_eq!(back.revoke(None, Some("kcp_Ab12…wXyZ")), 1);
        assert!(back.entries().is_empty());
    }

    #[test]
    fn rejects_malformed_files() {
        let h = "a".repeat(64);
        let ok = |agent: &str, hash: &str, hint: &str, routes: &str| {
            format!(
                r#"{{"v":1,"tokens":[{{"agent":"{agent}","hash":"{hash}","hint":"{hint}","routes":{routes},"created":1}}]}}"#
            )
        };
        assert!(Tokens::parse(ok("a", &h, "kcp_Ab12…wXyZ", r#"["openai"]"#).as_bytes()).is_ok());
        let cases = [
            ("not json".to_string(), "not valid"),
            (r#"{"v":2,"tokens":[]}"#.to_string(), "version"),
            (r#"{"v":1,"tokens":[],"x":1}"#.to_string(), "not valid"),
            (ok("", &h, "kcp_x", r#"["a"]"#), "agent names"),
            (ok("a b", &h, "kcp_x", r#"["a"]"#), "agent names"),
            (
                ok("a", &"A".repeat(64), "kcp_x", r#"["a"]"#),
                "hash must be",
            ),
            (ok("a", "abc", "kcp_x", r#"["a"]"#), "hash must be"),
            (ok("a", &h, "sk-x", r#"["a"]"#), "hint"),
            (ok("a", &h, "kcp_x", "[]"), "routes must list"),
            (ok("a", &h, "kcp_x", r#"["A"]"#), "route name"),
            (
                format!(
                    r#"{{"v":1,"tokens":[{{"agent":"a","hash":"{h}","hint":"kcp_x","routes":["a"],"created":1}},{{"agent":"a","hash":"{h}","hint":"kcp_x","routes":["a"],"created":1}}]}}"#
                ),
                "twice",
            ),
            (
                format!(
                    r#"{{"v":1,"tokens":[{{"agent":"a","hash":"{h}","hint":"kcp_x","routes":["a"],"created":1}},{{"agent":"b","hash":"{h}","hint":"kcp_x","routes":["a"],"created":1}}]}}"#
                ),
                "duplicates",
            ),
        ];
        for (text, want) in cases {
            let e = Tokens::parse(text.as_bytes()).unwrap_err();
            assert!(e.0.contains(want), "{text}: {e}");
            assert!(!e.0.contains(&h), "hash in message");
        }
    }

    #[test]
    fn finds_presented_credentials() {
        let mut h = hyper::HeaderMap::new();
        assert_eq!(presented(&h, None), Presented::None);
        h.insert("authorization", "Bearer kcp_x".parse().unwrap());
        assert_eq!(presented(&h, None), Presented::One("kcp_x"));
        h.insert("x-api-key", "kcp_x".parse().unwrap());
        assert_eq!(
            presented(&h, Some("a=1&key=kcp_x")),
            Presented::One("kcp_x")
        );
        assert_eq!(presented(&h, Some("key=kcp_y")), Presented::Conflicting);
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(presented(&h, None), Presented::Malformed);
        let mut g = hyper::HeaderMap::new();
        g.insert("x-goog-api-key", "kcp_g".parse().unwrap());
        assert_eq!(presented(&g, None), Presented::One("kcp_g"));
        assert_eq!(
            presented(&hyper::HeaderMap::new(), Some("alt=sse&key=kcp_q")),
            Presented::One("kcp_q")
        );
    }
}

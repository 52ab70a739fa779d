//! `scrub(text)`: replaces known secret shapes with `[REDACTED:<kind>]`, for logs.
//!
//! One regular expression (the `regex` crate: finite automata, linear time in the
//! input, no backtracking blow-up) with one branch per shape. Where a secret sits
//! behind a label (`Authorization: ...`, `x-api-key: ...`, `"secret":"..."`, a URL's
//! password) the label is kept and only the value is replaced. `kc1.` envelopes are
//! ciphertext and are left alone; candidates of our own API-key shape are redacted
//! only when their checksum matches, so ordinary `snake_case_identifiers` are not.
//!
//! Kinds: `anthropic`, `openrouter`, `openai`, `google`, `github`, `stripe`, `slack`,
//! `telegram`, `jwt`, `authorization`, `api_key`, `bearer`, `private_key`,
//! `keycustody_private_key`, `keyring_secret`, `url_password`, `keycustody_api_key`.

use regex::bytes::{Captures, Regex};
use std::sync::OnceLock;

/// One secret shape: text kept before, the secret, text kept after.
struct Shape {
    kind: &'static str,
    pre: &'static str,
    secret: &'static str,
    post: &'static str,
}

const fn shape(
    kind: &'static str,
    pre: &'static str,
    secret: &'static str,
    post: &'static str,
) -> Shape {
    Shape {
        kind,
        pre,
        secret,
        post,
    }
}

/// ASCII word boundary (keeps the regex on its fast DFA path for any input).
macro_rules! wb {
    () => {
        r"(?-u:\b)"
    };
}

/// The kind used for `kc1.` envelopes: matched so nothing inside them is touched,
/// and written back unchanged.
const KEEP: &str = "";
/// The kind of our own API keys: redacted only when the checksum matches.
const OWN_API_KEY: &str = "keycustody_api_key";

/// Order matters: at one starting position the earlier branch wins.
const SHAPES: &[Shape] = &[
    shape(KEEP, "", r"kc1\.[A-Za-z0-9_-]+", ""),
    shape(
        "private_key",
        "",
        r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|\z)",
        "",
    ),
    shape(
        "authorization",
        r#"(?i:(?:proxy-)?authorization)"?[ \t]*[:=][ \t]*"?"#,
        r#"[^\r\n" \t][^\r\n"]*"#,
        "",
    ),
    shape(
        "api_key",
        r#"(?i:x-api-key|x-goog-api-key|api[_-]?key|access[_-]?token|client[_-]?secret)"?[ \t]*[:=][ \t]*"?"#,
        r#"[^\s"',;&]{8,}"#,
        "",
    ),
    shape(
        "keyring_secret",
        r#""secret"[ \t]*:[ \t]*""#,
        r#"[^"\r\n]{8,}"#,
        "",
    ),
    shape(
        "bearer",
        r"(?i:bearer)[ \t]+",
        r"[A-Za-z0-9._~+/=-]{16,}",
        "",
    ),
    shape(
        "anthropic",
        "",
        concat!(wb!(), r"sk-ant-[A-Za-z0-9_-]{32,}"),
        "",
    ),
    shape(
        "openrouter",
        "",
        concat!(wb!(), r"sk-or-[A-Za-z0-9_-]{32,}"),
        "",
    ),
    shape(
        "openai",
        "",
        concat!(wb!(), r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}"),
        "",
    ),
    shape("google", "", concat!(wb!(), r"AIza[0-9A-Za-z_-]{35}"), ""),
    shape(
        "github",
        "",
        concat!(
            wb!(),
            r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"
        ),
        "",
    ),
    shape(
        "stripe",
        "",
        concat!(
            wb!(),
            r"(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{20,})"
        ),
        "",
    ),
    shape(
        "slack",
        "",
        concat!(
            wb!(),
            r"(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,})"
        ),
        "",
    ),
    shape(
        "telegram",
        "",
        concat!(wb!(), r"[0-9]{8,10}:A[A-Za-z0-9_-]{34}", wb!()),
        "",
    ),
    shape(
        "jwt",
        "",
        concat!(
            wb!(),
            r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"
        ),
        "",
    ),
    shape(
        "keycustody_private_key",
        "",
        concat!(wb!(), r"kcsk1\.[A-Za-z0-9_-]{43}"),
        "",
    ),
    shape(
        "url_password",
        r"[A-Za-z][A-Za-z0-9+.-]{0,20}://[^/\s:@]+:",
        r"[^/\s@]+",
        "@",
    ),
    shape(
        OWN_API_KEY,
        "",
        concat!(wb!(), r"[a-z][a-z0-9]{1,15}_[0-9A-Za-z]{36}", wb!()),
        "",
    ),
];

/// One compiled regex per shape. A single alternation of all shapes is correct but
/// its lazy DFA explodes on log text (many counted repetitions tracked at once);
/// separate regexes each keep a small DFA and a literal prefilter.
fn regexes() -> Option<&'static [Regex]> {
    static RE: OnceLock<Option<Vec<Regex>>> = OnceLock::new();
    RE.get_or_init(|| {
        // Byte-oriented and ASCII-only (`(?-u)`): small automata for any input. Every
        // shape starts and ends next to an ASCII byte (or the text's ends), so a match
        // never splits a UTF-8 sequence.
        SHAPES
            .iter()
            .map(|s| {
                regex::bytes::RegexBuilder::new(&format!(
                    "(?-u)(?P<a>{})(?:{})(?P<b>{})",
                    s.pre, s.secret, s.post
                ))
                .size_limit(16 << 20)
                .dfa_size_limit(16 << 20)
                .build()
                .ok()
            })
            .collect()
    })
    .as_deref()
}

/// Returns `text` with every recognised secret replaced by `[REDACTED:<kind>]`.
///
/// Linear time in the length of `text` in practice (each shape is a finite-automaton
/// search; a shape is searched again only from the end of a chosen match). At one
/// position the earlier shape in the list wins; matches never overlap. If a pattern
/// ever failed to build (they are constants, checked by the tests) the whole text is
/// withheld rather than returned unscrubbed.
#[must_use]
pub fn scrub(text: &str) -> String {
    let Some(res) = regexes() else {
        return "[REDACTED:unscrubbable]".to_owned();
    };
    let hay = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(hay.len());
    // Next match of each shape at or after `pos` (None once a shape has no more).
    let mut next: Vec<Option<(usize, usize)>> = vec![Some((0, 0)); res.len()];
    let mut stale = vec![true; res.len()];
    let mut pos = 0usize;
    loop {
        let mut best: Option<(usize, usize, usize)> = None; // (start, end, shape)
        for (i, re) in res.iter().enumerate() {
            if stale[i] || next[i].is_some_and(|(st, _)| st < pos) {
                next[i] = re.find_at(hay, pos).map(|m| (m.start(), m.end()));
                stale[i] = false;
            }
            if let Some((st, en)) = next[i] {
                if best.is_none_or(|(bs, _, _)| st < bs) {
                    best = Some((st, en, i));
                }
            }
        }
        let Some((start, end, i)) = best else { break };
        out.extend_from_slice(&hay[pos..start]);
        let replaced = res[i]
            .captures_at(hay, start)
            .filter(|c| c.get(0).is_some_and(|m| m.start() == start))
            .map(|c| replacement(&SHAPES[i], &c, &hay[start..end]));
        out.extend_from_slice(replaced.as_deref().unwrap_or(&hay[start..end]));
        // No shape matches the empty string; guard anyway so the loop always advances.
        pos = if end > start { end } else { start + 1 };
        if pos > hay.len() {
            break;
        }
    }
    if pos < hay.len() {
        out.extend_from_slice(&hay[pos..]);
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        // Unreachable by construction (see `regexes()`); withhold rather than guess.
        Err(_) => "[REDACTED:unscrubbable]".to_owned(),
    }
}

fn replacement(s: &Shape, caps: &Captures<'_>, whole: &[u8]) -> Vec<u8> {
    if s.kind == KEEP {
        return whole.to_vec();
    }
    if s.kind == OWN_API_KEY {
        let valid =
            core::str::from_utf8(whole).is_ok_and(|k| crate::apikey::parse_api_key(k).is_ok());
        if !valid {
            return whole.to_vec();
        }
    }
    let pre = caps.name("a").map_or(&b""[..], |m| m.as_bytes());
    let post = caps.name("b").map_or(&b""[..], |m| m.as_bytes());
    let mut out = Vec::with_capacity(pre.len() + post.len() + 16 + s.kind.len());
    out.extend_from_slice(pre);
    out.extend_from_slice(b"[REDACTED:");
    out.extend_from_slice(s.kind.as_bytes());
    out.push(b']');
    out.extend_from_slice(post);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_builds() {
        assert_eq!(regexes().map(<[Regex]>::len), Some(SHAPES.len()));
    }
}

//! `scrub(text)`: replaces known secret shapes with `[REDACTED:<kind>]`, for logs.
//!
//! Where a secret sits behind a label (`Authorization: ...`, `x-api-key: ...`,
//! `'password': '...'`, `apiKey: ...`, `"secret":"..."`, a URL's password) the label is
//! kept and only the value is replaced; labels may be double-quoted, single-quoted or bare,
//! and so may values. `kc1.` envelopes are ciphertext and are left alone, but only text that
//! [`crate::envelope::inspect`] accepts as one; candidates of our own API-key shape are
//! redacted only when their checksum matches, so ordinary `snake_case_identifiers` are not.
//!
//! Kinds: `anthropic`, `openrouter`, `openai`, `google`, `github`, `stripe`, `slack`,
//! `telegram`, `huggingface`, `groq`, `xai`, `aws_access_key`, `aws_secret_key`, `jwt`,
//! `authorization`, `cookie`, `password`, `api_key`, `bearer`, `private_key`,
//! `pgp_private_key`, `keycustody_private_key`, `keyring_secret`, `url_password`,
//! `keycustody_api_key`.
//!
//! # Idempotence
//! `scrub(scrub(x)) == scrub(x)`. A marker `[REDACTED:<kind>]` (kind: 1 to 32 bytes of
//! `a-z0-9_`), whether written here or already in the text, is a **barrier**: the text is
//! scrubbed as the pieces between markers, so no match ever contains, overlaps or
//! continues a marker, and a replacement can never complete a match the secret it replaced
//! had broken (a URL password that a space inside a keyring secret had cut, a value a
//! quote had cut, a run a length bound had refused). The bytes next to a marker are read
//! as a later scrub will read them: after a redaction the text starts as after a `]`
//! (a token glued to the secret's last byte is then found), a Telegram token refused for
//! the token byte after it is redacted when that byte starts a redaction, and a URL's kept
//! user name is scrubbed on its own. Tests: `scrub_idempotent_on_fuzz_regression`,
//! `scrub_idempotent_on_joins` and the proptest `scrub_is_idempotent_on_concatenations`
//! (core/tests/platform_scrub.rs); the `scrub` fuzz target asserts it on any input.
//!
//! # Linear time
//! Text is untrusted, so the cost must be linear in its length whatever it holds. Each shape
//! has its own regular expression (the `regex` crate: finite automata, linear time per
//! search), and every one of them has a **bounded** match length (at most a few hundred
//! bytes; a test checks it): it finds where a secret starts, not where it ends. The end of a
//! long secret (an API key's tail, a header value, a private-key block) is found by a plain
//! forward scan, done only for the match that is chosen and then consumed. The one loop keeps
//! the next match of each shape; when a chosen match covers one of them, that shape is
//! searched again from the end of the chosen match. Each search therefore runs over text no
//! earlier search of the same shape ran over, plus at most one bounded match: the total is
//! linear (a test counts the bytes). When two or more of the short shapes that need no check
//! must be searched again, one multi-pattern search over a window of twice their longest
//! match decides the leftmost of them at once (the others get a position before which they
//! do not match, and are searched only if they could still come first): on the crafted
//! inputs of issue 12 this is one search per chosen match instead of two, whose per-search
//! overhead dominated. A private-key block is redacted from its `BEGIN` line
//! through its `END` line, through the end of the text if there is none, but looks for the
//! `END` line at most [`BLOCK_MAX`] bytes on; past that, base64 lines and an `END` line that
//! follow are redacted too, and the first other line is scanned as ordinary text.

use regex::bytes::Regex;
use regex_automata::{meta, util::syntax, Anchored, Input, MatchKind};
use std::sync::OnceLock;

/// How far past a private key's `BEGIN` line its `END` line is looked for.
pub(crate) const BLOCK_MAX: usize = 16 << 10;
/// The longest match any shape's regular expression may have (checked by a test).
#[cfg(test)]
const MAX_MATCH: usize = 512;

/// Bytes of a token (base64url and the like).
fn tok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}
fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}
fn alnum_dash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}
fn alnum_underscore(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}
fn b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}
fn slack_hook(b: u8) -> bool {
    tok(b) || b == b'/'
}
fn bearer(b: u8) -> bool {
    tok(b) || matches!(b, b'.' | b'~' | b'+' | b'/' | b'=')
}
/// An unquoted key-like value: up to white space, a quote or a separator.
fn word(b: u8) -> bool {
    !(b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b',' | b';' | b'&'))
}
/// An unquoted header value: up to the end of the line or a quote.
fn line(b: u8) -> bool {
    !matches!(b, b'\r' | b'\n' | b'"' | b'\'')
}
fn never(_: u8) -> bool {
    false
}

/// A byte class, for the forward scans.
type Class = fn(u8) -> bool;

/// What follows a shape's (bounded) match.
#[derive(Clone, Copy)]
enum Tail {
    /// The match is the whole secret.
    Exact,
    /// The secret goes on over bytes of the class, up to this many bytes in all.
    Run(fn(u8) -> bool, usize),
    /// A labelled value: quoted (group `q`/`q2`: up to the same quote or the end of the
    /// line) or bare (over bytes of the class).
    Value(fn(u8) -> bool),
    /// A private-key block; the regular expression of its `END` line.
    Block(&'static str),
    /// A Telegram bot token: exact, and not followed by another token byte.
    Telegram,
    /// A JWT: `eyJ<header>.eyJ<payload>[.<signature>]`.
    Jwt,
    /// A `kc1.` envelope: kept when `inspect` accepts it, else not a match.
    Envelope,
    /// Our own API key: redacted when its checksum matches, else not a match.
    OwnApiKey,
}

/// One secret shape: its kind, a regular expression of bounded length (optional groups:
/// `a` kept text before the secret, `q`/`q2` an opening quote, `b` kept text after), and
/// how the secret ends.
struct Shape {
    kind: &'static str,
    re: String,
    lead: Lead,
    tail: Tail,
}

/// Where the secret starts in a shape's match (what comes before it is kept).
#[derive(Clone, Copy)]
enum Lead {
    /// At the match's start.
    Start,
    /// This many bytes before the match's end (a labelled value: its first bytes end the
    /// regex; the byte before is the opening quote, if there is one).
    FromEnd(usize),
    /// After the `:` that follows the URL's user name; the final `@` is kept.
    Url,
}

/// A redaction marker as [`scrub`] writes it (every kind is lower case and `_`) or finds it
/// in its input: a barrier no match may touch.
const MARKER: &str = r"\[REDACTED:[a-z0-9_]{1,32}\]";

/// The kind used for `kc1.` envelopes: matched so nothing inside them is touched,
/// and written back unchanged.
const KEEP: &str = "";

/// A labelled value: `LABEL` then an optional quote, `:` or `=` (spaces around it), and a
/// value of at least `min` bytes, quoted or bare (`bare`: the regex of a bare value's first
/// `min` bytes and the class its rest is scanned over; None: quoted only).
fn labelled(kind: &'static str, label: &str, min: usize, bare: Option<(&str, Class)>) -> Shape {
    let sep = r#"["']?[ \t]{0,16}[:=][ \t]{0,16}"#;
    let quoted = format!(r#"(?P<q>")[^"\r\n]{{{min}}}|(?P<q2>')[^'\r\n]{{{min}}}"#);
    let (bare_re, class) = match bare {
        Some((re, class)) => (format!("|{re}"), class),
        None => (String::new(), never as fn(u8) -> bool),
    };
    Shape {
        kind,
        re: format!("(?P<a>{label}{sep})(?:{quoted}{bare_re})"),
        lead: Lead::FromEnd(min),
        tail: Tail::Value(class),
    }
}

fn token(kind: &'static str, re: &str, class: fn(u8) -> bool, max: usize) -> Shape {
    Shape {
        kind,
        re: format!(r"\b{re}"),
        lead: Lead::Start,
        tail: Tail::Run(class, max),
    }
}

fn exact(kind: &'static str, re: &str, tail: Tail) -> Shape {
    Shape {
        kind,
        re: re.to_owned(),
        lead: Lead::Start,
        tail,
    }
}

/// Order matters: at one starting position the earlier shape wins.
fn shapes() -> Vec<Shape> {
    let pem_end = r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----";
    let pgp_end = r"-----END PGP PRIVATE KEY BLOCK-----";
    vec![
        exact(KEEP, r"kc1\.[A-Za-z0-9_-]", Tail::Envelope),
        exact(
            "private_key",
            r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----",
            Tail::Block(pem_end),
        ),
        exact(
            "pgp_private_key",
            r"-----BEGIN PGP PRIVATE KEY BLOCK-----",
            Tail::Block(pgp_end),
        ),
        labelled(
            "authorization",
            r"(?i:(?:proxy-)?authorization)",
            1,
            Some((r#"[^\r\n"' \t]"#, line)),
        ),
        labelled(
            "cookie",
            r"(?i:(?:set-)?cookie)",
            1,
            Some((r#"[^\r\n"' \t]"#, line)),
        ),
        labelled(
            "aws_secret_key",
            r"(?i:aws[_-]?secret[_-]?(?:access[_-]?)?key)",
            16,
            Some((r#"[^\s"',;&]{16}"#, word)),
        ),
        labelled(
            "password",
            r"(?i:passwd|password)",
            1,
            Some((r#"[^\s"',;&]"#, word)),
        ),
        labelled(
            "api_key",
            r"(?i:x-api-key|x-goog-api-key|api[_-]?key|access[_-]?token|client[_-]?secret)",
            8,
            Some((r#"[^\s"',;&]{8}"#, word)),
        ),
        labelled("keyring_secret", r#"(?:"secret"|'secret')"#, 8, None),
        Shape {
            kind: "bearer",
            re: r"(?P<a>(?i:bearer)[ \t]{1,16})[A-Za-z0-9._~+/=-]{16}".to_owned(),
            lead: Lead::FromEnd(16),
            tail: Tail::Run(bearer, usize::MAX),
        },
        token("anthropic", r"sk-ant-[A-Za-z0-9_-]{32}", tok, usize::MAX),
        token("openrouter", r"sk-or-[A-Za-z0-9_-]{32}", tok, usize::MAX),
        token(
            "openai",
            r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32}",
            tok,
            usize::MAX,
        ),
        exact("google", r"\bAIza[0-9A-Za-z_-]{35}", Tail::Exact),
        token("github", r"gh[pousr]_[A-Za-z0-9]{36}", alnum, 4 + 255),
        token(
            "github",
            r"github_pat_[A-Za-z0-9_]{22}",
            alnum_underscore,
            11 + 255,
        ),
        token(
            "stripe",
            r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10}",
            alnum,
            usize::MAX,
        ),
        token("stripe", r"whsec_[A-Za-z0-9+/=]{20}", b64, usize::MAX),
        token(
            "slack",
            r"xox[abposre]-[A-Za-z0-9-]{10}",
            alnum_dash,
            usize::MAX,
        ),
        token(
            "slack",
            r"xapp-[0-9]-[A-Za-z0-9-]{10}",
            alnum_dash,
            usize::MAX,
        ),
        token(
            "slack",
            r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20}",
            slack_hook,
            usize::MAX,
        ),
        exact(
            "telegram",
            r"\b[0-9]{8,10}:A[A-Za-z0-9_-]{34}",
            Tail::Telegram,
        ),
        token("huggingface", r"hf_[A-Za-z0-9]{34}", alnum, usize::MAX),
        token("groq", r"gsk_[A-Za-z0-9]{48}", alnum, usize::MAX),
        token("xai", r"xai-[A-Za-z0-9]{32}", alnum, usize::MAX),
        exact(
            "aws_access_key",
            r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
            Tail::Exact,
        ),
        exact("jwt", r"\beyJ[A-Za-z0-9_-]{4}", Tail::Jwt),
        exact(
            "keycustody_private_key",
            r"\bkcsk1\.[A-Za-z0-9_-]{43}",
            Tail::Exact,
        ),
        Shape {
            kind: "url_password",
            re: r"(?P<a>[A-Za-z][A-Za-z0-9+.-]{0,20}://[^/\s:@]{1,128}:)[^/\s@]{1,256}(?P<b>@)"
                .to_owned(),
            lead: Lead::Url,
            tail: Tail::Exact,
        },
        exact(
            "keycustody_api_key",
            r"\b[a-z][a-z0-9]{1,15}_[0-9A-Za-z]{36}\b",
            Tail::OwnApiKey,
        ),
    ]
}

struct Compiled {
    shapes: Vec<Shape>,
    res: Vec<Regex>,
    /// The same expressions, for anchored searches (next to a marker).
    anchored: Vec<meta::Regex>,
    /// The `END` line of each `Tail::Block` shape (None for the others).
    ends: Vec<Option<Regex>>,
    /// The short shapes that need no check, in one regex.
    group: Option<Group>,
    /// The Telegram shape.
    telegram: Option<usize>,
    /// A redaction marker, `[REDACTED:<kind>]`: text is scrubbed as the pieces between them.
    marker: Regex,
}

/// Shapes at most this long (and needing no check) are also searched together.
const GROUP_MAX: usize = 128;

/// One leftmost-first regex over several shapes (pattern `p` is shape `shapes[p]`, in list
/// order), searched only in a window of `2 * max` bytes. Where several of them must be
/// searched again after a chosen match (the crafted inputs of issue 12 make two of them
/// lie inside every chosen match, one every 40 bytes), one search in the window finds the
/// leftmost of them all: the winner exactly, and for the others a position before which
/// none of them starts, so most are never searched on their own.
struct Group {
    re: meta::Regex,
    shapes: Vec<usize>,
    member: Vec<bool>,
    /// The longest match of any of them.
    max: usize,
}

/// A shape that needs a check before its match counts (a rejected match is retried one
/// byte on, for that shape alone).
fn checked(tail: Tail) -> bool {
    matches!(
        tail,
        Tail::Telegram | Tail::Jwt | Tail::Envelope | Tail::OwnApiKey
    )
}

fn build_group(shapes: &[Shape]) -> Option<Group> {
    let mut members = Vec::new();
    let mut max = 0;
    for (i, s) in shapes.iter().enumerate() {
        let len = syntax::parse_with(
            &format!("(?-u){}", s.re),
            &syntax::Config::new().utf8(false),
        )
        .ok()?
        .properties()
        .maximum_len();
        if let Some(len) = len.filter(|&l| l <= GROUP_MAX && !checked(s.tail)) {
            members.push(i);
            max = max.max(len);
        }
    }
    let pats: Vec<String> = members
        .iter()
        .map(|&i| format!("(?-u){}", shapes[i].re))
        .collect();
    let re = build_meta(&pats)?;
    let mut member = vec![false; shapes.len()];
    for &i in &members {
        member[i] = true;
    }
    Some(Group {
        re,
        shapes: members,
        member,
        max,
    })
}

/// A leftmost-first, byte-oriented multi-pattern regex.
fn build_meta(pats: &[String]) -> Option<meta::Regex> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(false)
                .nfa_size_limit(Some(16 << 20))
                .hybrid_cache_capacity(16 << 20),
        )
        .syntax(syntax::Config::new().utf8(false))
        .build_many(pats)
        .ok()
}

fn build(re: &str) -> Option<Regex> {
    // Byte-oriented and ASCII-only (`(?-u)`): small automata for any input. Every shape
    // starts and ends next to an ASCII byte (or the text's ends), so a match never splits a
    // UTF-8 sequence.
    regex::bytes::RegexBuilder::new(&format!("(?-u){re}"))
        .size_limit(16 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .ok()
}

/// One compiled regex per shape. A single alternation of all shapes is correct but its
/// lazy DFA explodes on log text (many counted repetitions tracked at once); separate
/// regexes each keep a small DFA and a literal prefilter.
fn compiled() -> Option<&'static Compiled> {
    static RE: OnceLock<Option<Compiled>> = OnceLock::new();
    RE.get_or_init(|| {
        let shapes = shapes();
        let res = shapes
            .iter()
            .map(|s| build(&s.re))
            .collect::<Option<Vec<_>>>()?;
        let anchored = shapes
            .iter()
            .map(|s| build_meta(&[format!("(?-u){}", s.re)]))
            .collect::<Option<Vec<_>>>()?;
        let ends = shapes
            .iter()
            .map(|s| match s.tail {
                Tail::Block(end) => build(end).map(Some),
                _ => Some(None),
            })
            .collect::<Option<Vec<_>>>()?;
        let group = build_group(&shapes);
        let telegram = shapes.iter().position(|s| matches!(s.tail, Tail::Telegram));
        Some(Compiled {
            shapes,
            res,
            anchored,
            ends,
            group,
            telegram,
            marker: build(MARKER)?,
        })
    })
    .as_ref()
}

/// A match of one shape: where it starts, where its regex match ends, and (for shapes whose
/// acceptance needed it) where the whole secret ends.
#[derive(Clone, Copy)]
struct Cand {
    shape: usize,
    start: usize,
    end: usize,
    full_end: Option<usize>,
}

/// Per-call state: the work counter (bytes searched and scanned, for the linearity test)
/// and the last JWT verdict (where it was asked for, the header run's end, and what
/// follows it).
struct State<'h> {
    hay: &'h [u8],
    work: usize,
    jwt: Option<(usize, usize, Option<usize>)>,
}

impl State<'_> {
    fn run(&mut self, from: usize, class: impl Fn(u8) -> bool, max_end: usize) -> usize {
        let limit = max_end.min(self.hay.len());
        let n = self.hay[from.min(limit)..limit]
            .iter()
            .take_while(|&&b| class(b))
            .count();
        self.work += n;
        from + n
    }

    /// The next accepted match of shape `i` starting at or after `pos`.
    fn find(&mut self, c: &Compiled, i: usize, mut pos: usize) -> Option<Cand> {
        let hay = self.hay;
        loop {
            if pos > hay.len() {
                return None;
            }
            let found = c.res[i].find_at(hay, pos);
            self.work += found.map_or(hay.len(), |m| m.end()) - pos;
            let m = found?;
            match self.accept(c, i, m.start(), m.end()) {
                Some(cand) => return Some(cand),
                None => pos = m.start() + 1,
            }
        }
    }

    /// Shape `i`'s match at `p` exactly, if it has one (and it is accepted), read as if the
    /// byte before `p` were a redaction marker's `]` (`fresh`) or as it is. An anchored
    /// search: it reads at most the match (bounded, see `MAX_MATCH`) and a byte more.
    fn anchored(&mut self, c: &Compiled, i: usize, p: usize, fresh: bool) -> Option<Cand> {
        let hay = self.hay;
        let lo = if fresh { p } else { p.saturating_sub(1) };
        let found = c.anchored[i].find(
            Input::new(&hay[lo..])
                .range(p - lo..)
                .anchored(Anchored::Yes),
        )?;
        self.work += found.end() - found.start() + 1;
        self.accept(c, i, p, lo + found.end())
    }

    /// Whether shape `i`'s regex match `start..end` counts (the checks of `checked` shapes).
    fn accept(&mut self, c: &Compiled, i: usize, start: usize, end: usize) -> Option<Cand> {
        let hay = self.hay;
        // None: not a match here. Some(e): a match, and where the secret ends if that
        // had to be found to decide.
        let verdict: Option<Option<usize>> = match c.shapes[i].tail {
            Tail::Telegram => (!hay.get(end).copied().is_some_and(tok)).then_some(None),
            Tail::OwnApiKey => core::str::from_utf8(&hay[start..end])
                .is_ok_and(|k| crate::apikey::parse_api_key(k).is_ok())
                .then_some(None),
            Tail::Envelope => {
                let e = self.run(end, tok, usize::MAX);
                self.work += e - start;
                core::str::from_utf8(&hay[start..e])
                    .is_ok_and(|t| crate::envelope::inspect(t).is_ok())
                    .then_some(Some(e))
            }
            Tail::Jwt => self.jwt_end(start).map(Some),
            _ => Some(None),
        };
        verdict.map(|full_end| Cand {
            shape: i,
            start,
            end,
            full_end,
        })
    }

    /// Where a Telegram token that ends exactly at `at` starts, if one does at or after
    /// `from` (the byte before `fresh` read as a marker's `]`). Its own check (not followed
    /// by a token byte) is left out: the caller redacts what starts at `at`, so a marker's
    /// `[` follows it in the output.
    fn telegram_ending_at(
        &mut self,
        c: &Compiled,
        from: usize,
        at: usize,
        fresh: usize,
    ) -> Option<usize> {
        let hay = self.hay;
        let i = c.telegram?;
        // `[0-9]{8,10}:A` and 34 token bytes.
        (at.saturating_sub(46)..=at.saturating_sub(44))
            .filter(|&t| t >= from && t < at)
            .find(|&t| {
                let lo = if t == fresh { t } else { t.saturating_sub(1) };
                self.work += at - t;
                c.anchored[i]
                    .find(
                        Input::new(&hay[lo..at])
                            .range(t - lo..)
                            .anchored(Anchored::Yes),
                    )
                    .is_some_and(|m| lo + m.end() == at)
            })
    }

    /// Searches the group's window at `pos`: its leftmost match is the next match of that
    /// shape, and the other members not known get a lower bound. A match is exact when it
    /// starts at least `g.max` bytes before the window's end (or the window reaches the
    /// text's end): every match starting there fits in the window.
    fn group_search(
        &mut self,
        g: &Group,
        pos: usize,
        next: &mut [Option<Cand>],
        known: &mut [bool],
        lb: &mut [usize],
    ) {
        let hay = self.hay;
        let wend = hay.len().min(pos.saturating_add(2 * g.max));
        let at_end = wend == hay.len();
        let found = g.re.find(Input::new(hay).range(pos..wend));
        self.work += found.map_or(wend, |m| m.end()) - pos;
        // Starts before `exact` are decided by the window.
        let exact = if at_end {
            usize::MAX
        } else {
            (wend + 1).saturating_sub(g.max)
        };
        let hit = found.filter(|m| m.start() < exact).map(|m| {
            let i = g.shapes[m.pattern().as_usize()];
            Cand {
                shape: i,
                start: m.start(),
                end: m.end(),
                full_end: None,
            }
        });
        for &i in &g.shapes {
            if known[i] {
                continue;
            }
            match hit {
                Some(m) if m.shape == i => {
                    next[i] = Some(m);
                    known[i] = true;
                }
                // An earlier shape does not match where the winner starts.
                Some(m) => lb[i] = lb[i].max(m.start + usize::from(i < m.shape)),
                None if at_end => {
                    next[i] = None;
                    known[i] = true;
                }
                None => lb[i] = lb[i].max(exact),
            }
        }
    }

    /// Where a JWT starting at `start` (`eyJ` and 4 token bytes) ends, if it is one. Every
    /// start inside one header run shares the run's end and so the verdict: it is kept, for
    /// the starts from the one it was found for to the run's end. A start before that one
    /// (the text right after a redaction, tried again: see `scrub_piece`) may lie in another
    /// run and is scanned afresh: the kept verdict of a later run answered for it once, and
    /// a JWT glued to a redacted secret was left for a second scrub to find.
    fn jwt_end(&mut self, start: usize) -> Option<usize> {
        let hay = self.hay;
        let run_end = match self.jwt {
            Some((from, r, verdict)) if from <= start && start < r => {
                // `start` lies inside the header run already scanned.
                return verdict.filter(|_| r - start >= 7);
            }
            _ => self.run(start, tok, usize::MAX),
        };
        let verdict = (|| {
            let rest = hay.get(run_end..)?;
            if !rest.starts_with(b".eyJ") {
                return None;
            }
            let p = self.run(run_end + 4, tok, usize::MAX);
            if p - (run_end + 4) < 4 {
                return None;
            }
            if hay.get(p) == Some(&b'.') {
                Some(self.run(p + 1, tok, usize::MAX))
            } else {
                Some(p)
            }
        })();
        self.jwt = Some((start, run_end, verdict));
        verdict.filter(|_| run_end - start >= 7)
    }

    /// Where a private-key block whose `BEGIN` line ends at `from` ends.
    fn block_end(&mut self, from: usize, end_re: &Regex) -> usize {
        let hay = self.hay;
        let window = hay.len().min(from.saturating_add(BLOCK_MAX + 64));
        let found = end_re.find(&hay[from..window]);
        self.work += found.map_or(window - from, |m| m.end());
        if let Some(m) = found.filter(|m| m.start() <= BLOCK_MAX) {
            return from + m.end();
        }
        if hay.len() <= from + BLOCK_MAX {
            return hay.len();
        }
        // Too long: the rest of the cut line and the lines after it while they are base64,
        // then an `END` line if one comes next.
        let mut p = from + BLOCK_MAX;
        loop {
            let line_end = hay[p..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(hay.len(), |n| p + n);
            self.work += line_end - p;
            let text = &hay[p..line_end];
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.iter().all(|&b| b64(b)) {
                if line_end == hay.len() {
                    return line_end;
                }
                p = line_end + 1;
                continue;
            }
            if let Some(m) = end_re.find(text).filter(|m| m.start() == 0) {
                return p + m.end();
            }
            return p;
        }
    }
}

/// Returns `text` with every recognised secret replaced by `[REDACTED:<kind>]`.
///
/// Linear time in the length of `text`, whatever it holds (see the module documentation).
/// At one position the earlier shape in the list wins; matches never overlap. If a pattern
/// ever failed to build (they are constants, checked by the tests) the whole text is
/// withheld rather than returned unscrubbed.
#[must_use]
pub fn scrub(text: &str) -> String {
    scrub_counted(text).0
}

/// [`scrub`] and the number of bytes its searches and scans ran over.
fn scrub_counted(text: &str) -> (String, usize) {
    let Some(c) = compiled() else {
        return ("[REDACTED:unscrubbable]".to_owned(), 0);
    };
    let hay = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(hay.len());
    // Markers already in the text are barriers, as the ones written here will be when the
    // output is scrubbed again: the pieces between them are scrubbed on their own.
    let mut work = hay.len();
    let mut last = 0;
    for m in c.marker.find_iter(hay) {
        work += scrub_piece(c, &hay[last..m.start()], &mut out);
        out.extend_from_slice(m.as_bytes());
        last = m.end();
    }
    work += scrub_piece(c, &hay[last..], &mut out);
    match String::from_utf8(out) {
        Ok(s) => (s, work),
        // Unreachable by construction (see `build()`); withhold rather than guess.
        Err(_) => ("[REDACTED:unscrubbable]".to_owned(), work),
    }
}

/// Scrubs `hay` (no marker in it) as a whole text onto `out`; returns the work.
fn scrub_piece(c: &Compiled, hay: &[u8], out: &mut Vec<u8>) -> usize {
    let mut st = State {
        hay,
        work: 0,
        jwt: None,
    };
    let n = c.res.len();
    // Of each shape, either its next match at or after `pos` (`known`; None once it has no
    // more), or `lb`: a position before which it has no match (or, for `(lb, i)` order, no
    // match at `lb` that would win).
    let mut next: Vec<Option<Cand>> = vec![None; n];
    let mut known = vec![false; n];
    let mut lb = vec![0usize; n];
    let key = |m: &Cand| (m.start, m.shape);
    let mut pos = 0usize;
    // Where the byte before is read as a marker's `]` (see the end of the loop).
    let mut fresh = usize::MAX;
    loop {
        let mut stale_in_group = 0;
        for i in 0..n {
            if known[i] && next[i].is_some_and(|m| m.start < pos) {
                known[i] = false;
            }
            if !known[i] {
                lb[i] = lb[i].max(pos);
                stale_in_group += usize::from(c.group.as_ref().is_some_and(|g| g.member[i]));
            }
        }
        if stale_in_group >= 2 {
            if let Some(g) = &c.group {
                st.group_search(g, pos, &mut next, &mut known, &mut lb);
            }
        }
        // The leftmost known match (at one start, the earlier shape); a shape not known
        // that could come before it is searched, until none can.
        let best = loop {
            let mut best: Option<Cand> = None;
            let mut open: Option<(usize, usize)> = None;
            for i in 0..n {
                if !known[i] {
                    if open.is_none_or(|o| (lb[i], i) < o) {
                        open = Some((lb[i], i));
                    }
                } else if let Some(m) = next[i] {
                    if best.is_none_or(|b| key(&m) < key(&b)) {
                        best = Some(m);
                    }
                }
            }
            match open.filter(|&o| best.is_none_or(|b| o < key(&b))) {
                Some((from, i)) => {
                    next[i] = st.find(c, i, from);
                    known[i] = true;
                }
                None => break best,
            }
        };
        let Some(m) = best else { break };
        let shape = &c.shapes[m.shape];
        let redacts = shape.kind != KEEP;
        // A marker's `[` will stand where this secret starts: a Telegram token ending
        // there, refused now for the token byte after it, is one once that is redacted; and
        // so, in turn, is a Telegram token ending where that one starts (a chain of tokens
        // glued together, each refused for the next one's first digit).
        if redacts && matches!(shape.lead, Lead::Start) && m.start > pos && tok(hay[m.start]) {
            let (mut first, mut chain) = (m.start, 0usize);
            while first > pos {
                match st.telegram_ending_at(c, pos, first, fresh) {
                    Some(t) => (first, chain) = (t, chain + 1),
                    None => break,
                }
            }
            if chain > 0 {
                out.extend_from_slice(&hay[pos..first]);
                for _ in 0..chain {
                    redacted(out, "telegram");
                }
                pos = m.start;
            }
        }
        out.extend_from_slice(&hay[pos..m.start]);
        let end = emit(&mut st, c, m, out);
        // No shape matches the empty string; guard anyway so the loop always advances.
        pos = end.max(m.start + 1).min(hay.len());
        if pos >= hay.len() {
            break;
        }
        // The text after a redaction follows a marker's `]`, not the secret's last byte:
        // where both bytes are word bytes a `\b` now holds at `pos`, so every shape is
        // tried there again, as a later scrub of the output would.
        fresh = usize::MAX;
        if redacts && word_byte(hay[pos - 1]) && word_byte(hay[pos]) {
            fresh = pos;
            // Only a shape that starts with `\b` can read the byte before its match.
            for i in (0..n).filter(|&i| c.shapes[i].re.starts_with(r"\b")) {
                match st.anchored(c, i, pos, true) {
                    Some(cand) => {
                        next[i] = Some(cand);
                        known[i] = true;
                    }
                    None if !known[i] => lb[i] = lb[i].max(pos + 1),
                    None => {}
                }
            }
        }
    }
    if pos < hay.len() {
        out.extend_from_slice(&hay[pos..]);
    }
    st.work
}

/// A byte `\b` counts as a word byte (ASCII, as the shapes are compiled).
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Writes the chosen match `m` (redacted, or kept) and returns where it ends.
fn emit(st: &mut State<'_>, c: &Compiled, m: Cand, out: &mut Vec<u8>) -> usize {
    let hay = st.hay;
    let i = m.shape;
    let s = &c.shapes[i];
    if s.kind == KEEP {
        let end = m.full_end.unwrap_or(m.end);
        out.extend_from_slice(&hay[m.start..end]);
        return end;
    }
    let secret_start = match s.lead {
        Lead::Start => m.start,
        Lead::FromEnd(n) => m.end - n,
        Lead::Url => {
            let after = m.start + find(&hay[m.start..m.end], b"://").map_or(0, |p| p + 3);
            after
                + hay[after..m.end]
                    .iter()
                    .position(|&b| b == b':')
                    .map_or(0, |p| p + 1)
        }
    };
    let quote = match (s.tail, secret_start.checked_sub(1).map(|q| hay[q])) {
        (Tail::Value(_), Some(q @ (b'"' | b'\''))) => Some(q),
        _ => None,
    };
    let (secret_end, end) = match s.tail {
        Tail::Value(bare) => {
            let e = match quote {
                Some(q) => st.run(m.end, |b| b != b'\r' && b != b'\n' && b != q, usize::MAX),
                None => st.run(m.end, bare, usize::MAX),
            };
            (e, e)
        }
        Tail::Run(class, max) => {
            let e = st.run(m.end, class, secret_start.saturating_add(max));
            (e, e)
        }
        Tail::Block(_) => {
            let e = c.ends[i]
                .as_ref()
                .map_or(hay.len(), |re| st.block_end(m.end, re));
            (e, e)
        }
        _ => {
            let e = m.full_end.unwrap_or(m.end);
            // The URL password's `@` is kept.
            let kept = usize::from(matches!(s.lead, Lead::Url));
            (e - kept, e)
        }
    };
    if matches!(s.lead, Lead::Url) {
        // The user name is kept but scrubbed on its own: a secret there (a token used as
        // user name) is redacted, and a later scrub, which reads the marker after it as a
        // barrier, finds nothing more in it.
        let after = m.start + find(&hay[m.start..m.end], b"://").map_or(0, |p| p + 3);
        let user_end = secret_start.saturating_sub(1).max(after);
        out.extend_from_slice(&hay[m.start..after]);
        st.work += scrub_piece(c, &hay[after..user_end], out);
        out.extend_from_slice(&hay[user_end..secret_start]);
    } else {
        out.extend_from_slice(&hay[m.start..secret_start]);
    }
    redacted(out, s.kind);
    out.extend_from_slice(&hay[secret_end..end]);
    end
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn redacted(out: &mut Vec<u8>, kind: &str) {
    out.extend_from_slice(b"[REDACTED:");
    out.extend_from_slice(kind.as_bytes());
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_builds() {
        let c = compiled().expect("every shape builds");
        assert_eq!(c.res.len(), c.shapes.len());
    }

    /// Every shape's regular expression has a bounded match length: what keeps the
    /// re-search after a chosen match cheap.
    #[test]
    fn every_shape_is_bounded() {
        for s in shapes() {
            let hir = regex_syntax::ParserBuilder::new()
                .utf8(false)
                .build()
                .parse(&format!("(?-u){}", s.re))
                .unwrap();
            let max = hir.properties().maximum_len();
            assert!(
                max.is_some_and(|m| m <= MAX_MATCH),
                "{}: {} has maximum length {max:?}",
                s.kind,
                s.re
            );
        }
    }

    fn crafted(unit: &str, len: usize) -> String {
        unit.repeat(len / unit.len() + 1)
    }

    /// Work (bytes the searches run over) grows linearly on the two crafted inputs of
    /// issue 12 that made the old loop quadratic (53 MB of work at 64 KiB there).
    #[test]
    fn work_is_linear_on_crafted_input() {
        let units = [
            "x-api-key:aaaaaaaaaaaaaaaaauthorization: ".to_owned(),
            concat!("authorization: x -----BEGIN PRIVATE", " KEY-----\n").to_owned(),
            // The same traps with single quotes and a PGP block.
            "{'x-api-key':'aaaaaaaaaaaaaaaaaaa','authorization': 'x".to_owned(),
            concat!(
                "authorization: x -----BEGIN PGP PRIVATE",
                " KEY BLOCK-----\n"
            )
            .to_owned(),
            // Header runs of JWTs shadowed by GitHub tokens; kc1. runs inspect refuses.
            format!("ghp_{}eyJaaaa-", "A".repeat(36)),
            "kc1.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ".to_owned(),
        ];
        for unit in &units {
            let mut per_byte = Vec::new();
            for len in [64 << 10, 256 << 10] {
                let text = crafted(unit, len);
                let (_, work) = scrub_counted(&text);
                assert!(
                    work <= 64 * text.len(),
                    "{unit:?} at {len}: {work} bytes of work"
                );
                per_byte.push(work as f64 / text.len() as f64);
            }
            assert!(per_byte[1] <= per_byte[0] * 1.5, "{unit:?}: {per_byte:?}");
        }
        // A long JWT-looking header run ending in a payload, covered again and again.
        let text = format!(
            "{}.eyJaaaaa",
            crafted(&format!("ghp_{}eyJaaaa-", "A".repeat(36)), 256 << 10)
        );
        let (_, work) = scrub_counted(&text);
        assert!(work <= 64 * text.len(), "jwt: {work}");
    }
}

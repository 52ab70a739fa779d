//! The Rust half of the API manifest check: `tests/api.json` (schema in `tests/api.md`)
//! against `core/public-api.txt` and core's constants and error kinds.
//!
//! [`check`] returns every difference, one readable line each: a `rust` name of the manifest
//! that core does not have, a public item of core the manifest does not list (neither bound
//! by an entry nor in `rust_only`), a default whose constant has another value in core, an
//! error kind core does not have, an entry missing in a runtime without a reason.

use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The runtimes an entry names, besides `rust`.
pub const RUNTIMES: [&str; 3] = ["node", "python", "wasm"];

/// The item paths of `core/public-api.txt`: every `keycustody::...` path a line declares
/// (functions, methods, types, constants, fields, variants).
#[must_use]
pub fn public_items(api_txt: &str) -> BTreeSet<String> {
    let mut items = BTreeSet::new();
    for line in api_txt.lines() {
        let Some(rest) = declared_path(line) else {
            continue;
        };
        items.insert(rest);
    }
    items
}

// `pub fn keycustody::Keyring::seal(&self, ...)` -> `keycustody::Keyring::seal`.
fn declared_path(line: &str) -> Option<String> {
    let line = line.trim();
    let line = line.strip_prefix("#[non_exhaustive] ").unwrap_or(line);
    let rest = line.strip_prefix("pub ")?;
    // `const fn` before `const`: a `const fn` line is a function, not a constant.
    let rest = [
        "fn ",
        "struct ",
        "enum ",
        "const fn ",
        "const ",
        "trait ",
        "type ",
        "mod ",
    ]
    .iter()
    .find_map(|k| rest.strip_prefix(k))
    .unwrap_or(rest);
    let rest = rest.strip_prefix("keycustody::")?;
    // The path runs to the first `(`, `<`, space or lone `:` (a `::` is part of it).
    let b = rest.as_bytes();
    let mut end = 0;
    while end < b.len() {
        match b[end] {
            b':' if b.get(end + 1) == Some(&b':') => end += 2,
            b'(' | b'<' | b' ' | b':' => break,
            _ => end += 1,
        }
    }
    let path = &rest[..end];
    Some(format!("keycustody::{path}"))
}

/// The items the manifest must account for: every top-level item, and every inherent method
/// of a type the manifest lists as a class (trait-impl methods such as `fmt` or `clone` are
/// not API of their own).
#[must_use]
pub fn required_items(api_txt: &str, classes: &BTreeSet<String>) -> BTreeSet<String> {
    let mut required = BTreeSet::new();
    let mut inherent_of: Option<String> = None;
    for line in api_txt.lines() {
        if let Some(header) = line.strip_prefix("impl ") {
            // `impl keycustody::Keyring` (inherent) vs `impl Trait for keycustody::Keyring`.
            inherent_of = (!header.contains(" for ") && !header.starts_with('<'))
                .then(|| header.trim().to_owned());
            continue;
        }
        let Some(path) = declared_path(line) else {
            continue;
        };
        let depth = path.matches("::").count();
        if depth == 1 && path != "keycustody::keycustody" {
            required.insert(path);
        } else if ["pub fn ", "pub const fn "]
            .iter()
            .any(|k| line.trim_start().starts_with(k))
        {
            if let Some(owner) = &inherent_of {
                if classes.contains(owner) && path.starts_with(&format!("{owner}::")) {
                    required.insert(path);
                }
            }
        }
    }
    required.remove("keycustody::keycustody");
    required
}

/// The value of a core constant named in the manifest, `None` for a name core lacks.
#[must_use]
pub fn core_constant(name: &str) -> Option<Value> {
    Some(match name {
        "DEFAULT_TOLERANCE" => json!(keycustody::DEFAULT_TOLERANCE),
        "DEFAULT_KID" => json!(keycustody::DEFAULT_KID),
        "DEFAULT_DERIVED_KEY_LEN" => json!(keycustody::DEFAULT_DERIVED_KEY_LEN),
        "DEFAULT_REPLAY_CAPACITY" => json!(keycustody::DEFAULT_REPLAY_CAPACITY),
        "DEFAULT_REPLAY_TTL" => json!(keycustody::DEFAULT_REPLAY_TTL),
        "DEFAULT_TENANT_CACHE_CAPACITY" => json!(keycustody::DEFAULT_TENANT_CACHE_CAPACITY),
        "DEFAULT_TENANT_CACHE_TTL" => json!(keycustody::DEFAULT_TENANT_CACHE_TTL),
        "DEFAULT_ITERATIONS" => json!(keycustody::DEFAULT_ITERATIONS),
        "KEYRING_ENV_VAR" => json!(keycustody::KEYRING_ENV_VAR),
        "TOTP_PERIOD" => json!(keycustody::TOTP_PERIOD),
        "TOTP_DIGITS" => json!(keycustody::TOTP_DIGITS),
        "MAX_PLAINTEXT" => json!(keycustody::MAX_PLAINTEXT),
        _ => return None,
    })
}

fn strs(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

/// Every difference between the manifest and core, one line each (empty: they agree).
#[must_use]
pub fn check(manifest: &Value, api_txt: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let items = public_items(api_txt);
    let kinds: BTreeSet<&str> = keycustody::Error::KINDS.iter().copied().collect();

    if manifest["version"] != json!(1) {
        problems.push("version: expected 1".to_owned());
    }
    let listed_kinds: BTreeSet<&str> = arr(&manifest["error_kinds"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if listed_kinds != kinds {
        problems.push(format!(
            "error_kinds: manifest {listed_kinds:?}, core's Error::KINDS {kinds:?}"
        ));
    }

    // Every entry, with the class it belongs to (None for free functions and constants).
    let mut entries: Vec<(String, &Value, Option<&Value>)> = Vec::new();
    for f in arr(&manifest["functions"]) {
        entries.push(("function".into(), f, None));
    }
    for c in arr(&manifest["constants"]) {
        entries.push(("constant".into(), c, None));
    }
    let mut classes = BTreeSet::new();
    for c in arr(&manifest["classes"]) {
        classes.extend(strs(&c["rust"]));
        entries.push(("class".into(), c, None));
        if c["constructor"].is_object() {
            entries.push(("constructor".into(), &c["constructor"], Some(c)));
        }
        for m in arr(&c["methods"]) {
            entries.push(("method".into(), m, Some(c)));
        }
    }

    let mut covered = BTreeSet::new();
    for (what, e, class) in &entries {
        let label = format!(
            "{what} {}",
            RUNTIMES.iter().find_map(|r| e[*r].as_str()).unwrap_or("?")
        );
        for r in strs(&e["rust"]) {
            if !items.contains(&r) {
                problems.push(format!(
                    "{label}: rust name {r} is not in core/public-api.txt"
                ));
            }
            covered.insert(r);
        }
        for r in RUNTIMES {
            let class_absent = class.is_some_and(|c| c[r].is_null());
            match &e[r] {
                Value::String(_) => {}
                Value::Null if class_absent || e["absent"][r].is_string() => {}
                Value::Null => problems.push(format!("{label}: absent from {r} without a reason")),
                _ => problems.push(format!("{label}: `{r}` must be a name or null")),
            }
        }
        if strs(&e["rust"]).is_empty() && !e["absent"]["rust"].is_string() {
            problems.push(format!("{label}: no rust name and no absent.rust reason"));
        }
        for k in arr(&e["errors"]) {
            if !k.as_str().is_some_and(|k| kinds.contains(k)) {
                problems.push(format!("{label}: error kind {k} is not in Error::KINDS"));
            }
        }
        if *what == "constant" {
            check_const(&mut problems, &label, e);
        }
        let overrides = e["params_override"]
            .as_object()
            .into_iter()
            .flat_map(|o| o.values())
            .map(|o| &o["params"]);
        for params in std::iter::once(&e["params"]).chain(overrides) {
            for p in arr(params) {
                if !p["name"].is_string() {
                    problems.push(format!("{label}: a parameter without a name"));
                }
                if let Some(d) = p.get("default") {
                    if d.get("const").is_some() {
                        check_const(&mut problems, &label, d);
                    }
                }
            }
        }
        if let Some(o) = e["params_override"].as_object() {
            for (rt, ov) in o {
                if !(rt == "js" || RUNTIMES.contains(&rt.as_str())) || !ov["why"].is_string() {
                    problems.push(format!(
                        "{label}: params_override.{rt} needs a known runtime and a why"
                    ));
                }
            }
        }
    }
    for ro in arr(&manifest["rust_only"]) {
        let r = ro["rust"].as_str().unwrap_or_default().to_owned();
        if !items.contains(&r) {
            problems.push(format!("rust_only {r}: not in core/public-api.txt"));
        }
        if !ro["why"].is_string() {
            problems.push(format!("rust_only {r}: no why"));
        }
        if !covered.insert(r.clone()) {
            problems.push(format!("rust_only {r}: also bound by an entry"));
        }
    }
    for item in required_items(api_txt, &classes) {
        if !covered.contains(&item) {
            problems.push(format!(
                "{item}: public in core, not in tests/api.json (add an entry or a rust_only line)"
            ));
        }
    }
    problems
}

// `{"const": NAME, "value": v}` (a default) or a constant entry (`rust` + `value`).
fn check_const(problems: &mut Vec<String>, label: &str, v: &Value) {
    let name = v["const"].as_str().map(str::to_owned).or_else(|| {
        strs(&v["rust"])
            .first()
            .and_then(|r| r.strip_prefix("keycustody::").map(str::to_owned))
    });
    let Some(name) = name else {
        problems.push(format!("{label}: a constant without a name"));
        return;
    };
    match core_constant(&name) {
        None => problems.push(format!(
            "{label}: {name} is not a core constant xtask knows"
        )),
        Some(value) if value != v["value"] => problems.push(format!(
            "{label}: {name} is {value} in core, the manifest says {}",
            v["value"]
        )),
        Some(_) => {}
    }
}

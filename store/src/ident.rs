//! SQL identifiers: validated, then quoted; never interpolated raw.

use crate::StoreError;

/// Checks that `name` is a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes).
///
/// # Errors
/// [`StoreError::InvalidIdentifier`].
pub(crate) fn check_ident(name: &str) -> Result<(), StoreError> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            name.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidIdentifier(
            name.chars().take(80).collect(),
        ))
    }
}

/// Quotes an identifier for SQL (`"name"`, inner quotes doubled). Names are also
/// validated against the schema before use; quoting is the second line.
#[must_use]
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for ok in ["secrets", "_x", "T1", "api_key_enc"] {
            assert!(check_ident(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1x",
            "a-b",
            "a b",
            "x\"; drop table t; --",
            "é",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(check_ident(bad), Err(StoreError::InvalidIdentifier(_))),
                "{bad}"
            );
        }
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}

//! Object keys: one set of rules for every backend, so a key that works on the local directory
//! also works on S3 and the other way round.

use super::StorageError;

/// Longest key accepted, in bytes. S3 allows 1024; half leaves room for a deployment prefix.
pub const MAX_KEY_BYTES: usize = 512;

/// Checks `key` and returns it as an object_store path.
///
/// Rejected: empty keys, keys longer than [`MAX_KEY_BYTES`], a leading or trailing `/`, empty or
/// `.` segments (`a//b`, `a/./b`), any `..` (path traversal on the local backend), backslashes,
/// control characters, and `#` or `%` (the local backend reserves `name#123` for its staging files
/// and decodes `%XX` escapes, so such keys would not round-trip identically).
pub(crate) fn parse_key(key: &str) -> Result<object_store::path::Path, StorageError> {
    if key.is_empty() {
        return Err(invalid(key, "key is empty"));
    }
    if key.ends_with('/') {
        return Err(invalid(key, "key ends with '/'"));
    }
    check_common(key)?;
    to_path(key)
}

/// Checks a listing prefix: "" (everything) or a folder path, with or without a trailing `/`.
pub(crate) fn parse_prefix(prefix: &str) -> Result<Option<object_store::path::Path>, StorageError> {
    let folder = prefix.strip_suffix('/').unwrap_or(prefix);
    if folder.is_empty() {
        if prefix.is_empty() {
            return Ok(None);
        }
        return Err(invalid(prefix, "prefix is only '/'"));
    }
    check_common(folder)?;
    to_path(folder).map(Some)
}

fn check_common(key: &str) -> Result<(), StorageError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(invalid(
            key,
            &format!("key is {} bytes, the limit is {MAX_KEY_BYTES}", key.len()),
        ));
    }
    if key.starts_with('/') {
        return Err(invalid(key, "key starts with '/'"));
    }
    if key.contains("..") {
        return Err(invalid(key, "key contains '..'"));
    }
    if let Some(c) = key
        .chars()
        .find(|c| c.is_control() || matches!(c, '\\' | '#' | '%'))
    {
        return Err(invalid(key, &format!("key contains the character {c:?}")));
    }
    if key
        .split('/')
        .any(|segment| segment.is_empty() || segment == ".")
    {
        return Err(invalid(key, "key has an empty or '.' path segment"));
    }
    Ok(())
}

fn to_path(key: &str) -> Result<object_store::path::Path, StorageError> {
    object_store::path::Path::parse(key).map_err(|e| invalid(key, &e.to_string()))
}

fn invalid(key: &str, why: &str) -> StorageError {
    // Keys come from callers (often user input): show a bounded, escaped excerpt only.
    let excerpt: String = key.chars().take(80).collect();
    let more = if key.chars().count() > 80 { "…" } else { "" };
    StorageError::InvalidKey(format!("{why}: {excerpt:?}{more}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_keys() {
        for key in [
            "a",
            "tenants/0192f0a1/templates/black-friday/square.png",
            "renders/2026-11-22/00001.jpg",
            "with space/ü é/file (1)+x=y@z,w.png",
            &"k".repeat(MAX_KEY_BYTES),
        ] {
            assert_eq!(parse_key(key).unwrap().as_ref(), key, "{key}");
        }
    }

    #[test]
    fn rejects_bad_keys() {
        let too_long = "k".repeat(MAX_KEY_BYTES + 1);
        for key in [
            "",
            "/abs",
            "dir/",
            "a//b",
            "a/./b",
            "..",
            "../etc/passwd",
            "a/../b",
            "a..b",
            "back\\slash",
            "nul\0",
            "new\nline",
            "tab\tkey",
            "del\u{7f}",
            "staging#1",
            "percent%2F",
            too_long.as_str(),
        ] {
            match parse_key(key) {
                Err(StorageError::InvalidKey(_)) => {}
                other => panic!("{key:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn prefixes_are_folders_with_optional_trailing_slash() {
        assert_eq!(parse_prefix("").unwrap(), None);
        assert_eq!(parse_prefix("a/b/").unwrap().unwrap().as_ref(), "a/b");
        assert_eq!(parse_prefix("a/b").unwrap().unwrap().as_ref(), "a/b");
        for bad in ["/", "/a", "a//", "../x", "a\\b"] {
            assert!(
                matches!(parse_prefix(bad), Err(StorageError::InvalidKey(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn error_message_is_bounded() {
        let key = "x".repeat(600);
        let StorageError::InvalidKey(message) = parse_key(&key).unwrap_err() else {
            panic!("expected InvalidKey");
        };
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("600 bytes"), "{message}");
    }
}

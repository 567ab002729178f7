//! The generated secret (when `SECRET_KEY` is unset) lives in `DATA_DIR/secret.key`, readable by
//! the server's user only (0600), never in the database: read access to the database alone must
//! not let anyone sign an admin cookie or decrypt a bot token (docs/security.md).
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;

pub const FILE_NAME: &str = "secret.key";

pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// How the key was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The file was there.
    Read,
    /// We wrote `value` (given, e.g. moved from the database, or freshly generated).
    Written,
}

/// The key in `path`, or `make()` written there with mode 0600 when there is none. Two
/// processes starting on one data directory agree: the file is created exclusively and the
/// loser reads the winner's.
pub fn load_or_create(
    path: &Path,
    make: impl FnOnce() -> String,
) -> std::io::Result<(String, Origin)> {
    if let Some(existing) = read(path)? {
        return Ok((existing, Origin::Read));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let value = make();
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            file.write_all(value.as_bytes())?;
            file.sync_all()?;
            Ok((value, Origin::Written))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path)?
            .map(|v| (v, Origin::Read))
            .ok_or_else(|| std::io::Error::other("secret.key is empty")),
        Err(e) => Err(e),
    }
}

fn read(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::File::open(path) {
        Ok(mut file) => {
            let mut text = String::new();
            file.read_to_string(&mut text)?;
            let text = text.trim().to_owned();
            Ok((!text.is_empty()).then_some(text))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// 32 random bytes, base64.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn written_once_with_0600_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let (first, origin) = load_or_create(&path, generate).unwrap();
        assert_eq!(origin, Origin::Written);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, origin) = load_or_create(&path, || unreachable!()).unwrap();
        assert_eq!((again.as_str(), origin), (first.as_str(), Origin::Read));
    }
}

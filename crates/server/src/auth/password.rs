//! Admin password hashing (argon2id, PHC strings) and the first-start bootstrap.
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

pub fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 hashing with default params cannot fail")
        .to_string()
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random password for first start: 20 characters from an unambiguous alphabet.
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_then_verify() {
        let phc = super::hash("correct horse");
        assert!(phc.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &phc));
        assert!(!super::verify("wrong", &phc));
        assert!(!super::verify("correct horse", "not a hash"));
        assert_ne!(super::generate(), super::generate());
    }
}

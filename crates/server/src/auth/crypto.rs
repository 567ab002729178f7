//! Encryption at rest for secrets we must store (bot tokens): XChaCha20-Poly1305 with a random
//! nonce, stored as `v1:<base64(nonce || ciphertext)>`.
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

#[derive(Clone)]
pub struct EncryptionKey([u8; 32]);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("stored secret cannot be decrypted (wrong SECRET_KEY or corrupted value)")]
pub struct DecryptError;

impl EncryptionKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A keyed fingerprint of a secret (bot tokens): HMAC-SHA256 under this key, 12 bytes hex.
    /// Stored beside the sealed token to notice a changed token without decrypting; without the
    /// key it says nothing about the token (an unkeyed hash of a leaked list would).
    pub fn fingerprint(&self, secret: &str) -> String {
        use hmac::{Hmac, KeyInit as _, Mac};
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"promostack token fingerprint v1\0");
        mac.update(secret.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    pub fn encrypt(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::fill(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(&XNonce::from(nonce), plaintext.as_bytes())
            .expect("encrypting in memory cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!("v1:{}", STANDARD.encode(blob))
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, DecryptError> {
        let blob = stored.strip_prefix("v1:").ok_or(DecryptError)?;
        let blob = STANDARD.decode(blob).map_err(|_| DecryptError)?;
        if blob.len() < 24 {
            return Err(DecryptError);
        }
        let (nonce, ciphertext) = blob.split_at(24);
        let nonce = XNonce::try_from(nonce).map_err(|_| DecryptError)?;
        let plaintext = self
            .cipher()
            .decrypt(&nonce, ciphertext)
            .map_err(|_| DecryptError)?;
        String::from_utf8(plaintext).map_err(|_| DecryptError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = EncryptionKey::new([1; 32]);
        let token = "123456:ABC-secret-token";
        let stored = key.encrypt(token);
        assert!(!stored.contains("ABC"), "plaintext must not show");
        assert_ne!(stored, key.encrypt(token), "random nonce");
        assert_eq!(key.decrypt(&stored).unwrap(), token);
        assert_eq!(
            EncryptionKey::new([2; 32]).decrypt(&stored),
            Err(DecryptError)
        );
        let mut tampered = stored.clone();
        tampered.pop();
        tampered.push(if stored.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(key.decrypt(&tampered), Err(DecryptError));
    }
}

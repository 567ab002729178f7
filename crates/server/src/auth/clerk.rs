//! Clerk session JWTs: RS256 only, verified against `{iss}/.well-known/jwks.json` and only for
//! issuers listed in `CLERK_ISSUERS`. (The original derived the JWKS URL from any token's `iss`,
//! so anyone could mint tokens signed by a key they host.)
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::time::{Millis, system_now};

/// How long a fetched key set is trusted before a refresh.
const JWKS_TTL_MS: i64 = 60 * 60 * 1000;
/// An unknown `kid` triggers a refresh at most this often per issuer (no JWKS hammering).
const JWKS_MIN_REFRESH_MS: i64 = 30 * 1000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("issuer is not trusted")]
    UntrustedIssuer,
    #[error("only RS256 tokens are accepted")]
    WrongAlgorithm,
    #[error("signing key not found")]
    UnknownKey,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("token has no verified email")]
    NoEmail,
    #[error("issuer keys unavailable")]
    KeysUnavailable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkIdentity {
    pub subject: String,
    pub email: String,
}

#[derive(Deserialize)]
struct UnverifiedClaims {
    iss: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    email: Option<String>,
    email_verified: Option<bool>,
    /// Issued-at, seconds: a token "issued" in the future is refused like one not yet valid.
    iat: Option<i64>,
}

/// Clock skew allowed on `exp`, `nbf` and `iat`, seconds.
const LEEWAY_SECS: u64 = 5;

struct CachedKeys {
    keys: JwkSet,
    fetched_at: Millis,
}

#[derive(Clone)]
pub struct ClerkVerifier {
    issuers: Arc<Vec<String>>,
    http: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, CachedKeys>>>,
}

impl ClerkVerifier {
    pub fn new(issuers: Vec<String>, http: reqwest::Client) -> Self {
        Self {
            issuers: Arc::new(issuers),
            http,
            cache: Arc::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.issuers.is_empty()
    }

    pub async fn verify(&self, token: &str) -> Result<ClerkIdentity, JwtError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(JwtError::WrongAlgorithm);
        }
        let issuer = unverified_issuer(token)?;
        if !self.issuers.contains(&issuer) {
            return Err(JwtError::UntrustedIssuer);
        }
        let kid = header.kid.ok_or(JwtError::UnknownKey)?;
        let key = self.key_for(&issuer, &kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer.as_str()]);
        validation.validate_aud = false;
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?;
        let claims = data.claims;
        if claims
            .iat
            .is_some_and(|iat| iat > system_now() / 1000 + LEEWAY_SECS as i64)
        {
            return Err(JwtError::Invalid(
                "the token is issued in the future (iat)".into(),
            ));
        }
        let email = claims
            .email
            .filter(|_| claims.email_verified != Some(false))
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'))
            .ok_or(JwtError::NoEmail)?;
        Ok(ClerkIdentity {
            subject: claims.sub,
            email,
        })
    }

    async fn key_for(&self, issuer: &str, kid: &str) -> Result<DecodingKey, JwtError> {
        let mut cache = self.cache.lock().await;
        let now = system_now();
        let stale = cache
            .get(issuer)
            .is_none_or(|c| now - c.fetched_at > JWKS_TTL_MS);
        let missing_kid = cache.get(issuer).is_some_and(|c| {
            c.keys.find(kid).is_none() && now - c.fetched_at > JWKS_MIN_REFRESH_MS
        });
        if stale || missing_kid {
            match self.fetch(issuer).await {
                Ok(keys) => {
                    cache.insert(
                        issuer.to_owned(),
                        CachedKeys {
                            keys,
                            fetched_at: now,
                        },
                    );
                }
                Err(err) => {
                    tracing::warn!(%issuer, error = %err, "JWKS fetch failed");
                    if !cache.contains_key(issuer) {
                        return Err(JwtError::KeysUnavailable);
                    }
                }
            }
        }
        let jwk = cache
            .get(issuer)
            .and_then(|c| c.keys.find(kid))
            .ok_or(JwtError::UnknownKey)?;
        DecodingKey::from_jwk(jwk).map_err(|_| JwtError::UnknownKey)
    }

    async fn fetch(&self, issuer: &str) -> Result<JwkSet, reqwest::Error> {
        self.http
            .get(format!("{issuer}/.well-known/jwks.json"))
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .error_for_status()?
            .json::<JwkSet>()
            .await
    }
}

/// `iss` before verification, only to choose which trusted key set to verify against.
fn unverified_issuer(token: &str) -> Result<String, JwtError> {
    let payload = token.split('.').nth(1).ok_or(JwtError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| JwtError::Malformed)?;
    let claims: UnverifiedClaims =
        serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)?;
    claims
        .iss
        .map(|i| i.trim_end_matches('/').to_owned())
        .ok_or(JwtError::Malformed)
}

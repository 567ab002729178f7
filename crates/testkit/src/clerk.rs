//! A fake Clerk issuer: serves `/.well-known/jwks.json` like Clerk's Frontend API, and mints
//! RS256 session tokens with the matching test key.
use axum::Router;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::{Backend, TestApp};

const ISSUER_KEY_PEM: &str = include_str!("../fixtures/clerk_test_rsa.pem");
const ISSUER_JWK: &str = include_str!("../fixtures/clerk_test_rsa.jwk.json");
/// A key the issuer never published: tokens signed with it must be rejected.
const ATTACKER_KEY_PEM: &str = include_str!("../fixtures/attacker_rsa.pem");
const ATTACKER_JWK: &str = include_str!("../fixtures/attacker_rsa.jwk.json");

pub struct FakeClerk {
    /// The issuer URL (`iss`), e.g. `http://127.0.0.1:41234`.
    pub issuer: String,
    task: tokio::task::JoinHandle<()>,
}

impl FakeClerk {
    pub async fn start() -> FakeClerk {
        let jwks: Value =
            json!({ "keys": [serde_json::from_str::<Value>(ISSUER_JWK).expect("jwk")] });
        Self::serve(jwks).await
    }

    /// An issuer that publishes the attacker's key (someone hosting their own JWKS).
    pub async fn start_attacker() -> FakeClerk {
        let jwks: Value =
            json!({ "keys": [serde_json::from_str::<Value>(ATTACKER_JWK).expect("jwk")] });
        Self::serve(jwks).await
    }

    async fn serve(jwks: Value) -> FakeClerk {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let issuer = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let app = Router::new().route(
            "/.well-known/jwks.json",
            get(move || async move { axum::Json(jwks) }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeClerk { issuer, task }
    }

    /// A valid session token for `email`, signed by this issuer's key, expiring in an hour.
    pub fn token(&self, email: &str) -> String {
        self.token_with(json!({ "email": email }), 3600)
    }

    /// Sign claims (merged over `iss`, `sub`, `exp`, `iat`) with the issuer key.
    pub fn token_with(&self, extra: Value, expires_in_secs: i64) -> String {
        sign(
            &self.issuer,
            ISSUER_KEY_PEM,
            "clerk_test_rsa",
            extra,
            expires_in_secs,
        )
    }

    /// Signed with a key this issuer never published, under its own kid.
    pub fn token_signed_by_attacker(&self, email: &str) -> String {
        sign(
            &self.issuer,
            ATTACKER_KEY_PEM,
            "clerk_test_rsa",
            json!({ "email": email }),
            3600,
        )
    }

    /// A token for the attacker's own issuer with the attacker's own key.
    pub fn attacker_token(&self, email: &str) -> String {
        sign(
            &self.issuer,
            ATTACKER_KEY_PEM,
            "attacker_rsa",
            json!({ "email": email }),
            3600,
        )
    }
}

impl Drop for FakeClerk {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An app that accepts session tokens of a fresh fake issuer, the platform admin logged in.
pub async fn spawn_app_with_clerk(backend: Backend) -> (TestApp, FakeClerk) {
    let clerk = FakeClerk::start().await;
    let issuer = clerk.issuer.clone();
    let app = crate::spawn_app_with(backend, |c| c.clerk_issuers = vec![issuer]).await;
    app.login_admin().await;
    (app, clerk)
}

/// Two workspaces on one app, for isolation tests: "Tenant A" (`tenant-a`) owned by
/// `alice@a.test` and "Tenant B" (`tenant-b`) owned by `bob@b.test`, created by the platform
/// admin, who stays logged in (in the default workspace). Sign the owners in with
/// `clerk.token(..)` and [`TestApp::request_as`].
pub struct TwoTenants {
    pub app: TestApp,
    pub clerk: FakeClerk,
    /// Tenant A's id.
    pub a: String,
    /// Tenant B's id.
    pub b: String,
}

pub async fn two_tenants(backend: Backend) -> TwoTenants {
    let (app, clerk) = spawn_app_with_clerk(backend).await;
    let mut ids = Vec::new();
    for (name, slug, owner) in [
        ("Tenant A", "tenant-a", "alice@a.test"),
        ("Tenant B", "tenant-b", "bob@b.test"),
    ] {
        let created =
            crate::json(app.admin_create_tenant(name, slug, Some(owner)).await, 201).await;
        ids.push(created["id"].as_str().expect("tenant id").to_owned());
    }
    let [a, b] = <[String; 2]>::try_from(ids).expect("two tenants");
    TwoTenants { app, clerk, a, b }
}

impl TestApp {
    /// A request as a Clerk user (`Authorization: Bearer token`) from a bare client (no
    /// session cookie), in `tenant` (`X-Tenant-Id`) or the user's default workspace.
    pub fn request_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        tenant: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let builder = reqwest::Client::new()
            .request(method, self.url(path))
            .bearer_auth(token);
        match tenant {
            Some(tenant) => builder.header("x-tenant-id", tenant),
            None => builder,
        }
    }
}

fn sign(issuer: &str, pem: &str, kid: &str, extra: Value, expires_in_secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let mut claims =
        json!({ "iss": issuer, "sub": "user_test", "iat": now, "exp": now + expires_in_secs });
    if let (Some(target), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).expect("pem"),
    )
    .expect("sign")
}

/// Hand-build a token with an arbitrary header (e.g. `alg: none` or HS256) and claims.
pub fn forge(header: Value, claims: Value, signature: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string()),
        b64.encode(signature)
    )
}

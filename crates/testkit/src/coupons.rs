//! `TestApp` methods for the coupon endpoints (`/api/validate-coupon`, `/api/coupons*`,
//! `/api/coupon-settings`).
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::TestApp;

impl TestApp {
    pub async fn validate_coupon(&self, code: &str) -> Response {
        self.send(
            Method::POST,
            "/api/validate-coupon",
            Some(json!({ "code": code })),
        )
        .await
    }

    pub async fn list_coupons(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/api/coupons{query}"), None)
            .await
    }

    pub async fn create_coupon(&self, body: Value) -> Response {
        self.send(Method::POST, "/api/coupons", Some(body)).await
    }

    pub async fn get_coupon(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/coupons/{id}"), None)
            .await
    }

    pub async fn update_coupon(&self, id: &str, body: Value) -> Response {
        self.send(Method::PUT, &format!("/api/coupons/{id}"), Some(body))
            .await
    }

    pub async fn delete_coupon(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/api/coupons/{id}"), None)
            .await
    }

    /// Import a pasted list or CSV (JSON `{"text"}`).
    pub async fn import_coupons(&self, text: &str) -> Response {
        self.send(
            Method::POST,
            "/api/coupons/import",
            Some(json!({ "text": text })),
        )
        .await
    }

    pub async fn export_coupons(&self) -> Response {
        self.send(Method::GET, "/api/coupons/export", None).await
    }

    pub async fn coupon_settings(&self) -> Response {
        self.send(Method::GET, "/api/coupon-settings", None).await
    }

    pub async fn update_coupon_settings(&self, provider: &str, fail_open: bool) -> Response {
        self.send(
            Method::PUT,
            "/api/coupon-settings",
            Some(json!({ "provider": provider, "failOpen": fail_open })),
        )
        .await
    }

    /// Set this tenant's provider and assert it worked (e.g. `any` for render tests).
    pub async fn use_coupon_provider(&self, provider: &str) {
        let response = self.update_coupon_settings(provider, false).await;
        assert_eq!(
            response.status(),
            200,
            "coupon provider {provider}: {}",
            response.text().await.unwrap_or_default()
        );
    }
}

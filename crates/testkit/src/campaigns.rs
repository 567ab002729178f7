//! Campaigns: one [`TestApp`] method per campaign endpoint. Status changes over time: start the
//! app with [`crate::spawn_app_with_clock`] and move the clock.
use reqwest::{Method, Response};
use serde_json::Value;

use crate::TestApp;

impl TestApp {
    pub async fn list_campaigns(&self) -> Response {
        self.send(Method::GET, "/api/campaigns", None).await
    }

    pub async fn create_campaign(&self, body: Value) -> Response {
        self.send(Method::POST, "/api/campaigns", Some(body)).await
    }

    pub async fn get_campaign(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/campaigns/{id}"), None)
            .await
    }

    pub async fn update_campaign(&self, id: &str, body: Value) -> Response {
        self.send(Method::PUT, &format!("/api/campaigns/{id}"), Some(body))
            .await
    }

    pub async fn pause_campaign(&self, id: &str, paused: bool) -> Response {
        self.send(
            Method::PATCH,
            &format!("/api/campaigns/{id}"),
            Some(serde_json::json!({ "paused": paused })),
        )
        .await
    }

    pub async fn delete_campaign(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/api/campaigns/{id}"), None)
            .await
    }

    pub async fn upload_campaign_overlay(&self, id: &str, bytes: Vec<u8>) -> Response {
        self.request(Method::PUT, &format!("/api/campaigns/{id}/overlay"))
            .header("content-type", "image/png")
            .body(bytes)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn campaign_overlay(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/campaigns/{id}/overlay"), None)
            .await
    }

    pub async fn remove_campaign_overlay(&self, id: &str) -> Response {
        self.send(
            Method::DELETE,
            &format!("/api/campaigns/{id}/overlay"),
            None,
        )
        .await
    }

    /// `query` is appended as is, e.g. `"?platform=x&status=pending"` or `""`.
    pub async fn list_campaign_submissions(&self, id: &str, query: &str) -> Response {
        self.send(
            Method::GET,
            &format!("/api/campaigns/{id}/submissions{query}"),
            None,
        )
        .await
    }

    pub async fn export_campaign_submissions(&self, id: &str, query: &str) -> Response {
        self.send(
            Method::GET,
            &format!("/api/campaigns/{id}/submissions/export{query}"),
            None,
        )
        .await
    }

    pub async fn review_campaign_submission(
        &self,
        id: &str,
        submission_id: &str,
        status: &str,
    ) -> Response {
        self.send(
            Method::PATCH,
            &format!("/api/campaigns/{id}/submissions/{submission_id}"),
            Some(serde_json::json!({ "status": status })),
        )
        .await
    }

    pub async fn public_campaign(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/campaigns/{id}/public"), None)
            .await
    }

    pub async fn public_campaign_overlay(&self, id: &str) -> Response {
        self.send(
            Method::GET,
            &format!("/api/campaigns/{id}/public/overlay"),
            None,
        )
        .await
    }

    /// A public entry, sent without the session cookie (as a participant's browser would),
    /// optionally as coming through a proxy from `forwarded_for`.
    pub async fn submit_campaign_entry(
        &self,
        id: &str,
        body: Value,
        forwarded_for: Option<&str>,
    ) -> Response {
        let mut builder = reqwest::Client::new()
            .post(self.url(&format!("/api/campaigns/{id}/submissions")))
            .header("origin", &self.address)
            .json(&body);
        if let Some(ip) = forwarded_for {
            builder = builder.header("x-forwarded-for", ip);
        }
        builder.send().await.expect("request sent")
    }

    /// A public server-side composite; `query` like `"?zoom=1.5&x=0.1&y=0"`.
    pub async fn campaign_composite(&self, id: &str, photo: Vec<u8>, query: &str) -> Response {
        reqwest::Client::new()
            .post(self.url(&format!("/api/campaigns/{id}/composite{query}")))
            .header("origin", &self.address)
            .header("content-type", "image/jpeg")
            .body(photo)
            .send()
            .await
            .expect("request sent")
    }
}

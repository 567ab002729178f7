//! Campaigns: an app whose clock the test holds (status changes over time), and one
//! [`TestApp`] method per campaign endpoint.
use std::time::Duration;

use promostack::config::{Config, Secret};
use promostack::time::Clock;
use reqwest::{Method, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::{ADMIN_PASSWORD, Backend, TestApp, TestDatabase};

/// Start the app on a fresh database of `backend` with `clock` as its time source; move time
/// with [`Clock::advance`] on the same clock.
pub async fn spawn_app_with_clock(
    backend: Backend,
    clock: Clock,
    customize: impl FnOnce(&mut Config),
) -> TestApp {
    promostack::install_crypto_provider();
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::local(data_dir.path());
    config.database = database.config.clone();
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    customize(&mut config);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let port = listener.local_addr().expect("local addr").port();
    let address = format!("http://127.0.0.1:{port}");
    let state = promostack::app::build_state(config.clone(), clock)
        .await
        .expect("app state");
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(promostack::app::launch_with_state(
        state,
        promostack::workers::Registry::standard(),
        listener,
        async {
            let _ = rx.await;
        },
    ));
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ORIGIN,
        address.parse().expect("origin header"),
    );
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let app = TestApp {
        address,
        port,
        client,
        config,
        tenant: std::sync::Mutex::new(None),
        shutdown: Some(tx),
        handle: Some(handle),
        _data_dir: Some(data_dir),
        _database: Some(database),
    };
    app.wait_ready().await;
    app
}

impl TestApp {
    async fn campaign_send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let builder = self.request(method, path);
        let builder = match body {
            Some(body) => builder.json(&body),
            None => builder,
        };
        builder.send().await.expect("request sent")
    }

    pub async fn list_campaigns(&self) -> Response {
        self.campaign_send(Method::GET, "/api/campaigns", None)
            .await
    }

    pub async fn create_campaign(&self, body: Value) -> Response {
        self.campaign_send(Method::POST, "/api/campaigns", Some(body))
            .await
    }

    pub async fn get_campaign(&self, id: &str) -> Response {
        self.campaign_send(Method::GET, &format!("/api/campaigns/{id}"), None)
            .await
    }

    pub async fn update_campaign(&self, id: &str, body: Value) -> Response {
        self.campaign_send(Method::PUT, &format!("/api/campaigns/{id}"), Some(body))
            .await
    }

    pub async fn pause_campaign(&self, id: &str, paused: bool) -> Response {
        self.campaign_send(
            Method::PATCH,
            &format!("/api/campaigns/{id}"),
            Some(serde_json::json!({ "paused": paused })),
        )
        .await
    }

    pub async fn delete_campaign(&self, id: &str) -> Response {
        self.campaign_send(Method::DELETE, &format!("/api/campaigns/{id}"), None)
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
        self.campaign_send(Method::GET, &format!("/api/campaigns/{id}/overlay"), None)
            .await
    }

    pub async fn remove_campaign_overlay(&self, id: &str) -> Response {
        self.campaign_send(
            Method::DELETE,
            &format!("/api/campaigns/{id}/overlay"),
            None,
        )
        .await
    }

    /// `query` is appended as is, e.g. `"?platform=x&status=pending"` or `""`.
    pub async fn list_campaign_submissions(&self, id: &str, query: &str) -> Response {
        self.campaign_send(
            Method::GET,
            &format!("/api/campaigns/{id}/submissions{query}"),
            None,
        )
        .await
    }

    pub async fn export_campaign_submissions(&self, id: &str, query: &str) -> Response {
        self.campaign_send(
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
        self.campaign_send(
            Method::PATCH,
            &format!("/api/campaigns/{id}/submissions/{submission_id}"),
            Some(serde_json::json!({ "status": status })),
        )
        .await
    }

    pub async fn public_campaign(&self, id: &str) -> Response {
        self.campaign_send(Method::GET, &format!("/api/campaigns/{id}/public"), None)
            .await
    }

    pub async fn public_campaign_overlay(&self, id: &str) -> Response {
        self.campaign_send(
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

//! Test support: [`spawn_app`] starts the real server on port 0 with a fresh database, and
//! [`TestApp`] has one method per endpoint. Fakes of outside services speak their real wire
//! protocols on loopback.
use std::path::PathBuf;
use std::time::Duration;

use promostack::config::{Config, DatabaseConfig, Secret};
use promostack::storage::StorageConfig;
use promostack::time::Clock;
use reqwest::{Method, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod broadcast;
pub mod campaigns;
pub mod clerk;
pub mod coupons;
pub mod db;
pub mod forex;
pub mod funderpro;
pub mod images;
pub mod openai;
pub mod process;
pub mod proxy;
pub mod telegram;
pub mod telegram_user;
pub mod templates;
pub mod twelve_data;

pub use db::{Backend, TestDatabase};

/// Password every test app is started with.
pub const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";
/// The `METRICS_TOKEN` of test apps; [`TestApp::metrics`] presents it.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// Run one async test body once per database backend:
/// `backend_tests!(story);` makes `story::sqlite` and `story::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )*};
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub config: Config,
    tenant: std::sync::Mutex<Option<String>>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    _data_dir: Option<tempfile::TempDir>,
    _database: Option<TestDatabase>,
}

/// Start the app on `backend` with the default test configuration.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Start the app on a fresh database of `backend`; `customize` adjusts the configuration.
pub async fn spawn_app_with(backend: Backend, customize: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_clock(backend, Clock::system(), customize).await
}

/// Start the app on a fresh database of `backend` with `clock` as its time source (e.g.
/// [`Clock::fixed`]; move time with [`Clock::advance`] on the same clock).
pub async fn spawn_app_with_clock(
    backend: Backend,
    clock: Clock,
    customize: impl FnOnce(&mut Config),
) -> TestApp {
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::local(data_dir.path());
    config.database = database.config.clone();
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.metrics_token = Some(Secret::new(METRICS_TOKEN));
    customize(&mut config);
    let app = start(config, clock, Some(data_dir), Some(database), None).await;
    app.wait_ready().await;
    app
}

/// Start the app on `backend` with its user accounts on `network` (the fake MTProto side).
pub async fn spawn_app_with_user_network(
    backend: Backend,
    network: &telegram_user::FakeUserNetwork,
) -> TestApp {
    let database = TestDatabase::create(backend).await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::local(data_dir.path());
    config.database = database.config.clone();
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    let app = start(
        config,
        Clock::system(),
        Some(data_dir),
        Some(database),
        Some(user_network_prepare(network)),
    )
    .await;
    app.wait_ready().await;
    app
}

fn user_network_prepare(network: &telegram_user::FakeUserNetwork) -> Prepare {
    let network = network.clone();
    Box::new(move |state| {
        state
            .connections
            .user_accounts()
            .use_connector(std::sync::Arc::new(move |store, key| {
                network.connector(store, key)
            }));
    })
}

/// Adjusts the built state before the app serves (e.g. a fake MTProto connector).
pub type Prepare = Box<dyn FnOnce(&promostack::state::AppState) + Send>;

/// Start the app with exactly `config` (shared databases, proxies); does not wait for readiness.
pub async fn start_app(config: Config) -> TestApp {
    start(config, Clock::system(), None, None, None).await
}

async fn start(
    config: Config,
    clock: Clock,
    data_dir: Option<tempfile::TempDir>,
    database: Option<TestDatabase>,
    prepare: Option<Prepare>,
) -> TestApp {
    promostack::install_crypto_provider();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let port = listener.local_addr().expect("local addr").port();
    let address = format!("http://127.0.0.1:{port}");
    let (tx, rx) = oneshot::channel::<()>();
    let state_config = config.clone();
    // What `promostack::launch` does, with the test's clock.
    let handle = tokio::spawn(async move {
        let state = promostack::app::build_state(state_config, clock).await?;
        if let Some(prepare) = prepare {
            prepare(&state);
        }
        promostack::app::launch_with_state(
            state,
            promostack::workers::Registry::standard(),
            listener,
            async {
                let _ = rx.await;
            },
        )
        .await
    });
    let mut headers = reqwest::header::HeaderMap::new();
    // Browsers send Origin on unsafe requests; the CSRF check requires it with cookies.
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
    TestApp {
        address,
        port,
        client,
        config,
        tenant: std::sync::Mutex::new(None),
        shutdown: Some(tx),
        handle: Some(handle),
        _data_dir: data_dir,
        _database: database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Wait until `/readyz` says the database and storage are up (bootstrap done).
    pub async fn wait_ready(&self) {
        self.wait_ready_for(Duration::from_secs(30)).await
    }

    pub async fn wait_ready_for(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "app at {} never became ready",
                self.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Act in this tenant from now on (`X-Tenant-Id`), or in the default one with `None`.
    pub fn use_tenant(&self, tenant_id: Option<&str>) {
        *self.tenant.lock().expect("tenant lock") = tenant_id.map(str::to_owned);
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match self.tenant.lock().expect("tenant lock").as_deref() {
            Some(tenant) => builder.header("x-tenant-id", tenant),
            None => builder,
        }
    }

    pub(crate) async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let builder = self.request(method, path);
        let builder = match body {
            Some(body) => builder.json(&body),
            None => builder,
        };
        builder.send().await.expect("request sent")
    }

    pub async fn login(&self, password: &str) -> Response {
        self.send(
            Method::POST,
            "/api/login",
            Some(serde_json::json!({ "password": password })),
        )
        .await
    }

    /// Log in with the test admin password and assert it worked.
    pub async fn login_admin(&self) {
        let response = self.login(ADMIN_PASSWORD).await;
        assert_eq!(
            response.status(),
            200,
            "admin login: {}",
            response.text().await.unwrap_or_default()
        );
    }

    pub async fn logout(&self) -> Response {
        self.send(Method::POST, "/api/logout", None).await
    }

    pub async fn me(&self) -> Response {
        self.send(Method::GET, "/api/me", None).await
    }

    pub async fn get_tenant(&self) -> Response {
        self.send(Method::GET, "/api/tenant", None).await
    }

    pub async fn update_tenant(&self, body: Value) -> Response {
        self.send(Method::PATCH, "/api/tenant", Some(body)).await
    }

    pub async fn list_members(&self) -> Response {
        self.send(Method::GET, "/api/tenant/members", None).await
    }

    pub async fn add_member(&self, email: &str, role: &str) -> Response {
        self.send(
            Method::POST,
            "/api/tenant/members",
            Some(serde_json::json!({"email": email, "role": role})),
        )
        .await
    }

    pub async fn remove_member(&self, member_id: &str) -> Response {
        self.send(
            Method::DELETE,
            &format!("/api/tenant/members/{member_id}"),
            None,
        )
        .await
    }

    pub async fn admin_list_tenants(&self) -> Response {
        self.send(Method::GET, "/api/admin/tenants", None).await
    }

    pub async fn admin_create_tenant(
        &self,
        name: &str,
        slug: &str,
        owner_email: Option<&str>,
    ) -> Response {
        self.send(
            Method::POST,
            "/api/admin/tenants",
            Some(serde_json::json!({"name": name, "slug": slug, "ownerEmail": owner_email})),
        )
        .await
    }

    /// Create a workspace as the platform admin (no owner) and return its id; asserts a 201.
    pub async fn create_tenant(&self, name: &str, slug: &str) -> String {
        let created = json(self.admin_create_tenant(name, slug, None).await, 201).await;
        created["id"].as_str().expect("tenant id").to_owned()
    }

    /// The id of the workspace this app acts in now (`GET /api/tenant`); asserts a 200.
    pub async fn tenant_id(&self) -> String {
        json(self.get_tenant().await, 200).await["id"]
            .as_str()
            .expect("tenant id")
            .to_owned()
    }

    pub async fn system_status(&self) -> Response {
        self.send(Method::GET, "/api/system/status", None).await
    }

    pub async fn healthz(&self) -> Response {
        self.send(Method::GET, "/healthz", None).await
    }

    pub async fn readyz(&self) -> Response {
        self.send(Method::GET, "/readyz", None).await
    }

    pub async fn metrics(&self) -> Response {
        self.client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn openapi(&self) -> Response {
        self.send(Method::GET, "/api/openapi.json", None).await
    }

    /// Stop gracefully (releases the leader lease) and wait for the server task.
    pub async fn stop(mut self) {
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            let result = tokio::time::timeout(Duration::from_secs(20), handle).await;
            let result = result
                .expect("app stops within 20 s")
                .expect("app task joins");
            result.expect("app exits cleanly");
        }
    }

    /// Stop, then start again on the same database and data directory, with the user accounts
    /// on `network` (what survives is only what was stored).
    pub async fn restart_with_user_network(
        mut self,
        network: &telegram_user::FakeUserNetwork,
    ) -> TestApp {
        self.stop_inner().await;
        let config = self.config.clone();
        let app = start(
            config,
            Clock::system(),
            self._data_dir.take(),
            self._database.take(),
            Some(user_network_prepare(network)),
        )
        .await;
        app.wait_ready().await;
        app
    }

    /// Abort the server task without a graceful stop (no lease release), like a crash.
    pub fn kill(mut self) {
        self.shutdown.take();
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// JSON body of a response, with the status asserted.
pub async fn json(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The body of a CSV download, with asserted: status 200, `text/csv` and
/// `Content-Disposition: attachment; filename="{file_name}"`.
pub async fn csv_attachment(response: Response, file_name: &str) -> String {
    let status = response.status().as_u16();
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, disposition) = (
        header(reqwest::header::CONTENT_TYPE),
        header(reqwest::header::CONTENT_DISPOSITION),
    );
    let text = response.text().await.expect("body");
    assert_eq!(status, 200, "unexpected status; body: {text}");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{file_name}\""),
        "content-disposition"
    );
    text
}

/// Poll `probe` every 50 ms until it returns `Some`, and return that; panics naming `what`
/// after `limit` (for state that only the database shows, e.g. a row's status).
pub async fn wait_for<T>(
    what: &str,
    limit: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Assert a JSON error response: status and `code`.
pub async fn expect_error(response: Response, status: u16, code: &str) -> Value {
    let body = json(response, status).await;
    assert_eq!(body["code"], code, "error body: {body}");
    assert!(
        body["error"].as_str().is_some_and(|m| !m.is_empty()),
        "error message: {body}"
    );
    body
}

/// A local-storage config under `dir` (for apps that share a database).
pub fn local_config(dir: &std::path::Path, database: DatabaseConfig) -> Config {
    let mut config = Config::local(dir);
    config.database = database;
    config.storage = StorageConfig::Local {
        root: PathBuf::from(dir).join("objects"),
    };
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.metrics_token = Some(Secret::new(METRICS_TOKEN));
    config
}

/// The loopback S3 server that `scripts/test` starts (moto), from the `TEST_S3_*` variables;
/// panics with a clear message when they are missing (a skipped S3 suite is a failed suite).
pub fn s3_test_config() -> promostack::storage::S3Config {
    let endpoint = std::env::var("TEST_S3_ENDPOINT").ok().filter(|e| !e.is_empty()).unwrap_or_else(|| {
        panic!(
            "TEST_S3_ENDPOINT is not set, so the S3 tests cannot run. Run them through `scripts/test` \
             (or `scripts/test --quick`), which starts a loopback S3 server and exports TEST_S3_ENDPOINT, \
             TEST_S3_BUCKET, TEST_S3_ACCESS_KEY and TEST_S3_SECRET_KEY; see docs/testing.md."
        )
    });
    let var = |name: &str, default: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    promostack::storage::S3Config {
        access_key: var("TEST_S3_ACCESS_KEY", "testing"),
        secret_key: var("TEST_S3_SECRET_KEY", "testing"),
        region: var("TEST_S3_REGION", "us-east-1"),
        bucket: var("TEST_S3_BUCKET", "promostack-test"),
        endpoint: Some(endpoint),
        cdn_url: None,
    }
}

/// [`s3_test_config`] as a storage configuration for an app.
pub fn s3_storage_config() -> StorageConfig {
    StorageConfig::S3(s3_test_config())
}

//! The real `promostack` binary as a child process, for tests that must crash it (`kill -9`):
//! started with a clean environment plus the given variables, ready once `/readyz` answers,
//! logged in as the admin.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::ADMIN_PASSWORD;

pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

/// A TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind port 0")
        .local_addr()
        .expect("local addr")
        .port()
}

impl ServerProcess {
    /// Start `bin` (the test's `env!("CARGO_BIN_EXE_promostack")`) on a free port with
    /// `DATA_DIR=data_dir`, the test admin password, `DEMO_DATA=false` and `env`.
    pub async fn start(bin: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        promostack::install_crypto_provider();
        let port = free_port();
        let mut command = Command::new(bin);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("BIND", "127.0.0.1")
            .env("DATA_DIR", data_dir)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("DEMO_DATA", "false")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("start promostack");
        let base = format!("http://127.0.0.1:{port}");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, base.parse().expect("origin"));
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{base}/readyz")).send().await
                && r.status() == 200
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "promostack never became ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let login = client
            .post(format!("{base}/api/login"))
            .json(&json!({"password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login sent");
        assert_eq!(login.status(), 200, "admin login");
        Self {
            child,
            base,
            client,
        }
    }

    /// GET `path` as the admin; asserts 200 and returns the JSON.
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("JSON body")
    }

    /// SIGKILL: no shutdown code runs (no lease release, nothing flushed).
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

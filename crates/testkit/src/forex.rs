//! Test support for the forex service: a [`TestApp`] method per endpoint, and a Signal Bot
//! with a VIP channel on the fake Bot API.
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::TestApp;
use crate::telegram::{ChatKind, FakeTelegram, Member};

pub const SIGNAL_TOKEN: &str = "7200002:AAH-signal_bot-token-0123456789";
pub const VIP_CHANNEL: i64 = -1_001_000_000_001;

impl TestApp {
    pub async fn forex_signals(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/api/forex-signals{query}"), None)
            .await
    }

    pub async fn forex_signal(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/forex-signals/{id}"), None)
            .await
    }

    pub async fn forex_performance(&self, query: &str) -> Response {
        self.send(
            Method::GET,
            &format!("/api/forex-signals/performance{query}"),
            None,
        )
        .await
    }

    pub async fn forex_config(&self) -> Response {
        self.send(Method::GET, "/api/forex-config", None).await
    }

    pub async fn update_forex_config(&self, patch: Value) -> Response {
        self.send(Method::POST, "/api/forex-config", Some(patch))
            .await
    }

    pub async fn backtest_forex_config(&self, patch: Value) -> Response {
        self.send(Method::POST, "/api/forex-config/backtest", Some(patch))
            .await
    }

    pub async fn signal_bot_status(&self) -> Response {
        self.send(Method::GET, "/api/signal-bot/status", None).await
    }

    pub async fn set_active_strategy(&self, strategy: &str) -> Response {
        self.send(
            Method::POST,
            "/api/signal-bot/set-active",
            Some(json!({ "strategy": strategy })),
        )
        .await
    }

    pub async fn sparkline(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/api/xauusd-sparkline{query}"), None)
            .await
    }

    /// The signal bot status as JSON (asserting 200).
    pub async fn signal_bot_status_json(&self) -> Value {
        let response = self.signal_bot_status().await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("status JSON")
    }

    /// Connect [`SIGNAL_TOKEN`] with [`VIP_CHANNEL`] (set up on `fake` first).
    pub async fn connect_signal_bot(&self, fake: &FakeTelegram) {
        add_signal_bot(fake);
        let response = self
            .send(
                Method::PUT,
                "/api/connections/signal-bot",
                Some(json!({"token": SIGNAL_TOKEN, "vipChannel": "@gold_vip"})),
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "connect signal bot: {}",
            response.text().await.unwrap_or_default()
        );
    }
}

/// The Signal Bot and its VIP channel on the fake Bot API, the bot an admin that may post.
pub fn add_signal_bot(fake: &FakeTelegram) {
    fake.add_bot(SIGNAL_TOKEN, "gold_signals_bot");
    fake.add_chat(VIP_CHANNEL, ChatKind::Channel, "Gold VIP", Some("gold_vip"));
    fake.set_bot_member(SIGNAL_TOKEN, VIP_CHANNEL, Member::admin());
}

//! Phase one of start-up: a pure reading of the configuration into what is available. No I/O,
//! so it is cheap to build in tests and its decisions are easy to check.
use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FeatureStatus {
    pub enabled: bool,
    /// What the feature uses, or what is missing to turn it on.
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct AppContext {
    pub config: Config,
    pub features: BTreeMap<&'static str, FeatureStatus>,
}

impl AppContext {
    pub fn from_config(config: Config) -> Self {
        let i = &config.integrations;
        let mut features = BTreeMap::new();
        let mut feature = |name: &'static str, enabled: bool, on: String, off: &str| {
            let detail = if enabled { on } else { off.to_owned() };
            features.insert(name, FeatureStatus { enabled, detail });
        };
        feature(
            "telegram",
            i.telegram_bot_token.is_some(),
            format!(
                "coupon bot via {} ({})",
                i.telegram_api_url,
                match (i.telegram_mode, &config.public_url) {
                    (Some(crate::config::TelegramMode::Polling), _) => "long polling",
                    (_, Some(_)) => "webhook",
                    (_, None) => "webhook; set PUBLIC_URL to register it",
                }
            ),
            "off: set TELEGRAM_BOT_TOKEN",
        );
        feature(
            "forexBot",
            i.forex_bot_token.is_some(),
            "FOREX_BOT_TOKEN set: seeds the default workspace's Signal Bot (Settings → Connections)".into(),
            "off: set FOREX_BOT_TOKEN",
        );
        feature(
            "openai",
            i.openai_api_key.is_some(),
            format!("gpt-4o-mini via {}", i.openai_base_url),
            "off: deterministic message templates are used (set OPENAI_API_KEY)",
        );
        feature(
            "marketData",
            i.twelve_data_api_key.is_some(),
            format!("Twelve Data via {}", i.twelve_data_base_url),
            "off: replays the bundled OHLC file (set TWELVE_DATA_API_KEY)",
        );
        feature(
            "couponCrm",
            i.funderpro_api_url.is_some() && i.funderpro_product_id.is_some(),
            format!(
                "FunderPro at {}",
                i.funderpro_api_url.as_deref().unwrap_or_default()
            ),
            "off: tenants' own coupon lists are used (set FUNDERPRO_API_URL and FUNDERPRO_PRODUCT_ID)",
        );
        feature(
            "stripe",
            i.stripe_secret_key.is_some() && i.stripe_webhook_secret.is_some(),
            format!("Stripe via {}", i.stripe_api_base),
            "off: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET",
        );
        feature(
            "clerk",
            !config.clerk_issuers.is_empty(),
            format!("trusted issuers: {}", config.clerk_issuers.join(", ")),
            "off: only the admin password logs in (set CLERK_ISSUERS)",
        );
        Self { config, features }
    }

    /// One log line per disabled feature, so operators see why something is off.
    pub fn log_features(&self) {
        for (name, status) in &self.features {
            if status.enabled {
                tracing::info!(feature = name, detail = %status.detail, "feature on");
            } else {
                tracing::info!(feature = name, detail = %status.detail, "feature off");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn missing_credentials_turn_features_off_not_errors() {
        let ctx = AppContext::from_config(Config::local("/tmp/promostack-test"));
        assert!(ctx.features.values().all(|f| !f.enabled));
        assert!(
            ctx.features["telegram"]
                .detail
                .contains("TELEGRAM_BOT_TOKEN")
        );

        let mut config = Config::local("/tmp/promostack-test");
        config.integrations.openai_api_key = Some(Secret::new("sk-test-123"));
        let ctx = AppContext::from_config(config);
        assert!(ctx.features["openai"].enabled);
        assert!(
            !format!("{ctx:?}").contains("sk-test-123"),
            "secrets stay out of Debug"
        );
    }
}

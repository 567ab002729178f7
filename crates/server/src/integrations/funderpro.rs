//! Thin client of the FunderPro discount API: "is this code live for our product?".
//!
//! We have no public FunderPro documentation, so the wire format below is an ASSUMPTION
//! (docs/coupons.md, "FunderPro wire format"); it lives only in this module so it is easy to
//! correct against the real API:
//!
//! ```text
//! GET {FUNDERPRO_API_URL}/discounts/{CODE}?product_id={FUNDERPRO_PRODUCT_ID}
//! X-API-Key: {FUNDERPRO_API_KEY}          (sent only when a key is configured)
//! Accept: application/json
//!
//! 200 {"code": "SAVE10", "status": "active" | "expired" | "inactive",
//!      "discount": {"type": "percent" | "amount", "value": 10, "currency": "USD"} | null,
//!      "expires_at": "2027-01-01T00:00:00Z" | null,
//!      "product_ids": ["..."] | null}        (null/absent/empty: valid for every product)
//! 404                                          the code does not exist
//! anything else, a timeout or a body we cannot read: the CRM is unavailable
//! ```
use std::time::Duration;

use serde::Deserialize;

use crate::config::{Integrations, Secret};

/// A CRM that does not answer within this is treated as down (fail closed or open).
pub const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct FunderProClient {
    http: reqwest::Client,
    base_url: String,
    product_id: String,
    api_key: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FunderProDiscount {
    pub code: Option<String>,
    pub status: String,
    pub discount: Option<FunderProAmount>,
    pub expires_at: Option<String>,
    pub product_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FunderProAmount {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: f64,
    pub currency: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Lookup {
    Found(FunderProDiscount),
    NotFound,
}

/// Why the CRM could not answer; the text is for logs (it never contains the key).
#[derive(Debug, Clone, thiserror::Error)]
#[error("FunderPro unavailable: {0}")]
pub struct Unavailable(pub String);

impl FunderProClient {
    /// The client for the environment's FunderPro, when both URL and product id are set.
    pub fn from_config(integrations: &Integrations, http: reqwest::Client) -> Option<Self> {
        let base_url = integrations.funderpro_api_url.clone()?;
        let product_id = integrations.funderpro_product_id.clone()?;
        Some(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            product_id,
            api_key: integrations.funderpro_api_key.clone(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn product_id(&self) -> &str {
        &self.product_id
    }

    pub fn has_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// Look one (already normalised) code up for our product.
    pub async fn lookup(&self, code: &str) -> Result<Lookup, Unavailable> {
        let mut url = reqwest::Url::parse(&format!("{}/", self.base_url))
            .map_err(|e| Unavailable(format!("FUNDERPRO_API_URL is not a URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|_| Unavailable("FUNDERPRO_API_URL cannot be a base URL".into()))?
            .pop_if_empty()
            .push("discounts")
            .push(code);
        url.query_pairs_mut()
            .append_pair("product_id", &self.product_id);
        let mut request = self
            .http
            .get(url)
            .timeout(TIMEOUT)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key.expose());
        }
        let response = request.send().await.map_err(|e| {
            Unavailable(if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else {
                // Without the URL: it is ours and already known; keeps the message short.
                format!("request failed: {}", e.without_url())
            })
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Lookup::NotFound);
        }
        if !status.is_success() {
            return Err(Unavailable(format!("HTTP {status}")));
        }
        let body = response
            .json::<FunderProDiscount>()
            .await
            .map_err(|e| Unavailable(format!("unreadable answer: {}", e.without_url())))?;
        Ok(Lookup::Found(body))
    }
}

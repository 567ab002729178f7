//! Broadcast rules: validation, creating a job with its recipient ledger in one transaction,
//! progress, controls (pause, resume, cancel), and the delivery report.
use super::repo::{BroadcastState, RecipientStatus};
use crate::ids::TenantId;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::markup::{self, ParseMode};
use super::repo::{self, BroadcastRow, ReportRow};
use crate::config::BroadcastConfig;
use crate::db::{Db, new_id};
use crate::domains::error::{DomainError, DomainResult};
use crate::time::Clock;
use crate::workers::jobs::{self, NewJob};

pub const JOB_KIND: &str = "broadcast";
/// Raw markup above this is refused before it is parsed (the visible limit is 4096).
const MAX_RAW_MESSAGE: usize = 32 * 1024;
const MAX_BUTTONS: usize = 100;
const HISTORY: i64 = 50;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Button {
    pub text: String,
    pub url: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBroadcast {
    /// Text, or the caption when `photo` is set.
    pub message: String,
    /// `HTML` or `MarkdownV2`; plain text when absent.
    pub parse_mode: Option<String>,
    /// A photo URL or Telegram `file_id`.
    pub photo: Option<String>,
    /// Inline URL buttons, as rows.
    pub buttons: Option<Vec<Vec<Button>>>,
    /// Messages a second (default from configuration, at most the configured ceiling).
    pub rate: Option<f64>,
    /// Validate and count recipients without creating anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// A validated message, as stored and sent.
#[derive(Debug, Clone)]
pub struct Message {
    pub text: String,
    pub parse_mode: Option<ParseMode>,
    pub photo: Option<String>,
    pub buttons: Vec<Vec<Button>>,
}

impl Message {
    pub fn from_row(row: &BroadcastRow) -> Message {
        Message {
            text: row.message.clone(),
            parse_mode: row.parse_mode.as_deref().and_then(ParseMode::parse),
            photo: row.photo.clone(),
            buttons: row
                .buttons_json
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or_default(),
        }
    }
}

fn validate_url(url: &str) -> bool {
    let url = url.trim();
    (url.starts_with("https://") || url.starts_with("http://") || url.starts_with("tg://"))
        && url.len() <= 2048
        && url.len() > 8
        && !url.chars().any(char::is_whitespace)
}

pub fn validate(input: &NewBroadcast) -> DomainResult<Message> {
    if input.message.len() > MAX_RAW_MESSAGE {
        return Err(DomainError::invalid(format!(
            "the message is too long ({} bytes of markup); Telegram allows 4096 characters",
            input.message.len()
        )));
    }
    let parse_mode = match input.parse_mode.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(ParseMode::parse(raw).ok_or_else(|| {
            DomainError::invalid(format!(
                "parse_mode must be HTML or MarkdownV2 (got '{}')",
                raw.chars().take(20).collect::<String>()
            ))
        })?),
    };
    let photo = match input.photo.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(photo) => {
            let file_id = photo.len() >= 16
                && photo.len() <= 256
                && photo
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !(file_id || (validate_url(photo) && !photo.starts_with("tg://"))) {
                return Err(DomainError::invalid(
                    "photo must be an http(s) URL or a Telegram file_id",
                ));
            }
            Some(photo.to_owned())
        }
    };
    markup::check(&input.message, parse_mode, photo.is_some()).map_err(DomainError::invalid)?;
    let buttons = input.buttons.clone().unwrap_or_default();
    let count: usize = buttons.iter().map(Vec::len).sum();
    if count > MAX_BUTTONS {
        return Err(DomainError::invalid(format!(
            "at most {MAX_BUTTONS} buttons (got {count})"
        )));
    }
    for row in &buttons {
        if row.is_empty() || row.len() > 8 {
            return Err(DomainError::invalid("each button row holds 1 to 8 buttons"));
        }
        for button in row {
            let text = button.text.trim();
            if text.is_empty() || text.chars().count() > 64 {
                return Err(DomainError::invalid(
                    "a button's text must be 1 to 64 characters",
                ));
            }
            if !validate_url(&button.url) {
                return Err(DomainError::invalid(format!(
                    "the button '{text}' needs an http(s):// or tg:// URL"
                )));
            }
        }
    }
    Ok(Message {
        text: input.message.clone(),
        parse_mode,
        photo,
        buttons,
    })
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub recipients: i64,
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub blocked: i64,
    pub failed: i64,
    pub uncertain: i64,
    pub cancelled: i64,
}

impl Totals {
    fn from_counts(recipients: i64, counts: &[repo::StatusCount]) -> Totals {
        let mut totals = Totals {
            recipients,
            ..Totals::default()
        };
        for c in counts {
            let slot = match c.status {
                RecipientStatus::Pending => &mut totals.pending,
                RecipientStatus::Sending => &mut totals.sending,
                RecipientStatus::Sent => &mut totals.sent,
                RecipientStatus::Blocked => &mut totals.blocked,
                RecipientStatus::Failed => &mut totals.failed,
                RecipientStatus::Uncertain => &mut totals.uncertain,
                RecipientStatus::Cancelled => &mut totals.cancelled,
            };
            *slot += c.count;
        }
        totals
    }
}

/// `GET /api/broadcast-status/{id}` and one row of the history (snake_case as the original).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BroadcastStatus {
    pub id: String,
    pub status: String,
    pub message: String,
    pub parse_mode: Option<String>,
    pub photo: Option<String>,
    pub buttons: Vec<Vec<Button>>,
    pub rate: f64,
    pub recipients: i64,
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub blocked: i64,
    pub failed: i64,
    pub uncertain: i64,
    pub cancelled: i64,
    /// Share of recipients with a final outcome, 0–100.
    pub progress: f64,
    /// Seconds until the pending rows are sent at `rate`, while queued or running.
    pub eta_seconds: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

fn status_of(row: BroadcastRow, totals: Totals) -> BroadcastStatus {
    let open = totals.pending + totals.sending;
    let progress = if totals.recipients == 0 {
        100.0
    } else {
        ((totals.recipients - open) as f64 * 1000.0 / totals.recipients as f64).round() / 10.0
    };
    let eta_seconds = row
        .status
        .is_active()
        .then(|| (open as f64 / row.rate_per_sec.max(0.001)).ceil() as i64);
    let message = Message::from_row(&row);
    BroadcastStatus {
        id: row.id,
        status: row.status.as_str().to_owned(),
        message: row.message,
        parse_mode: row.parse_mode,
        photo: row.photo,
        buttons: message.buttons,
        rate: row.rate_per_sec,
        recipients: totals.recipients,
        pending: totals.pending,
        sending: totals.sending,
        sent: totals.sent,
        blocked: totals.blocked,
        failed: totals.failed,
        uncertain: totals.uncertain,
        cancelled: totals.cancelled,
        progress,
        eta_seconds,
        error: row.error,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: String,
    pub status: String,
    pub recipients: i64,
    pub dry_run: bool,
    /// False when the idempotency key named an existing broadcast.
    pub created: bool,
}

pub fn job_key(broadcast_id: &str) -> String {
    format!("broadcast:{broadcast_id}")
}

#[derive(Clone)]
pub struct BroadcastService {
    db: Db,
    clock: Clock,
    config: BroadcastConfig,
}

impl BroadcastService {
    pub fn new(db: Db, clock: Clock, config: BroadcastConfig) -> Self {
        Self { db, clock, config }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub async fn audience(&self, tenant_id: &TenantId) -> DomainResult<i64> {
        Ok(repo::audience_size(&self.db, tenant_id).await?)
    }

    fn rate(&self, requested: Option<f64>) -> DomainResult<f64> {
        let max = self.config.max_rate_per_sec;
        match requested {
            None => Ok(self.config.rate_per_sec.min(max)),
            Some(rate) if rate > 0.0 && rate <= max => Ok(rate),
            Some(rate) => Err(DomainError::invalid(format!(
                "rate must be above 0 and at most {max} messages a second (got {rate})"
            ))),
        }
    }

    /// Validate, then (unless a dry run) create the broadcast, its ledger and its job in one
    /// transaction. `client_key` (the `Idempotency-Key` header) makes a retried request return
    /// the broadcast the first one created.
    pub async fn create(
        &self,
        tenant_id: &TenantId,
        created_by: Option<&str>,
        input: &NewBroadcast,
        client_key: Option<&str>,
    ) -> DomainResult<Created> {
        let message = validate(input)?;
        let rate = self.rate(input.rate)?;
        if input.dry_run {
            let recipients = self.audience(tenant_id).await?;
            return Ok(Created {
                id: String::new(),
                status: "dry_run".into(),
                recipients,
                dry_run: true,
                created: false,
            });
        }
        if let Some(key) = client_key
            && (key.is_empty() || key.len() > 128)
        {
            return Err(DomainError::malformed(
                "Idempotency-Key must be 1 to 128 characters",
            ));
        }
        let now = self.clock.now();
        let id = new_id();
        let key = match client_key {
            Some(key) => format!("broadcast:{tenant_id}:{key}"),
            None => job_key(&id),
        };
        let mut tx = self.db.begin().await?;
        let (_, fresh) = jobs::enqueue(
            &mut tx,
            &NewJob {
                kind: JOB_KIND,
                tenant_id: Some(tenant_id.to_string()),
                idempotency_key: key.clone(),
                payload: json!({"broadcast_id": id}),
                run_at: now,
                max_attempts: 20,
            },
            now,
        )
        .await?;
        if !fresh {
            drop(tx);
            let payload = jobs::payload_by_key(&self.db, &key).await?;
            let existing = payload
                .as_ref()
                .and_then(|p| p["broadcast_id"].as_str())
                .ok_or(DomainError::NotFound("broadcast"))?;
            let row = repo::get(&self.db, tenant_id, existing)
                .await?
                .ok_or(DomainError::NotFound("broadcast"))?;
            return Ok(Created {
                id: row.id,
                status: row.status.as_str().to_owned(),
                recipients: row.recipients,
                dry_run: false,
                created: false,
            });
        }
        let row = BroadcastRow {
            id: id.clone(),
            tenant_id: tenant_id.to_owned(),
            status: BroadcastState::Queued,
            job_key: key.clone(),
            message: message.text.clone(),
            parse_mode: message.parse_mode.map(|m| m.telegram_name().to_owned()),
            photo: message.photo.clone(),
            buttons_json: (!message.buttons.is_empty())
                .then(|| serde_json::to_string(&message.buttons).expect("buttons serialise")),
            rate_per_sec: rate,
            recipients: 0,
            created_by: created_by.map(str::to_owned),
            error: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            updated_at: now,
        };
        repo::insert(&mut tx, &row).await?;
        let recipients = repo::insert_recipients(&mut tx, tenant_id, &id, now).await? as i64;
        if recipients == 0 {
            return Err(DomainError::invalid(
                "nobody to send to: no bot user of this workspace is reachable yet",
            ));
        }
        repo::set_recipient_count(&mut tx, tenant_id, &id, recipients).await?;
        tx.commit().await?;
        metrics::counter!("broadcasts_created_total").increment(1);
        Ok(Created {
            id,
            status: "queued".into(),
            recipients,
            dry_run: false,
            created: true,
        })
    }

    async fn row(&self, tenant_id: &TenantId, id: &str) -> DomainResult<BroadcastRow> {
        repo::get(&self.db, tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("broadcast"))
    }

    pub async fn status(&self, tenant_id: &TenantId, id: &str) -> DomainResult<BroadcastStatus> {
        let row = self.row(tenant_id, id).await?;
        let counts = repo::counts(&self.db, tenant_id, &row.id).await?;
        let totals = Totals::from_counts(row.recipients, &counts);
        Ok(status_of(row, totals))
    }

    pub async fn history(&self, tenant_id: &TenantId) -> DomainResult<Vec<BroadcastStatus>> {
        let rows = repo::list(&self.db, tenant_id, HISTORY).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let counts = repo::counts(&self.db, tenant_id, &row.id).await?;
            let totals = Totals::from_counts(row.recipients, &counts);
            out.push(status_of(row, totals));
        }
        Ok(out)
    }

    /// Pause a queued or running broadcast; the sender stops after the messages in flight.
    pub async fn pause(&self, tenant_id: &TenantId, id: &str) -> DomainResult<BroadcastStatus> {
        let row = self.row(tenant_id, id).await?;
        let now = self.clock.now();
        if !repo::transition(
            &self.db,
            tenant_id,
            id,
            &[BroadcastState::Queued, BroadcastState::Running],
            BroadcastState::Paused,
            now,
        )
        .await?
        {
            return Err(DomainError::conflict(format!(
                "a {} broadcast cannot be paused",
                row.status.as_str()
            )));
        }
        // A queued job that no runner holds yet parks at once; a running one parks itself.
        let mut tx = self.db.begin().await?;
        jobs::park_idle(&mut tx, &row.job_key, now).await?;
        tx.commit().await?;
        self.status(tenant_id, id).await
    }

    pub async fn resume(&self, tenant_id: &TenantId, id: &str) -> DomainResult<BroadcastStatus> {
        let row = self.row(tenant_id, id).await?;
        let now = self.clock.now();
        if !repo::transition(
            &self.db,
            tenant_id,
            id,
            &[BroadcastState::Paused],
            BroadcastState::Queued,
            now,
        )
        .await?
        {
            return Err(DomainError::conflict(format!(
                "a {} broadcast cannot be resumed",
                row.status.as_str()
            )));
        }
        let mut tx = self.db.begin().await?;
        jobs::requeue(&mut tx, &row.job_key, now).await?;
        tx.commit().await?;
        self.status(tenant_id, id).await
    }

    pub async fn cancel(&self, tenant_id: &TenantId, id: &str) -> DomainResult<BroadcastStatus> {
        let row = self.row(tenant_id, id).await?;
        let now = self.clock.now();
        if !repo::transition(
            &self.db,
            tenant_id,
            id,
            &[
                BroadcastState::Queued,
                BroadcastState::Running,
                BroadcastState::Paused,
            ],
            BroadcastState::Cancelled,
            now,
        )
        .await?
        {
            return Err(DomainError::conflict(format!(
                "a {} broadcast cannot be cancelled",
                row.status.as_str()
            )));
        }
        let mut tx = self.db.begin().await?;
        let idle = jobs::cancel_idle(&mut tx, &row.job_key, now).await?;
        tx.commit().await?;
        if idle {
            // No runner holds it: settle the ledger here. A running job does it when it stops.
            repo::cancel_pending(&self.db, tenant_id, &row.id, now).await?;
        }
        self.status(tenant_id, id).await
    }

    /// Stream the delivery report as CSV lines (header first).
    pub async fn report_csv(
        &self,
        tenant_id: &TenantId,
        id: &str,
        tx: tokio::sync::mpsc::Sender<String>,
    ) -> DomainResult<()> {
        let row = self.row(tenant_id, id).await?;
        if tx
            .send("user_id,username,status,error,time\r\n".into())
            .await
            .is_err()
        {
            return Ok(());
        }
        repo::stream_report(&self.db, tenant_id, &row.id, &tx, |r: ReportRow| {
            let time = jiff::Timestamp::from_millisecond(r.updated_at)
                .map(|t| t.to_string())
                .unwrap_or_default();
            crate::csv::row(&[
                &r.user_id.to_string(),
                r.username.as_deref().unwrap_or(""),
                &r.status,
                r.error.as_deref().unwrap_or(""),
                &time,
            ])
        })
        .await?;
        Ok(())
    }

    /// Check the broadcast exists in this tenant (before a streamed response starts).
    pub async fn exists(&self, tenant_id: &TenantId, id: &str) -> DomainResult<()> {
        self.row(tenant_id, id).await.map(|_| ())
    }
}

//! Operator commands to the Signal Bot in a private chat, from the Telegram ids the workspace
//! lists as admins (`admin_telegram_ids`): `/status`, `/profit`, `/daily`, `/weekly`,
//! `/pause`, `/resume`. Anyone else is told the commands are for admins, and it is logged.
use promostack_signals::messages::{RecapPeriod, recap_message};

use super::ForexService;
use super::repo;
use super::service::closed_signal;
use crate::domains::connections::BotRole;
use crate::domains::connections::service::BotCommandMessage;
use crate::domains::error::DomainResult;
use crate::integrations::telegram::SendOptions;

pub const HELP: &str = "Operator commands:\n/status: strategy, open signal, live pips\n/profit: net pips of the last 30 days\n/daily: today's recap so far\n/weekly: the last 7 days\n/pause: no new signals (open ones are followed to their end)\n/resume: signals again";

impl ForexService {
    /// Answer one command; the reply goes back through the Signal Bot. Errors sending the
    /// reply are logged, not returned (Telegram would redeliver and the command run twice).
    pub async fn operator_command(&self, message: &BotCommandMessage) -> DomainResult<()> {
        let tenant = message.tenant_id.as_str();
        let settings = self.config(tenant).await?.settings;
        let command = message
            .text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .split('@')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let reply = if !settings.admin_telegram_ids.contains(&message.from_id) {
            tracing::warn!(tenant, from = message.from_id, %command, "operator command from a non-admin refused");
            format!(
                "Operator commands are for this workspace's admins. Your Telegram id is {}: an admin can add it under Forex → Strategy & Config.",
                message.from_id
            )
        } else {
            tracing::info!(tenant, from = message.from_id, %command, "operator command");
            self.answer(tenant, &command).await?
        };
        let creds = self
            .resolver()
            .credentials(tenant, BotRole::SignalBot)
            .await?;
        if let Err(e) = creds
            .client
            .send_message(message.chat_id, &reply, &SendOptions::default())
            .await
        {
            tracing::warn!(tenant, error = %e, "operator command reply not sent");
        }
        Ok(())
    }

    async fn answer(&self, tenant: &str, command: &str) -> DomainResult<String> {
        let now = self.market().now();
        let day = 86_400;
        Ok(match command {
            "/status" => {
                let s = self.status(tenant).await?;
                let mut text = format!(
                    "{} {} · strategy {}{}{}",
                    s.symbol,
                    s.timeframe,
                    s.active_strategy,
                    s.queued_strategy
                        .as_deref()
                        .map(|q| format!(" (switching to {q})"))
                        .unwrap_or_default(),
                    if s.paused { " · PAUSED" } else { "" }
                );
                match &s.open_signal {
                    Some(open) => {
                        let pips = open
                            .live_pips
                            .map_or("n/a".to_string(), |p| format!("{p:+.1} pips"));
                        text.push_str(&format!(
                            "\nOpen: #{} {} from {} · {pips}",
                            open.signal.number, open.signal.direction, open.signal.entry
                        ));
                    }
                    None => text.push_str("\nNo open signal."),
                }
                if !s.enabled {
                    text.push_str("\nThe service is off for this workspace.");
                }
                text.push_str(&format!("\nPosting: {}", s.posting));
                text
            }
            "/profit" => {
                let p = self.performance(tenant, 30).await?;
                format!(
                    "Last 30 days: {} signals closed, {} in profit, net {:+.1} pips",
                    p.signals, p.wins, p.total_pips
                )
            }
            "/daily" | "/weekly" => {
                let (period, from) = if command == "/daily" {
                    (RecapPeriod::Daily, now - now.rem_euclid(day))
                } else {
                    (RecapPeriod::Weekly, now - 7 * day)
                };
                let rows =
                    repo::closed_between(self.db(), tenant, from * 1000, (now + 1) * 1000).await?;
                let closed: Vec<_> = rows.iter().filter_map(closed_signal).collect();
                recap_message(period, from, now + 1, &closed)
            }
            "/pause" => {
                self.set_paused(tenant, true).await?;
                "Paused: no new signals. The open signal (if any) is still followed to its end. /resume to continue.".to_string()
            }
            "/resume" => {
                self.set_paused(tenant, false).await?;
                "Resumed: new signals will be posted again.".to_string()
            }
            _ => HELP.to_string(),
        })
    }
}

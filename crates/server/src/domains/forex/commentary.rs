//! The AI-written note posted after a signal's opening and after its close, in its own
//! message (the instruction post stays the engine's text). The model is given the engine's
//! facts and may only repeat their numbers: a reply with any other number is discarded for
//! the deterministic template, as is a failed or slow call. Without `OPENAI_API_KEY` there
//! is no note (the event posts already say everything).
use promostack_signals::lifecycle::{EventKind, SignalEvent};
use serde::{Deserialize, Serialize};

use crate::integrations::openai::{OpenAiClient, only_given_numbers};

pub const SYSTEM_PROMPT: &str = "You write the short note a trading-signals channel posts after a signal message. \
Two sentences at most, plain text, confident and calm, no emojis, no hashtags, no financial-advice disclaimers. \
Never write a price, level, pip count, percentage or any other number that is not in the facts you are given; \
prefer no numbers at all. Do not invent news or reasons beyond the facts.";

/// What a note needs: the template text, and the facts (with the numbers allowed) for the AI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteContext {
    pub facts: String,
    pub allowed: Vec<f64>,
}

fn pips(value: f64) -> String {
    let v = if value.abs() < 0.05 { 0.0 } else { value };
    format!("{v:+.1}")
}

/// The note for `event` when it gets one (opening or close): `(template, context)`.
pub fn note_for(event: &SignalEvent) -> Option<(String, NoteContext)> {
    let h = &event.signal;
    let title = format!("{} {} #{}", h.symbol, h.direction.label(), h.id);
    let mut allowed = vec![
        h.id as f64,
        h.entry,
        h.stop_loss,
        h.take_profits[0],
        h.take_profits[1],
        h.take_profits[2],
        1.0,
        2.0,
        3.0,
    ];
    let (template, facts) = match &event.kind {
        EventKind::Opened { reasons } => {
            let facts = format!(
                "New signal {title} by the {} strategy. Entry {}, stop {}, targets {} / {} / {}. Reasons: {}.",
                h.strategy,
                h.entry,
                h.stop_loss,
                h.take_profits[0],
                h.take_profits[1],
                h.take_profits[2],
                reasons.join("; ")
            );
            for r in reasons {
                allowed.extend(
                    crate::integrations::openai::numbers_in(r)
                        .iter()
                        .filter_map(|n| n.parse::<f64>().ok()),
                );
            }
            (
                format!(
                    "{title} is live. The {} strategy's conditions lined up; the stop is part of the plan, so size the position to it.",
                    h.strategy
                ),
                facts,
            )
        }
        kind if event.closed => {
            let net = event.realized_pips;
            allowed.push(net);
            allowed.push((net * 10.0).round() / 10.0);
            let how = match kind {
                EventKind::TakeProfit { level } => format!("closed at TP{level}"),
                EventKind::StopLoss { at_breakeven: true } => "stopped at breakeven".to_string(),
                EventKind::StopLoss { .. } => "hit its stop".to_string(),
                EventKind::Timeout => "reached its time limit".to_string(),
                EventKind::ThesisBroken { .. } => "was closed as its thesis broke".to_string(),
                _ => "closed".to_string(),
            };
            let facts = format!("Signal {title} {how}. Net result {} pips.", pips(net));
            let template = if net > 0.0 {
                format!(
                    "{title} {how}: {} pips banked. On to the next setup.",
                    pips(net)
                )
            } else if net < 0.0 {
                format!(
                    "{title} {how}: {} pips. Losses are part of the plan; the next setup is what counts.",
                    pips(net)
                )
            } else {
                format!("{title} {how}, flat. Capital protected.")
            };
            (template, facts)
        }
        _ => return None,
    };
    Some((template, NoteContext { facts, allowed }))
}

/// The AI's note, or `None` to post the template (off, failed, or a number it was not given).
pub async fn write(client: &OpenAiClient, context: &NoteContext) -> Option<String> {
    match client.complete(SYSTEM_PROMPT, &context.facts).await {
        Ok(text) if only_given_numbers(&text, &context.allowed) && text.chars().count() <= 600 => {
            Some(text)
        }
        Ok(text) => {
            tracing::warn!(
                chars = text.len(),
                "AI note discarded: it stated a number the engine did not give (or was too long)"
            );
            metrics::counter!("forex_ai_notes_discarded_total").increment(1);
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "AI note unavailable; the template is posted");
            metrics::counter!("forex_ai_notes_failed_total").increment(1);
            None
        }
    }
}

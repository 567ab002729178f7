//! Delivering an image: check the code, re-send by Telegram file_id when this exact image was
//! sent before, else render and upload it, and remember the file_id Telegram gave it.
use promostack_render::OutputFormat;

use super::conversation::{Conversation, Turn};
use super::replies::invalid_code_text;
use super::repo;
use super::service::{Halt, Step};
use crate::domains::coupons::CouponCode;
use crate::domains::error::DomainError;
use crate::domains::templates::Template;
use crate::domains::templates::render::RenderRequest;
use crate::integrations::telegram::types::InputFile;
use crate::integrations::telegram::{SendOptions, TelegramError};

/// JPEG quality of photos (Telegram recompresses anyway).
const PHOTO_QUALITY: u8 = 90;

impl Turn<'_> {
    /// A photo Telegram did not take. Transient failures are retried as a whole, so only a
    /// final outcome is counted.
    pub(super) async fn photo_failed(
        &self,
        err: TelegramError,
        slug: &str,
        variant: &str,
        code: &str,
    ) -> Step {
        let reason = err.kind();
        let halt = self.on_send_error(err);
        if !matches!(halt, Halt::Transient(_)) {
            self.record(
                Some(slug),
                Some(variant),
                Some(code),
                Some(send_reason(reason)),
            )
            .await?;
        }
        Err(halt)
    }
}

/// Render (or re-send by file_id) and deliver one image; every attempt is recorded.
/// Coupon check, rendering and upload make a large future; it is boxed so that every other
/// update (/help, /start, ...), whose task is allocated and moved at the size of the largest
/// branch, does not carry it.
pub(super) fn generate<'a>(
    turn: &'a Turn<'a>,
    template: &'a Template,
    code: &'a str,
    variant: Option<&'a str>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Step> + Send + 'a>> {
    Box::pin(generate_now(turn, template, code, variant))
}

async fn generate_now(
    turn: &Turn<'_>,
    template: &Template,
    code: &str,
    variant: Option<&str>,
) -> Step {
    let slug = template.slug.as_str();
    let variant = match variant {
        Some(v) => {
            let v = v.to_ascii_lowercase();
            if !template.variants.contains_key(&v) {
                turn.record(Some(slug), Some(&v), Some(code), Some("unknown_variant"))
                    .await?;
                let names: Vec<&str> = template.variants.keys().map(String::as_str).collect();
                return turn
                    .say(&format!(
                        "{} comes in: {}.",
                        template.name,
                        names.join(", ")
                    ))
                    .await;
            }
            v
        }
        None => {
            if template.variants.contains_key("square") {
                "square".to_owned()
            } else {
                template
                    .variants
                    .keys()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "square".into())
            }
        }
    };
    let Ok(parsed) = CouponCode::parse(code) else {
        turn.record(Some(slug), Some(&variant), None, Some("invalid_code"))
            .await?;
        return turn.say(&invalid_code_text()).await;
    };
    let code = parsed.display();
    let conversation_done = Conversation::default();
    let service = turn.service;
    // Only codes that are live for the tenant may be rendered (coupons domain).
    match service.coupons.validate(turn.tenant(), &parsed).await {
        Ok(check) if check.valid => {}
        Ok(check) => {
            let reason = match check.code.as_deref() {
                Some("crm_unavailable") => "crm_unavailable",
                _ => "invalid_coupon",
            };
            turn.record(Some(slug), Some(&variant), Some(code), Some(reason))
                .await?;
            turn.save(&conversation_done).await?;
            return turn
                .say(&format!(
                    "Sorry, I can't make that one: {}. Check the code and try again.",
                    check.reason
                ))
                .await;
        }
        Err(DomainError::Invalid { message, .. }) => {
            turn.record(Some(slug), Some(&variant), Some(code), Some("invalid_code"))
                .await?;
            return turn.say(&format!("That code won't work: {message}.")).await;
        }
        Err(err) => return Err(Halt::from(err)),
    }
    let db = &service.db;
    let caption = format!("{} · {}", template.name, code);
    let photo_key = repo::PhotoKey {
        bot_id: &turn.bot.id,
        template_id: &template.id,
        template_version: template.version,
        variant: &variant,
        code,
    };
    let cached = repo::cached_file_id(db, &photo_key).await?;
    if let Some(file_id) = cached {
        match turn
            .bot
            .client
            .send_photo(
                turn.chat_id,
                InputFile::FileId(file_id),
                Some(&caption),
                &SendOptions::default(),
            )
            .await
        {
            Ok(_) => {
                metrics::counter!("bot_photos_sent_total", "source" => "file_id").increment(1);
                turn.record(Some(slug), Some(&variant), Some(code), None)
                    .await?;
                return turn.save(&conversation_done).await;
            }
            Err(TelegramError::BadRequest { .. }) => {
                // Telegram no longer knows it: forget it and upload afresh.
                repo::forget_file_id(db, &photo_key).await?;
            }
            Err(err) => return turn.photo_failed(err, slug, &variant, code).await,
        }
    }
    let rendered = service
        .templates
        .render(
            turn.tenant(),
            RenderRequest {
                template: &template.id,
                variant: &variant,
                code,
                format: OutputFormat::Jpeg {
                    quality: PHOTO_QUALITY,
                },
                logo: None,
                persist: false,
            },
        )
        .await;
    let rendered = match rendered {
        Ok(r) => r,
        Err(DomainError::Unavailable { message, .. }) => return Err(Halt::Transient(message)),
        Err(err) => {
            tracing::warn!(template = slug, error = %err, "bot render failed");
            turn.record(
                Some(slug),
                Some(&variant),
                Some(code),
                Some("render_failed"),
            )
            .await?;
            return turn
                .say("Sorry, I couldn't make that image. Try another template or code.")
                .await;
        }
    };
    let photo = InputFile::Upload {
        file_name: format!("{slug}-{variant}.jpg"),
        bytes: rendered.bytes,
        mime: "image/jpeg",
    };
    match turn
        .bot
        .client
        .send_photo(turn.chat_id, photo, Some(&caption), &SendOptions::default())
        .await
    {
        Ok(message) => {
            metrics::counter!("bot_photos_sent_total", "source" => "upload").increment(1);
            if let Some(largest) = message.largest_photo() {
                repo::remember_file_id(db, &photo_key, &largest.file_id, service.clock.now())
                    .await?;
            }
            turn.record(Some(slug), Some(&variant), Some(code), None)
                .await?;
            turn.save(&conversation_done).await
        }
        Err(err) => turn.photo_failed(err, slug, &variant, code).await,
    }
}

fn send_reason(kind: &'static str) -> &'static str {
    match kind {
        "blocked" => "blocked",
        _ => "send_failed",
    }
}

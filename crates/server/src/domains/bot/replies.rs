//! What the bot says: help text, suggestions and the inline keyboards.
use super::matching::Candidate;
use super::service::PAGE_SIZE;
use crate::domains::coupons::CouponCode;
use crate::domains::templates::Template;
use crate::integrations::telegram::types::{InlineKeyboardButton, InlineKeyboardMarkup};

pub(super) fn help_text(templates: &[Template]) -> String {
    let example = templates
        .first()
        .map(|t| t.slug.as_str())
        .unwrap_or("template-name");
    let mut text = format!(
        "I turn coupon codes into branded promo images.\n\n\
         /generate — pick a template, then send your code\n\
         /{example} CODE — straight to the image (also /{example}/CODE)\n\
         /cancel — start over\n/help — this message"
    );
    if !templates.is_empty() {
        text.push_str("\n\nTemplates: ");
        let names: Vec<String> = templates.iter().map(|t| format!("/{}", t.slug)).collect();
        text.push_str(&names.join(", "));
    }
    text
}

pub(super) fn candidates(templates: &[Template]) -> Vec<Candidate> {
    templates
        .iter()
        .map(|t| Candidate {
            slug: t.slug.clone(),
            name: t.name.clone(),
        })
        .collect()
}

/// Callback data is at most 64 bytes: the slug when it fits, else the id.
pub(super) fn template_key(template: &Template) -> String {
    if template.slug.len() <= 60 {
        template.slug.clone()
    } else {
        template.id.clone()
    }
}

pub(super) fn templates_keyboard(templates: &[Template], page: usize) -> InlineKeyboardMarkup {
    let pages = templates.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages - 1);
    let mut rows: Vec<Vec<InlineKeyboardButton>> = templates
        .iter()
        .skip(page * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|t| {
            vec![InlineKeyboardButton::callback(
                &t.name,
                format!("t:{}", template_key(t)),
            )]
        })
        .collect();
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(InlineKeyboardButton::callback(
            "« Previous",
            format!("p:{}", page - 1),
        ));
    }
    if page + 1 < pages {
        nav.push(InlineKeyboardButton::callback(
            "Next »",
            format!("p:{}", page + 1),
        ));
    }
    if !nav.is_empty() {
        rows.push(nav);
    }
    InlineKeyboardMarkup {
        inline_keyboard: rows,
    }
}

pub(super) fn variants_keyboard(template: &Template) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup {
        inline_keyboard: vec![
            template
                .variants
                .keys()
                .map(|v| {
                    let mut label = v.clone();
                    if let Some(first) = label.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    InlineKeyboardButton::callback(label, format!("v:{v}"))
                })
                .collect(),
        ],
    }
}

pub(super) fn did_you_mean(typed: &str, suggestions: &[Candidate]) -> String {
    let typed: String = typed.chars().take(40).collect();
    if suggestions.is_empty() {
        format!("I don't know a template called \"{typed}\". Send /generate to see them all.")
    } else {
        let names: Vec<String> = suggestions.iter().map(|c| format!("/{}", c.slug)).collect();
        format!(
            "I don't know a template called \"{typed}\". Did you mean {}?",
            names.join(" or ")
        )
    }
}

pub(super) fn invalid_code_text() -> String {
    format!(
        "Coupon codes are letters, digits, -, _ and . only (up to {} characters). Send the code again.",
        CouponCode::MAX_CHARS
    )
}

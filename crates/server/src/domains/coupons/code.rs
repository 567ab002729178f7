//! The coupon code as every edge reads it: the API, the generator page, the Telegram bot and the
//! renderer all accept exactly what [`CouponCode::parse`] accepts, so a code listed on the web
//! works in the bot too.
use crate::domains::error::DomainError;

/// A coupon code: trimmed, at most [`CouponCode::MAX_CHARS`] characters of letters (any
/// script), digits, `-`, `_` and `.`. `display` is the code as typed (what the image prints,
/// after the template's own upper-casing); `key` is its comparison form (upper case), by which
/// lists, the CRM cache and analytics group codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponCode {
    display: String,
    key: String,
}

/// Why a text is not a coupon code; the messages are for the person typing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("enter a coupon code")]
    Empty,
    #[error("a coupon code has at most {} characters", CouponCode::MAX_CHARS)]
    TooLong,
    #[error("a coupon code cannot contain control characters")]
    ControlCharacter,
    #[error("a coupon code may contain only {}", CouponCode::ALLOWED)]
    Character,
}

impl CouponCode {
    /// The renderer's own bound on a code, so every parsed code can be rendered.
    pub const MAX_CHARS: usize = promostack_render::MAX_CODE_CHARS;
    /// The allowed characters, in words (shown by the API and the pages).
    pub const ALLOWED: &'static str = "letters, digits, '-', '_' and '.'";

    pub fn parse(raw: &str) -> Result<CouponCode, CodeError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(CodeError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(CodeError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(CodeError::ControlCharacter);
        }
        if !trimmed
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(CodeError::Character);
        }
        Ok(CouponCode {
            display: trimmed.to_owned(),
            key: trimmed.to_uppercase(),
        })
    }

    /// The code as typed (trimmed).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The comparison form: upper case.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl std::fmt::Display for CouponCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl From<CodeError> for DomainError {
    fn from(err: CodeError) -> Self {
        DomainError::invalid_field("code", err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_key() {
        let code = CouponCode::parse("  save10 ").unwrap();
        assert_eq!(code.display(), "save10");
        assert_eq!(code.key(), "SAVE10");
        let accented = CouponCode::parse("Café10").unwrap();
        assert_eq!(accented.key(), "CAFÉ10");
        assert_eq!(CouponCode::parse("Été-20_x.1").unwrap().key(), "ÉTÉ-20_X.1");
    }

    #[test]
    fn refusals() {
        assert_eq!(CouponCode::parse(" "), Err(CodeError::Empty));
        assert_eq!(CouponCode::parse("SAVE 10"), Err(CodeError::Character));
        assert_eq!(CouponCode::parse("SAVE🔥"), Err(CodeError::Character));
        assert_eq!(
            CouponCode::parse("SAVE\u{7}"),
            Err(CodeError::ControlCharacter)
        );
        assert!(CouponCode::parse(&"X".repeat(CouponCode::MAX_CHARS)).is_ok());
        assert_eq!(
            CouponCode::parse(&"X".repeat(CouponCode::MAX_CHARS + 1)),
            Err(CodeError::TooLong)
        );
        // Counted in characters, not bytes.
        assert!(CouponCode::parse(&"É".repeat(CouponCode::MAX_CHARS)).is_ok());
    }

    #[test]
    fn refusals_name_the_field() {
        let err = DomainError::from(CodeError::TooLong);
        assert!(matches!(
            err,
            DomainError::Invalid {
                field: Some("code"),
                ..
            }
        ));
        assert_eq!(err.to_string(), "a coupon code has at most 64 characters");
    }
}

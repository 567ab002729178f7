//! Reading a message as a bot command: `/start [payload]`, `/help`, `/generate`, `/cancel`, and
//! the direct forms `/template-name/CODE[/variant]` and `/template-name CODE [variant]`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start(Option<String>),
    Help,
    Generate,
    Cancel,
    /// A template named in the command itself, with the code (and variant) when given.
    Direct {
        name: String,
        code: Option<String>,
        variant: Option<String>,
    },
}

/// `None` when the text is not a command, or is addressed to another bot (`/help@other_bot`).
pub fn parse(text: &str, bot_username: Option<&str>) -> Option<Command> {
    let text = text.trim();
    let body = text.strip_prefix('/')?;
    if body.is_empty() || body.starts_with('/') || body.starts_with(char::is_whitespace) {
        return None;
    }
    // Slash form: everything up to the next '/' is the name (it may hold spaces).
    let (head, rest): (&str, Vec<&str>) = match body.find('/') {
        Some(at) => {
            let rest = body[at + 1..]
                .split(|c: char| c == '/' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .collect();
            (body[..at].trim(), rest)
        }
        None => {
            let mut words = body.split_whitespace();
            let head = words.next().unwrap_or_default();
            (head, words.collect())
        }
    };
    let (name, addressee) = match head.split_once('@') {
        Some((name, to)) => (name, Some(to)),
        None => (head, None),
    };
    if let (Some(to), Some(me)) = (addressee, bot_username)
        && !to.eq_ignore_ascii_case(me)
    {
        return None;
    }
    let first = rest.first().map(|s| (*s).to_owned());
    Some(match name.to_ascii_lowercase().as_str() {
        "start" => Command::Start(first),
        "help" => Command::Help,
        "generate" => Command::Generate,
        "cancel" => Command::Cancel,
        _ => Command::Direct {
            name: name.to_owned(),
            code: first,
            variant: rest.get(1).map(|s| (*s).to_owned()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domains::coupons::CouponCode;

    fn direct(name: &str, code: Option<&str>, variant: Option<&str>) -> Option<Command> {
        Some(Command::Direct {
            name: name.into(),
            code: code.map(Into::into),
            variant: variant.map(Into::into),
        })
    }

    #[test]
    fn built_in_commands() {
        assert_eq!(parse("/start", None), Some(Command::Start(None)));
        assert_eq!(
            parse("/start promo_42", None),
            Some(Command::Start(Some("promo_42".into())))
        );
        assert_eq!(parse("/HELP", None), Some(Command::Help));
        assert_eq!(
            parse("/generate@promo_bot", Some("Promo_Bot")),
            Some(Command::Generate)
        );
        assert_eq!(parse("/generate@other_bot", Some("promo_bot")), None);
        assert_eq!(parse("/cancel", None), Some(Command::Cancel));
        assert_eq!(parse("hello", None), None);
        assert_eq!(parse("/", None), None);
        assert_eq!(parse("// x", None), None);
    }

    #[test]
    fn direct_forms() {
        assert_eq!(
            parse("/black-friday/SAVE10", None),
            direct("black-friday", Some("SAVE10"), None)
        );
        assert_eq!(
            parse("/black-friday SAVE10", None),
            direct("black-friday", Some("SAVE10"), None)
        );
        assert_eq!(
            parse("/black-friday/SAVE10/portrait", None),
            direct("black-friday", Some("SAVE10"), Some("portrait"))
        );
        assert_eq!(
            parse("  /Black Friday/SAVE10 ", None),
            direct("Black Friday", Some("SAVE10"), None)
        );
        assert_eq!(parse("/summer", None), direct("summer", None, None));
        assert_eq!(
            parse("/summer@promo_bot WELCOME20", Some("promo_bot")),
            direct("summer", Some("WELCOME20"), None)
        );
    }

    #[test]
    fn codes() {
        // The bot reads codes exactly as the API does (one parser, coupons::CouponCode).
        let valid_code = |code: &str| CouponCode::parse(code).is_ok();
        assert!(valid_code("SAVE10"));
        assert!(valid_code("gold-50_x"));
        assert!(valid_code("CAFÉ10"));
        assert!(valid_code(&"A".repeat(50)));
        assert!(!valid_code(""));
        assert!(!valid_code("SAVE 10"));
        assert!(!valid_code("SAVE🔥"));
        assert!(!valid_code("SAVE\u{7}"));
        assert!(!valid_code(&"A".repeat(CouponCode::MAX_CHARS + 1)));
    }
}

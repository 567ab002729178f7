//! Checks a broadcast's text before anything is sent: Telegram's length limits (counted on the
//! visible text, after markup) and the validity of `HTML` / `MarkdownV2` markup, with an error
//! that says where the problem is. Pure.
//!
//! Lengths are counted in UTF-16 code units, the unit Telegram's entity offsets use; it is the
//! stricter reading of "4096 characters" (an emoji counts 2), so what passes here also passes there.

pub const MAX_TEXT: usize = 4096;
pub const MAX_CAPTION: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseMode {
    Html,
    MarkdownV2,
}

impl ParseMode {
    pub fn parse(raw: &str) -> Option<ParseMode> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "html" => Some(ParseMode::Html),
            "markdownv2" => Some(ParseMode::MarkdownV2),
            _ => None,
        }
    }

    /// The value Telegram expects in `parse_mode`.
    pub fn telegram_name(self) -> &'static str {
        match self {
            ParseMode::Html => "HTML",
            ParseMode::MarkdownV2 => "MarkdownV2",
        }
    }
}

/// The visible text of `message` in `mode`, or why the markup is invalid.
pub fn visible_text(message: &str, mode: Option<ParseMode>) -> Result<String, String> {
    match mode {
        None => Ok(message.to_owned()),
        Some(ParseMode::Html) => html_text(message),
        Some(ParseMode::MarkdownV2) => markdown_v2_text(message),
    }
}

/// Validate a message or caption: non-empty, within its limit, markup valid.
pub fn check(message: &str, mode: Option<ParseMode>, caption: bool) -> Result<(), String> {
    let text = visible_text(message, mode)?;
    if text.trim().is_empty() {
        return Err("the message is empty".into());
    }
    let (limit, what) = if caption {
        (MAX_CAPTION, "a photo caption")
    } else {
        (MAX_TEXT, "a text message")
    };
    let length = text.encode_utf16().count();
    if length > limit {
        return Err(format!(
            "the message is {length} characters long; Telegram allows {limit} for {what}"
        ));
    }
    Ok(())
}

const HTML_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
];

fn html_text(input: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = input;
    let mut offset = 0usize;
    while let Some(c) = rest.chars().next() {
        let at = input[..offset].chars().count() + 1;
        match c {
            '<' => {
                let end = rest.find('>').ok_or_else(|| {
                    format!("HTML: unclosed '<' at character {at}; write &lt; for a literal <")
                })?;
                let inner = &rest[1..end];
                parse_tag(inner, &mut stack, at)?;
                offset += end + 1;
                rest = &rest[end + 1..];
                continue;
            }
            '>' => {
                return Err(format!(
                    "HTML: unexpected '>' at character {at}; write &gt; for a literal >"
                ));
            }
            '&' => {
                let end = rest.find(';').filter(|&e| e <= 12).ok_or_else(|| {
                    format!("HTML: '&' at character {at} does not start an entity; write &amp; for a literal &")
                })?;
                let name = &rest[1..end];
                let decoded = match name {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    _ if name.starts_with("#x") || name.starts_with("#X") => {
                        u32::from_str_radix(&name[2..], 16)
                            .ok()
                            .and_then(char::from_u32)
                    }
                    _ if name.starts_with('#') => {
                        name[1..].parse::<u32>().ok().and_then(char::from_u32)
                    }
                    _ => None,
                };
                let decoded = decoded.ok_or_else(|| {
                    format!("HTML: unknown entity '&{name};' at character {at} (Telegram knows &lt; &gt; &amp; &quot; and numeric ones)")
                })?;
                out.push(decoded);
                offset += end + 1;
                rest = &rest[end + 1..];
                continue;
            }
            other => out.push(other),
        }
        offset += c.len_utf8();
        rest = &rest[c.len_utf8()..];
    }
    if let Some(open) = stack.pop() {
        return Err(format!("HTML: <{open}> is never closed"));
    }
    Ok(out)
}

fn parse_tag(inner: &str, stack: &mut Vec<String>, at: usize) -> Result<(), String> {
    if let Some(name) = inner.strip_prefix('/') {
        let name = name.trim().to_ascii_lowercase();
        return match stack.pop() {
            Some(open) if open == name => Ok(()),
            Some(open) => Err(format!(
                "HTML: </{name}> at character {at} closes <{open}>; tags must nest"
            )),
            None => Err(format!(
                "HTML: </{name}> at character {at} was never opened"
            )),
        };
    }
    let mut parts = inner.splitn(2, char::is_whitespace);
    let name = parts.next().unwrap_or_default().to_ascii_lowercase();
    let attrs = parts.next().unwrap_or_default().trim();
    if !HTML_TAGS.contains(&name.as_str()) {
        return Err(format!(
            "HTML: <{name}> at character {at} is not supported by Telegram (use b, i, u, s, a, code, pre, blockquote, tg-spoiler)"
        ));
    }
    let attrs = parse_attrs(attrs).map_err(|e| format!("HTML: <{name}> at character {at}: {e}"))?;
    let allowed: &[&str] = match name.as_str() {
        "a" => &["href"],
        "span" => &["class"],
        "code" => &["class"],
        "tg-emoji" => &["emoji-id"],
        "blockquote" => &["expandable"],
        _ => &[],
    };
    for (key, value) in &attrs {
        if !allowed.contains(&key.as_str()) {
            return Err(format!(
                "HTML: <{name}> at character {at} cannot have the attribute '{key}'"
            ));
        }
        if name == "a" && key == "href" && value.trim().is_empty() {
            return Err(format!("HTML: <a> at character {at} has an empty href"));
        }
        if name == "span" && value != "tg-spoiler" {
            return Err(format!(
                "HTML: <span> at character {at} only supports class=\"tg-spoiler\""
            ));
        }
    }
    if name == "a" && !attrs.iter().any(|(k, _)| k == "href") {
        return Err(format!("HTML: <a> at character {at} needs an href"));
    }
    if name == "span" && attrs.is_empty() {
        return Err(format!(
            "HTML: <span> at character {at} needs class=\"tg-spoiler\""
        ));
    }
    stack.push(name);
    Ok(())
}

fn parse_attrs(mut raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let key_end = raw
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(raw.len());
        let key = raw[..key_end].to_ascii_lowercase();
        raw = raw[key_end..].trim_start();
        if let Some(after) = raw.strip_prefix('=') {
            let after = after.trim_start();
            let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
            let (value, rest) = match quote {
                Some(q) => {
                    let close = after[1..]
                        .find(q)
                        .ok_or_else(|| format!("the value of '{key}' is not closed"))?;
                    (&after[1..close + 1], &after[close + 2..])
                }
                None => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            out.push((key, value.to_owned()));
            raw = rest.trim_start();
        } else {
            out.push((key, String::new()));
        }
    }
    Ok(out)
}

/// Characters MarkdownV2 reserves: outside entities they must be escaped with `\`.
const MD_RESERVED: &str = "_*[]()~`>#+-=|{}.!";

fn markdown_v2_text(input: &str) -> Result<String, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = String::new();
    let mut open: Vec<(&'static str, usize)> = Vec::new();
    let mut i = 0;
    let at_line_start = |i: usize| i == 0 || chars[i - 1] == '\n';
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        match c {
            '\\' => {
                let next = chars
                    .get(i + 1)
                    .ok_or_else(|| "MarkdownV2: the message ends with a lone '\\'".to_string())?;
                if (*next as u32) > 126 || (*next as u32) < 1 {
                    return Err(format!(
                        "MarkdownV2: '\\' at character {pos} escapes '{next}', which needs no escape"
                    ));
                }
                out.push(*next);
                i += 2;
            }
            '`' => {
                let fence = chars[i..].starts_with(&['`', '`', '`']);
                let width = if fence { 3 } else { 1 };
                let mut j = i + width;
                let mut body = String::new();
                loop {
                    if j >= chars.len() {
                        return Err(format!(
                            "MarkdownV2: {} opened at character {pos} is never closed",
                            if fence { "```pre block" } else { "`code`" }
                        ));
                    }
                    if chars[j] == '\\' && j + 1 < chars.len() {
                        body.push(chars[j + 1]);
                        j += 2;
                        continue;
                    }
                    if chars[j] == '`' && (!fence || chars[j..].starts_with(&['`', '`', '`'])) {
                        break;
                    }
                    body.push(chars[j]);
                    j += 1;
                }
                if fence {
                    // The first line of a pre block may name its language.
                    if let Some(nl) = body.find('\n') {
                        body = body[nl + 1..].to_owned();
                    }
                }
                out.push_str(&body);
                i = j + width;
            }
            '[' => {
                open.push(("[", pos));
                i += 1;
            }
            ']' => {
                match open.pop() {
                    Some(("[", _)) => {}
                    _ => {
                        return Err(format!(
                            "MarkdownV2: ']' at character {pos} must be escaped as '\\]'"
                        ));
                    }
                }
                if chars.get(i + 1) != Some(&'(') {
                    return Err(format!(
                        "MarkdownV2: the link text ending at character {pos} must be followed by (url)"
                    ));
                }
                let mut j = i + 2;
                let mut url = String::new();
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(format!(
                                "MarkdownV2: the link URL after character {pos} is never closed with ')'"
                            ));
                        }
                        Some('\\') if j + 1 < chars.len() => {
                            url.push(chars[j + 1]);
                            j += 2;
                        }
                        Some(')') => break,
                        Some(ch) => {
                            url.push(*ch);
                            j += 1;
                        }
                    }
                }
                if url.trim().is_empty() {
                    return Err(format!(
                        "MarkdownV2: the link at character {pos} has an empty URL"
                    ));
                }
                i = j + 1;
            }
            '*' | '~' => {
                let mark = if c == '*' { "*" } else { "~" };
                toggle(&mut open, mark, pos)?;
                i += 1;
            }
            '_' => {
                if chars.get(i + 1) == Some(&'_') {
                    toggle(&mut open, "__", pos)?;
                    i += 2;
                } else {
                    toggle(&mut open, "_", pos)?;
                    i += 1;
                }
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                toggle(&mut open, "||", pos)?;
                i += 2;
            }
            '>' if at_line_start(i) => {
                i += 1;
            }
            _ if MD_RESERVED.contains(c) => {
                return Err(format!(
                    "MarkdownV2: '{c}' at character {pos} must be escaped as '\\{c}'"
                ));
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if let Some((mark, pos)) = open.pop() {
        return Err(format!(
            "MarkdownV2: '{mark}' opened at character {pos} is never closed"
        ));
    }
    Ok(out)
}

fn toggle(
    open: &mut Vec<(&'static str, usize)>,
    mark: &'static str,
    pos: usize,
) -> Result<(), String> {
    if open.last().is_some_and(|(m, _)| *m == mark) {
        open.pop();
        return Ok(());
    }
    if open.iter().any(|(m, _)| *m == mark) {
        return Err(format!(
            "MarkdownV2: '{mark}' at character {pos} closes an entity that is not the innermost; entities must nest"
        ));
    }
    open.push((mark, pos));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_checked_and_measured_without_tags() {
        assert_eq!(
            visible_text(
                "<b>New</b> &amp; <a href=\"https://x.test\">shiny</a>",
                Some(ParseMode::Html)
            )
            .unwrap(),
            "New & shiny"
        );
        assert!(
            visible_text("<b>bold</i>", Some(ParseMode::Html))
                .unwrap_err()
                .contains("closes <b>")
        );
        assert!(
            visible_text("<b>open", Some(ParseMode::Html))
                .unwrap_err()
                .contains("never closed")
        );
        assert!(
            visible_text("<div>x</div>", Some(ParseMode::Html))
                .unwrap_err()
                .contains("not supported")
        );
        assert!(visible_text("a < b", Some(ParseMode::Html)).is_err());
        assert!(visible_text("fish & chips", Some(ParseMode::Html)).is_err());
        assert!(
            visible_text("&nbsp;", Some(ParseMode::Html))
                .unwrap_err()
                .contains("unknown entity")
        );
        assert!(
            visible_text("<a>x</a>", Some(ParseMode::Html))
                .unwrap_err()
                .contains("href")
        );
        assert!(visible_text("<b onclick=\"x\">x</b>", Some(ParseMode::Html)).is_err());
        assert!(visible_text("<span class=\"tg-spoiler\">x</span><pre><code class=\"language-rust\">x</code></pre>", Some(ParseMode::Html)).is_ok());
    }

    #[test]
    fn markdown_v2_requires_escapes_and_balanced_entities() {
        assert_eq!(
            visible_text(
                "*Sale* ends today\\! [Shop](https://x.test/a_(b\\))",
                Some(ParseMode::MarkdownV2)
            )
            .unwrap(),
            "Sale ends today! Shop"
        );
        let err = visible_text("Sale ends today!", Some(ParseMode::MarkdownV2)).unwrap_err();
        assert!(err.contains("'!' at character 16"), "{err}");
        assert!(
            visible_text("*bold", Some(ParseMode::MarkdownV2))
                .unwrap_err()
                .contains("never closed")
        );
        assert!(
            visible_text("*a _b* c_", Some(ParseMode::MarkdownV2))
                .unwrap_err()
                .contains("nest")
        );
        assert!(visible_text("`code. here`", Some(ParseMode::MarkdownV2)).is_ok());
        assert!(visible_text("__under__ ||spoiler|| ~s~", Some(ParseMode::MarkdownV2)).is_ok());
        assert!(visible_text("> quote\nnext", Some(ParseMode::MarkdownV2)).is_ok());
        assert!(visible_text("a > b", Some(ParseMode::MarkdownV2)).is_err());
        assert!(visible_text("[x]", Some(ParseMode::MarkdownV2)).is_err());
    }

    #[test]
    fn limits_count_visible_utf16_units() {
        assert!(check(&"a".repeat(4096), None, false).is_ok());
        assert!(
            check(&"a".repeat(4097), None, false)
                .unwrap_err()
                .contains("4097")
        );
        assert!(
            check(&"a".repeat(1025), None, true)
                .unwrap_err()
                .contains("1024")
        );
        // Markup does not count towards the limit.
        assert!(
            check(
                &format!("<b>{}</b>", "a".repeat(4096)),
                Some(ParseMode::Html),
                false
            )
            .is_ok()
        );
        // An emoji is two UTF-16 units.
        assert!(check(&"😀".repeat(2049), None, false).is_err());
        assert!(check("   ", None, false).unwrap_err().contains("empty"));
        assert!(check("<b> </b>", Some(ParseMode::Html), false).is_err());
    }
}

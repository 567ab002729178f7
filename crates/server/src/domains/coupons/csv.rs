//! The coupon list's import/export format: CSV with the columns
//! `code,discount_type,discount_value,currency,active,expires_at,note` (header optional), or a
//! pasted list with one code per line. Quoting follows RFC 4180.
use super::repo::CouponRow;
use super::service::{CouponInput, Discount, DiscountKind};
use crate::csv::cell;
use crate::domains::error::{DomainError, DomainResult};
use crate::time::Millis;

pub const COLUMNS: [&str; 7] = [
    "code",
    "discount_type",
    "discount_value",
    "currency",
    "active",
    "expires_at",
    "note",
];

/// Split CSV text into records of fields, with the 1-based line each record starts on.
fn records(text: &str) -> DomainResult<Vec<(usize, Vec<String>)>> {
    let mut out = Vec::new();
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut line = 1;
    let mut field = String::new();
    let mut fields = Vec::new();
    let mut start_line = 1;
    let mut quoted = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
                any = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' => {}
            '\n' => {
                if any || !field.trim().is_empty() {
                    fields.push(std::mem::take(&mut field));
                    out.push((start_line, std::mem::take(&mut fields)));
                }
                field.clear();
                any = false;
                line += 1;
                start_line = line;
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err(DomainError::invalid(format!(
            "line {start_line}: a quoted field is not closed"
        )));
    }
    if any || !field.trim().is_empty() {
        fields.push(field);
        out.push((start_line, fields));
    }
    Ok(out)
}

fn parse_active(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "yes" | "1" | "active" | "y" => Some(true),
        "false" | "no" | "0" | "inactive" | "n" => Some(false),
        _ => None,
    }
}

/// `2026-12-31` (valid through that day, UTC), an RFC 3339 time, or unix milliseconds.
fn parse_expiry(value: &str) -> Option<Option<Millis>> {
    let value = value.trim();
    if value.is_empty() {
        return Some(None);
    }
    if let Ok(ms) = value.parse::<i64>() {
        return Some(Some(ms));
    }
    if let Ok(ts) = value.parse::<jiff::Timestamp>() {
        return Some(Some(ts.as_millisecond()));
    }
    let date = value.parse::<jiff::civil::Date>().ok()?;
    let end = date
        .at(23, 59, 59, 999_000_000)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()?;
    Some(Some(end.timestamp().as_millisecond()))
}

/// Parse an import into inputs with their line numbers; the service checks each input.
pub fn parse_import(text: &str, _now: Millis) -> DomainResult<Vec<(usize, CouponInput)>> {
    let mut records = records(text)?;
    let has_header = records.first().is_some_and(|(_, f)| {
        f.first()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("code"))
    });
    let columns: Vec<String> = if has_header {
        let (_, header) = records.remove(0);
        let header: Vec<String> = header
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if let Some(unknown) = header.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
            return Err(DomainError::invalid(format!(
                "line 1: unknown column '{unknown}' (columns: {})",
                COLUMNS.join(", ")
            )));
        }
        header
    } else {
        COLUMNS.iter().map(|c| (*c).to_owned()).collect()
    };
    let mut out = Vec::with_capacity(records.len());
    for (line, fields) in records {
        if fields.iter().all(|f| f.trim().is_empty()) || fields[0].trim_start().starts_with('#') {
            continue;
        }
        if fields.len() > columns.len() {
            return Err(DomainError::invalid(format!(
                "line {line}: {} fields, expected at most {}",
                fields.len(),
                columns.len()
            )));
        }
        let get = |name: &str| -> &str {
            columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| fields.get(i))
                .map(|s| s.trim())
                .unwrap_or("")
        };
        let bad = |what: &str| DomainError::invalid(format!("line {line}: {what}"));
        let discount = match (get("discount_type"), get("discount_value")) {
            ("", "") => None,
            (kind, value) => {
                let kind = match kind.to_ascii_lowercase().as_str() {
                    "percent" | "%" | "percentage" => DiscountKind::Percent,
                    "amount" | "fixed" => DiscountKind::Amount,
                    _ => return Err(bad("discount_type is percent or amount")),
                };
                let value = value
                    .parse::<f64>()
                    .map_err(|_| bad("discount_value is a number"))?;
                let currency = Some(get("currency").to_owned()).filter(|c| !c.is_empty());
                Some(Discount {
                    kind,
                    value,
                    currency,
                })
            }
        };
        let active = parse_active(get("active")).ok_or_else(|| bad("active is true or false"))?;
        let expires_at = parse_expiry(get("expires_at"))
            .ok_or_else(|| bad("expires_at is a date (2026-12-31) or an RFC 3339 time"))?;
        let note = get("note");
        // Export guards formula-like notes with a leading apostrophe; take it off again.
        let note = match note.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
            _ => note,
        };
        out.push((
            line,
            CouponInput {
                code: get("code").to_owned(),
                discount,
                active: Some(active),
                expires_at,
                note: Some(note.to_owned()).filter(|n| !n.is_empty()),
            },
        ));
    }
    Ok(out)
}

pub fn export(rows: &[CouponRow]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for row in rows {
        let value = row
            .discount_value
            .map(|v| v.to_string())
            .unwrap_or_default();
        let expires = row
            .expires_at
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .map(|t| t.to_string())
            .unwrap_or_default();
        let cells = [
            cell(&row.code),
            row.discount_type.clone().unwrap_or_default(),
            value,
            row.currency.clone().unwrap_or_default(),
            row.active.to_string(),
            expires,
            cell(row.note.as_deref().unwrap_or("")),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_lists_and_csv_with_quotes_parse() {
        let pasted = parse_import("SAVE10\n\n  welcome20  \r\n# comment\nGOLD50", 0).unwrap();
        let codes: Vec<_> = pasted.iter().map(|(l, i)| (*l, i.code.as_str())).collect();
        assert_eq!(codes, [(1, "SAVE10"), (3, "welcome20"), (5, "GOLD50")]);

        let csv = "code,note,discount_type,discount_value,expires_at,active\n\
                   A1,\"Black, \"\"Friday\"\"\",percent,15,2026-12-31,no\n";
        let rows = parse_import(csv, 0).unwrap();
        let (line, a1) = &rows[0];
        assert_eq!(*line, 2);
        assert_eq!(a1.note.as_deref(), Some("Black, \"Friday\""));
        assert_eq!(a1.discount.as_ref().unwrap().value, 15.0);
        assert_eq!(a1.active, Some(false));
        assert_eq!(
            a1.expires_at,
            Some(
                "2026-12-31T23:59:59.999Z"
                    .parse::<jiff::Timestamp>()
                    .unwrap()
                    .as_millisecond()
            )
        );
    }

    #[test]
    fn bad_lines_name_their_line() {
        for (text, needle) in [
            ("code,colour\nA,red", "unknown column"),
            ("A,percent,ten", "line 1"),
            ("A\nB,bogus,1", "line 2"),
            ("A,,,,maybe", "active"),
            ("\"A", "not closed"),
        ] {
            let err = parse_import(text, 0).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn export_quotes_and_guards_formulas() {
        let row = CouponRow {
            id: "1".into(),
            tenant_id: crate::ids::TenantId::parse("t").unwrap(),
            code: "A".into(),
            code_key: "A".into(),
            discount_type: Some("amount".into()),
            discount_value: Some(5.0),
            currency: Some("USD".into()),
            note: Some("=HYPERLINK(\"x\")".into()),
            active: true,
            expires_at: None,
            created_at: 0,
            updated_at: 0,
        };
        let text = export(&[row]);
        assert!(
            text.contains("A,amount,5,USD,true,,\"'=HYPERLINK(\"\"x\"\")\""),
            "{text}"
        );
        let back = parse_import(&text, 0).unwrap();
        assert_eq!(back[0].1.note.as_deref(), Some("=HYPERLINK(\"x\")"));
    }
}

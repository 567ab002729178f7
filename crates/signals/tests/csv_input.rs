//! Bad CSV input is rejected with an error naming the line; odd but valid input is accepted.
use promostack_signals::bars::{CsvError, parse_ohlc_csv, resample};
use promostack_signals::indicators::standard_columns;

const HEADER: &str = ",Open,High,Low,Close,Volume\n";

fn csv(rows: &[&str]) -> String {
    let mut s = HEADER.to_string();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

#[test]
fn missing_column_is_named() {
    let err = parse_ohlc_csv("time,open,high,close\n2020-01-01,1,2,1.5\n").unwrap_err();
    assert_eq!(err, CsvError::MissingColumn("low"));
    assert!(err.to_string().contains("line 1") && err.to_string().contains("`low`"));
}

#[test]
fn unparsable_number_names_line_and_column() {
    let text = csv(&[
        "2020-01-01 00:00:00,1.1,1.2,1.0,1.15,5",
        "2020-01-01 01:00:00,1.1,abc,1.0,1.15,5",
    ]);
    let err = parse_ohlc_csv(&text).unwrap_err();
    assert!(
        matches!(&err, CsvError::BadNumber { line: 3, column, value } if column == "high" && value == "abc"),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("line 3:"));
}

#[test]
fn nan_and_infinity_are_not_numbers() {
    for bad in ["NaN", "inf", "-inf"] {
        let text = csv(&[&format!("2020-01-01 00:00:00,1.1,1.2,1.0,{bad},5")]);
        assert!(
            matches!(
                parse_ohlc_csv(&text),
                Err(CsvError::BadNumber { line: 2, .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn non_positive_price_is_rejected() {
    let text = csv(&["2020-01-01 00:00:00,1.1,1.2,0,1.15,5"]);
    assert!(
        matches!(parse_ohlc_csv(&text), Err(CsvError::NonPositivePrice { line: 2, ref column, .. }) if column == "low")
    );
    let text = csv(&["2020-01-01 00:00:00,-1.1,1.2,1.0,1.15,5"]);
    assert!(
        matches!(parse_ohlc_csv(&text), Err(CsvError::NonPositivePrice { line: 2, ref column, .. }) if column == "open")
    );
}

#[test]
fn high_below_low_is_rejected() {
    let text = csv(&[
        "2020-01-01 00:00:00,1.1,1.2,1.0,1.15,5",
        "2020-01-01 01:00:00,1.1,0.9,1.0,1.0,5",
    ]);
    let err = parse_ohlc_csv(&text).unwrap_err();
    assert!(
        matches!(err, CsvError::HighBelowLow { line: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn duplicate_and_unsorted_timestamps_are_rejected() {
    let dup = csv(&[
        "2020-01-01 00:00:00,1,1.2,1,1.1,5",
        "2020-01-01 00:00:00,1,1.2,1,1.1,5",
    ]);
    assert!(matches!(
        parse_ohlc_csv(&dup),
        Err(CsvError::DuplicateTime {
            line: 3,
            previous_line: 2,
            ..
        })
    ));
    let unsorted = csv(&[
        "2020-01-01 02:00:00,1,1.2,1,1.1,5",
        "2020-01-01 01:00:00,1,1.2,1,1.1,5",
    ]);
    let err = parse_ohlc_csv(&unsorted).unwrap_err();
    assert!(matches!(err, CsvError::Unsorted { line: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("sorted"));
}

#[test]
fn bad_time_and_field_count_are_rejected() {
    let text = csv(&["yesterday,1,1.2,1,1.1,5"]);
    assert!(matches!(
        parse_ohlc_csv(&text),
        Err(CsvError::BadTime { line: 2, .. })
    ));
    let text = csv(&["2020-01-01 00:00:00,1,1.2,1"]);
    assert!(matches!(
        parse_ohlc_csv(&text),
        Err(CsvError::FieldCount {
            line: 2,
            expected: 6,
            found: 4
        })
    ));
    assert_eq!(parse_ohlc_csv(""), Err(CsvError::Empty));
    assert_eq!(parse_ohlc_csv(HEADER), Err(CsvError::NoRows));
}

#[test]
fn header_case_time_column_and_crlf_are_flexible() {
    let text = "Volume,CLOSE,low,High,open,Date\r\n5,1.15,1.0,1.2,1.1,2020-01-01T00:00:00Z\r\n\r\n5,1.16,1.0,1.2,1.1,2020-01-01T01:00:00Z\r\n";
    let series = parse_ohlc_csv(text).unwrap();
    assert_eq!(series.bars.len(), 2);
    assert_eq!(series.bars[1].close, 1.16);
    assert_eq!(series.bars[1].time - series.bars[0].time, 3600);
    assert_eq!(series.step_seconds, Some(3600));
}

#[test]
fn gaps_are_reported_with_their_line() {
    let text = csv(&[
        "2020-01-03 21:00:00,1,1.2,1,1.1,5",
        "2020-01-03 22:00:00,1,1.2,1,1.1,5",
        "2020-01-05 22:00:00,1,1.2,1,1.1,5",
        "2020-01-05 23:00:00,1,1.2,1,1.1,5",
    ]);
    let series = parse_ohlc_csv(&text).unwrap();
    assert_eq!(series.gaps.len(), 1);
    assert_eq!(series.gaps[0].line, 4);
    assert_eq!(series.gaps[0].to - series.gaps[0].from, 48 * 3600);
}

#[test]
fn too_few_bars_give_empty_cells_never_garbage() {
    let text = csv(&[
        "2020-01-01 00:00:00,1,1.2,1,1.1,5",
        "2020-01-01 01:00:00,1,1.3,1,1.2,5",
    ]);
    let series = parse_ohlc_csv(&text).unwrap();
    let cols = standard_columns(&series.bars);
    for col in cols.columns() {
        assert_eq!(col.len(), 2);
        assert!(
            col.iter().all(|v| v.is_nan()),
            "warm-up cells must be empty"
        );
    }
    let none = standard_columns(&[]);
    assert!(none.is_empty());
}

#[test]
fn resampling_builds_hours_from_quarters() {
    let text = csv(&[
        "2020-01-01 00:00:00,1.0,1.3,0.9,1.1,5",
        "2020-01-01 00:15:00,1.1,1.4,1.0,1.2,5",
        "2020-01-01 00:45:00,1.2,1.25,0.8,1.05,5",
        "2020-01-01 01:00:00,1.05,1.1,1.0,1.07,5",
    ]);
    let series = parse_ohlc_csv(&text).unwrap();
    let hours = resample(&series.bars, 900, 3600).unwrap();
    assert_eq!(hours.len(), 2);
    assert_eq!(
        (hours[0].open, hours[0].high, hours[0].low, hours[0].close),
        (1.0, 1.4, 0.8, 1.05)
    );
    assert_eq!(hours[1].time, series.bars[3].time);
    assert!(
        resample(&hours, 3600, 900).is_err(),
        "cannot make finer bars"
    );
}

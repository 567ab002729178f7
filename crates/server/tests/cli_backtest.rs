//! `promostack backtest` and `promostack sweep` as an operator runs them: the real binary on the
//! bundled EURUSD hours (the signals fixture holds the same bars).
use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../signals/tests/fixtures/talib_eurusd_h1.csv")
        .to_string_lossy()
        .into_owned()
}

fn promostack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promostack"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run promostack")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn backtest(extra: &[&str]) -> Output {
    let csv = fixture();
    let mut args = vec!["backtest", "--csv", &csv, "--symbol", "EUR/USD"];
    args.extend_from_slice(extra);
    promostack(&args)
}

#[test]
fn the_report_text_and_json_carry_the_same_numbers() {
    let text = backtest(&["--strategy", "aggressive"]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    let json = backtest(&["--strategy", "aggressive", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let s = &v["stats"];
    for line in [
        format!(
            "Trades:          {} ({} wins, {} draws, {} losses)",
            s["trades"], s["wins"], s["draws"], s["losses"]
        ),
        format!(
            "Profit factor:   {:.2}",
            s["profit_factor"].as_f64().unwrap()
        ),
        format!(
            "Expectancy:      {:+.2} pips per trade",
            s["expectancy_pips"].as_f64().unwrap()
        ),
        format!("Net pips:        {:+.1}", s["net_pips"].as_f64().unwrap()),
    ] {
        assert!(text.contains(&line), "missing {line:?} in\n{text}");
    }
    assert_eq!(v["gaps"], 42);
}

#[test]
fn strategy_list_costs_exports_and_html() {
    let dir = std::env::temp_dir().join(format!("promostack-cli-backtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = backtest(&["--strategy-list", "aggressive,conservative,trend_pullback"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let table = stdout(&list);
    let header = table.lines().nth(2).unwrap();
    for name in ["aggressive", "conservative", "trend_pullback"] {
        assert!(header.contains(name), "{table}");
    }
    assert!(table.contains("profit factor") && table.contains("max drawdown pips"));

    let trades = dir.join("trades.csv");
    let html = dir.join("report.html");
    let free = backtest(&["--strategy", "conservative", "--json"]);
    let paid = backtest(&[
        "--strategy",
        "conservative",
        "--json",
        "--spread",
        "1",
        "--slippage",
        "0.25",
        "--export-trades",
        trades.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(paid.status.success(), "{}", stderr(&paid));
    let free: serde_json::Value = serde_json::from_slice(&free.stdout).unwrap();
    let paid: serde_json::Value = serde_json::from_slice(&paid.stdout).unwrap();
    let n = free["stats"]["trades"].as_f64().unwrap();
    let diff =
        free["stats"]["net_pips"].as_f64().unwrap() - paid["stats"]["net_pips"].as_f64().unwrap();
    assert!(
        (diff - 1.5 * n).abs() < 1e-6,
        "1 + 2 x 0.25 pips on each of {n} trades: {diff}"
    );
    let csv = std::fs::read_to_string(&trades).unwrap();
    assert_eq!(csv.lines().count() as f64, n + 1.0);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && !page.contains("<script"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_backtest_input_is_named() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--strategy", "aggressive", "--timeframe", "15m"],
            "1-hour bars, and 15-minute bars cannot be built from them",
        ),
        (
            &[
                "--strategy",
                "aggressive",
                "--timerange",
                "2016-01-01..2017-06-01",
            ],
            "FROM 2016-01-01 00:00:00 is outside the data",
        ),
        (
            &[
                "--strategy",
                "aggressive",
                "--timerange",
                "2017-09-01..2017-06-01",
            ],
            "is not before TO",
        ),
        (
            &["--strategy", "aggressive", "--spread", "-1"],
            "--spread -1",
        ),
        (
            &["--strategy-list", "aggressive,nope"],
            "unknown strategy `nope`",
        ),
    ];
    for (args, message) in cases {
        let o = backtest(args);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn sweep_prints_walk_forward_and_refuses_bad_grids() {
    let csv = fixture();
    let base = [
        "sweep",
        "--csv",
        &csv,
        "--symbol",
        "EUR/USD",
        "--strategy",
        "aggressive",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        promostack(&args)
    };
    let ok = run(&[
        "--grid",
        "rsi_buy=35..45:5,sl_atr=1.0..2.0:0.5",
        "--threads",
        "2",
        "--json",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["combinations"], 9);
    assert_eq!(v["windows"].as_array().unwrap().len(), 6);
    assert_eq!(v["threads"], 2);
    let text = run(&["--grid", "rsi_buy=35..45:5", "--objective", "net_pips"]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    assert!(text.contains("Walk-forward (parameters chosen in sample, judged out of sample)"));
    assert!(
        text.contains("net_pips (per 1,000 bars) score: in sample"),
        "{text}"
    );

    let cases: [(&[&str], &str); 7] = [
        (
            &["--grid", "rsi_bye=35..45:5"],
            "unknown parameter `rsi_bye`",
        ),
        (&["--grid", "rsi_buy=45..35:5"], "the range is reversed"),
        (
            &["--grid", "rsi_buy=35..45:0"],
            "the step must be a positive number",
        ),
        (
            &[
                "--grid",
                "rsi_buy=1..100:1,sl_atr=0.5..3:0.1",
                "--max-combinations",
                "500",
            ],
            "more than --max-combinations 500",
        ),
        (
            &["--grid", "rsi_buy=35", "--in-sample", "100"],
            "at least 200 bars",
        ),
        (
            &["--grid", "rsi_buy=35", "--timerange", "2017-12-01.."],
            "not enough bars for one walk-forward window",
        ),
        (
            &["--grid", "rsi_buy=35", "--objective", "luck"],
            "--objective `luck`",
        ),
    ];
    for (args, message) in cases {
        let o = run(args);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
}

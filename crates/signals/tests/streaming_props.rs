//! Property: feeding bars one at a time gives the same numbers as the batch functions, for
//! random walks of any length (including shorter than the warm-ups) and flat stretches (zero
//! ranges, no movement).
use promostack_signals::Bar;
use promostack_signals::indicators::{
    Atr, BollingerBands, Dmi, Ema, Macd, Rsi, SlowStochastic, Sma, StandardIndicators, atr,
    bollinger_bands, dmi, ema, macd, rsi, slow_stochastic, sma, standard_columns,
};
use proptest::prelude::*;

fn same(label: &str, stream: &[Option<f64>], batch: &[f64]) -> Result<(), TestCaseError> {
    prop_assert_eq!(stream.len(), batch.len());
    for (i, (s, b)) in stream.iter().zip(batch).enumerate() {
        match s {
            None => prop_assert!(b.is_nan(), "{}[{}]: stream warm-up, batch {}", label, i, b),
            Some(v) => {
                let scale = v.abs().max(b.abs()).max(1e-12);
                prop_assert!(
                    (v - b).abs() <= 1e-9 * scale,
                    "{}[{}]: stream {} batch {}",
                    label,
                    i,
                    v,
                    b
                );
            }
        }
    }
    Ok(())
}

/// Random walk bars; `flat` steps repeat the previous bar exactly.
fn bars_strategy() -> impl Strategy<Value = Vec<Bar>> {
    prop::collection::vec(
        (
            -1.0f64..1.0,
            0.0f64..1.0,
            0.0f64..1.0,
            0.0f64..1.0,
            prop::bool::weighted(0.1),
        ),
        0..400,
    )
    .prop_map(|steps| {
        let mut price = 100.0;
        let mut out: Vec<Bar> = Vec::with_capacity(steps.len());
        for (i, (mv, up, down, close_at, flat)) in steps.into_iter().enumerate() {
            if flat && let Some(prev) = out.last() {
                out.push(Bar {
                    time: i as i64 * 3600,
                    ..*prev
                });
                continue;
            }
            let open = price;
            price = (price + mv).max(1.0);
            let high = open.max(price) + up;
            let low = (open.min(price) - down).max(0.5);
            let close = low + (high - low) * close_at;
            price = close;
            out.push(Bar {
                time: i as i64 * 3600,
                open,
                high,
                low,
                close,
            });
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn streaming_equals_batch(bars in bars_strategy(), period in 2usize..30) {
        let h: Vec<f64> = bars.iter().map(|b| b.high).collect();
        let l: Vec<f64> = bars.iter().map(|b| b.low).collect();
        let c: Vec<f64> = bars.iter().map(|b| b.close).collect();

        let mut s = Sma::new(period);
        same("sma", &c.iter().map(|&x| s.update(x)).collect::<Vec<_>>(), &sma(&c, period))?;
        let mut e = Ema::new(period);
        same("ema", &c.iter().map(|&x| e.update(x)).collect::<Vec<_>>(), &ema(&c, period))?;
        let mut r = Rsi::new(period);
        same("rsi", &c.iter().map(|&x| r.update(x)).collect::<Vec<_>>(), &rsi(&c, period))?;
        let mut a = Atr::new(period);
        same("atr", &bars.iter().map(|b| a.update(b.high, b.low, b.close)).collect::<Vec<_>>(), &atr(&h, &l, &c, period))?;

        let mut d = Dmi::new(period);
        let ds: Vec<_> = bars.iter().map(|b| d.update(b.high, b.low, b.close)).collect();
        let db = dmi(&h, &l, &c, period);
        same("plus_di", &ds.iter().map(|v| v.map(|v| v.plus_di)).collect::<Vec<_>>(), &db.plus_di)?;
        same("minus_di", &ds.iter().map(|v| v.map(|v| v.minus_di)).collect::<Vec<_>>(), &db.minus_di)?;
        same("adx", &ds.iter().map(|v| v.and_then(|v| v.adx)).collect::<Vec<_>>(), &db.adx)?;

        let mut bb = BollingerBands::new(period, 2.0);
        let bs: Vec<_> = c.iter().map(|&x| bb.update(x)).collect();
        let bbb = bollinger_bands(&c, period, 2.0);
        same("bb_upper", &bs.iter().map(|v| v.map(|v| v.upper)).collect::<Vec<_>>(), &bbb.upper)?;
        same("bb_lower", &bs.iter().map(|v| v.map(|v| v.lower)).collect::<Vec<_>>(), &bbb.lower)?;

        let mut st = SlowStochastic::new(period, 3, 3);
        let ss: Vec<_> = bars.iter().map(|b| st.update(b.high, b.low, b.close)).collect();
        let sb = slow_stochastic(&h, &l, &c, period, 3, 3);
        same("stoch_k", &ss.iter().map(|v| v.map(|v| v.k)).collect::<Vec<_>>(), &sb.k)?;
        same("stoch_d", &ss.iter().map(|v| v.map(|v| v.d)).collect::<Vec<_>>(), &sb.d)?;

        let fast = period.clamp(2, 12);
        let slow = fast + period;
        let mut m = Macd::new(fast, slow, 9);
        let ms: Vec<_> = c.iter().map(|&x| m.update(x)).collect();
        let mb = macd(&c, fast, slow, 9);
        same("macd", &ms.iter().map(|v| v.map(|v| v.macd)).collect::<Vec<_>>(), &mb.macd)?;
        same("macd_signal", &ms.iter().map(|v| v.map(|v| v.signal)).collect::<Vec<_>>(), &mb.signal)?;
        same("macd_hist", &ms.iter().map(|v| v.map(|v| v.hist)).collect::<Vec<_>>(), &mb.hist)?;
    }

    #[test]
    fn standard_set_streaming_equals_batch_and_never_nan(bars in bars_strategy()) {
        let cols = standard_columns(&bars);
        let mut stream = StandardIndicators::new();
        let snaps: Vec<_> = bars.iter().map(|b| stream.update(b, b.time + 3600)).collect();
        let get = |f: fn(&promostack_signals::IndicatorSnapshot) -> Option<f64>| snaps.iter().map(f).collect::<Vec<_>>();
        for v in snaps.iter().flat_map(|s| [s.ema_200, s.rsi_14, s.macd_hist, s.adx_14, s.bb_upper, s.stoch_d, s.atr_14]).flatten() {
            prop_assert!(v.is_finite());
        }
        same("ema_20", &get(|s| s.ema_20), &cols.ema_20)?;
        same("ema_200", &get(|s| s.ema_200), &cols.ema_200)?;
        same("rsi_14", &get(|s| s.rsi_14), &cols.rsi_14)?;
        same("macd_hist", &get(|s| s.macd_hist), &cols.macd_hist)?;
        same("adx_14", &get(|s| s.adx_14), &cols.adx_14)?;
        same("bb_middle", &get(|s| s.bb_middle), &cols.bb_middle)?;
        same("stoch_k", &get(|s| s.stoch_k), &cols.stoch_k)?;
        same("atr_14", &get(|s| s.atr_14), &cols.atr_14)?;
    }
}

#[test]
fn no_movement_gives_rsi_zero_and_stochastic_zero() {
    let flat = vec![
        Bar {
            time: 0,
            open: 1.5,
            high: 1.5,
            low: 1.5,
            close: 1.5
        };
        40
    ];
    let cols = standard_columns(&flat);
    assert_eq!(cols.rsi_14[14], 0.0);
    assert_eq!(cols.rsi_14[39], 0.0);
    assert_eq!(cols.stoch_k[39], 0.0);
    assert_eq!(cols.atr_14[39], 0.0);
    assert_eq!(cols.plus_di_14[39], 0.0);
    assert_eq!(cols.bb_upper[39], cols.bb_middle[39]);
}

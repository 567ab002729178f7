//! JSON integers written as floats (`37953.0`): JSON Schema's `integer` allows them and some
//! clients send them, so the request fields that are integers take them when the value is whole
//! (and refuse `1.5` or out-of-range values with the usual message).
use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
}

fn whole<E: serde::de::Error>(n: Number) -> Result<i64, E> {
    match n {
        Number::Int(i) => Ok(i),
        Number::Float(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
            Ok(f as i64)
        }
        Number::Float(f) => Err(E::custom(format!(
            "invalid value: {f}, expected an integer"
        ))),
    }
}

pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    whole(Number::deserialize(d)?)
}

pub fn option_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Number>::deserialize(d)? {
        Some(n) => whole(n).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[serde(deserialize_with = "super::i64")]
        at: i64,
        #[serde(default, deserialize_with = "super::option_i64")]
        until: Option<i64>,
    }

    #[test]
    fn whole_floats_are_integers_and_fractions_are_refused() {
        let b: Body = serde_json::from_str(r#"{"at": 37953.0, "until": 5}"#).unwrap();
        assert_eq!((b.at, b.until), (37953, Some(5)));
        let b: Body = serde_json::from_str(r#"{"at": -2, "until": null}"#).unwrap();
        assert_eq!((b.at, b.until), (-2, None));
        let b: Body = serde_json::from_str(r#"{"at": 1}"#).unwrap();
        assert_eq!(b.until, None);
        for bad in [r#"{"at": 1.5}"#, r#"{"at": "7"}"#, r#"{"at": 1e300}"#] {
            assert!(serde_json::from_str::<Body>(bad).is_err(), "{bad}");
        }
    }
}

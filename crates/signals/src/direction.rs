use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    Buy,
    Sell,
}

impl Direction {
    /// +1 for a buy, -1 for a sell: multiplies a price move into a gain.
    pub const fn sign(self) -> f64 {
        match self {
            Direction::Buy => 1.0,
            Direction::Sell => -1.0,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Direction::Buy => "BUY",
            Direction::Sell => "SELL",
        }
    }
}

//! Fixed-size ring of the last N inputs, allocated once.

#[derive(Clone, Debug)]
pub(crate) struct Ring {
    buf: Vec<f64>,
    pos: usize,
    filled: usize,
}

impl Ring {
    pub(crate) fn new(len: usize) -> Self {
        Ring {
            buf: vec![0.0; len],
            pos: 0,
            filled: 0,
        }
    }

    /// Store `x`, dropping the oldest value once full. Returns true when the ring is full.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> bool {
        self.buf[self.pos] = x;
        self.pos += 1;
        if self.pos == self.buf.len() {
            self.pos = 0;
        }
        if self.filled < self.buf.len() {
            self.filled += 1;
        }
        self.filled == self.buf.len()
    }

    /// The oldest value held (valid when full).
    #[inline]
    pub(crate) fn oldest(&self) -> f64 {
        self.buf[self.pos]
    }
}

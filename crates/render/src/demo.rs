//! Demo templates drawn by code.

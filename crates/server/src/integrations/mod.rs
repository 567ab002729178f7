//! Thin clients of outside services; each base URL is configuration so tests point them at fakes.
pub mod funderpro;
pub mod market_data;
pub mod openai;
pub mod telegram;
pub mod telegram_user;

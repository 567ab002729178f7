//! Helpers for the browser tests (e2e/), which drive the real binary:
//!
//! - `e2e-fixture fake-telegram`: run the fake Bot API on a free loopback port, print its URL on
//!   the first line of stdout, and stop when stdin closes.
//! - `e2e-fixture seed-bot-data DB_FILE USERS USAGE_ROWS`: insert bot users and usage rows for
//!   the default workspace of the SQLite database at DB_FILE (what the coupon bot would have
//!   written), spread over the last 6 days (all inside the 7-day report).
use std::io::Read;

use promostack::config::DatabaseConfig;
use promostack_testkit::broadcast::{Usage, seed_bot_users, seed_db, seed_usage};
use promostack_testkit::telegram::FakeTelegram;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    promostack::install_crypto_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("fake-telegram") => {
            let fake = FakeTelegram::start().await;
            println!("{}", fake.url);
            // Until the test closes our stdin.
            tokio::task::spawn_blocking(|| {
                let mut sink = Vec::new();
                let _ = std::io::stdin().read_to_end(&mut sink);
            })
            .await?;
            eprintln!(
                "fake Bot API served {} sendMessage calls",
                fake.calls_of("sendMessage").len()
            );
            Ok(())
        }
        Some("seed-bot-data") if args.len() == 4 => {
            let db = seed_db(&DatabaseConfig::Sqlite {
                path: args[1].clone().into(),
            });
            let users: i64 = args[2].parse()?;
            let rows: i64 = args[3].parse()?;
            let tenant: String = promostack::on_pool!(&db, pool => sqlx::query_scalar(
                "SELECT id FROM tenants WHERE is_default = TRUE").fetch_one(pool).await)?;
            let ids: Vec<i64> = (0..users).map(|i| 700_000 + i).collect();
            seed_bot_users(&db, &tenant, &ids, false).await;
            let now = promostack::time::system_now();
            let templates = ["black-friday", "summer-sale", "vip-gold", "welcome"];
            let codes = [
                "SAVE10",
                "WELCOME20",
                "GOLD50",
                "VIP-2026",
                "BF25",
                "SUMMER15",
            ];
            let usage: Vec<Usage> = (0..rows)
                .map(|i| {
                    let at = now - (i * 7919 % (6 * 24 * 60)) * 60_000;
                    Usage::new(
                        ids[(i % users.max(1)) as usize],
                        templates[(i % 7 % 4) as usize],
                        codes[(i * 5 % 11 % 6) as usize],
                        i % 9 != 0,
                        at,
                    )
                })
                .collect();
            seed_usage(&db, &tenant, &usage).await;
            println!("seeded {users} bot users and {rows} usage rows");
            Ok(())
        }
        _ => anyhow::bail!(
            "usage: e2e-fixture fake-telegram | seed-bot-data DB_FILE USERS USAGE_ROWS"
        ),
    }
}

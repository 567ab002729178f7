//! The fake Bot API as a standalone process, for benchmarks:
//! `cargo run --release -p promostack-testkit --example fake_telegram -- 127.0.0.1:5901`.
//! Prints the successful sendMessage/sendPhoto counts once a second on stderr.
use std::time::Duration;

use promostack_testkit::telegram::FakeTelegram;

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5901".into());
    let fake = FakeTelegram::start_on(&addr).await;
    eprintln!("fake Telegram Bot API at {}", fake.url);
    let mut last = (0, 0);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let counts = fake.sent_counts();
        eprintln!(
            "sendMessage {} (+{}/s)  sendPhoto {} (+{}/s)",
            counts.0,
            counts.0 - last.0,
            counts.1,
            counts.1 - last.1
        );
        last = counts;
        // Keep memory flat on long runs: only counts matter here.
        fake.clear_calls();
        fake.add_counts(counts);
    }
}

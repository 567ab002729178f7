//! Helpers for the browser tests (e2e/), which drive the real binary:
//!
//! - `e2e-fixture fake-telegram`: run the fake Bot API on a free loopback port, print its URL on
//!   the first line of stdout, and stop when stdin closes. Each line on stdin is a JSON command
//!   answered by one JSON line on stdout (see [`command`]): `{"addBot":{"token","username"}}`,
//!   `{"addChannel":{"id","title"}}`, `{"setBotMember":{"token","chatId","post","invite","ban"}}`
//!   (an administrator with those rights), `{"webhookOf":TOKEN}` (its `setWebhook` parameters),
//!   `{"sentTo":CHAT_ID}` (the texts sent there).
//! - `e2e-fixture serve-with-fake-user-account PHONE [PASSWORD]`: the promostack server itself
//!   (configured from the environment like the binary), with its user accounts on the testkit's
//!   fake MTProto network holding one account (PHONE, optional two-step PASSWORD; no MTProto
//!   server is reachable from tests). Each login code the fake "texts" is printed to stdout as
//!   `{"fakeLoginCode":CODE,"phone":PHONE}`, where a browser test reads it as a person reads
//!   their Telegram app.
//! - `e2e-fixture seed-bot-data DB_FILE USERS USAGE_ROWS`: insert bot users and usage rows for
//!   the default workspace of the SQLite database at DB_FILE (what the coupon bot would have
//!   written), spread over the last 6 days (all inside the 7-day report).
use std::io::BufRead;

use promostack::config::DatabaseConfig;
use promostack_testkit::broadcast::{Usage, seed_bot_users, seed_db, seed_usage};
use promostack_testkit::telegram::{ChatKind, FakeTelegram, Member};
use promostack_testkit::telegram_user::FakeUserNetwork;
use serde_json::{Value, json};

/// One stdin command of `fake-telegram` against the fake; the answer is printed as one line.
fn command(fake: &FakeTelegram, line: &str) -> Value {
    let cmd: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({"error": format!("not JSON: {e}")}),
    };
    if let Some(bot) = cmd.get("addBot") {
        let (Some(token), Some(username)) = (bot["token"].as_str(), bot["username"].as_str())
        else {
            return json!({"error": "addBot needs token and username"});
        };
        return json!({"id": fake.add_bot(token, username)});
    }
    if let Some(chat) = cmd.get("addChannel") {
        let (Some(id), Some(title)) = (chat["id"].as_i64(), chat["title"].as_str()) else {
            return json!({"error": "addChannel needs id and title"});
        };
        fake.add_chat(id, ChatKind::Channel, title, chat["username"].as_str());
        return json!({"ok": true});
    }
    if let Some(m) = cmd.get("setBotMember") {
        let (Some(token), Some(chat_id)) = (m["token"].as_str(), m["chatId"].as_i64()) else {
            return json!({"error": "setBotMember needs token and chatId"});
        };
        let right = |name: &str| m[name].as_bool().unwrap_or(true);
        let member = Member::admin()
            .post(right("post"))
            .invite(right("invite"))
            .restrict(right("ban"));
        fake.set_bot_member(token, chat_id, member);
        return json!({"ok": true});
    }
    if let Some(token) = cmd.get("webhookOf").and_then(Value::as_str) {
        return json!({"webhook": fake.webhook_of(token)});
    }
    if let Some(chat_id) = cmd.get("sentTo").and_then(Value::as_i64) {
        let texts: Vec<Value> = fake
            .sent_to(chat_id)
            .iter()
            .map(|c| json!(c.text()))
            .collect();
        return json!({"texts": texts});
    }
    json!({"error": "unknown command"})
}

/// The server with a fake user network; its own runtime (as the binary's `serve`).
fn serve_with_fake_user_account(phone: &str, password: Option<&str>) -> anyhow::Result<()> {
    use clap::Parser;
    use promostack::cli::{Cli, Command};
    let network = FakeUserNetwork::new();
    network.add_account(phone, 777_000_001, Some("e2e_desk"), password);
    network.add_user(777_000_900, "e2e_friend");
    let Some(Command::Serve(args)) = Cli::parse_from(["promostack", "serve"]).command else {
        anyhow::bail!("serve does not parse");
    };
    // Codes to stdout, as the account's Telegram app would show them.
    let watched = network.clone();
    let phone_owned = phone.to_owned();
    std::thread::spawn(move || {
        let mut last = None;
        loop {
            let code = watched.code_for(&phone_owned);
            if code.is_some() && code != last {
                println!("{}", json!({"fakeLoginCode": code, "phone": phone_owned}));
                last = code;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    });
    promostack::app::serve_main_with(args, move |state| {
        state
            .connections
            .user_accounts()
            .use_connector(std::sync::Arc::new(move |store, key| {
                network.connector(store, key)
            }));
    })
}

fn main() -> anyhow::Result<()> {
    promostack::install_crypto_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve-with-fake-user-account") {
        let phone = args.get(1).map(String::as_str).unwrap_or("+447700900123");
        return serve_with_fake_user_account(phone, args.get(2).map(String::as_str));
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Vec<String>) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        Some("fake-telegram") => {
            let fake = FakeTelegram::start().await;
            println!("{}", fake.url);
            // Commands, one per line, until the test closes our stdin.
            let fake = tokio::task::spawn_blocking(move || {
                for line in std::io::stdin().lock().lines() {
                    let Ok(line) = line else { break };
                    if line.trim().is_empty() {
                        continue;
                    }
                    println!("{}", command(&fake, &line));
                }
                fake
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
            "usage: e2e-fixture fake-telegram | seed-bot-data DB_FILE USERS USAGE_ROWS | serve-with-fake-user-account PHONE [PASSWORD]"
        ),
    }
}

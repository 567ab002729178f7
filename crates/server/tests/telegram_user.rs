//! The Telegram user account against the fake user network (no MTProto server is reachable
//! from tests, docs/connections.md): the login steps, the session stored sealed per workspace,
//! the send pace, and FLOOD_WAIT / PEER_FLOOD handling.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use promostack::auth::crypto::EncryptionKey;
use promostack::db::DbResult;
use promostack::integrations::telegram_user::session::SessionStore;
use promostack::integrations::telegram_user::{
    BoxFuture, Peer, SendHealth, SendPace, SignIn, UserAccount, UserClientError,
};
use promostack::time::Clock;
use promostack_testkit::telegram_user::FakeUserNetwork;

/// Sealed sessions by workspace, as the connections table keeps them.
#[derive(Default)]
struct Store(Mutex<HashMap<String, String>>);

impl SessionStore for Store {
    fn load<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, DbResult<Option<String>>> {
        Box::pin(async move { Ok(self.0.lock().unwrap().get(tenant_id).cloned()) })
    }
    fn save<'a>(&'a self, tenant_id: &'a str, sealed: &'a str) -> BoxFuture<'a, DbResult<()>> {
        Box::pin(async move {
            self.0
                .lock()
                .unwrap()
                .insert(tenant_id.to_owned(), sealed.to_owned());
            Ok(())
        })
    }
    fn clear<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, DbResult<()>> {
        Box::pin(async move {
            self.0.lock().unwrap().remove(tenant_id);
            Ok(())
        })
    }
}

const PHONE: &str = "+447700900123";

#[tokio::test]
async fn login_with_code_and_two_step_password_keeps_a_sealed_session_per_workspace() {
    let network = FakeUserNetwork::new();
    network.add_account(PHONE, 555_001, Some("promo_sender"), Some("hunter22"));
    let store = Arc::new(Store::default());
    let key = EncryptionKey::new([9; 32]);
    let connector = network.connector(store.clone(), key.clone());
    let client = connector.connect("tenant-a").await.unwrap();
    assert!(!client.is_authorized().await.unwrap());
    assert_eq!(client.me().await.unwrap(), None);

    assert_eq!(
        client.sign_in("12345").await.unwrap_err(),
        UserClientError::NoLoginInProgress
    );
    assert_eq!(
        client.send_code("07700 900123").await.unwrap_err(),
        UserClientError::PhoneNumberInvalid
    );
    client.send_code(PHONE).await.unwrap();
    let code = network.code_for(PHONE).unwrap();
    assert_eq!(
        client.sign_in("00000").await.unwrap_err(),
        UserClientError::PhoneCodeInvalid
    );
    let SignIn::PasswordRequired { hint } = client.sign_in(&code).await.unwrap() else {
        panic!("2FA account must ask for its password");
    };
    assert!(hint.is_some());
    assert_eq!(
        client.check_password("hunter2").await.unwrap_err(),
        UserClientError::PasswordInvalid
    );
    // A wrong password may be retried without a new code (grammers hands the token back).
    let me = client.check_password("hunter22").await.unwrap();
    assert_eq!(me.user_id, 555_001);
    assert!(client.is_authorized().await.unwrap());

    let sealed = store.0.lock().unwrap().get("tenant-a").cloned().unwrap();
    assert!(sealed.starts_with("v1:"));
    assert!(!sealed.contains(PHONE) && !sealed.contains("447700900123"));
    assert!(key.decrypt(&sealed).unwrap().contains(PHONE));

    // A new client of the workspace (a restart) is signed in; another workspace is not.
    let again = connector.connect("tenant-a").await.unwrap();
    assert_eq!(again.me().await.unwrap().unwrap().user_id, 555_001);
    let other = connector.connect("tenant-b").await.unwrap();
    assert!(!other.is_authorized().await.unwrap());

    again.sign_out().await.unwrap();
    assert!(store.0.lock().unwrap().get("tenant-a").is_none());
    assert!(
        !connector
            .connect("tenant-a")
            .await
            .unwrap()
            .is_authorized()
            .await
            .unwrap()
    );
}

async fn signed_in(
    network: &FakeUserNetwork,
) -> Arc<dyn promostack::integrations::telegram_user::UserClient> {
    network.add_account(PHONE, 555_001, None, None);
    let connector = network.connector(Arc::new(Store::default()), EncryptionKey::new([1; 32]));
    let client = connector.connect("t").await.unwrap();
    client.send_code(PHONE).await.unwrap();
    let code = network.code_for(PHONE).unwrap();
    assert!(matches!(
        client.sign_in(&code).await.unwrap(),
        SignIn::Done(_)
    ));
    client
}

#[tokio::test]
async fn sends_are_paced_and_only_reach_people_the_account_can_address() {
    let network = FakeUserNetwork::new();
    let client = signed_in(&network).await;
    network.introduce(555_001, 42);
    network.add_user(43, "ada_trader");
    let pace = SendPace {
        min_interval_ms: 300,
        peer_flood_pause_ms: 60_000,
    };
    let account = UserAccount::new(client, Clock::system(), pace);
    account.send(&Peer::UserId(42), "Welcome!").await.unwrap();
    account
        .send(&Peer::Username("@Ada_Trader".into()), "Your VIP link")
        .await
        .unwrap();
    assert_eq!(
        account.send(&Peer::UserId(44), "cold").await.unwrap_err(),
        UserClientError::PeerUnknown
    );
    let sends = network.sends();
    assert_eq!(
        sends
            .iter()
            .map(|s| (s.to_user_id, s.text.as_str()))
            .collect::<Vec<_>>(),
        [(42, "Welcome!"), (43, "Your VIP link")]
    );
    let gap = sends[1].at - sends[0].at;
    assert!(gap >= Duration::from_millis(290), "paced: {gap:?}");
}

#[tokio::test]
async fn flood_wait_holds_sends_until_it_is_over_and_peer_flood_pauses_and_marks() {
    let network = FakeUserNetwork::new();
    let client = signed_in(&network).await;
    network.introduce(555_001, 42);
    let clock = Clock::fixed(1_000_000);
    let pace = SendPace {
        min_interval_ms: 0,
        peer_flood_pause_ms: 3_600_000,
    };
    let account = UserAccount::new(client, clock.clone(), pace);

    network.fail_next_sends(UserClientError::FloodWait { seconds: 30 }, 1);
    assert_eq!(
        account.send(&Peer::UserId(42), "one").await.unwrap_err(),
        UserClientError::FloodWait { seconds: 30 }
    );
    assert_eq!(
        account.health(),
        SendHealth::FloodWait {
            until: 1_000_000 + 30_000
        }
    );
    clock.advance(10_000);
    // Held: fails at once with the time left, nothing goes to Telegram.
    assert_eq!(
        account.send(&Peer::UserId(42), "two").await.unwrap_err(),
        UserClientError::FloodWait { seconds: 20 }
    );
    assert!(network.sends().is_empty());
    clock.advance(20_000);
    assert_eq!(account.health(), SendHealth::Ok);
    account.send(&Peer::UserId(42), "three").await.unwrap();
    assert_eq!(network.sends().len(), 1);

    network.fail_next_sends(UserClientError::PeerFlood, 1);
    assert_eq!(
        account.send(&Peer::UserId(42), "four").await.unwrap_err(),
        UserClientError::PeerFlood
    );
    let now = clock.now();
    assert_eq!(
        account.health(),
        SendHealth::PeerFlood {
            since: now,
            until: now + 3_600_000
        }
    );
    clock.advance(3_599_000);
    assert_eq!(
        account.send(&Peer::UserId(42), "five").await.unwrap_err(),
        UserClientError::PeerFlood
    );
    assert_eq!(network.sends().len(), 1);
    clock.advance(1_000);
    account.send(&Peer::UserId(42), "six").await.unwrap();
    assert_eq!(network.sends().len(), 2);
}

//! The workspace's Telegram *user* account (MTProto): journey DMs that arrive from a person, not
//! a bot. Everything goes through the [`UserClient`] trait; [`grammers`] is the real adapter
//! (grammers-client 0.11), `promostack_testkit::telegram_user` the fake the tests use — no MTProto
//! server is reachable from the test machines (docs/connections.md). [`UserAccount`] wraps any
//! client with the send rate limit and the `FLOOD_WAIT` / `PEER_FLOOD` back-off, so that logic is
//! tested against the fake.
pub mod grammers;
pub mod session;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::time::Clock;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
pub type UserResult<T> = Result<T, UserClientError>;

/// Who a message goes to: a Telegram user id the account has seen (it wrote to the account, or
/// shares a chat with it), or a public `@username` (resolved by Telegram).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    UserId(i64),
    Username(String),
}

/// The signed-in account, as the dashboard shows it (no session, no phone in full).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    pub user_id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
}

/// The answer to a login code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Done(AccountInfo),
    /// The account has two-step verification: ask for its password (`hint` as Telegram keeps it).
    PasswordRequired {
        hint: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: i64,
}

/// Everything that can go wrong, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserClientError {
    /// `FLOOD_WAIT_X`: Telegram wants no requests of this kind for `seconds`.
    #[error("Telegram asks the user account to wait {seconds} s (FLOOD_WAIT) before sending again")]
    FloodWait { seconds: u64 },
    /// `PEER_FLOOD`: the account was limited for messaging people who do not know it (spam
    /// reports). Only time and fewer cold messages help; see @SpamBot in Telegram.
    #[error(
        "Telegram limited this account for messaging people who have not contacted it (PEER_FLOOD); sending is paused — check @SpamBot in Telegram"
    )]
    PeerFlood,
    #[error("the user account is not signed in: connect it under Settings → Connections")]
    NotAuthorized,
    #[error(
        "Telegram does not accept this phone number; use the international format, e.g. +447700900123"
    )]
    PhoneNumberInvalid,
    #[error("the login code is wrong")]
    PhoneCodeInvalid,
    #[error("the login code expired; request a new one")]
    PhoneCodeExpired,
    #[error("the two-step verification password is wrong")]
    PasswordInvalid,
    #[error(
        "this phone number has no Telegram account; create it in an official Telegram app first"
    )]
    SignUpRequired,
    #[error("no login in progress on this server: request a new code")]
    NoLoginInProgress,
    #[error(
        "the user account cannot address this person: it has not seen them (no shared chat, no message to it) and they have no @username"
    )]
    PeerUnknown,
    #[error("Telegram refused the message: {0}")]
    Refused(String),
    #[error("cannot reach Telegram: {0}")]
    Network(String),
    #[error("the stored session cannot be used: {0}")]
    Session(String),
}

impl UserClientError {
    /// A short machine name, for metrics and status.
    pub fn kind(&self) -> &'static str {
        match self {
            UserClientError::FloodWait { .. } => "flood_wait",
            UserClientError::PeerFlood => "peer_flood",
            UserClientError::NotAuthorized => "not_authorized",
            UserClientError::PhoneNumberInvalid => "phone_number_invalid",
            UserClientError::PhoneCodeInvalid => "phone_code_invalid",
            UserClientError::PhoneCodeExpired => "phone_code_expired",
            UserClientError::PasswordInvalid => "password_invalid",
            UserClientError::SignUpRequired => "sign_up_required",
            UserClientError::NoLoginInProgress => "no_login_in_progress",
            UserClientError::PeerUnknown => "peer_unknown",
            UserClientError::Refused(_) => "refused",
            UserClientError::Network(_) => "network",
            UserClientError::Session(_) => "session",
        }
    }
}

/// One Telegram user account. The login is a short conversation: [`send_code`] to the phone,
/// [`sign_in`] with the code, and [`check_password`] when two-step verification is on. The
/// client keeps the login in progress (the code is bound to it) and its session in its own
/// storage.
///
/// [`send_code`]: UserClient::send_code
/// [`sign_in`]: UserClient::sign_in
/// [`check_password`]: UserClient::check_password
pub trait UserClient: Send + Sync {
    fn is_authorized(&self) -> BoxFuture<'_, UserResult<bool>>;
    /// The signed-in account, `None` when not signed in.
    fn me(&self) -> BoxFuture<'_, UserResult<Option<AccountInfo>>>;
    fn send_code<'a>(&'a self, phone: &'a str) -> BoxFuture<'a, UserResult<()>>;
    fn sign_in<'a>(&'a self, code: &'a str) -> BoxFuture<'a, UserResult<SignIn>>;
    fn check_password<'a>(&'a self, password: &'a str) -> BoxFuture<'a, UserResult<AccountInfo>>;
    fn sign_out(&self) -> BoxFuture<'_, UserResult<()>>;
    fn send_message<'a>(
        &'a self,
        to: &'a Peer,
        text: &'a str,
    ) -> BoxFuture<'a, UserResult<SentMessage>>;
}

/// Makes the client of a workspace's account (one per workspace, see [`UserAccount`]).
pub trait UserClientConnector: Send + Sync {
    fn connect<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, UserResult<Arc<dyn UserClient>>>;
}

/// How fast an account may send. Telegram publishes no numbers for user accounts; these are
/// conservative (the original ran journeys at a similar pace) and a `FLOOD_WAIT` overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPace {
    /// Least time between two messages of the account, ms.
    pub min_interval_ms: i64,
    /// How long sending stays paused after `PEER_FLOOD`, ms.
    pub peer_flood_pause_ms: i64,
}

impl Default for SendPace {
    fn default() -> Self {
        Self {
            min_interval_ms: 3_000,
            peer_flood_pause_ms: 6 * 3_600_000,
        }
    }
}

/// Why sends are held, for the Connections page and `/api/system/status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SendHealth {
    Ok,
    FloodWait { until: i64 },
    PeerFlood { since: i64, until: i64 },
}

struct PaceState {
    next_send_at: i64,
    held_until: i64,
    health: SendHealth,
}

/// A workspace's account with its send pace: sends wait for their slot, a `FLOOD_WAIT` holds
/// every later send until it is over (they fail fast with the time left, nothing is sent), a
/// `PEER_FLOOD` holds them for [`SendPace::peer_flood_pause_ms`] and marks the account.
pub struct UserAccount {
    client: Arc<dyn UserClient>,
    clock: Clock,
    pace: SendPace,
    state: Mutex<PaceState>,
    /// Sends run one at a time (their order is their slot order).
    send_lock: tokio::sync::Mutex<()>,
}

impl UserAccount {
    pub fn new(client: Arc<dyn UserClient>, clock: Clock, pace: SendPace) -> Self {
        Self {
            client,
            clock,
            pace,
            state: Mutex::new(PaceState {
                next_send_at: i64::MIN,
                held_until: i64::MIN,
                health: SendHealth::Ok,
            }),
            send_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn client(&self) -> &Arc<dyn UserClient> {
        &self.client
    }

    pub fn health(&self) -> SendHealth {
        let state = self.state.lock().expect("pace lock");
        if self.clock.now() >= state.held_until {
            SendHealth::Ok
        } else {
            state.health.clone()
        }
    }

    /// Send one message at the account's pace. Held (flood) → the error at once, no call.
    pub async fn send(&self, to: &Peer, text: &str) -> UserResult<SentMessage> {
        let _turn = self.send_lock.lock().await;
        let now = self.clock.now();
        let wait = {
            let state = self.state.lock().expect("pace lock");
            if now < state.held_until {
                return Err(match state.health {
                    SendHealth::PeerFlood { .. } => UserClientError::PeerFlood,
                    _ => UserClientError::FloodWait {
                        seconds: ((state.held_until - now) as u64).div_ceil(1000),
                    },
                });
            }
            state.next_send_at.saturating_sub(now)
        };
        if wait > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
        }
        let outcome = self.client.send_message(to, text).await;
        let now = self.clock.now();
        let mut state = self.state.lock().expect("pace lock");
        state.next_send_at = now + self.pace.min_interval_ms;
        match &outcome {
            Err(UserClientError::FloodWait { seconds }) => {
                let until = now + (*seconds as i64) * 1000;
                state.held_until = until;
                state.health = SendHealth::FloodWait { until };
                tracing::warn!(seconds, "Telegram user account: FLOOD_WAIT, sends held");
            }
            Err(UserClientError::PeerFlood) => {
                let until = now + self.pace.peer_flood_pause_ms;
                state.held_until = until;
                state.health = SendHealth::PeerFlood { since: now, until };
                tracing::warn!("Telegram user account: PEER_FLOOD, sends paused");
            }
            _ => {}
        }
        metrics::counter!(
            "telegram_user_sends_total",
            "outcome" => outcome.as_ref().map_or_else(UserClientError::kind, |_| "ok")
        )
        .increment(1);
        outcome
    }
}

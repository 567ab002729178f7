//! A fake Telegram *user* network behind the server's `UserClient` trait (no MTProto server is
//! reachable from tests). Accounts are registered by phone (with an optional two-step password);
//! `send_code` "texts" a code that tests read with [`FakeUserNetwork::code_for`]; a signed-in
//! client stores its session through the same `SessionStore` and encryption key as the real
//! adapter, so what lands in the database is what the real one would leave there (sealed). Sends
//! are recorded; `FLOOD_WAIT` and `PEER_FLOOD` can be injected; an account can only message
//! users it has seen ([`FakeUserNetwork::introduce`]) or public usernames.
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use promostack::auth::crypto::EncryptionKey;
use promostack::integrations::telegram_user::session::SessionStore;
use promostack::integrations::telegram_user::{
    AccountInfo, BoxFuture, Peer, SentMessage, SignIn, UserClient, UserClientConnector,
    UserClientError, UserResult,
};

#[derive(Debug, Clone)]
struct FakeAccount {
    user_id: i64,
    username: Option<String>,
    first_name: String,
    password: Option<String>,
}

/// A message a fake account sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSend {
    pub from_user_id: i64,
    pub to_user_id: i64,
    pub text: String,
    pub at: std::time::Instant,
}

#[derive(Default)]
struct Network {
    accounts: HashMap<String, FakeAccount>,
    usernames: HashMap<String, i64>,
    seen: HashSet<(i64, i64)>,
    codes: HashMap<String, String>,
    next_code: u32,
    sends: Vec<UserSend>,
    faults: VecDeque<UserClientError>,
    next_message_id: i64,
    connects: u32,
}

/// The fake Telegram, shared by every client it hands out.
#[derive(Clone, Default)]
pub struct FakeUserNetwork {
    inner: Arc<Mutex<Network>>,
}

impl FakeUserNetwork {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Network> {
        self.inner.lock().expect("fake user network lock")
    }

    /// A Telegram account with this phone (and 2FA password, if any).
    pub fn add_account(
        &self,
        phone: &str,
        user_id: i64,
        username: Option<&str>,
        password: Option<&str>,
    ) {
        let mut net = self.lock();
        net.accounts.insert(
            phone.to_owned(),
            FakeAccount {
                user_id,
                username: username.map(str::to_owned),
                first_name: format!("Account {user_id}"),
                password: password.map(str::to_owned),
            },
        );
        if let Some(name) = username {
            net.usernames.insert(name.to_lowercase(), user_id);
        }
    }

    /// A plain Telegram user other accounts can find by `@username`.
    pub fn add_user(&self, user_id: i64, username: &str) {
        self.lock()
            .usernames
            .insert(username.to_lowercase(), user_id);
    }

    /// `account` has seen `user` (they wrote to it, or share a chat): it can message them by id.
    pub fn introduce(&self, account_user_id: i64, user_id: i64) {
        self.lock().seen.insert((account_user_id, user_id));
    }

    /// The last login code "texted" to `phone`.
    pub fn code_for(&self, phone: &str) -> Option<String> {
        self.lock().codes.get(phone).cloned()
    }

    /// The next sends fail with these errors, in order (nothing is delivered).
    pub fn fail_next_sends(&self, error: UserClientError, times: usize) {
        self.lock().faults.extend(std::iter::repeat_n(error, times));
    }

    pub fn sends(&self) -> Vec<UserSend> {
        self.lock().sends.clone()
    }

    /// How many clients were connected (one per workspace is expected).
    pub fn connects(&self) -> u32 {
        self.lock().connects
    }

    /// A connector handing out clients of this network that keep their sessions in `store`.
    pub fn connector(
        &self,
        store: Arc<dyn SessionStore>,
        key: EncryptionKey,
    ) -> Arc<dyn UserClientConnector> {
        Arc::new(FakeConnector {
            network: self.clone(),
            store,
            key,
        })
    }
}

struct FakeConnector {
    network: FakeUserNetwork,
    store: Arc<dyn SessionStore>,
    key: EncryptionKey,
}

const SESSION_PREFIX: &str = "fake-mtproto-session:";

impl UserClientConnector for FakeConnector {
    fn connect<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, UserResult<Arc<dyn UserClient>>> {
        Box::pin(async move {
            self.network.lock().connects += 1;
            let stored = self
                .store
                .load(tenant_id)
                .await
                .map_err(|e| UserClientError::Session(e.to_string()))?;
            let signed_in = match stored {
                Some(sealed) => {
                    let plain = self
                        .key
                        .decrypt(&sealed)
                        .map_err(|e| UserClientError::Session(e.to_string()))?;
                    let phone = plain
                        .strip_prefix(SESSION_PREFIX)
                        .ok_or_else(|| UserClientError::Session("not a session".into()))?;
                    Some(phone.to_owned())
                }
                None => None,
            };
            let client: Arc<dyn UserClient> = Arc::new(FakeUserClient {
                network: self.network.clone(),
                store: self.store.clone(),
                key: self.key.clone(),
                tenant_id: tenant_id.to_owned(),
                state: tokio::sync::Mutex::new(ClientState {
                    signed_in,
                    ..ClientState::default()
                }),
            });
            Ok(client)
        })
    }
}

#[derive(Default)]
struct ClientState {
    /// Phone of the signed-in account.
    signed_in: Option<String>,
    code_sent_to: Option<String>,
    password_for: Option<String>,
}

pub struct FakeUserClient {
    network: FakeUserNetwork,
    store: Arc<dyn SessionStore>,
    key: EncryptionKey,
    tenant_id: String,
    state: tokio::sync::Mutex<ClientState>,
}

impl FakeUserClient {
    fn info(&self, phone: &str) -> Option<AccountInfo> {
        self.network
            .lock()
            .accounts
            .get(phone)
            .map(|a| AccountInfo {
                user_id: a.user_id,
                username: a.username.clone(),
                first_name: Some(a.first_name.clone()),
            })
    }

    async fn complete(&self, state: &mut ClientState, phone: String) -> UserResult<AccountInfo> {
        let info = self.info(&phone).ok_or(UserClientError::SignUpRequired)?;
        self.store
            .save(
                &self.tenant_id,
                &self.key.encrypt(&format!("{SESSION_PREFIX}{phone}")),
            )
            .await
            .map_err(|e| UserClientError::Session(e.to_string()))?;
        state.signed_in = Some(phone);
        state.code_sent_to = None;
        state.password_for = None;
        Ok(info)
    }
}

impl UserClient for FakeUserClient {
    fn is_authorized(&self) -> BoxFuture<'_, UserResult<bool>> {
        Box::pin(async move { Ok(self.state.lock().await.signed_in.is_some()) })
    }

    fn me(&self) -> BoxFuture<'_, UserResult<Option<AccountInfo>>> {
        Box::pin(async move {
            let state = self.state.lock().await;
            Ok(state.signed_in.as_deref().and_then(|p| self.info(p)))
        })
    }

    fn send_code<'a>(&'a self, phone: &'a str) -> BoxFuture<'a, UserResult<()>> {
        Box::pin(async move {
            let phone = phone.trim();
            let valid = phone.starts_with('+')
                && phone.len() >= 8
                && phone[1..].chars().all(|c| c.is_ascii_digit());
            if !valid {
                return Err(UserClientError::PhoneNumberInvalid);
            }
            {
                let mut net = self.network.lock();
                net.next_code += 1;
                let code = format!("{:05}", 10_000 + net.next_code);
                net.codes.insert(phone.to_owned(), code);
            }
            let mut state = self.state.lock().await;
            state.code_sent_to = Some(phone.to_owned());
            state.password_for = None;
            Ok(())
        })
    }

    fn sign_in<'a>(&'a self, code: &'a str) -> BoxFuture<'a, UserResult<SignIn>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            let phone = state
                .code_sent_to
                .clone()
                .ok_or(UserClientError::NoLoginInProgress)?;
            if self.network.code_for(&phone).as_deref() != Some(code.trim()) {
                return Err(UserClientError::PhoneCodeInvalid);
            }
            let account = self.network.lock().accounts.get(&phone).cloned();
            let Some(account) = account else {
                return Err(UserClientError::SignUpRequired);
            };
            if account.password.is_some() {
                state.code_sent_to = None;
                state.password_for = Some(phone);
                return Ok(SignIn::PasswordRequired {
                    hint: Some("the usual one".into()),
                });
            }
            Ok(SignIn::Done(self.complete(&mut state, phone).await?))
        })
    }

    fn check_password<'a>(&'a self, password: &'a str) -> BoxFuture<'a, UserResult<AccountInfo>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            let phone = state
                .password_for
                .clone()
                .ok_or(UserClientError::NoLoginInProgress)?;
            let expected = self
                .network
                .lock()
                .accounts
                .get(&phone)
                .and_then(|a| a.password.clone());
            if expected.as_deref() != Some(password) {
                return Err(UserClientError::PasswordInvalid);
            }
            self.complete(&mut state, phone).await
        })
    }

    fn sign_out(&self) -> BoxFuture<'_, UserResult<()>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            *state = ClientState::default();
            self.store
                .clear(&self.tenant_id)
                .await
                .map_err(|e| UserClientError::Session(e.to_string()))
        })
    }

    fn send_message<'a>(
        &'a self,
        to: &'a Peer,
        text: &'a str,
    ) -> BoxFuture<'a, UserResult<SentMessage>> {
        Box::pin(async move {
            let state = self.state.lock().await;
            let phone = state
                .signed_in
                .as_deref()
                .ok_or(UserClientError::NotAuthorized)?;
            let mut net = self.network.lock();
            let from = net
                .accounts
                .get(phone)
                .map(|a| a.user_id)
                .ok_or(UserClientError::NotAuthorized)?;
            if let Some(fault) = net.faults.pop_front() {
                return Err(fault);
            }
            let to_user_id = match to {
                Peer::UserId(id) if net.seen.contains(&(from, *id)) => *id,
                Peer::UserId(_) => return Err(UserClientError::PeerUnknown),
                Peer::Username(name) => *net
                    .usernames
                    .get(&name.trim_start_matches('@').to_lowercase())
                    .ok_or(UserClientError::PeerUnknown)?,
            };
            net.next_message_id += 1;
            net.sends.push(UserSend {
                from_user_id: from,
                to_user_id,
                text: text.to_owned(),
                at: std::time::Instant::now(),
            });
            Ok(SentMessage {
                message_id: net.next_message_id,
            })
        })
    }
}

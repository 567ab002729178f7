//! The real [`UserClient`]: grammers-client 0.11 over MTProto, its session in our database
//! ([`DbSession`]). Not exercised by the tests — no MTProto server is reachable from them — so it
//! is kept to a direct mapping of grammers' calls and errors onto the trait; everything above it
//! (pacing, flood handling, login flow, storage) is tested against the fake.
use std::sync::Arc;

use grammers_client::client::{LoginToken, PasswordToken};
use grammers_client::session::types::PeerId;
use grammers_client::{Client, InvocationError, SenderPool, SignInError};
use tokio::sync::Mutex;

use super::session::{DbSession, SessionStore};
use super::{
    AccountInfo, BoxFuture, Peer, SentMessage, SignIn, UserClient, UserClientConnector,
    UserClientError, UserResult,
};
use crate::auth::crypto::EncryptionKey;
use crate::config::Secret;

/// The application credentials of my.telegram.org (`TELEGRAM_API_ID`, `TELEGRAM_API_HASH`).
#[derive(Clone, Debug)]
pub struct ApiCredentials {
    pub api_id: i32,
    pub api_hash: Secret,
}

/// Opens a workspace's client: its stored session, a sender pool driven by a task of its own.
pub struct GrammersConnector {
    credentials: ApiCredentials,
    store: Arc<dyn SessionStore>,
    key: EncryptionKey,
}

impl GrammersConnector {
    pub fn new(
        credentials: ApiCredentials,
        store: Arc<dyn SessionStore>,
        key: EncryptionKey,
    ) -> Self {
        Self {
            credentials,
            store,
            key,
        }
    }
}

impl UserClientConnector for GrammersConnector {
    fn connect<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, UserResult<Arc<dyn UserClient>>> {
        Box::pin(async move {
            let session = Arc::new(
                DbSession::open(tenant_id, self.store.clone(), self.key.clone())
                    .await
                    .map_err(|e| UserClientError::Session(e.0))?,
            );
            let pool = SenderPool::new(Arc::clone(&session), self.credentials.api_id);
            let client = Client::new(pool.handle);
            let runner = tokio::spawn(pool.runner.run());
            // Updates are not consumed (journeys read replies through the bot); dropping the
            // receiver makes grammers discard them.
            drop(pool.updates);
            let client: Arc<dyn UserClient> = Arc::new(GrammersClient {
                client,
                api_hash: self.credentials.api_hash.clone(),
                session,
                login: Mutex::new(None),
                password: Mutex::new(None),
                runner,
            });
            Ok(client)
        })
    }
}

pub struct GrammersClient {
    client: Client,
    api_hash: Secret,
    session: Arc<DbSession>,
    /// The login in progress (the code is bound to it, so it stays on this instance).
    login: Mutex<Option<LoginToken>>,
    password: Mutex<Option<PasswordToken>>,
    runner: tokio::task::JoinHandle<()>,
}

impl Drop for GrammersClient {
    fn drop(&mut self) {
        self.client.disconnect();
        self.runner.abort();
    }
}

/// grammers' errors in the trait's words. `FLOOD_WAIT_X` arrives as name `FLOOD_WAIT` with the
/// seconds as its value.
fn map_error(error: InvocationError) -> UserClientError {
    match error {
        InvocationError::Rpc(rpc) => {
            if rpc.name == "FLOOD_WAIT" || rpc.name == "FLOOD_PREMIUM_WAIT" {
                UserClientError::FloodWait {
                    seconds: u64::from(rpc.value.unwrap_or(60)),
                }
            } else if rpc.name == "PEER_FLOOD" {
                UserClientError::PeerFlood
            } else if rpc.name.starts_with("PHONE_NUMBER_") {
                UserClientError::PhoneNumberInvalid
            } else if rpc.name == "PHONE_CODE_EXPIRED" {
                UserClientError::PhoneCodeExpired
            } else if rpc.name.starts_with("PHONE_CODE_") {
                UserClientError::PhoneCodeInvalid
            } else if rpc.code == 401 {
                UserClientError::NotAuthorized
            } else if rpc.name == "PEER_ID_INVALID" || rpc.name == "USERNAME_NOT_OCCUPIED" {
                UserClientError::PeerUnknown
            } else {
                UserClientError::Refused(rpc.name)
            }
        }
        InvocationError::Session(e) => UserClientError::Session(e.to_string()),
        other => UserClientError::Network(other.to_string()),
    }
}

fn account(user: &grammers_client::peer::User) -> AccountInfo {
    AccountInfo {
        user_id: user.id().bare_id().unwrap_or_default(),
        username: user.username().map(str::to_owned),
        first_name: user.first_name().map(str::to_owned),
    }
}

impl GrammersClient {
    async fn finish_login(&self, user: &grammers_client::peer::User) -> UserResult<AccountInfo> {
        self.session
            .persist()
            .await
            .map_err(|e| UserClientError::Session(e.0))?;
        Ok(account(user))
    }
}

impl UserClient for GrammersClient {
    fn is_authorized(&self) -> BoxFuture<'_, UserResult<bool>> {
        Box::pin(async move { self.client.is_authorized().await.map_err(map_error) })
    }

    fn me(&self) -> BoxFuture<'_, UserResult<Option<AccountInfo>>> {
        Box::pin(async move {
            if !self.client.is_authorized().await.map_err(map_error)? {
                return Ok(None);
            }
            let me = self.client.get_me().await.map_err(map_error)?;
            Ok(Some(account(&me)))
        })
    }

    fn send_code<'a>(&'a self, phone: &'a str) -> BoxFuture<'a, UserResult<()>> {
        Box::pin(async move {
            let token = self
                .client
                .request_login_code(phone, self.api_hash.expose())
                .await
                .map_err(map_error)?;
            *self.login.lock().await = Some(token);
            *self.password.lock().await = None;
            Ok(())
        })
    }

    fn sign_in<'a>(&'a self, code: &'a str) -> BoxFuture<'a, UserResult<SignIn>> {
        Box::pin(async move {
            let mut login = self.login.lock().await;
            let token = login.as_ref().ok_or(UserClientError::NoLoginInProgress)?;
            match self.client.sign_in(token, code.trim()).await {
                Ok(user) => {
                    *login = None;
                    Ok(SignIn::Done(self.finish_login(&user).await?))
                }
                Err(SignInError::PasswordRequired(password)) => {
                    *login = None;
                    let hint = password.hint().map(str::to_owned);
                    *self.password.lock().await = Some(password);
                    Ok(SignIn::PasswordRequired { hint })
                }
                Err(SignInError::InvalidCode) => Err(UserClientError::PhoneCodeInvalid),
                Err(SignInError::SignUpRequired) => Err(UserClientError::SignUpRequired),
                Err(SignInError::InvalidPassword(_)) => Err(UserClientError::PasswordInvalid),
                Err(SignInError::Other(e)) => Err(map_error(e)),
            }
        })
    }

    fn check_password<'a>(&'a self, password: &'a str) -> BoxFuture<'a, UserResult<AccountInfo>> {
        Box::pin(async move {
            let mut pending = self.password.lock().await;
            let token = pending.take().ok_or(UserClientError::NoLoginInProgress)?;
            match self.client.check_password(token, password).await {
                Ok(user) => self.finish_login(&user).await,
                Err(SignInError::InvalidPassword(token)) => {
                    // grammers hands the token back: the next attempt needs no new code.
                    *pending = Some(token);
                    Err(UserClientError::PasswordInvalid)
                }
                Err(SignInError::Other(e)) => Err(map_error(e)),
                Err(_) => Err(UserClientError::PasswordInvalid),
            }
        })
    }

    fn sign_out(&self) -> BoxFuture<'_, UserResult<()>> {
        Box::pin(async move {
            // Signed out on Telegram's side when it answers; the local copy goes either way.
            let remote = self.client.sign_out().await.map(|_| ()).map_err(map_error);
            self.session
                .wipe()
                .await
                .map_err(|e| UserClientError::Session(e.0))?;
            match remote {
                Err(UserClientError::NotAuthorized) => Ok(()),
                other => other,
            }
        })
    }

    fn send_message<'a>(
        &'a self,
        to: &'a Peer,
        text: &'a str,
    ) -> BoxFuture<'a, UserResult<SentMessage>> {
        Box::pin(async move {
            use grammers_client::session::Session as _;
            let peer = match to {
                Peer::UserId(id) => self
                    .session
                    .peer_ref(PeerId::user_unchecked(*id))
                    .await
                    .map_err(|e| UserClientError::Session(e.0))?
                    .ok_or(UserClientError::PeerUnknown)?,
                Peer::Username(name) => {
                    let resolved = self
                        .client
                        .resolve_username(name.trim_start_matches('@'))
                        .await
                        .map_err(map_error)?
                        .ok_or(UserClientError::PeerUnknown)?;
                    resolved
                        .to_ref()
                        .await
                        .map_err(|e| UserClientError::Session(e.to_string()))?
                        .ok_or(UserClientError::PeerUnknown)?
                }
            };
            let message = self
                .client
                .send_message(peer, text)
                .await
                .map_err(map_error)?;
            Ok(SentMessage {
                message_id: i64::from(message.id()),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use grammers_client::sender::RpcError;

    use super::*;

    fn rpc(code: i32, name: &str, value: Option<u32>) -> InvocationError {
        InvocationError::Rpc(RpcError {
            code,
            name: name.into(),
            value,
            caused_by: None,
        })
    }

    #[test]
    fn telegram_errors_map_to_actionable_ones() {
        assert_eq!(
            map_error(rpc(420, "FLOOD_WAIT", Some(37))),
            UserClientError::FloodWait { seconds: 37 }
        );
        assert_eq!(
            map_error(rpc(400, "PEER_FLOOD", None)),
            UserClientError::PeerFlood
        );
        assert_eq!(
            map_error(rpc(400, "PHONE_NUMBER_INVALID", None)),
            UserClientError::PhoneNumberInvalid
        );
        assert_eq!(
            map_error(rpc(400, "PHONE_CODE_EXPIRED", None)),
            UserClientError::PhoneCodeExpired
        );
        assert_eq!(
            map_error(rpc(401, "AUTH_KEY_UNREGISTERED", None)),
            UserClientError::NotAuthorized
        );
        assert_eq!(
            map_error(rpc(400, "USER_IS_BLOCKED", None)),
            UserClientError::Refused("USER_IS_BLOCKED".into())
        );
    }
}

//! A workspace's Telegram *user* account: the phone login (code, then the two-step password),
//! one client per workspace kept for the life of the process, its session sealed in
//! `user_account_sessions`, and sends at the account's pace ([`UserAccount`]). The MTProto client
//! comes from a [`UserClientConnector`]: grammers when `TELEGRAM_API_ID`/`TELEGRAM_API_HASH` are
//! set, the testkit's fake network in tests (docs/connections.md). Nothing here knows HTTP.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;

use super::repo::{self, SessionTable};
use crate::auth::crypto::EncryptionKey;
use crate::db::Db;
use crate::domains::error::{DomainError, DomainResult};
use crate::integrations::telegram_user::session::SessionStore;
use crate::integrations::telegram_user::{
    AccountInfo, Peer, SendHealth, SendPace, SignIn, UserAccount, UserClientConnector,
    UserClientError,
};
use crate::time::Clock;

/// Makes the connector once the encryption key is known (it is derived at bootstrap).
pub type ConnectorFactory =
    Arc<dyn Fn(Arc<dyn SessionStore>, EncryptionKey) -> Arc<dyn UserClientConnector> + Send + Sync>;

/// A phone number as Telegram takes it: `+` and 7–15 digits (E.164); spaces, dashes, dots and
/// brackets people type are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> DomainResult<PhoneNumber> {
        let raw = raw.trim();
        let digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let number = digits.strip_prefix('+').unwrap_or(&digits);
        let ok = raw.starts_with('+')
            && (7..=15).contains(&number.len())
            && number.chars().all(|c| c.is_ascii_digit());
        if !ok {
            return Err(DomainError::invalid_field(
                "phone",
                "use the international format with the country code, e.g. +447700900123",
            ));
        }
        Ok(PhoneNumber(format!("+{number}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the page shows while the login is in progress: `+44 ••• ••• 123`.
    pub fn masked(&self) -> String {
        let n = &self.0;
        let tail = &n[n.len() - 3..];
        format!("{} ••• {tail}", &n[..3])
    }
}

/// A login code as Telegram sends it (5 digits today; 4–8 accepted, spaces dropped).
fn parse_code(raw: &str) -> DomainResult<String> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if (4..=8).contains(&code.len()) && code.chars().all(|c| c.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(DomainError::invalid_field(
            "code",
            "enter the digits of the code Telegram sent to the account (in the Telegram app)",
        ))
    }
}

/// The login step the page is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum LoginStep {
    /// A code was sent to `phone` (masked): enter it.
    Code { phone: String },
    /// The account has two-step verification: enter its password.
    Password { phone: String, hint: Option<String> },
}

/// The user account as the dashboard sees it: never the session, never the full phone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserAccountStatus {
    /// `TELEGRAM_API_ID`/`TELEGRAM_API_HASH` are set (without them no login can start).
    pub available: bool,
    pub signed_in: bool,
    #[schema(value_type = Option<Object>)]
    pub account: Option<AccountInfo>,
    /// Sends held by Telegram (`FLOOD_WAIT`, `PEER_FLOOD`) or `ok`.
    #[schema(value_type = Object)]
    pub health: SendHealth,
    pub login: Option<LoginStep>,
}

pub struct UserAccounts {
    db: Db,
    clock: Clock,
    key: OnceLock<EncryptionKey>,
    factory: Mutex<Option<ConnectorFactory>>,
    connector: OnceLock<Arc<dyn UserClientConnector>>,
    /// One client per workspace, for the life of the process (the login in progress lives in it).
    accounts: tokio::sync::Mutex<HashMap<String, Arc<UserAccount>>>,
    logins: Mutex<HashMap<String, (PhoneNumber, LoginStep)>>,
}

impl UserAccounts {
    pub fn new(db: Db, clock: Clock, factory: Option<ConnectorFactory>) -> Self {
        Self {
            db,
            clock,
            key: OnceLock::new(),
            factory: Mutex::new(factory),
            connector: OnceLock::new(),
            accounts: tokio::sync::Mutex::new(HashMap::new()),
            logins: Mutex::new(HashMap::new()),
        }
    }

    pub fn set_key(&self, key: EncryptionKey) {
        let _ = self.key.set(key);
    }

    /// Use another MTProto client maker (tests: the fake network). Before the first login.
    pub fn use_connector(&self, factory: ConnectorFactory) {
        *self.factory.lock().expect("factory lock") = Some(factory);
    }

    pub fn available(&self) -> bool {
        self.connector.get().is_some() || self.factory.lock().expect("factory lock").is_some()
    }

    fn connector(&self) -> DomainResult<&Arc<dyn UserClientConnector>> {
        if let Some(c) = self.connector.get() {
            return Ok(c);
        }
        let factory = self.factory.lock().expect("factory lock").clone().ok_or_else(|| {
            DomainError::conflict(
                "the user account needs Telegram API credentials: set TELEGRAM_API_ID and TELEGRAM_API_HASH (from my.telegram.org) and restart",
            )
        })?;
        let key = super::service::key_of(&self.key)?.clone();
        let store: Arc<dyn SessionStore> = Arc::new(SessionTable {
            db: self.db.clone(),
            clock: self.clock.clone(),
        });
        let _ = self.connector.set(factory(store, key));
        Ok(self.connector.get().expect("connector just set"))
    }

    /// The workspace's account, connected on first use and kept.
    async fn account(&self, tenant_id: &str) -> DomainResult<Arc<UserAccount>> {
        let mut accounts = self.accounts.lock().await;
        if let Some(account) = accounts.get(tenant_id) {
            return Ok(account.clone());
        }
        let client = self
            .connector()?
            .connect(tenant_id)
            .await
            .map_err(user_error)?;
        let account = Arc::new(UserAccount::new(
            client,
            self.clock.clone(),
            SendPace::default(),
        ));
        accounts.insert(tenant_id.to_owned(), account.clone());
        Ok(account)
    }

    /// The account if this workspace has one in memory or a stored session (no connect for a
    /// workspace that never signed in).
    async fn existing(&self, tenant_id: &str) -> DomainResult<Option<Arc<UserAccount>>> {
        if let Some(account) = self.accounts.lock().await.get(tenant_id) {
            return Ok(Some(account.clone()));
        }
        if !self.available() || repo::load_session(&self.db, tenant_id).await?.is_none() {
            return Ok(None);
        }
        self.account(tenant_id).await.map(Some)
    }

    fn login_of(&self, tenant_id: &str) -> Option<(PhoneNumber, LoginStep)> {
        self.logins
            .lock()
            .expect("logins lock")
            .get(tenant_id)
            .cloned()
    }

    fn set_login(&self, tenant_id: &str, login: Option<(PhoneNumber, LoginStep)>) {
        let mut logins = self.logins.lock().expect("logins lock");
        match login {
            Some(l) => logins.insert(tenant_id.to_owned(), l),
            None => logins.remove(tenant_id),
        };
    }

    pub async fn status(&self, tenant_id: &str) -> DomainResult<UserAccountStatus> {
        let available = self.available();
        let (account, health) = match self.existing(tenant_id).await? {
            Some(acc) => (acc.client().me().await.map_err(user_error)?, acc.health()),
            None => (None, SendHealth::Ok),
        };
        Ok(UserAccountStatus {
            available,
            signed_in: account.is_some(),
            account,
            health,
            login: self.login_of(tenant_id).map(|(_, step)| step),
        })
    }

    /// Step 1: Telegram sends a login code to the account's Telegram apps (or by SMS).
    pub async fn send_code(&self, tenant_id: &str, phone: &str) -> DomainResult<UserAccountStatus> {
        let phone = PhoneNumber::parse(phone)?;
        let account = self.account(tenant_id).await?;
        if account.client().is_authorized().await.map_err(user_error)? {
            return Err(DomainError::conflict(
                "a user account is already signed in: sign it out first to connect another",
            ));
        }
        account
            .client()
            .send_code(phone.as_str())
            .await
            .map_err(user_error)?;
        tracing::info!(tenant_id, "user account: login code requested");
        let step = LoginStep::Code {
            phone: phone.masked(),
        };
        self.set_login(tenant_id, Some((phone, step)));
        self.status(tenant_id).await
    }

    /// Step 2: the code; signed in, or the two-step password is asked for next.
    pub async fn sign_in(&self, tenant_id: &str, code: &str) -> DomainResult<UserAccountStatus> {
        let code = parse_code(code)?;
        let Some((phone, LoginStep::Code { .. })) = self.login_of(tenant_id) else {
            return Err(no_login());
        };
        let account = self.account(tenant_id).await?;
        match account.client().sign_in(&code).await.map_err(user_error)? {
            SignIn::Done(info) => {
                self.set_login(tenant_id, None);
                tracing::info!(tenant_id, user_id = info.user_id, "user account signed in");
            }
            SignIn::PasswordRequired { hint } => {
                let step = LoginStep::Password {
                    phone: phone.masked(),
                    hint,
                };
                self.set_login(tenant_id, Some((phone, step)));
            }
        }
        self.status(tenant_id).await
    }

    /// Step 3 (two-step verification only): the account's password.
    pub async fn check_password(
        &self,
        tenant_id: &str,
        password: &str,
    ) -> DomainResult<UserAccountStatus> {
        if password.is_empty() || password.len() > 256 {
            return Err(DomainError::invalid_field(
                "password",
                "enter the account's two-step verification password",
            ));
        }
        let Some((_, LoginStep::Password { .. })) = self.login_of(tenant_id) else {
            return Err(no_login());
        };
        let account = self.account(tenant_id).await?;
        let info = account
            .client()
            .check_password(password)
            .await
            .map_err(user_error)?;
        self.set_login(tenant_id, None);
        tracing::info!(tenant_id, user_id = info.user_id, "user account signed in");
        self.status(tenant_id).await
    }

    /// Sign out (the session is deleted) or cancel a login in progress.
    pub async fn sign_out(&self, tenant_id: &str) -> DomainResult<()> {
        let had_login = self.login_of(tenant_id).is_some();
        let account = self.existing(tenant_id).await?;
        if account.is_none() && !had_login {
            return Err(DomainError::NotFound("user account"));
        }
        self.set_login(tenant_id, None);
        if let Some(account) = account {
            account.client().sign_out().await.map_err(user_error)?;
        }
        repo::clear_session(&self.db, tenant_id).await?;
        // The next login starts on a fresh client.
        self.accounts.lock().await.remove(tenant_id);
        tracing::info!(tenant_id, "user account signed out");
        Ok(())
    }

    /// The signed-in account of a workspace, for journeys: or what to do about it.
    pub async fn sender(&self, tenant_id: &str) -> DomainResult<Arc<UserAccount>> {
        match self.existing(tenant_id).await? {
            Some(account) if account.client().is_authorized().await.map_err(user_error)? => {
                Ok(account)
            }
            _ => Err(DomainError::conflict(
                "no user account is connected: connect a User Account under Settings → Connections",
            )),
        }
    }

    /// A message from the account to `@username`, to see that it can send.
    pub async fn send_test(&self, tenant_id: &str, to: &str) -> DomainResult<i64> {
        let name = to.trim().trim_start_matches('@');
        let valid = (4..=32).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name.starts_with(|c: char| c.is_ascii_alphabetic());
        if !valid {
            return Err(DomainError::invalid_field(
                "to",
                "a Telegram @username (4–32 letters, digits and _, starting with a letter)",
            ));
        }
        let account = self.sender(tenant_id).await?;
        let sent = account
            .send(
                &Peer::Username(name.to_owned()),
                "Test message from PromoStack: this account can send your journeys' messages.",
            )
            .await
            .map_err(user_error)?;
        Ok(sent.message_id)
    }
}

fn no_login() -> DomainError {
    DomainError::conflict("no login in progress: request a new code")
}

/// Telegram's answers, as the field they concern or what to do.
fn user_error(e: UserClientError) -> DomainError {
    let message = e.to_string();
    match e {
        UserClientError::PhoneNumberInvalid | UserClientError::SignUpRequired => {
            DomainError::invalid_field("phone", message)
        }
        UserClientError::PhoneCodeInvalid | UserClientError::PhoneCodeExpired => {
            DomainError::invalid_field("code", message)
        }
        UserClientError::PasswordInvalid => DomainError::invalid_field("password", message),
        UserClientError::PeerUnknown => DomainError::invalid_field("to", message),
        UserClientError::FloodWait { seconds } => DomainError::RateLimited {
            retry_after_secs: seconds.max(1),
        },
        UserClientError::NoLoginInProgress => no_login(),
        UserClientError::PeerFlood
        | UserClientError::NotAuthorized
        | UserClientError::Refused(_) => DomainError::conflict(message),
        UserClientError::Network(_) => DomainError::unavailable("telegram", message),
        UserClientError::Session(_) => DomainError::internal(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_parse_to_e164() {
        assert_eq!(
            PhoneNumber::parse(" +44 7700-900 (123) ").unwrap().as_str(),
            "+447700900123"
        );
        assert_eq!(
            PhoneNumber::parse("+447700900123").unwrap().masked(),
            "+44 ••• 123"
        );
        for bad in ["447700900123", "+12", "+44770090012345678", "+44abc", ""] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_are_digits() {
        assert_eq!(parse_code(" 12 345 ").unwrap(), "12345");
        for bad in ["123", "abcde", "123456789"] {
            assert!(parse_code(bad).is_err(), "{bad}");
        }
    }
}

//! grammers' session storage on our own database: [`DbSession`] implements
//! `grammers_session::Session` over an in-memory copy (grammers reads the home datacenter on
//! every request, synchronously) and writes the whole session, encrypted with the workspace key
//! material (`auth/crypto.rs`), through a [`SessionStore`] whenever it changed. The connections
//! repository implements [`SessionStore`]; the blob holds the MTProto authorization keys, so it
//! is as secret as a password and never leaves the server.
use std::collections::HashMap;
use std::net::{SocketAddrV4, SocketAddrV6};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use grammers_session::types::{
    ChannelKind, ChannelState, DcOption, PeerAuth, PeerId, PeerInfo, UpdateState, UpdatesState,
};
use grammers_session::{Session, SessionData};

use super::BoxFuture;
use crate::auth::crypto::EncryptionKey;
use crate::db::DbResult;

/// Where a workspace's sealed (encrypted) session lives. Implemented by the connections repo.
pub trait SessionStore: Send + Sync {
    fn load<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, DbResult<Option<String>>>;
    fn save<'a>(&'a self, tenant_id: &'a str, sealed: &'a str) -> BoxFuture<'a, DbResult<()>>;
    fn clear<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, DbResult<()>>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SessionError(pub String);

/// Peers remembered at most (the account's own user always stays).
const MAX_PEERS: usize = 20_000;

pub struct DbSession {
    tenant_id: String,
    store: Arc<dyn SessionStore>,
    key: EncryptionKey,
    data: Mutex<SessionData>,
    /// The plaintext of the last write, so an unchanged session is not written again.
    saved: tokio::sync::Mutex<String>,
}

impl DbSession {
    /// The workspace's stored session, or a fresh one (no authorization yet).
    pub async fn open(
        tenant_id: &str,
        store: Arc<dyn SessionStore>,
        key: EncryptionKey,
    ) -> Result<DbSession, SessionError> {
        let stored = store
            .load(tenant_id)
            .await
            .map_err(|e| SessionError(format!("cannot load the session: {e}")))?;
        let (data, saved) = match stored {
            Some(sealed) => {
                let plain = key
                    .decrypt(&sealed)
                    .map_err(|e| SessionError(e.to_string()))?;
                (decode(&plain)?, plain)
            }
            None => (SessionData::default(), String::new()),
        };
        Ok(DbSession {
            tenant_id: tenant_id.to_owned(),
            store,
            key,
            data: Mutex::new(data),
            saved: tokio::sync::Mutex::new(saved),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, SessionData>, SessionError> {
        self.data
            .lock()
            .map_err(|_| SessionError("session lock poisoned".into()))
    }

    /// Write the session if it changed since the last write.
    pub async fn persist(&self) -> Result<(), SessionError> {
        let mut saved = self.saved.lock().await;
        let plain = encode(&*self.lock()?);
        if *saved == plain {
            return Ok(());
        }
        self.store
            .save(&self.tenant_id, &self.key.encrypt(&plain))
            .await
            .map_err(|e| SessionError(format!("cannot store the session: {e}")))?;
        *saved = plain;
        Ok(())
    }

    /// Forget everything (after signing out) and delete the stored copy.
    pub async fn wipe(&self) -> Result<(), SessionError> {
        let mut saved = self.saved.lock().await;
        *self.lock()? = SessionData::default();
        self.store
            .clear(&self.tenant_id)
            .await
            .map_err(|e| SessionError(format!("cannot delete the session: {e}")))?;
        saved.clear();
        Ok(())
    }

    /// The signed-in user, if the session has one.
    pub fn self_user(&self) -> Option<i64> {
        self.lock().ok()?.peer_infos.values().find_map(|p| match p {
            PeerInfo::User {
                id,
                is_self: Some(true),
                ..
            } => Some(*id),
            _ => None,
        })
    }

    /// Whether any datacenter has an authorization key (a session was ever established).
    pub fn has_auth_key(&self) -> bool {
        self.lock()
            .map(|d| d.dc_options.values().any(|o| o.auth_key.is_some()))
            .unwrap_or(false)
    }
}

impl Session for DbSession {
    type Error = SessionError;

    fn home_dc_id(&self) -> Result<i32, SessionError> {
        Ok(self.lock()?.home_dc)
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            self.lock()?.home_dc = dc_id;
            self.persist().await
        })
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>, SessionError> {
        Ok(self.lock()?.dc_options.get(&dc_id).cloned())
    }

    fn set_dc_option(&self, dc_option: &DcOption) -> BoxFuture<'_, Result<(), SessionError>> {
        let dc_option = dc_option.clone();
        Box::pin(async move {
            self.lock()?.dc_options.insert(dc_option.id, dc_option);
            self.persist().await
        })
    }

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, SessionError>> {
        Box::pin(async move {
            let data = self.lock()?;
            if peer == PeerId::self_user() {
                return Ok(data
                    .peer_infos
                    .values()
                    .find(|p| {
                        matches!(
                            p,
                            PeerInfo::User {
                                is_self: Some(true),
                                ..
                            }
                        )
                    })
                    .cloned());
            }
            Ok(data.peer_infos.get(&peer).cloned())
        })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            {
                let mut data = self.lock()?;
                if !data.peer_infos.contains_key(&peer.id()) && data.peer_infos.len() >= MAX_PEERS {
                    let drop = data
                        .peer_infos
                        .iter()
                        .find(|(_, p)| {
                            !matches!(
                                p,
                                PeerInfo::User {
                                    is_self: Some(true),
                                    ..
                                }
                            )
                        })
                        .map(|(id, _)| *id);
                    if let Some(id) = drop {
                        data.peer_infos.remove(&id);
                    }
                }
                data.peer_infos
                    .entry(peer.id())
                    .or_insert_with(|| peer.clone())
                    .extend_info(&peer);
            }
            self.persist().await
        })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, SessionError>> {
        Box::pin(async move { Ok(self.lock()?.updates_state.clone()) })
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            {
                let mut data = self.lock()?;
                let state = &mut data.updates_state;
                match update {
                    UpdateState::All(all) => *state = all,
                    UpdateState::Primary { pts, date, seq } => {
                        state.pts = pts;
                        state.date = date;
                        state.seq = seq;
                    }
                    UpdateState::Secondary { qts } => state.qts = qts,
                    UpdateState::Channel { id, pts } => {
                        state.channels.retain(|c| c.id != id);
                        state.channels.push(ChannelState { id, pts });
                    }
                }
            }
            self.persist().await
        })
    }
}

// The stored form: our own serde mirror of `SessionData` (grammers' `serde` feature would pull
// `serde_with`), versioned so a later grammers can be migrated.

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    v: u8,
    home_dc: i32,
    dcs: Vec<StoredDc>,
    peers: Vec<StoredPeer>,
    updates: StoredUpdates,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredDc {
    id: i32,
    ipv4: SocketAddrV4,
    ipv6: SocketAddrV6,
    auth_key: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum StoredPeer {
    User {
        id: i64,
        auth: Option<i64>,
        bot: Option<bool>,
        is_self: Option<bool>,
    },
    Chat {
        id: i64,
    },
    Channel {
        id: i64,
        auth: Option<i64>,
        kind: Option<u8>,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredUpdates {
    pts: i32,
    qts: i32,
    date: i32,
    seq: i32,
    channels: Vec<(i64, i32)>,
}

fn channel_kind(kind: ChannelKind) -> u8 {
    match kind {
        ChannelKind::Broadcast => 1,
        ChannelKind::Megagroup => 2,
        ChannelKind::Gigagroup => 3,
        ChannelKind::Community => 4,
    }
}

fn channel_kind_of(code: u8) -> Option<ChannelKind> {
    match code {
        1 => Some(ChannelKind::Broadcast),
        2 => Some(ChannelKind::Megagroup),
        3 => Some(ChannelKind::Gigagroup),
        4 => Some(ChannelKind::Community),
        _ => None,
    }
}

/// The session as JSON (sorted, so equal sessions encode equally).
pub fn encode(data: &SessionData) -> String {
    let mut dcs: Vec<StoredDc> = data
        .dc_options
        .values()
        .map(|o| StoredDc {
            id: o.id,
            ipv4: o.ipv4,
            ipv6: o.ipv6,
            auth_key: o.auth_key.map(|k| STANDARD.encode(k)),
        })
        .collect();
    dcs.sort_by_key(|d| d.id);
    let mut peers: Vec<StoredPeer> = data
        .peer_infos
        .values()
        .map(|p| match p {
            PeerInfo::User {
                id,
                auth,
                bot,
                is_self,
            } => StoredPeer::User {
                id: *id,
                auth: auth.map(PeerAuth::hash),
                bot: *bot,
                is_self: *is_self,
            },
            PeerInfo::Chat { id } => StoredPeer::Chat { id: *id },
            PeerInfo::Channel { id, auth, kind } => StoredPeer::Channel {
                id: *id,
                auth: auth.map(PeerAuth::hash),
                kind: kind.map(channel_kind),
            },
        })
        .collect();
    peers.sort_by_key(|p| match p {
        StoredPeer::User { id, .. } => (0, *id),
        StoredPeer::Chat { id } => (1, *id),
        StoredPeer::Channel { id, .. } => (2, *id),
    });
    let u = &data.updates_state;
    let stored = Stored {
        v: 1,
        home_dc: data.home_dc,
        dcs,
        peers,
        updates: StoredUpdates {
            pts: u.pts,
            qts: u.qts,
            date: u.date,
            seq: u.seq,
            channels: u.channels.iter().map(|c| (c.id, c.pts)).collect(),
        },
    };
    serde_json::to_string(&stored).expect("session serialises")
}

pub fn decode(plain: &str) -> Result<SessionData, SessionError> {
    let stored: Stored = serde_json::from_str(plain)
        .map_err(|e| SessionError(format!("stored session unreadable: {e}")))?;
    if stored.v != 1 {
        return Err(SessionError(format!(
            "stored session has version {}, expected 1",
            stored.v
        )));
    }
    let mut dc_options = HashMap::new();
    for dc in stored.dcs {
        let auth_key = match dc.auth_key {
            Some(b64) => {
                let bytes = STANDARD
                    .decode(b64)
                    .map_err(|_| SessionError("bad authorization key".into()))?;
                Some(
                    <[u8; 256]>::try_from(bytes.as_slice())
                        .map_err(|_| SessionError("authorization key is not 256 bytes".into()))?,
                )
            }
            None => None,
        };
        dc_options.insert(
            dc.id,
            DcOption {
                id: dc.id,
                ipv4: dc.ipv4,
                ipv6: dc.ipv6,
                auth_key,
            },
        );
    }
    let peer_infos = stored
        .peers
        .into_iter()
        .map(|p| {
            let info = match p {
                StoredPeer::User {
                    id,
                    auth,
                    bot,
                    is_self,
                } => PeerInfo::User {
                    id,
                    auth: auth.map(PeerAuth::from_hash),
                    bot,
                    is_self,
                },
                StoredPeer::Chat { id } => PeerInfo::Chat { id },
                StoredPeer::Channel { id, auth, kind } => PeerInfo::Channel {
                    id,
                    auth: auth.map(PeerAuth::from_hash),
                    kind: kind.and_then(channel_kind_of),
                },
            };
            (info.id(), info)
        })
        .collect();
    let u = stored.updates;
    Ok(SessionData {
        home_dc: stored.home_dc,
        dc_options,
        peer_infos,
        updates_state: UpdatesState {
            pts: u.pts,
            qts: u.qts,
            date: u.date,
            seq: u.seq,
            channels: u
                .channels
                .into_iter()
                .map(|(id, pts)| ChannelState { id, pts })
                .collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store in memory, the way the connections repo stores it (one sealed text per tenant).
    #[derive(Default)]
    struct MemoryStore(Mutex<HashMap<String, String>>, Mutex<u32>);

    impl SessionStore for MemoryStore {
        fn load<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, DbResult<Option<String>>> {
            Box::pin(async move { Ok(self.0.lock().unwrap().get(tenant_id).cloned()) })
        }
        fn save<'a>(&'a self, tenant_id: &'a str, sealed: &'a str) -> BoxFuture<'a, DbResult<()>> {
            Box::pin(async move {
                *self.1.lock().unwrap() += 1;
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

    #[tokio::test]
    async fn a_session_survives_a_restart_encrypted_and_per_tenant() {
        let store = Arc::new(MemoryStore::default());
        let key = EncryptionKey::new([7; 32]);
        let session = DbSession::open("t1", store.clone(), key.clone())
            .await
            .unwrap();
        assert_eq!(session.home_dc_id().unwrap(), 2, "grammers' default DC");
        assert!(!session.has_auth_key());
        let mut dc = session.dc_option(4).unwrap().unwrap();
        dc.auth_key = Some([0xAB; 256]);
        session.set_dc_option(&dc).await.unwrap();
        session.set_home_dc_id(4).await.unwrap();
        session
            .cache_peer(PeerInfo::User {
                id: 777,
                auth: Some(PeerAuth::from_hash(-42)),
                bot: Some(false),
                is_self: Some(true),
            })
            .await
            .unwrap();
        session
            .cache_peer(PeerInfo::Channel {
                id: 99,
                auth: Some(PeerAuth::from_hash(5)),
                kind: Some(ChannelKind::Broadcast),
            })
            .await
            .unwrap();
        session
            .set_update_state(UpdateState::Channel { id: 99, pts: 12 })
            .await
            .unwrap();
        let writes = *store.1.lock().unwrap();
        // Caching a peer it already knows changes nothing and writes nothing.
        session
            .cache_peer(PeerInfo::Channel {
                id: 99,
                auth: None,
                kind: None,
            })
            .await
            .unwrap();
        assert_eq!(*store.1.lock().unwrap(), writes);

        let sealed = store.0.lock().unwrap().get("t1").cloned().unwrap();
        assert!(sealed.starts_with("v1:"), "encrypted at rest");
        assert!(!sealed.contains("home_dc") && !sealed.contains("777"));
        assert!(store.0.lock().unwrap().get("t2").is_none());

        let reopened = DbSession::open("t1", store.clone(), key.clone())
            .await
            .unwrap();
        assert_eq!(reopened.home_dc_id().unwrap(), 4);
        assert_eq!(
            reopened.dc_option(4).unwrap().unwrap().auth_key,
            Some([0xAB; 256])
        );
        assert!(reopened.has_auth_key());
        assert_eq!(reopened.self_user(), Some(777));
        let me = reopened.peer(PeerId::self_user()).await.unwrap().unwrap();
        assert_eq!(me.auth(), Some(PeerAuth::from_hash(-42)));
        let channel = reopened
            .peer(PeerId::channel_unchecked(99))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            channel,
            PeerInfo::Channel {
                id: 99,
                auth: Some(PeerAuth::from_hash(5)),
                kind: Some(ChannelKind::Broadcast)
            }
        );
        let state = reopened.updates_state().await.unwrap();
        assert_eq!(state.channels, vec![ChannelState { id: 99, pts: 12 }]);

        // Another key cannot open it; signing out deletes it.
        assert!(
            DbSession::open("t1", store.clone(), EncryptionKey::new([8; 32]))
                .await
                .is_err()
        );
        reopened.wipe().await.unwrap();
        assert!(store.0.lock().unwrap().get("t1").is_none());
        assert_eq!(reopened.self_user(), None);
    }

    #[test]
    fn encoding_is_stable_and_versioned() {
        let data = SessionData::default();
        let plain = encode(&data);
        assert_eq!(encode(&decode(&plain).unwrap()), plain);
        assert!(decode(&plain.replacen("\"v\":1", "\"v\":9", 1)).is_err());
    }
}

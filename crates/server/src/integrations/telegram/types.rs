//! The subset of the Telegram Bot API types the platform reads and writes
//! (<https://core.telegram.org/bots/api>). Field names are the wire names; unknown fields are
//! ignored so new Bot API releases never break parsing.
use serde::{Deserialize, Serialize};

/// The envelope of every Bot API answer.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiResponse<T> {
    pub ok: bool,
    pub result: Option<T>,
    pub error_code: Option<u16>,
    pub description: Option<String>,
    pub parameters: Option<ResponseParameters>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ResponseParameters {
    pub retry_after: Option<u64>,
    pub migrate_to_chat_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Chat {
    pub id: i64,
    /// private | group | supergroup | channel
    #[serde(rename = "type")]
    pub kind: String,
    pub title: Option<String>,
    pub username: Option<String>,
}

impl Chat {
    pub fn is_group(&self) -> bool {
        matches!(self.kind.as_str(), "group" | "supergroup")
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct PhotoSize {
    pub file_id: String,
    pub file_unique_id: String,
    pub width: u32,
    pub height: u32,
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Message {
    pub message_id: i64,
    pub date: i64,
    pub chat: Chat,
    pub from: Option<User>,
    /// Channel posts signed by the channel itself.
    pub sender_chat: Option<Chat>,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub photo: Option<Vec<PhotoSize>>,
}

impl Message {
    /// The largest photo size: the one whose `file_id` is worth keeping.
    pub fn largest_photo(&self) -> Option<&PhotoSize> {
        self.photo.as_deref().and_then(|sizes| {
            sizes
                .iter()
                .max_by_key(|p| u64::from(p.width) * u64::from(p.height))
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    pub message: Option<Message>,
    pub data: Option<String>,
}

/// One incoming update. Only the kinds the platform subscribes to are typed; the rest parse as
/// an update with none of them set (and are acknowledged and ignored).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Update {
    pub update_id: i64,
    pub message: Option<Message>,
    pub edited_message: Option<Message>,
    pub channel_post: Option<Message>,
    pub callback_query: Option<CallbackQuery>,
    /// The bot's own membership of a chat changed (promoted, demoted, removed).
    pub my_chat_member: Option<ChatMemberUpdated>,
    /// Someone else's membership changed (needs `chat_member` in `allowed_updates` and admin).
    pub chat_member: Option<ChatMemberUpdated>,
    pub chat_join_request: Option<ChatJoinRequest>,
}

/// What `getChat` answers (Bot API `ChatFullInfo`; only the fields we read).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct ChatFullInfo {
    pub id: i64,
    /// private | group | supergroup | channel
    #[serde(rename = "type")]
    pub kind: String,
    pub title: Option<String>,
    pub username: Option<String>,
    pub invite_link: Option<String>,
}

/// `ChatMember.status`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ChatMemberStatus {
    Creator,
    Administrator,
    Member,
    Restricted,
    Left,
    Kicked,
}

/// A `ChatMember` (owner, administrator, member, restricted, left, banned) flattened into one
/// struct: the status and the rights; a right Telegram did not send is `false`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct ChatMember {
    pub status: ChatMemberStatus,
    pub user: User,
    #[serde(default)]
    pub can_manage_chat: bool,
    /// Channels only.
    #[serde(default)]
    pub can_post_messages: bool,
    #[serde(default)]
    pub can_invite_users: bool,
    /// "Ban users" in the apps.
    #[serde(default)]
    pub can_restrict_members: bool,
    #[serde(default)]
    pub can_delete_messages: bool,
}

impl ChatMember {
    pub fn is_admin(&self) -> bool {
        matches!(
            self.status,
            ChatMemberStatus::Creator | ChatMemberStatus::Administrator
        )
    }

    /// In the chat at all (not left or banned).
    pub fn is_present(&self) -> bool {
        !matches!(
            self.status,
            ChatMemberStatus::Left | ChatMemberStatus::Kicked
        )
    }

    /// The owner has every right whatever the flags say.
    pub fn can_post(&self) -> bool {
        self.status == ChatMemberStatus::Creator || (self.is_admin() && self.can_post_messages)
    }

    pub fn can_invite(&self) -> bool {
        self.status == ChatMemberStatus::Creator || (self.is_admin() && self.can_invite_users)
    }

    pub fn can_restrict(&self) -> bool {
        self.status == ChatMemberStatus::Creator || (self.is_admin() && self.can_restrict_members)
    }
}

/// `my_chat_member` / `chat_member` updates.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    pub from: User,
    pub date: i64,
    pub old_chat_member: ChatMember,
    pub new_chat_member: ChatMember,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChatJoinRequest {
    pub chat: Chat,
    pub from: User,
    pub user_chat_id: i64,
    pub date: i64,
    pub bio: Option<String>,
}

/// A chat as the Bot API addresses it: a numeric id (`-100…` for channels and supergroups) or
/// the `@username` of a public one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ChatRef {
    Id(i64),
    Username(String),
}

/// Why a chat reference was refused (the message says what a valid one looks like).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a Telegram chat: use the numeric id (channels start with -100, e.g. -1001234567890) or the public @username"
)]
pub struct BadChatRef;

impl ChatRef {
    /// Parse what a person types: `-1001234567890`, `@channel_name` (5–32 of `a-z 0-9 _`,
    /// starting with a letter), or `t.me/channel_name`.
    pub fn parse(input: &str) -> Result<ChatRef, BadChatRef> {
        let input = input.trim();
        if let Ok(id) = input.parse::<i64>() {
            return if id != 0 {
                Ok(ChatRef::Id(id))
            } else {
                Err(BadChatRef)
            };
        }
        let name = input
            .strip_prefix('@')
            .or_else(|| input.strip_prefix("https://t.me/"))
            .or_else(|| input.strip_prefix("t.me/"))
            .ok_or(BadChatRef)?;
        let valid = (5..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            Ok(ChatRef::Username(format!("@{name}")))
        } else {
            Err(BadChatRef)
        }
    }
}

impl std::fmt::Display for ChatRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChatRef::Id(id) => write!(f, "{id}"),
            ChatRef::Username(name) => f.write_str(name),
        }
    }
}

/// Update kinds the coupon bot asks Telegram for (`allowed_updates`).
pub const ALLOWED_UPDATES: &[&str] = &["message", "channel_post", "callback_query"];

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct InlineKeyboardButton {
    pub text: String,
    pub callback_data: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct InlineKeyboardMarkup {
    pub inline_keyboard: Vec<Vec<InlineKeyboardButton>>,
}

impl InlineKeyboardButton {
    pub fn callback(text: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            callback_data: Some(data.into()),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct BotCommand {
    pub command: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct WebhookInfo {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub pending_update_count: i64,
    pub allowed_updates: Option<Vec<String>>,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
}

/// A photo to send: new bytes (multipart upload) or a `file_id` Telegram already holds.
#[derive(Debug, Clone)]
pub enum InputFile {
    Upload {
        file_name: String,
        bytes: bytes::Bytes,
        mime: &'static str,
    },
    FileId(String),
}

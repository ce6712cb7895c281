//! The start endpoints' requests and replies.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ItemResult, ItemResults};

/// The reply of a start endpoint: the id of the task it started or, for a call Stream
/// did at once, its `result`.
///
/// Keys other than `task_id`, `duration` and `result` (a call delete's `call`, ...) are
/// kept in [`other`](StartResponse::other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StartResponse {
    /// The task's id (absent or `null` for some operations that started no task: a soft
    /// call delete, a channel delete Stream did at once).
    #[serde(default)]
    pub task_id: Option<String>,
    /// Server processing time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// The operation's result, when Stream answered with it at once (a channel delete:
    /// a map of cid to `{"status": "ok"}` or `{"status": "error", "error": ...}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Every other key of the reply.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl StartResponse {
    /// The reply of a start call that started task `task_id`.
    pub fn started(task_id: impl Into<String>) -> Self {
        StartResponse {
            task_id: Some(task_id.into()),
            duration: None,
            result: None,
            other: BTreeMap::new(),
        }
    }

    /// The per-item results of [`result`](StartResponse::result), when it is a map of
    /// item to `{status, error}` (see [`ItemResults::from_result`]).
    pub fn items(&self) -> Option<ItemResults> {
        self.result.as_ref().and_then(ItemResults::from_result)
    }
}

/// One channel to export: by type and id, or by cid (`"messaging:general"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChannelRef {
    /// `{"type": ..., "id": ...}`.
    TypeId {
        /// The channel type (`"messaging"`).
        #[serde(rename = "type")]
        channel_type: String,
        /// The channel id.
        id: String,
    },
    /// `{"cid": "type:id"}`.
    Cid {
        /// The channel's cid.
        cid: String,
    },
}

impl ChannelRef {
    /// A channel by type and id.
    pub fn new(channel_type: impl Into<String>, id: impl Into<String>) -> Self {
        ChannelRef::TypeId {
            channel_type: channel_type.into(),
            id: id.into(),
        }
    }

    /// A channel by cid (`"messaging:general"`).
    pub fn cid(cid: impl Into<String>) -> Self {
        ChannelRef::Cid { cid: cid.into() }
    }
}

impl fmt::Display for ChannelRef {
    /// The cid: `type:id`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelRef::TypeId { channel_type, id } => write!(f, "{channel_type}:{id}"),
            ChannelRef::Cid { cid } => f.write_str(cid),
        }
    }
}

/// The body of `POST /api/v2/chat/export_channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportChannelsRequest {
    /// The channels (Stream accepts at most 25 per request).
    pub channels: Vec<ChannelRef>,
}

/// The body of `POST /api/v2/chat/channels/delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteChannelsRequest {
    /// The channels' cids.
    pub cids: Vec<String>,
    /// Delete for good (`true`) rather than soft-delete.
    #[serde(default)]
    pub hard_delete: bool,
}

/// The body of `POST /api/v2/export/users`, `POST /api/v2/users/deactivate` and
/// `POST /api/v2/users/reactivate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserIdsRequest {
    /// The users' ids.
    pub user_ids: Vec<String>,
}

impl UserIdsRequest {
    /// The request for these users.
    pub fn new(user_ids: &[String]) -> Self {
        UserIdsRequest {
            user_ids: user_ids.to_vec(),
        }
    }
}

/// The body of `POST /api/v2/blocklists/{id}/import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportBlockListRequest {
    /// The words to add to the blocklist.
    pub items: Vec<String>,
}

/// The body of `POST /api/v2/video/call/{type}/{id}/delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteCallRequest {
    /// Delete for good (`true`: the only form that starts a task).
    pub hard: bool,
}

/// How [`DeleteUsersRequest`] deletes each kind of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteMode {
    /// Marked deleted, recoverable.
    Soft,
    /// Soft delete that also clears personal data (users only).
    Pruning,
    /// Gone for good.
    Hard,
}

/// The body of `POST /api/v2/users/delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteUsersRequest {
    /// The users' ids.
    pub user_ids: Vec<String>,
    /// How the users themselves are deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<DeleteMode>,
    /// How their messages are deleted (not at all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<DeleteMode>,
    /// How their conversations are deleted (not at all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversations: Option<DeleteMode>,
}

impl DeleteUsersRequest {
    /// Soft-deletes the users and nothing else: what
    /// [`StreamClient::delete_users`](crate::StreamClient::delete_users) sends.
    pub fn soft(user_ids: &[String]) -> Self {
        DeleteUsersRequest {
            user_ids: user_ids.to_vec(),
            user: Some(DeleteMode::Soft),
            messages: None,
            conversations: None,
        }
    }
}

/// What a start call answered: a task to wait on, or the operation's result already.
///
/// Stream answers most start calls with a `task_id`; some `DeleteChannels` calls it does
/// at once, answering with the per-channel `result` and no `task_id`.
///
/// ```
/// # async fn run(client: taskpoll_stream::StreamClient) -> Result<(), Box<dyn std::error::Error>> {
/// use taskpoll_stream::Started;
///
/// let cids = ["messaging:general".to_owned()];
/// let items = match client.delete_channels(&cids, true).await? {
///     Started::Task(id) => client.wait_for_task(&id).await?.items(),
///     Started::Done(reply) => reply.items(),
/// };
/// # let _ = items; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// Stream started a task: wait on this id. A wait ends failed when any item of
    /// its result failed ([`StreamFailure::Items`](crate::StreamFailure::Items)).
    Task(String),
    /// Stream did the work at once and answered without a task id: its reply, with the
    /// `result` (if it sent one). Check [`failed_items`](Started::failed_items): no
    /// wait will report them.
    Done(StartResponse),
}

impl Started {
    /// The task to wait on, if one was started.
    pub fn task_id(&self) -> Option<&str> {
        match self {
            Started::Task(id) => Some(id),
            Started::Done(_) => None,
        }
    }

    /// The task to wait on, if one was started.
    pub fn into_task_id(self) -> Option<String> {
        match self {
            Started::Task(id) => Some(id),
            Started::Done(_) => None,
        }
    }

    /// The result Stream answered with at once, if it did.
    pub fn result(&self) -> Option<&Value> {
        match self {
            Started::Task(_) => None,
            Started::Done(reply) => reply.result.as_ref(),
        }
    }

    /// The per-item results Stream answered with at once, if it did.
    pub fn items(&self) -> Option<ItemResults> {
        match self {
            Started::Task(_) => None,
            Started::Done(reply) => reply.items(),
        }
    }

    /// The items of an immediate result that failed (empty for a started task).
    pub fn failed_items(&self) -> Vec<(String, ItemResult)> {
        ItemResults::failed_of(self.items())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_refs_serialize_in_both_forms() {
        let body = ExportChannelsRequest {
            channels: vec![
                ChannelRef::new("messaging", "general"),
                ChannelRef::cid("messaging:random"),
            ],
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"channels": [{"type": "messaging", "id": "general"}, {"cid": "messaging:random"}]})
        );
        assert_eq!(body.channels[0].to_string(), "messaging:general");
    }
}

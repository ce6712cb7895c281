//! [`StreamClient`]: the HTTP client for Stream's task endpoints and the start
//! endpoints that create tasks; its source, scheduler, poller and waits are in
//! [`waits`].

mod waits;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::auth;
use crate::config::{STREAM_CLIENT, StreamClientBuilder};
use crate::decode::{self, GET_TASK};
use crate::error::{RateLimit, StreamError};
use crate::models::{
    ChannelRef, DeleteCallRequest, DeleteChannelsRequest, DeleteUsersRequest,
    ExportChannelsRequest, ImportBlockListRequest, StartResponse, Started, TaskResponse,
    UserIdsRequest,
};
use crate::source::StreamSource;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use taskpoll::{Budget, RateLimitHint, RequestBudget, SchedulerCell};
use taskpoll_http::exchange::{ExchangeError, RateLimitTracker, send};
use taskpoll_http::{BaseUrl, Connection, InvalidTaskId, Secret, encode_segment};

/// A client of Stream's server-side API: task status and the start endpoints.
///
/// Cheap to clone (clones share one connection pool, so connections are reused across
/// polls). Every request carries the `api_key` query parameter, a fresh server token in
/// `Authorization` and `stream-auth-type: jwt`. The key and secret never appear in
/// `Debug`, `Display`, errors or logs.
#[derive(Clone)]
pub struct StreamClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: taskpoll_http::HttpClient,
    base: BaseUrl,
    api_key: Secret,
    api_secret: Secret,
    request_timeout: Duration,
    max_response_bytes: usize,
    /// The rate-limit headers of the last `GetTask` answer, and when that window resets
    /// on tokio's clock.
    rate: RateLimitTracker<RateLimit>,
    /// The limits of every wait made from the client.
    limits: Budget,
    /// The request budget, shared by every client on the same key and limit.
    budget: Arc<dyn RequestBudget>,
    /// The one scheduler every poller of the client and its clones shares.
    scheduler: SchedulerCell<StreamSource>,
}

impl fmt::Debug for StreamClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamClient")
            .field("base_url", &self.base_url())
            .field("api_key", &self.inner.api_key)
            .field("api_secret", &self.inner.api_secret)
            .field("request_timeout", &self.inner.request_timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .finish()
    }
}

/// A value sent as one path segment of a start call, percent-encoded; empty, `.` and
/// `..` are refused.
fn segment(what: &'static str, value: &str) -> Result<String, StreamError> {
    InvalidTaskId::check(value).map_err(|e| StreamError::InvalidPathParameter {
        what,
        value: e.id,
        reason: e.reason,
    })?;
    Ok(encode_segment(value))
}

/// What one call sends.
struct Call {
    operation: &'static str,
    method: Method,
    url: Url,
    body: Option<Vec<u8>>,
    expected: &'static str,
    /// Remember the answer's rate-limit headers (the `GetTask` window).
    track_rate: bool,
}

impl StreamClient {
    /// A builder with these credentials and every default.
    pub fn builder(
        api_key: impl Into<String>,
        api_secret: impl Into<String>,
    ) -> StreamClientBuilder {
        StreamClientBuilder::new(api_key, api_secret)
    }

    /// A client of Stream's production API with these credentials.
    pub fn new(
        api_key: impl Into<String>,
        api_secret: impl Into<String>,
    ) -> Result<StreamClient, StreamError> {
        StreamClient::builder(api_key, api_secret).build()
    }

    /// A client of Stream's production API with the credentials in `STREAM_API_KEY` and
    /// `STREAM_API_SECRET`, the variables the `taskpoll` command reads. A variable that
    /// is not set is an error naming it. [`StreamClientBuilder::from_env`] to change
    /// other settings.
    pub fn from_env() -> Result<StreamClient, StreamError> {
        StreamClientBuilder::from_env()?.build()
    }

    pub(crate) fn from_parts(b: StreamClientBuilder, c: Connection) -> Self {
        let limits = b.http.budget.unwrap_or_default();
        let budget = b.http.budget_for("stream", &b.api_key, &limits);
        StreamClient {
            inner: Arc::new(Inner {
                http: c.client,
                base: c.base,
                api_key: b.api_key,
                api_secret: b.api_secret,
                request_timeout: c.request_timeout,
                max_response_bytes: c.max_response_bytes,
                rate: RateLimitTracker::new(),
                limits,
                budget,
                scheduler: SchedulerCell::new(),
            }),
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        self.inner.base.to_string()
    }

    /// The per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
    }

    /// The rate-limit headers of the last `GetTask` answer, if it sent all three.
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.inner.rate.last().map(|(r, _)| r)
    }

    pub(crate) fn rate_limit_hint(&self) -> Option<RateLimitHint> {
        self.inner.rate.hint()
    }

    /// Fetches a task's status: `GET /api/v2/tasks/{id}` (one request, no retry).
    ///
    /// The id is sent as exactly one percent-encoded path segment.
    pub async fn get_task(&self, id: &str) -> Result<TaskResponse, StreamError> {
        self.task_at("api/v2/tasks", id, true).await
    }

    /// Fetches a task's status from the legacy chat endpoint `GET /tasks/{id}` (same
    /// body, RFC 3339 timestamps). Prefer [`get_task`](StreamClient::get_task).
    pub async fn get_task_legacy(&self, id: &str) -> Result<TaskResponse, StreamError> {
        self.task_at("tasks", id, false).await
    }

    /// `GET {path}/{id}`, remembering the rate-limit headers when `track_rate`.
    async fn task_at(
        &self,
        path: &str,
        id: &str,
        track_rate: bool,
    ) -> Result<TaskResponse, StreamError> {
        let url = self.inner.base.join_id(path, id)?;
        self.call(Call {
            operation: GET_TASK,
            method: Method::GET,
            url,
            body: None,
            expected: "a task response",
            track_rate,
        })
        .await
    }

    /// Starts an export of channels (`POST /api/v2/chat/export_channels`); returns the
    /// task id. On completion the task's `result` is `{url, path, s3_bucket_name}`.
    pub async fn export_channels(&self, channels: &[ChannelRef]) -> Result<String, StreamError> {
        let body = ExportChannelsRequest {
            channels: channels.to_vec(),
        };
        self.start("ExportChannels", "api/v2/chat/export_channels", &body)
            .await
    }

    /// Deletes channels by cid (`POST /api/v2/chat/channels/delete`), for good when
    /// `hard`. Stream answers with a task to wait on ([`Started::Task`]), whose
    /// `result` maps each cid to `{"status": "ok"}` or `{"status": "error", "error":
    /// ...}` (a wait ends failed when any channel failed), or with that result at once
    /// and no task ([`Started::Done`]).
    pub async fn delete_channels(
        &self,
        cids: &[String],
        hard: bool,
    ) -> Result<Started, StreamError> {
        let body = DeleteChannelsRequest {
            cids: cids.to_vec(),
            hard_delete: hard,
        };
        let url = self.inner.base.join("api/v2/chat/channels/delete");
        let reply = self.start_reply("DeleteChannels", url, &body).await?;
        Ok(match reply.task_id.as_deref() {
            Some(id) if !id.is_empty() => Started::Task(id.to_owned()),
            _ => Started::Done(reply),
        })
    }

    /// Soft-deletes users (`POST /api/v2/users/delete` with `"user": "soft"`, their
    /// messages and conversations kept); returns the task id. On completion `result`
    /// maps each user id to `{"status": "ok"}`. For hard deletes and messages, use
    /// [`delete_users_with`](StreamClient::delete_users_with).
    pub async fn delete_users(&self, user_ids: &[String]) -> Result<String, StreamError> {
        self.delete_users_with(&DeleteUsersRequest::soft(user_ids))
            .await
    }

    /// Deletes users as `request` says (`POST /api/v2/users/delete`); returns the task id.
    pub async fn delete_users_with(
        &self,
        request: &DeleteUsersRequest,
    ) -> Result<String, StreamError> {
        self.start("DeleteUsers", "api/v2/users/delete", request)
            .await
    }

    /// Starts an export of users (`POST /api/v2/export/users`); returns the task id. On
    /// completion the task's `result` has the export's `url`.
    pub async fn export_users(&self, user_ids: &[String]) -> Result<String, StreamError> {
        let body = UserIdsRequest::new(user_ids);
        self.start("ExportUsers", "api/v2/export/users", &body)
            .await
    }

    /// Deactivates users (`POST /api/v2/users/deactivate`); returns the task id.
    pub async fn deactivate_users(&self, user_ids: &[String]) -> Result<String, StreamError> {
        let body = UserIdsRequest::new(user_ids);
        self.start("DeactivateUsers", "api/v2/users/deactivate", &body)
            .await
    }

    /// Reactivates users (`POST /api/v2/users/reactivate`); returns the task id.
    pub async fn reactivate_users(&self, user_ids: &[String]) -> Result<String, StreamError> {
        let body = UserIdsRequest::new(user_ids);
        self.start("ReactivateUsers", "api/v2/users/reactivate", &body)
            .await
    }

    /// Imports words into the blocklist `name` (`POST /api/v2/blocklists/{name}/import`);
    /// returns the task id. The name is sent as one percent-encoded path segment.
    pub async fn import_blocklist(
        &self,
        name: &str,
        items: &[String],
    ) -> Result<String, StreamError> {
        let path = format!(
            "api/v2/blocklists/{}/import",
            segment("blocklist name", name)?
        );
        let body = ImportBlockListRequest {
            items: items.to_vec(),
        };
        self.start("ImportBlockList", &path, &body).await
    }

    /// Deletes a call for good (`POST /api/v2/video/call/{type}/{id}/delete` with
    /// `{"hard": true}`); returns the task id. On completion `result` maps the call's
    /// cid to `{"status": "ok"}` (a wait ends failed when it is an error). A soft delete
    /// starts no task, so it is not offered here.
    pub async fn hard_delete_call(
        &self,
        call_type: &str,
        call_id: &str,
    ) -> Result<String, StreamError> {
        let path = format!(
            "api/v2/video/call/{}/{}/delete",
            segment("call type", call_type)?,
            segment("call id", call_id)?
        );
        self.start("DeleteCall", &path, &DeleteCallRequest { hard: true })
            .await
    }

    /// A start call whose reply must carry a task id.
    async fn start(
        &self,
        operation: &'static str,
        path: &str,
        body: &impl Serialize,
    ) -> Result<String, StreamError> {
        let reply = self
            .start_reply(operation, self.inner.base.join(path), body)
            .await?;
        match reply.task_id {
            Some(id) if !id.is_empty() => Ok(id),
            _ => Err(StreamError::MissingTaskId { operation }),
        }
    }

    /// A start call: `POST` of `body` to `url`, the reply as it came.
    async fn start_reply(
        &self,
        operation: &'static str,
        url: Url,
        body: &impl Serialize,
    ) -> Result<StartResponse, StreamError> {
        // These request types are plain structs of strings: serializing cannot fail.
        let body = serde_json::to_vec(body).unwrap_or_default();
        self.call(Call {
            operation,
            method: Method::POST,
            url,
            body: Some(body),
            expected: "a start response",
            track_rate: false,
        })
        .await
    }

    async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, StreamError> {
        let Call {
            operation,
            method,
            mut url,
            body,
            expected,
            track_rate,
        } = call;
        let inner = &*self.inner;
        url.query_pairs_mut()
            .append_pair("api_key", inner.api_key.expose());
        let token = auth::server_token(&inner.api_secret, SystemTime::now())?;
        let mut token = HeaderValue::from_str(&token).map_err(|e| StreamError::Token {
            reason: e.to_string(),
        })?;
        token.set_sensitive(true);
        let mut request = inner
            .http
            .request(method, url)
            .header(AUTHORIZATION, token)
            .header("stream-auth-type", "jwt")
            .header("x-stream-client", STREAM_CLIENT)
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let answer = send(request, inner.max_response_bytes)
            .await
            .map_err(|e| match e {
                ExchangeError::Transport(source) => {
                    tracing::debug!(operation, error = %source, "stream request failed");
                    StreamError::Transport { operation, source }
                }
                ExchangeError::TooLarge { status, cap } => StreamError::BodyTooLarge {
                    operation,
                    status,
                    cap,
                },
            })?;
        tracing::debug!(
            operation,
            status = answer.code(),
            elapsed_ms = u64::try_from(answer.elapsed.as_millis()).unwrap_or(u64::MAX),
            "stream answered"
        );
        if track_rate && let Some(limit) = decode::rate_limit(&answer.headers) {
            // On a 429, `Retry-After` says when to come back (as for the error's class);
            // otherwise the window's reset does.
            let reset = decode::until_reset(&answer.headers, SystemTime::now());
            inner.rate.record(
                &answer,
                limit,
                limit.remaining,
                Some(reset.unwrap_or_default()),
            );
        }
        decode::decode(
            operation,
            &answer,
            expected,
            &[&inner.api_key, &inner.api_secret],
        )
    }
}

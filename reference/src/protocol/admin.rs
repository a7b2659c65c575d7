//! JSON bodies of the administration REST API (`/administration/...`),
//! authenticated with `Authorization: Bearer <administration token>`.
//!
//! Types are strict as the official (pydantic strict mode): `"send_email":
//! "yes"` or `"user_id": 42` do not decode. Unknown keys are ignored.

use serde::{Deserialize, Deserializer, Serialize};

/// `{"detail": "..."}`, the body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub detail: String,
}

/// A field that may be absent (server default) or explicitly `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /administration/organizations`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CreateOrganizationReq {
    pub organization_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_profile_outsider_allowed: Option<bool>,
    /// Absent: server default; `null`: no limit.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub active_users_limit: Option<Option<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm_minimum_archiving_period_before_deletion: Option<u64>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub tos: Option<Option<std::collections::BTreeMap<String, String>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOrganizationRep {
    pub bootstrap_url: String,
    pub bootstrap_url_as_http_redirection: String,
}

/// `POST /administration/organizations/{org}/users/reset_totp`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResetTotpReq {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
    #[serde(default)]
    pub send_email: bool,
}

/// What became of the reset email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EmailSentStatus {
    NotSentAsRequested,
    SentAsRequested,
    ServerUnavailable,
    RecipientRefused,
    BadSmtpConfig,
}

impl EmailSentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            EmailSentStatus::NotSentAsRequested => "NOT_SENT_AS_REQUESTED",
            EmailSentStatus::SentAsRequested => "SENT_AS_REQUESTED",
            EmailSentStatus::ServerUnavailable => "SERVER_UNAVAILABLE",
            EmailSentStatus::RecipientRefused => "RECIPIENT_REFUSED",
            EmailSentStatus::BadSmtpConfig => "BAD_SMTP_CONFIG",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetTotpRep {
    pub user_id: String,
    pub user_email: String,
    pub totp_reset_url: String,
    pub totp_reset_url_as_http_redirection: String,
    pub email_sent_status: EmailSentStatus,
}

/// `POST /administration/organizations/{org}/users/freeze`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeUserReq {
    pub frozen: bool,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeUserRep {
    pub user_id: String,
    pub user_email: String,
    pub user_name: String,
    pub frozen: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_types_like_the_official_api() {
        assert!(serde_json::from_str::<ResetTotpReq>(r#"{"user_id":"x","send_email":"yes"}"#).is_err());
        assert!(serde_json::from_str::<ResetTotpReq>(r#"{"user_id":42}"#).is_err());
        assert!(serde_json::from_str::<FreezeUserReq>(r#"{"frozen":42}"#).is_err());
        let r: ResetTotpReq = serde_json::from_str(r#"{"user_email":"a@b.c","extra":1}"#).unwrap();
        assert_eq!(r.user_email.as_deref(), Some("a@b.c"));
        assert!(!r.send_email);
    }

    #[test]
    fn absent_and_null_limits_differ() {
        let r: CreateOrganizationReq = serde_json::from_str(r#"{"organization_id":"O"}"#).unwrap();
        assert_eq!(r.active_users_limit, None);
        let r: CreateOrganizationReq =
            serde_json::from_str(r#"{"organization_id":"O","active_users_limit":null}"#).unwrap();
        assert_eq!(r.active_users_limit, Some(None));
        assert!(
            serde_json::from_str::<CreateOrganizationReq>(r#"{"organization_id":"O","active_users_limit":-1}"#)
                .is_err()
        );
    }
}

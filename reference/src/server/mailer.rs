//! Sending the reset email: a real SMTP conversation through lettre, or, in
//! `MOCKED` mode, a line on the server's standard error.

use crate::protocol::admin::EmailSentStatus;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// An email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailConfig {
    /// Emails are printed, never sent (and count as sent), like the official
    /// server's mocked email configuration.
    Mocked,
    Smtp {
        host: String,
        port: u16,
        sender: String,
    },
}

const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

impl EmailConfig {
    /// Sends and reports the outcome as the administration API names it.
    pub async fn send(&self, email: &Email) -> EmailSentStatus {
        match self {
            EmailConfig::Mocked => {
                eprintln!("[mocked email] to {}: {}\n{}", email.to, email.subject, email.text);
                EmailSentStatus::SentAsRequested
            }
            EmailConfig::Smtp { host, port, sender } => send_smtp(host, *port, sender, email).await,
        }
    }
}

async fn send_smtp(host: &str, port: u16, sender: &str, email: &Email) -> EmailSentStatus {
    let (Ok(from), Ok(to)) = (sender.parse::<Mailbox>(), email.to.parse::<Mailbox>()) else {
        return EmailSentStatus::BadSmtpConfig;
    };
    let Ok(message) =
        Message::builder()
            .from(from)
            .to(to)
            .subject(&email.subject)
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
    else {
        return EmailSentStatus::BadSmtpConfig;
    };
    // lettre does not say whether a failure happened while connecting, so
    // find out first: a server that cannot be reached is SERVER_UNAVAILABLE.
    if tokio::time::timeout(SMTP_TIMEOUT, tokio::net::TcpStream::connect((host, port)))
        .await
        .map_or(true, |r| r.is_err())
    {
        return EmailSentStatus::ServerUnavailable;
    }
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(SMTP_TIMEOUT))
        .build();
    match transport.send(message).await {
        Ok(_) => EmailSentStatus::SentAsRequested,
        // 450-453 / 550-553 are the replies to a refused RCPT TO.
        Err(e) if e.status().is_some_and(|c| matches!(u16::from(c) % 100, 50..=53)) => {
            EmailSentStatus::RecipientRefused
        }
        Err(_) => EmailSentStatus::BadSmtpConfig,
    }
}

/// The reset email (our own wording; the subject is the official one).
pub fn totp_reset_email(to: &str, organization: &str, link: &str) -> Email {
    let text = format!(
        "Hello,\n\n\
         A server administrator has reset the multi-factor authentication (MFA) \
         of your account in the {organization} organization.\n\n\
         To set it up again with your authenticator app, open this link:\n\n\
         {link}\n\n\
         Your devices and your files are kept: once MFA is set up again, log in \
         as usual with a code from the new authenticator entry.\n"
    );
    let html = format!(
        "<html><head><title>Your MFA has been reset</title></head><body>\
         <h1>Your MFA has been reset for <b>{organization}</b></h1>\
         <p>A server administrator has reset the multi-factor authentication of your \
         account in the <b>{organization}</b> organization.</p>\
         <p><a href=\"{link}\">Set up MFA again</a></p>\
         <p>If the link does not open, copy this address into your browser: {link}</p>\
         </body></html>"
    );
    Email {
        to: to.to_owned(),
        subject: format!("[Parsec] Your MFA has been reset for {organization}"),
        text,
        html,
    }
}

//! The Mailbox: a real SMTP server the target sends its email to, so a
//! scenario can wait for "an email arrives for alice" and read it.
//!
//! It speaks the part of SMTP (RFC 5321) a mail submitter needs: greeting,
//! EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT. No
//! TLS and no authentication are offered, so clients send in clear.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Bigger messages are refused (552) and not stored (what arrives past the
/// limit is read and dropped), so a runaway sender cannot fill memory.
/// 1 MiB, as the request limit of the server: the emails of the MFA
/// lifecycle (a reset link, in text and HTML) weigh a few KiB.
const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// The longest line read at once: RFC 5321 allows 512 octets for a command
/// line and 1000 for a line of text; 64 KiB leaves room for senders that
/// do not fold, while a line without end is never held whole. A longer
/// command line ends the session (500); a longer text line makes the
/// message too big (552).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line, up to its `\n` or [`MAX_LINE_BYTES`]: the number of bytes
/// read (0 at the end of the stream).
async fn read_line<R: AsyncBufReadExt + Unpin>(reader: &mut R, line: &mut Vec<u8>) -> std::io::Result<usize> {
    use tokio::io::AsyncReadExt as _;
    (&mut *reader).take(MAX_LINE_BYTES as u64).read_until(b'\n', line).await
}

/// One email as received.
#[derive(Debug, Clone)]
pub struct Email {
    /// The envelope (`MAIL FROM`, `RCPT TO`), which decides delivery.
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    /// The RFC 5322 message, unstuffed.
    pub raw: Vec<u8>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Email {
    fn parse(envelope_from: String, envelope_to: Vec<String>, raw: Vec<u8>) -> Email {
        let parsed = mail_parser::MessageParser::default().parse(&raw);
        let (subject, text, html) = match &parsed {
            Some(m) => (
                m.subject().unwrap_or_default().to_owned(),
                m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
            ),
            None => Default::default(),
        };
        Email {
            envelope_from,
            envelope_to,
            raw,
            subject,
            text,
            html,
        }
    }

    /// Every `http(s)://` link in the text and HTML bodies, in order.
    pub fn links(&self) -> Vec<String> {
        let mut links = Vec::new();
        for body in [&self.text, &self.html] {
            let mut rest = body.as_str();
            while let Some(start) = rest.find("http") {
                let candidate = &rest[start..];
                let end = candidate
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\'' | ')'))
                    .unwrap_or(candidate.len());
                let link = candidate[..end].replace("&amp;", "&");
                if (link.starts_with("http://") || link.starts_with("https://")) && !links.contains(&link) {
                    links.push(link);
                }
                rest = &candidate[end.max(4)..];
            }
        }
        links
    }
}

#[derive(Default)]
struct Inbox {
    emails: Mutex<Vec<Email>>,
    arrived: Notify,
}

/// A running SMTP sink. Dropping it stops accepting connections.
pub struct Mailbox {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("no email for {recipient} arrived within {waited:?}")]
    NoEmail { recipient: String, waited: Duration },
}

impl Mailbox {
    /// Listens on `addr` (`127.0.0.1:0` for any free port).
    pub async fn start(addr: &str) -> std::io::Result<Mailbox> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Inbox::default());
        let accepting = inbox.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, accepting.clone()));
            }
        });
        Ok(Mailbox { addr, inbox, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every email received so far.
    pub fn emails(&self) -> Vec<Email> {
        self.inbox.emails.lock().map(|e| e.clone()).unwrap_or_default()
    }

    pub fn emails_to(&self, recipient: &str) -> Vec<Email> {
        self.emails()
            .into_iter()
            .filter(|e| e.envelope_to.iter().any(|to| to.eq_ignore_ascii_case(recipient)))
            .collect()
    }

    /// Waits for the `n`-th (1-based) email to `recipient`.
    pub async fn wait_for_nth(&self, recipient: &str, n: usize, timeout: Duration) -> Result<Email, MailboxError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inbox.arrived.notified();
            if let Some(email) = self.emails_to(recipient).into_iter().nth(n.saturating_sub(1)) {
                return Ok(email);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(MailboxError::NoEmail {
                    recipient: recipient.to_owned(),
                    waited: timeout,
                });
            }
        }
    }

    /// Waits for the first email to `recipient`.
    pub async fn wait_for(&self, recipient: &str, timeout: Duration) -> Result<Email, MailboxError> {
        self.wait_for_nth(recipient, 1, timeout).await
    }
}

/// `<addr>` out of `MAIL FROM:<addr> SIZE=…` or `RCPT TO:<addr>`.
fn path_argument(rest: &str) -> String {
    let rest = rest.trim();
    match (rest.find('<'), rest.find('>')) {
        (Some(open), Some(close)) if open < close => rest[open + 1..close].to_owned(),
        _ => rest.split_whitespace().next().unwrap_or_default().to_owned(),
    }
}

async fn session(stream: TcpStream, inbox: Arc<Inbox>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    if write.write_all(b"220 parsec-mfa mailbox ESMTP\r\n").await.is_err() {
        return;
    }
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_line(&mut reader, &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) if !line.ends_with(b"\n") => {
                let _ = write.write_all(b"500 5.5.2 Line too long\r\n").await;
                return;
            }
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
        let answer: &str = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => "250-parsec-mfa mailbox\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 1048576\r\n",
            "HELO" => "250 parsec-mfa mailbox\r\n",
            "MAIL" => {
                from = path_argument(rest.split_once(':').map_or("", |(_, a)| a));
                to.clear();
                "250 2.1.0 Ok\r\n"
            }
            "RCPT" => {
                to.push(path_argument(rest.split_once(':').map_or("", |(_, a)| a)));
                "250 2.1.5 Ok\r\n"
            }
            "DATA" if to.is_empty() => "503 5.5.1 RCPT first\r\n",
            "DATA" => {
                if write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let Some(raw) = read_data(&mut reader).await else {
                    return;
                };
                match raw {
                    Some(raw) => {
                        let email = Email::parse(std::mem::take(&mut from), std::mem::take(&mut to), raw);
                        if let Ok(mut emails) = inbox.emails.lock() {
                            emails.push(email);
                        }
                        inbox.arrived.notify_waiters();
                        "250 2.0.0 Ok: queued\r\n"
                    }
                    None => "552 5.3.4 Message too big\r\n",
                }
            }
            "RSET" => {
                from.clear();
                to.clear();
                "250 2.0.0 Ok\r\n"
            }
            "NOOP" => "250 2.0.0 Ok\r\n",
            "QUIT" => {
                let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 Command not implemented\r\n",
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The DATA section up to the lone dot. `None`: the connection ended;
/// `Some(None)`: too big (read to the end anyway, then refused).
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Option<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_big = false;
    let mut line = Vec::new();
    // Whether the last piece read ended a line: a piece of a longer line
    // is neither the lone dot nor dot-stuffed.
    let mut at_line_start = true;
    loop {
        line.clear();
        if read_line(reader, &mut line).await.ok()? == 0 {
            return None;
        }
        let starts_line = at_line_start;
        at_line_start = line.ends_with(b"\n");
        if !at_line_start {
            too_big = true;
        }
        if starts_line && (line == b".\r\n" || line == b".\n") {
            return Some((!too_big).then_some(message));
        }
        let content = if starts_line && line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        if too_big || message.len() + content.len() > MAX_MESSAGE_BYTES {
            too_big = true;
            // Nothing more is kept.
            message = Vec::new();
        } else {
            message.extend_from_slice(content);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn expect(stream: &mut TcpStream, prefix: &str) {
        let mut buf = vec![0u8; 1024];
        let n = stream.read(&mut buf).await.unwrap();
        let got = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(got.starts_with(prefix), "expected {prefix}, got {got:?}");
    }

    #[tokio::test]
    async fn receives_a_dot_stuffed_message_and_wakes_waiters() {
        let mailbox = Mailbox::start("127.0.0.1:0").await.unwrap();
        let mut s = TcpStream::connect(mailbox.addr()).await.unwrap();
        expect(&mut s, "220").await;
        for (cmd, answer) in [
            ("EHLO client\r\n", "250"),
            ("MAIL FROM:<parsec@example.com> SIZE=100\r\n", "250"),
            ("RCPT TO:<alice@example.com>\r\n", "250"),
            ("DATA\r\n", "354"),
            (
                "Subject: [Parsec] Your MFA has been reset for Acme\r\nContent-Type: text/plain\r\n\r\nGo to http://h/redirect/Acme?a=totp_reset&p=x now\r\n..hidden dot\r\n.\r\n",
                "250",
            ),
            ("QUIT\r\n", "221"),
        ] {
            s.write_all(cmd.as_bytes()).await.unwrap();
            expect(&mut s, answer).await;
        }
        let email = mailbox
            .wait_for("alice@example.com", Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(email.envelope_from, "parsec@example.com");
        assert_eq!(email.subject, "[Parsec] Your MFA has been reset for Acme");
        assert!(email.text.contains(".hidden dot") && !email.text.contains("..hidden"));
        assert_eq!(email.links(), ["http://h/redirect/Acme?a=totp_reset&p=x"]);
        assert!(
            mailbox
                .wait_for("bob@example.com", Duration::from_millis(50))
                .await
                .is_err()
        );
    }

    /// A message over 1 MiB is refused with 552 and not stored; the
    /// session goes on. A command line without end is refused with 500.
    #[tokio::test]
    async fn a_message_over_the_limit_is_refused_and_not_stored() {
        let mailbox = Mailbox::start("127.0.0.1:0").await.unwrap();
        let mut s = TcpStream::connect(mailbox.addr()).await.unwrap();
        expect(&mut s, "220").await;
        for (cmd, answer) in [
            ("EHLO client\r\n", "250"),
            ("MAIL FROM:<parsec@example.com>\r\n", "250"),
            ("RCPT TO:<alice@example.com>\r\n", "250"),
            ("DATA\r\n", "354"),
        ] {
            s.write_all(cmd.as_bytes()).await.unwrap();
            expect(&mut s, answer).await;
        }
        let line = format!("{}\r\n", "x".repeat(998));
        for _ in 0..(2 * MAX_MESSAGE_BYTES / line.len()) {
            s.write_all(line.as_bytes()).await.unwrap();
        }
        // And one line far over the line limit.
        s.write_all(&vec![b'y'; 4 * MAX_LINE_BYTES]).await.unwrap();
        s.write_all(b"\r\n.\r\n").await.unwrap();
        expect(&mut s, "552").await;
        s.write_all(b"NOOP\r\n").await.unwrap();
        expect(&mut s, "250").await;
        assert!(mailbox.emails().is_empty());
        // A command line without end.
        s.write_all(&vec![b'z'; 2 * MAX_LINE_BYTES]).await.unwrap();
        expect(&mut s, "500").await;
    }
}

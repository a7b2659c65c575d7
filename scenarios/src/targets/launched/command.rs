//! The command line of a `cmd=` target (and of an image's): a template
//! whose placeholders the harness fills before the server starts.

use crate::servers::ServerOptions;

/// The placeholders of a `cmd=` target, replaced before the command runs.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("{port}", "the TCP port the server must listen on (127.0.0.1)"),
    ("{server_addr}", "parsec3://127.0.0.1:<port>?no_ssl=true"),
    ("{admin_token}", "the administration token the harness uses"),
    (
        "{smtp_host}",
        "the SMTP host the server must send its email to (127.0.0.1)",
    ),
    ("{smtp_port}", "the SMTP port of the harness's mailbox"),
    (
        "{advice_flags}",
        "one `--advisory-device-file-protection <P>` per advised protection (optional: with it, the @advice scenarios run)",
    ),
];

/// `template` with the placeholders replaced.
pub fn expand_template(template: &str, port: u16, options: &ServerOptions) -> String {
    let advice_flags = options
        .advisory_device_file_protection
        .iter()
        .map(|a| format!("--advisory-device-file-protection '{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    template
        .replace("{port}", &port.to_string())
        .replace("{server_addr}", &format!("parsec3://127.0.0.1:{port}?no_ssl=true"))
        .replace("{admin_token}", &options.administration_token)
        .replace("{smtp_host}", "127.0.0.1")
        .replace("{smtp_port}", &options.smtp_port.unwrap_or_default().to_string())
        .replace("{advice_flags}", &advice_flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn every_placeholder_is_replaced() {
        let options = ServerOptions {
            administration_token: "tok".into(),
            smtp_port: Some(2525),
            advisory_device_file_protection: vec!["PASSWORD+TOTP".into(), "PKI".into()],
            log_dir: PathBuf::new(),
        };
        let template: String = PLACEHOLDERS.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(" ");
        let line = expand_template(&template, 8123, &options);
        assert_eq!(
            line,
            "8123 parsec3://127.0.0.1:8123?no_ssl=true tok 127.0.0.1 2525 \
             --advisory-device-file-protection 'PASSWORD+TOTP' --advisory-device-file-protection 'PKI'"
        );
    }
}

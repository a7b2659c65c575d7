//! Property tests of the wire layer.
//!
//! 1. Round trips: arbitrary values of every request and reply type, of the
//!    certificates, device files, addresses and tokens encode and decode back
//!    to themselves, and re-encode to the same bytes.
//! 2. No panics: every decoder, fed random bytes, mutated valid messages,
//!    arbitrary msgpack trees or random strings, answers `Ok` or `Err`.
//! 3. Malformed inputs: one explicit case per kind of defect, each asserting
//!    the specific error.
//!
//! Case counts stay moderate (256, or fewer where signing or zstd is
//! involved) so that the file runs in a few seconds.

use crate::vectors::Message;
use parsec_mfa_reference as reference;
use proptest::prelude::*;
use proptest::sample::Index;
use reference::crypto::{CryptoError, PrivateKey, PublicKey, SecretKey, SigningKey, VerifyKey};
use reference::protocol::addr::{AddrError, BootstrapAddr, OrganizationAddr, ServerAddr, TotpResetAddr};
use reference::protocol::anonymous_server::server_config::{
    AccountConfig, CryptPadConfig, OpenBaoAuthConfig, OpenBaoConfig, OrganizationBootstrapConfig, ServerConfig,
};
use reference::protocol::certif::{
    Certificate, CertificateError, CertificateSigner, DeviceCertificate, DevicePurpose, RevokedUserCertificate,
    UserCertificate, format_v0_compress, format_v0_decompress,
};
use reference::protocol::codec::UnknownStatus;
use reference::protocol::local_device::{DeviceFilePassword, LocalDevice, PasswordAlgorithm};
use reference::protocol::token::{AuthenticatedToken, TokenFormatError};
use reference::protocol::{
    AccessToken, Bytes, DateTime, DecodeError, DeviceID, HumanHandle, OrganizationID, TOTPOpaqueKeyID, UserID,
    UserProfile, ValueError, VlobID, anonymous, anonymous_server, authenticated,
};
use rmpv::Value;
use std::str::FromStr;

const CASES: u32 = 256;

// ---------------------------------------------------------------------------
// Strategies

fn user_id() -> impl Strategy<Value = UserID> {
    any::<[u8; 16]>().prop_map(UserID::from_bytes)
}
fn device_id() -> impl Strategy<Value = DeviceID> {
    any::<[u8; 16]>().prop_map(DeviceID::from_bytes)
}
fn opaque_key_id() -> impl Strategy<Value = TOTPOpaqueKeyID> {
    any::<[u8; 16]>().prop_map(TOTPOpaqueKeyID::from_bytes)
}
fn vlob_id() -> impl Strategy<Value = VlobID> {
    any::<[u8; 16]>().prop_map(VlobID::from_bytes)
}
fn datetime() -> impl Strategy<Value = DateTime> {
    any::<i64>().prop_map(DateTime::from_micros)
}
fn access_token() -> impl Strategy<Value = AccessToken> {
    any::<[u8; 16]>().prop_map(AccessToken)
}
fn key32() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}
fn bytes() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..80).prop_map(Bytes)
}
/// Any float but NaN (NaN != NaN would fail equality, not the codec).
fn float() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("NaN", |f| !f.is_nan())
}
/// Names valid for the official rule and ours: word characters and `-`,
/// at most 30 bytes.
fn organization_id() -> impl Strategy<Value = OrganizationID> {
    "[A-Za-z0-9_\\-éß康]{1,10}".prop_map(|s| s.parse().unwrap())
}
fn human_handle() -> impl Strategy<Value = HumanHandle> {
    (
        "[a-z0-9.+]{1,12}@[a-z0-9-]{1,10}\\.[a-z]{2,4}",
        "[A-Za-zé][A-Za-zé .'-]{0,30}",
    )
        .prop_map(|(email, label)| HumanHandle::new(&email, &label).unwrap())
}
fn profile() -> impl Strategy<Value = UserProfile> {
    prop::sample::select(UserProfile::ALL.to_vec())
}
/// A status no command of API 5 uses.
fn unknown_status() -> impl Strategy<Value = UnknownStatus> {
    ("x_[a-z_]{0,15}", proptest::option::of(any::<String>()))
        .prop_map(|(status, reason)| UnknownStatus { status, reason })
}

macro_rules! out_of_ballpark {
    ($rep:ident) => {
        (float(), float(), datetime(), datetime()).prop_map(|(e, l, c, s)| $rep::TimestampOutOfBallpark {
            ballpark_client_early_offset: e,
            ballpark_client_late_offset: l,
            client_timestamp: c,
            server_timestamp: s,
        })
    };
}

mod strategies {
    use super::*;

    pub fn bootstrap_req() -> impl Strategy<Value = anonymous::organization_bootstrap::Req> {
        (
            proptest::option::of(access_token()),
            key32(),
            (bytes(), bytes(), bytes(), bytes()),
            proptest::option::of(bytes()),
        )
            .prop_map(
                |(token, vk, (u, d, ru, rd), seq)| anonymous::organization_bootstrap::Req {
                    bootstrap_token: token,
                    root_verify_key: VerifyKey(vk),
                    user_certificate: u,
                    device_certificate: d,
                    redacted_user_certificate: ru,
                    redacted_device_certificate: rd,
                    sequester_authority_certificate: seq,
                },
            )
    }

    pub fn bootstrap_rep() -> impl Strategy<Value = anonymous::organization_bootstrap::Rep> {
        use anonymous::organization_bootstrap::Rep;
        prop_oneof![
            Just(Rep::Ok {}),
            Just(Rep::InvalidCertificate {}),
            Just(Rep::OrganizationAlreadyBootstrapped {}),
            Just(Rep::InvalidBootstrapToken {}),
            out_of_ballpark!(Rep),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn fetch_req() -> impl Strategy<Value = anonymous::totp_fetch_opaque_key::Req> {
        (user_id(), opaque_key_id(), any::<String>()).prop_map(|(user_id, opaque_key_id, one_time_password)| {
            anonymous::totp_fetch_opaque_key::Req {
                user_id,
                opaque_key_id,
                one_time_password,
            }
        })
    }

    pub fn fetch_rep() -> impl Strategy<Value = anonymous::totp_fetch_opaque_key::Rep> {
        use anonymous::totp_fetch_opaque_key::Rep;
        prop_oneof![
            key32().prop_map(|k| Rep::Ok {
                opaque_key: SecretKey(k)
            }),
            Just(Rep::InvalidOneTimePassword {}),
            datetime().prop_map(|wait_until| Rep::Throttled { wait_until }),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn anon_confirm_req() -> impl Strategy<Value = anonymous::totp_setup_confirm::Req> {
        (user_id(), access_token(), any::<String>()).prop_map(|(user_id, token, one_time_password)| {
            anonymous::totp_setup_confirm::Req {
                user_id,
                token,
                one_time_password,
            }
        })
    }

    pub fn anon_confirm_rep() -> impl Strategy<Value = anonymous::totp_setup_confirm::Rep> {
        use anonymous::totp_setup_confirm::Rep;
        prop_oneof![
            Just(Rep::Ok {}),
            Just(Rep::InvalidOneTimePassword {}),
            Just(Rep::BadToken {}),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn anon_get_secret_req() -> impl Strategy<Value = anonymous::totp_setup_get_secret::Req> {
        (user_id(), access_token())
            .prop_map(|(user_id, token)| anonymous::totp_setup_get_secret::Req { user_id, token })
    }

    pub fn anon_get_secret_rep() -> impl Strategy<Value = anonymous::totp_setup_get_secret::Rep> {
        use anonymous::totp_setup_get_secret::Rep;
        prop_oneof![
            bytes().prop_map(|totp_secret| Rep::Ok { totp_secret }),
            Just(Rep::BadToken {}),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn auth_confirm_rep() -> impl Strategy<Value = authenticated::totp_setup_confirm::Rep> {
        use authenticated::totp_setup_confirm::Rep;
        prop_oneof![
            Just(Rep::Ok {}),
            Just(Rep::InvalidOneTimePassword {}),
            Just(Rep::AlreadySetup {}),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn auth_get_secret_rep() -> impl Strategy<Value = authenticated::totp_setup_get_secret::Rep> {
        use authenticated::totp_setup_get_secret::Rep;
        prop_oneof![
            bytes().prop_map(|totp_secret| Rep::Ok { totp_secret }),
            Just(Rep::AlreadySetup {}),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn create_key_rep() -> impl Strategy<Value = authenticated::totp_create_opaque_key::Rep> {
        use authenticated::totp_create_opaque_key::Rep;
        prop_oneof![
            (key32(), opaque_key_id()).prop_map(|(k, id)| Rep::Ok {
                opaque_key: SecretKey(k),
                opaque_key_id: id
            }),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn user_create_req() -> impl Strategy<Value = authenticated::user_create::Req> {
        (bytes(), bytes(), bytes(), bytes()).prop_map(|(u, d, ru, rd)| authenticated::user_create::Req {
            user_certificate: u,
            device_certificate: d,
            redacted_user_certificate: ru,
            redacted_device_certificate: rd,
        })
    }

    pub fn user_create_rep() -> impl Strategy<Value = authenticated::user_create::Rep> {
        use authenticated::user_create::Rep;
        prop_oneof![
            Just(Rep::Ok {}),
            Just(Rep::AuthorNotAllowed {}),
            Just(Rep::ActiveUsersLimitReached {}),
            Just(Rep::UserAlreadyExists {}),
            Just(Rep::HumanHandleAlreadyTaken {}),
            Just(Rep::InvalidCertificate {}),
            out_of_ballpark!(Rep),
            datetime().prop_map(|t| Rep::RequireGreaterTimestamp {
                strictly_greater_than: t
            }),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn device_create_req() -> impl Strategy<Value = authenticated::device_create::Req> {
        (bytes(), bytes()).prop_map(|(d, rd)| authenticated::device_create::Req {
            device_certificate: d,
            redacted_device_certificate: rd,
        })
    }

    pub fn device_create_rep() -> impl Strategy<Value = authenticated::device_create::Rep> {
        use authenticated::device_create::Rep;
        prop_oneof![
            Just(Rep::Ok {}),
            Just(Rep::InvalidCertificate {}),
            Just(Rep::DeviceAlreadyExists {}),
            out_of_ballpark!(Rep),
            datetime().prop_map(|t| Rep::RequireGreaterTimestamp {
                strictly_greater_than: t
            }),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn user_revoke_rep() -> impl Strategy<Value = authenticated::user_revoke::Rep> {
        use authenticated::user_revoke::Rep;
        prop_oneof![
            Just(Rep::Ok {}),
            Just(Rep::AuthorNotAllowed {}),
            Just(Rep::UserNotFound {}),
            datetime().prop_map(|t| Rep::UserAlreadyRevoked {
                last_common_certificate_timestamp: t
            }),
            Just(Rep::InvalidCertificate {}),
            out_of_ballpark!(Rep),
            datetime().prop_map(|t| Rep::RequireGreaterTimestamp {
                strictly_greater_than: t
            }),
            unknown_status().prop_map(Rep::UnknownStatus),
        ]
    }

    pub fn server_config() -> impl Strategy<Value = ServerConfig> {
        let openbao = prop_oneof![
            Just(OpenBaoConfig::Disabled),
            (
                any::<String>(),
                any::<String>(),
                proptest::option::of(any::<String>()),
                proptest::collection::vec((any::<String>(), any::<String>()), 0..3),
            )
                .prop_map(|(server_url, secret_mount_path, transit_mount_path, auths)| {
                    OpenBaoConfig::Enabled {
                        server_url,
                        secret_mount_path,
                        transit_mount_path,
                        auths: auths
                            .into_iter()
                            .map(|(id, mount_path)| OpenBaoAuthConfig { id, mount_path })
                            .collect(),
                    }
                }),
        ];
        let cryptpad = prop_oneof![
            Just(CryptPadConfig::Disabled),
            any::<String>().prop_map(|server_url| CryptPadConfig::Enabled { server_url }),
        ];
        (
            prop::sample::select(AccountConfig::ALL.to_vec()),
            // Raw strings: unknown advisories are kept (forward compatibility).
            proptest::option::of(proptest::collection::vec(
                prop_oneof!["[A-Z_]{1,12}(\\+TOTP)?", any::<String>()],
                0..4,
            )),
            proptest::option::of(cryptpad),
            openbao,
            prop::sample::select(OrganizationBootstrapConfig::ALL.to_vec()),
        )
            .prop_map(
                |(account, advisory_device_file_protection, cryptpad, openbao, organization_bootstrap)| ServerConfig {
                    account,
                    advisory_device_file_protection,
                    cryptpad,
                    openbao,
                    organization_bootstrap,
                },
            )
    }

    pub fn user_certificate() -> impl Strategy<Value = UserCertificate> {
        (
            proptest::option::of(device_id()),
            datetime(),
            user_id(),
            proptest::option::of(human_handle()),
            key32(),
            profile(),
        )
            .prop_map(
                |(author, timestamp, user_id, human_handle, public_key, profile)| UserCertificate {
                    author,
                    timestamp,
                    user_id,
                    human_handle,
                    public_key: PublicKey(public_key),
                    profile,
                },
            )
    }

    pub fn device_certificate() -> impl Strategy<Value = DeviceCertificate> {
        (
            proptest::option::of(prop::sample::select(DevicePurpose::ALL.to_vec())),
            proptest::option::of(device_id()),
            datetime(),
            user_id(),
            device_id(),
            proptest::option::of(any::<String>()),
            key32(),
        )
            .prop_map(
                |(purpose, author, timestamp, user_id, device_id, device_label, verify_key)| DeviceCertificate {
                    purpose,
                    author,
                    timestamp,
                    user_id,
                    device_id,
                    device_label,
                    verify_key: VerifyKey(verify_key),
                },
            )
    }

    pub fn revoked_user_certificate() -> impl Strategy<Value = RevokedUserCertificate> {
        (device_id(), datetime(), user_id()).prop_map(|(author, timestamp, user_id)| RevokedUserCertificate {
            author,
            timestamp,
            user_id,
        })
    }

    pub fn device_file() -> impl Strategy<Value = DeviceFilePassword> {
        (
            (datetime(), datetime(), any::<String>(), organization_id()),
            (user_id(), device_id(), human_handle(), any::<String>()),
            (any::<[u8; 16]>(), any::<u32>(), any::<u32>(), any::<u32>()),
            bytes(),
            proptest::option::of(opaque_key_id()),
        )
            .prop_map(
                |(
                    (created_on, protected_on, server_url, organization_id),
                    (user_id, device_id, human_handle, device_label),
                    (salt, opslimit, memlimit_kb, parallelism),
                    ciphertext,
                    totp_opaque_key_id,
                )| DeviceFilePassword {
                    created_on,
                    protected_on,
                    server_url,
                    organization_id,
                    user_id,
                    device_id,
                    human_handle,
                    device_label,
                    algorithm: PasswordAlgorithm {
                        salt,
                        opslimit,
                        memlimit_kb,
                        parallelism,
                    },
                    ciphertext,
                    totp_opaque_key_id,
                },
            )
    }

    pub fn local_device() -> impl Strategy<Value = LocalDevice> {
        (
            (any::<String>(), organization_id(), key32(), user_id(), device_id()),
            (any::<String>(), human_handle(), key32(), key32(), profile()),
            (vlob_id(), key32(), key32()),
        )
            .prop_map(
                |(
                    (server_url, organization_id, root_verify_key, user_id, device_id),
                    (device_label, human_handle, signing_key, private_key, initial_profile),
                    (user_realm_id, user_realm_key, local_symkey),
                )| LocalDevice {
                    server_url,
                    organization_id,
                    root_verify_key: VerifyKey(root_verify_key),
                    user_id,
                    device_id,
                    device_label,
                    human_handle,
                    signing_key: SigningKey(signing_key),
                    private_key: PrivateKey(private_key),
                    initial_profile,
                    user_realm_id,
                    user_realm_key: SecretKey(user_realm_key),
                    local_symkey: SecretKey(local_symkey),
                },
            )
    }

    pub fn server() -> impl Strategy<Value = ServerAddr> {
        (
            prop_oneof![
                "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,6}){0,2}",
                (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
                    .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
            ],
            proptest::option::of(any::<u16>()),
            any::<bool>(),
        )
            .prop_map(|(hostname, port, use_ssl)| {
                let default = if use_ssl { 443 } else { 80 };
                ServerAddr {
                    hostname,
                    // A default port is never stored (it is dropped on parse).
                    port: port.filter(|p| *p != default),
                    use_ssl,
                }
            })
    }
}

// ---------------------------------------------------------------------------
// Round trips

/// `value → dump → load == value`, and the bytes are canonical.
fn round_trip<T: Message>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.dump();
    let decoded = T::load(&bytes);
    prop_assert_eq!(decoded.as_ref(), Ok(value));
    prop_assert_eq!(decoded.unwrap().dump(), bytes);
    Ok(())
}

/// A request round-trips alone and through its family.
fn request_round_trip<R: Message, F: Message>(req: &R, wrap: fn(R) -> F) -> Result<(), TestCaseError> {
    round_trip(req)?;
    let family = wrap(req.clone());
    prop_assert_eq!(family.dump(), req.dump());
    round_trip(&family)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn anonymous_organization_bootstrap_round_trips(
        req in strategies::bootstrap_req(),
        rep in strategies::bootstrap_rep(),
    ) {
        request_round_trip(&req, anonymous::AnyCmdReq::OrganizationBootstrap)?;
        round_trip(&rep)?;
    }

    #[test]
    fn anonymous_ping_round_trips(ping in any::<String>(), pong in any::<String>(), unknown in unknown_status()) {
        request_round_trip(&anonymous::ping::Req { ping }, anonymous::AnyCmdReq::Ping)?;
        round_trip(&anonymous::ping::Rep::Ok { pong })?;
        round_trip(&anonymous::ping::Rep::UnknownStatus(unknown))?;
    }

    #[test]
    fn anonymous_totp_fetch_opaque_key_round_trips(req in strategies::fetch_req(), rep in strategies::fetch_rep()) {
        request_round_trip(&req, anonymous::AnyCmdReq::TotpFetchOpaqueKey)?;
        round_trip(&rep)?;
    }

    #[test]
    fn anonymous_totp_setup_confirm_round_trips(
        req in strategies::anon_confirm_req(),
        rep in strategies::anon_confirm_rep(),
    ) {
        request_round_trip(&req, anonymous::AnyCmdReq::TotpSetupConfirm)?;
        round_trip(&rep)?;
    }

    #[test]
    fn anonymous_totp_setup_get_secret_round_trips(
        req in strategies::anon_get_secret_req(),
        rep in strategies::anon_get_secret_rep(),
    ) {
        request_round_trip(&req, anonymous::AnyCmdReq::TotpSetupGetSecret)?;
        round_trip(&rep)?;
    }

    #[test]
    fn authenticated_ping_round_trips(ping in any::<String>(), pong in any::<String>(), unknown in unknown_status()) {
        request_round_trip(&authenticated::ping::Req { ping }, authenticated::AnyCmdReq::Ping)?;
        round_trip(&authenticated::ping::Rep::Ok { pong })?;
        round_trip(&authenticated::ping::Rep::UnknownStatus(unknown))?;
    }

    #[test]
    fn authenticated_totp_commands_round_trip(
        code in any::<String>(),
        confirm in strategies::auth_confirm_rep(),
        get_secret in strategies::auth_get_secret_rep(),
        create_key in strategies::create_key_rep(),
    ) {
        request_round_trip(
            &authenticated::totp_setup_confirm::Req { one_time_password: code },
            authenticated::AnyCmdReq::TotpSetupConfirm,
        )?;
        round_trip(&confirm)?;
        request_round_trip(
            &authenticated::totp_setup_get_secret::Req {},
            authenticated::AnyCmdReq::TotpSetupGetSecret,
        )?;
        round_trip(&get_secret)?;
        request_round_trip(
            &authenticated::totp_create_opaque_key::Req {},
            authenticated::AnyCmdReq::TotpCreateOpaqueKey,
        )?;
        round_trip(&create_key)?;
    }

    #[test]
    fn authenticated_user_and_device_commands_round_trip(
        user_create in strategies::user_create_req(),
        user_create_rep in strategies::user_create_rep(),
        device_create in strategies::device_create_req(),
        device_create_rep in strategies::device_create_rep(),
        revoked in bytes(),
        user_revoke_rep in strategies::user_revoke_rep(),
    ) {
        request_round_trip(&user_create, authenticated::AnyCmdReq::UserCreate)?;
        round_trip(&user_create_rep)?;
        request_round_trip(&device_create, authenticated::AnyCmdReq::DeviceCreate)?;
        round_trip(&device_create_rep)?;
        request_round_trip(
            &authenticated::user_revoke::Req { revoked_user_certificate: revoked },
            authenticated::AnyCmdReq::UserRevoke,
        )?;
        round_trip(&user_revoke_rep)?;
    }

    #[test]
    fn anonymous_server_commands_round_trip(
        ping in any::<String>(),
        pong in any::<String>(),
        config in strategies::server_config(),
        unknown in unknown_status(),
    ) {
        request_round_trip(&anonymous_server::ping::Req { ping }, anonymous_server::AnyCmdReq::Ping)?;
        round_trip(&anonymous_server::ping::Rep::Ok { pong })?;
        round_trip(&anonymous_server::AnyCmdReq::ServerConfig(anonymous_server::server_config::Req {}))?;
        round_trip(&anonymous_server::server_config::Rep::Ok(config))?;
        round_trip(&anonymous_server::server_config::Rep::UnknownStatus(unknown))?;
    }

    #[test]
    fn device_files_round_trip(file in strategies::device_file(), device in strategies::local_device()) {
        let bytes = file.dump();
        prop_assert_eq!(DeviceFilePassword::load(&bytes), Ok(file.clone()));
        prop_assert_eq!(DeviceFilePassword::load(&bytes).unwrap().dump(), bytes);
        let bytes = device.dump();
        prop_assert_eq!(LocalDevice::load(&bytes), Ok(device.clone()));
        prop_assert_eq!(LocalDevice::load(&bytes).unwrap().dump(), bytes);
    }

    #[test]
    fn addresses_round_trip(
        server in strategies::server(),
        organization_id in organization_id(),
        user_id in user_id(),
        token in access_token(),
        bootstrap_token in proptest::option::of(access_token()),
    ) {
        let reset = TotpResetAddr { server: server.clone(), organization_id: organization_id.clone(), user_id, token };
        prop_assert_eq!(TotpResetAddr::parse_any(&reset.to_string()), Ok(reset.clone()));
        prop_assert_eq!(TotpResetAddr::parse_any(&reset.to_http_redirection_url()), Ok(reset.clone()));
        prop_assert_eq!(reset.payload().len(), 50);

        let bootstrap = BootstrapAddr { server: server.clone(), organization_id: organization_id.clone(), token: bootstrap_token };
        prop_assert_eq!(BootstrapAddr::parse_any(&bootstrap.to_string()), Ok(bootstrap.clone()));
        prop_assert_eq!(BootstrapAddr::parse_any(&bootstrap.to_http_redirection_url()), Ok(bootstrap.clone()));

        prop_assert_eq!(ServerAddr::from_str(&server.to_string()), Ok(server.clone()));
        let org = OrganizationAddr { server, organization_id };
        prop_assert_eq!(OrganizationAddr::from_str(&org.to_string()), Ok(org.clone()));
    }
}

proptest! {
    // Ed25519 signing and zstd per case: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn certificates_round_trip_signed_and_unsigned(
        user in strategies::user_certificate(),
        device in strategies::device_certificate(),
        revoked in strategies::revoked_user_certificate(),
        seed in key32(),
    ) {
        let key = SigningKey(seed);
        fn check<C: Certificate + PartialEq + Clone + std::fmt::Debug>(cert: &C, key: &SigningKey) -> Result<(), TestCaseError> {
            let serialized = cert.dump();
            prop_assert_eq!(C::load_serialized(&serialized), Ok(cert.clone()));
            let signed = cert.dump_and_sign(key);
            prop_assert_eq!(&signed[64..], &serialized[..]);
            prop_assert_eq!(C::unsecure_load(&signed), Ok(cert.clone()));
            prop_assert_eq!(
                C::verify_and_load(&signed, &key.verify_key(), cert.author(), Some(cert.timestamp())),
                Ok(cert.clone())
            );
            Ok(())
        }
        check(&user, &key)?;
        check(&device, &key)?;
        check(&revoked, &key)?;
        prop_assert_eq!(
            user.author.map_or(CertificateSigner::Root, CertificateSigner::User),
            user.author()
        );
    }

    #[test]
    fn tokens_round_trip(device_id in device_id(), seed in key32(), timestamp in any::<i64>()) {
        let key = SigningKey(seed);
        let token = AuthenticatedToken::build(device_id, &key, timestamp);
        let parsed = AuthenticatedToken::parse(&token).unwrap();
        prop_assert_eq!(parsed.device_id, device_id);
        prop_assert_eq!(parsed.timestamp, timestamp);
        prop_assert!(parsed.verify(&key.verify_key()));
        prop_assert_eq!(parsed.signature.len(), 64);
        let prefix = format!("{}.", parsed.signed_part);
        prop_assert!(token.starts_with(&prefix));
    }
}

// ---------------------------------------------------------------------------
// Decoders never panic

/// Feeds `bytes` to every binary decoder; only a panic fails.
fn decode_everything(bytes: &[u8]) {
    let _ = anonymous::AnyCmdReq::load(bytes);
    let _ = authenticated::AnyCmdReq::load(bytes);
    let _ = anonymous_server::AnyCmdReq::load(bytes);

    let _ = anonymous::organization_bootstrap::Req::load(bytes);
    let _ = anonymous::organization_bootstrap::Rep::load(bytes);
    let _ = anonymous::ping::Rep::load(bytes);
    let _ = anonymous::totp_fetch_opaque_key::Req::load(bytes);
    let _ = anonymous::totp_fetch_opaque_key::Rep::load(bytes);
    let _ = anonymous::totp_setup_confirm::Rep::load(bytes);
    let _ = anonymous::totp_setup_get_secret::Rep::load(bytes);
    let _ = authenticated::ping::Rep::load(bytes);
    let _ = authenticated::totp_setup_get_secret::Req::load(bytes);
    let _ = authenticated::totp_setup_get_secret::Rep::load(bytes);
    let _ = authenticated::totp_setup_confirm::Rep::load(bytes);
    let _ = authenticated::totp_create_opaque_key::Rep::load(bytes);
    let _ = authenticated::user_create::Rep::load(bytes);
    let _ = authenticated::device_create::Rep::load(bytes);
    let _ = authenticated::user_revoke::Rep::load(bytes);
    let _ = anonymous_server::ping::Rep::load(bytes);
    let _ = anonymous_server::server_config::Rep::load(bytes);

    let _ = DeviceFilePassword::load(bytes);
    let _ = LocalDevice::load(bytes);

    let _ = format_v0_decompress(bytes);
    let _ = UserCertificate::unsecure_load(bytes);
    let _ = DeviceCertificate::unsecure_load(bytes);
    let _ = RevokedUserCertificate::unsecure_load(bytes);
    let _ = UserCertificate::load_serialized(bytes);
    let vk = fuzz_key().verify_key();
    let _ = UserCertificate::verify_and_load(bytes, &vk, CertificateSigner::Root, None);
    let _ = DeviceCertificate::verify_and_load(bytes, &vk, CertificateSigner::Root, None);
    let _ = RevokedUserCertificate::verify_and_load(bytes, &vk, CertificateSigner::Root, None);
    // Random bytes never carry a valid signature: sign them, so that the
    // decoding behind the signature check runs too.
    let signed = fuzz_key().sign(bytes);
    let _ = UserCertificate::verify_and_load(&signed, &vk, CertificateSigner::Root, None);
    let _ = DeviceCertificate::verify_and_load(&signed, &vk, CertificateSigner::Root, None);
}

/// Feeds `text` to every string decoder; only a panic fails.
fn parse_everything(text: &str) {
    let _ = TotpResetAddr::parse_any(text);
    let _ = BootstrapAddr::parse_any(text);
    let _ = ServerAddr::from_str(text);
    let _ = ServerAddr::from_http_url(text);
    let _ = OrganizationAddr::from_str(text);
    let _ = AuthenticatedToken::parse(text);
    let _ = OrganizationID::from_str(text);
    let _ = UserID::from_hex(text);
    let _ = AccessToken::from_hex(text);
    let _ = DateTime::parse_rfc3339(text);
    let _ = reference::totp::secret_from_base32(text);
}

fn fuzz_key() -> SigningKey {
    SigningKey([42; 32])
}

/// Valid messages to mutate: every fixture vector and transcript body, plus
/// a signed certificate and a device file of our own.
fn corpus() -> Vec<Vec<u8>> {
    let mut out = vec![];
    for fixture in ["vectors/libparsec-protocol.json", "vectors/libparsec-types.json"] {
        for file in crate::vectors::vector_files(fixture) {
            let suffix = file.rsplit_once("/tests/").map(|(_, s)| s.to_owned()).unwrap();
            out.extend(crate::vectors::vectors(fixture, &suffix).into_iter().map(|v| v.bytes));
        }
    }
    let transcript = crate::vectors::load_json("transcripts/official-3.9.3-mfa-lifecycle.json");
    for e in transcript["exchanges"].as_array().unwrap() {
        for field in ["request_body_hex", "response_body_hex"] {
            let body = crate::vectors::unhex(e[field].as_str().unwrap());
            if !body.is_empty() {
                out.push(body);
            }
        }
    }
    let cert = RevokedUserCertificate {
        author: DeviceID::from_bytes([1; 16]),
        timestamp: DateTime::from_micros(1),
        user_id: UserID::from_bytes([2; 16]),
    };
    out.push(cert.dump_and_sign(&fuzz_key()));
    out.push(cert.dump());
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, u8),
    Remove(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Remove),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        match m {
            Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
            Mutation::Flip(i, x) => {
                let i = i.index(bytes.len());
                bytes[i] ^= x;
            }
            Mutation::Insert(i, b) => {
                let i = i.index(bytes.len() + 1);
                bytes.insert(i, *b);
            }
            Mutation::Remove(i) => {
                let i = i.index(bytes.len());
                bytes.remove(i);
            }
        }
    }
    bytes
}

/// Field names and tags the decoders look for, so that random trees reach
/// deep into them.
const KEYS: &[&str] = &[
    "cmd",
    "status",
    "type",
    "reason",
    "ping",
    "pong",
    "user_id",
    "device_id",
    "opaque_key_id",
    "opaque_key",
    "one_time_password",
    "token",
    "totp_secret",
    "wait_until",
    "bootstrap_token",
    "root_verify_key",
    "author",
    "timestamp",
    "human_handle",
    "public_key",
    "algorithm",
    "profile",
    "purpose",
    "device_label",
    "verify_key",
    "account",
    "openbao",
    "cryptpad",
    "advisory_device_file_protection",
    "organization_bootstrap",
    "auths",
    "secret",
    "server_url",
    "salt",
    "ciphertext",
    "created_on",
    "organization_id",
    "totp_opaque_key_id",
    "signing_key",
];
const TAGS: &[&str] = &[
    "ping",
    "ok",
    "throttled",
    "totp_fetch_opaque_key",
    "totp_setup_confirm",
    "totp_setup_get_secret",
    "totp_create_opaque_key",
    "organization_bootstrap",
    "server_config",
    "user_create",
    "device_create",
    "user_revoke",
    "timestamp_out_of_ballpark",
    "user_certificate",
    "device_certificate",
    "revoked_user_certificate",
    "password",
    "local_device",
    "ARGON2ID",
    "ENABLED",
    "DISABLED",
    "KV2",
    "ED25519",
    "X25519_XSALSA20_POLY1305",
    "ADMIN",
    "STANDARD",
];

fn msgpack_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::F64),
        any::<f32>().prop_map(Value::F32),
        any::<String>().prop_map(Value::from),
        prop::sample::select(TAGS).prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Binary),
        (
            prop_oneof![Just(1i8), Just(2i8), any::<i8>()],
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 8),
                proptest::collection::vec(any::<u8>(), 16),
                proptest::collection::vec(any::<u8>(), 0..20),
            ]
        )
            .prop_map(|(t, data)| Value::Ext(t, data)),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(Value::from),
                        any::<String>().prop_map(Value::from),
                        any::<i64>().prop_map(Value::from),
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(Value::Map),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn decoders_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        decode_everything(&bytes);
        // Behind the certificate format byte, zstd gets the random bytes.
        let mut v0 = vec![0u8];
        v0.extend(&bytes);
        let _ = format_v0_decompress(&v0);
        let _ = UserCertificate::load_serialized(&v0);
    }

    #[test]
    fn decoders_never_panic_on_mutated_messages(
        index in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        thread_local!(static CORPUS: Vec<Vec<u8>> = corpus());
        let original = CORPUS.with(|c| index.get(c).clone());
        decode_everything(&apply(original, &mutations));
    }

    #[test]
    fn decoders_never_panic_on_msgpack_trees(tree in msgpack_tree()) {
        let bytes = crate::vectors::to_msgpack(&tree);
        decode_everything(&bytes);
        // The same tree as a certificate payload, compressed as the official
        // format wants it.
        let serialized = format_v0_compress(&bytes);
        let _ = UserCertificate::load_serialized(&serialized);
        let _ = DeviceCertificate::load_serialized(&serialized);
        let _ = RevokedUserCertificate::load_serialized(&serialized);
    }

    /// Whatever parses is canonical: at most 32 bytes, and parsing its own
    /// rendering gives it back (NFC is idempotent).
    #[test]
    fn organization_ids_are_canonical(text in prop_oneof![any::<String>(), "[\\w\\-\u{301}\u{300}]{1,20}"]) {
        if let Ok(id) = OrganizationID::from_str(&text) {
            prop_assert!((1..=32).contains(&id.as_str().len()));
            prop_assert_eq!(OrganizationID::from_str(id.as_str()), Ok(id.clone()));
            prop_assert_eq!(OrganizationID::from_str(&id.to_string()), Ok(id));
        }
    }

    #[test]
    fn string_decoders_never_panic(text in any::<String>()) {
        parse_everything(&text);
    }

    #[test]
    fn string_decoders_never_panic_on_near_valid_input(
        prefix in prop::sample::select(vec![
            "parsec3://",
            "parsec3://host/Org?a=totp_reset&p=",
            "parsec3://host:6777/Org?no_ssl=true&a=bootstrap_organization&p=",
            "https://host/redirect/Org?a=totp_reset&p=",
            "http://[::1]:80/redirect/",
            "PARSEC-SIGN-ED25519.",
            "PARSEC-SIGN-ED25519.bb72f09cc8954b3fbd891a4944cb1dfb.",
            "2026-11-23T",
        ]),
        tail in "[ -~é]{0,60}",
        payload in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        use base64::Engine as _;
        parse_everything(&format!("{prefix}{tail}"));
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&payload);
        parse_everything(&format!("{prefix}{b64}"));
        parse_everything(&format!("{prefix}{b64}{tail}"));
    }

    #[test]
    fn rfc3339_parser_never_panics_on_numbers(
        parts in proptest::collection::vec(prop_oneof![any::<i64>().prop_map(|n| n.to_string()), "[0-9]{1,25}"], 6),
        frac in "[0-9]{0,6}",
    ) {
        let text = format!(
            "{}-{}-{}T{}:{}:{}{}{}Z",
            parts[0], parts[1], parts[2], parts[3], parts[4], parts[5],
            if frac.is_empty() { "" } else { "." },
            frac,
        );
        let _ = DateTime::parse_rfc3339(&text);
    }
}

// ---------------------------------------------------------------------------
// Malformed inputs, one per defect, each with its specific error

fn map(entries: &[(&str, Value)]) -> Vec<u8> {
    crate::vectors::to_msgpack(&Value::Map(
        entries.iter().map(|(k, v)| (Value::from(*k), v.clone())).collect(),
    ))
}

fn uuid_ext(byte: u8) -> Value {
    Value::Ext(2, vec![byte; 16])
}

/// `totp_fetch_opaque_key` with the given field values.
fn fetch_with(user_id: Value, opaque_key_id: Value, one_time_password: Option<Value>) -> Vec<u8> {
    let mut entries = vec![
        ("cmd", Value::from("totp_fetch_opaque_key")),
        ("user_id", user_id),
        ("opaque_key_id", opaque_key_id),
    ];
    if let Some(otp) = one_time_password {
        entries.push(("one_time_password", otp));
    }
    map(&entries)
}

#[test]
fn well_formed_fetch_decodes() {
    // The baseline the malformed cases below each break in one way.
    let bytes = fetch_with(uuid_ext(1), uuid_ext(2), Some(Value::from("123456")));
    assert_eq!(
        anonymous::AnyCmdReq::load(&bytes),
        Ok(anonymous::AnyCmdReq::TotpFetchOpaqueKey(
            anonymous::totp_fetch_opaque_key::Req {
                user_id: UserID::from_bytes([1; 16]),
                opaque_key_id: TOTPOpaqueKeyID::from_bytes([2; 16]),
                one_time_password: "123456".into(),
            }
        ))
    );
}

#[test]
fn truncated_msgpack_is_a_msgpack_error() {
    let bytes = fetch_with(uuid_ext(1), uuid_ext(2), Some(Value::from("123456")));
    for len in 0..bytes.len() {
        let result = anonymous::AnyCmdReq::load(&bytes[..len]);
        assert!(matches!(result, Err(DecodeError::Msgpack(_))), "{len}: {result:?}");
        let result = anonymous::totp_fetch_opaque_key::Req::load(&bytes[..len]);
        assert!(matches!(result, Err(DecodeError::Msgpack(_))), "{len}: {result:?}");
    }
}

#[test]
fn wrong_ext_type_for_a_user_id() {
    let bytes = fetch_with(Value::Ext(3, vec![1; 16]), uuid_ext(2), Some(Value::from("123456")));
    assert_eq!(
        anonymous::AnyCmdReq::load(&bytes),
        Err(DecodeError::InvalidField {
            field: "user_id",
            reason: ValueError::invalid("expected ext type 2, found ext type 3")
        })
    );
    // Nor are bin or str accepted in place of the extension.
    for not_ext in [
        Value::Binary(vec![1; 16]),
        Value::from("01010101010101010101010101010101"),
    ] {
        let bytes = fetch_with(not_ext, uuid_ext(2), Some(Value::from("123456")));
        assert!(matches!(
            anonymous::AnyCmdReq::load(&bytes),
            Err(DecodeError::InvalidField { field: "user_id", .. })
        ));
    }
}

#[test]
fn wrong_ext_length_for_a_user_id() {
    let bytes = fetch_with(Value::Ext(2, vec![1; 15]), uuid_ext(2), Some(Value::from("123456")));
    assert_eq!(
        anonymous::AnyCmdReq::load(&bytes),
        Err(DecodeError::InvalidField {
            field: "user_id",
            reason: ValueError::invalid("ext 2 must hold 16 bytes, found 15")
        })
    );
}

#[test]
fn wrong_field_type_for_the_code() {
    let bytes = fetch_with(uuid_ext(1), uuid_ext(2), Some(Value::from(123456)));
    assert_eq!(
        anonymous::AnyCmdReq::load(&bytes),
        Err(DecodeError::InvalidField {
            field: "one_time_password",
            reason: ValueError::WrongKind {
                expected: "a string",
                found: "an integer"
            }
        })
    );
}

#[test]
fn missing_field() {
    let bytes = fetch_with(uuid_ext(1), uuid_ext(2), None);
    assert_eq!(
        anonymous::AnyCmdReq::load(&bytes),
        Err(DecodeError::MissingField("one_time_password"))
    );
    assert_eq!(
        anonymous::totp_fetch_opaque_key::Req::load(&bytes),
        Err(DecodeError::MissingField("one_time_password"))
    );
}

#[test]
fn extra_field_in_a_request_without_fields_is_refused() {
    let bytes = map(&[("cmd", Value::from("totp_setup_get_secret")), ("extra", Value::from(1))]);
    assert_eq!(
        authenticated::AnyCmdReq::load(&bytes),
        Err(DecodeError::UnexpectedField("extra".into()))
    );
    assert_eq!(
        authenticated::totp_setup_get_secret::Req::load(&bytes),
        Err(DecodeError::UnexpectedField("extra".into()))
    );
    let bytes = map(&[("cmd", Value::from("server_config")), ("extra", Value::Nil)]);
    assert_eq!(
        anonymous_server::AnyCmdReq::load(&bytes),
        Err(DecodeError::UnexpectedField("extra".into()))
    );
}

#[test]
fn extra_field_in_a_request_with_fields_is_ignored() {
    // The official decoder ignores unknown keys there (HS-10).
    let bytes = map(&[
        ("cmd", Value::from("totp_setup_confirm")),
        ("one_time_password", Value::from("123456")),
        ("extra", Value::from(1)),
    ]);
    assert_eq!(
        authenticated::AnyCmdReq::load(&bytes),
        Ok(authenticated::AnyCmdReq::TotpSetupConfirm(
            authenticated::totp_setup_confirm::Req {
                one_time_password: "123456".into()
            }
        ))
    );
}

#[test]
fn unknown_command() {
    let bytes = map(&[("cmd", Value::from("nothing"))]);
    for result in [
        anonymous::AnyCmdReq::load(&bytes).err(),
        authenticated::AnyCmdReq::load(&bytes).err(),
        anonymous_server::AnyCmdReq::load(&bytes).err(),
        anonymous::totp_fetch_opaque_key::Req::load(&bytes).err(),
    ] {
        assert_eq!(result, Some(DecodeError::UnknownCommand("nothing".into())));
    }
}

#[test]
fn structural_defects() {
    assert_eq!(
        anonymous::AnyCmdReq::load(&crate::vectors::to_msgpack(&Value::Array(vec![Value::from("ping")]))),
        Err(DecodeError::NotAMap("an array"))
    );
    assert_eq!(
        anonymous::AnyCmdReq::load(&map(&[("ping", Value::from("x"))])),
        Err(DecodeError::MissingField("cmd"))
    );
    assert_eq!(
        anonymous::AnyCmdReq::load(&map(&[("cmd", Value::from(1))])),
        Err(DecodeError::InvalidField {
            field: "cmd",
            reason: ValueError::WrongKind {
                expected: "a string",
                found: "an integer"
            }
        })
    );
    assert_eq!(
        anonymous::AnyCmdReq::load(&map(&[("cmd", Value::from("ping")), ("cmd", Value::from("ping"))])),
        Err(DecodeError::DuplicateField("cmd".into()))
    );
    let non_string_key = crate::vectors::to_msgpack(&Value::Map(vec![(Value::from(1), Value::Nil)]));
    assert_eq!(
        anonymous::AnyCmdReq::load(&non_string_key),
        Err(DecodeError::NonStringKey)
    );
    // A reply without status, and one whose known status lacks a field.
    assert_eq!(
        anonymous::totp_fetch_opaque_key::Rep::load(&map(&[])),
        Err(DecodeError::MissingField("status"))
    );
    assert_eq!(
        anonymous::totp_fetch_opaque_key::Rep::load(&map(&[("status", Value::from("throttled"))])),
        Err(DecodeError::MissingField("wait_until"))
    );
    // A wrong-sized key and token.
    assert!(matches!(
        anonymous::totp_fetch_opaque_key::Rep::load(&map(&[
            ("status", Value::from("ok")),
            ("opaque_key", Value::Binary(vec![0; 31]))
        ])),
        Err(DecodeError::InvalidField {
            field: "opaque_key",
            ..
        })
    ));
    assert!(matches!(
        anonymous::AnyCmdReq::load(&map(&[
            ("cmd", Value::from("totp_setup_get_secret")),
            ("user_id", uuid_ext(1)),
            ("token", Value::Binary(vec![0; 17]))
        ])),
        Err(DecodeError::InvalidField { field: "token", .. })
    ));
}

/// A certificate signed by a known key (the recorded root key of the
/// transcript's bootstrap).
fn signed_user_certificate() -> (Vec<u8>, VerifyKey) {
    let transcript = crate::vectors::load_json("transcripts/official-3.9.3-mfa-lifecycle.json");
    let root = SigningKey(crate::vectors::unhex_array(
        transcript["keys"]["root_signing_key"].as_str().unwrap(),
    ));
    let bootstrap = transcript["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "anonymous_organization_bootstrap")
        .unwrap();
    let req = anonymous::organization_bootstrap::Req::load(&crate::vectors::unhex(
        bootstrap["request_body_hex"].as_str().unwrap(),
    ))
    .unwrap();
    (req.user_certificate.0, root.verify_key())
}

#[test]
fn bad_signature() {
    let (signed, vk) = signed_user_certificate();
    assert!(UserCertificate::verify_and_load(&signed, &vk, CertificateSigner::Root, None).is_ok());
    // A flipped byte in the signature, or in the signed data.
    for position in [0, 63, 64, 100, signed.len() - 1] {
        let mut tampered = signed.clone();
        tampered[position] ^= 0x01;
        assert_eq!(
            UserCertificate::verify_and_load(&tampered, &vk, CertificateSigner::Root, None),
            Err(CertificateError::Crypto(CryptoError::BadSignature)),
            "byte {position}"
        );
    }
    assert_eq!(
        UserCertificate::verify_and_load(&signed[..63], &vk, CertificateSigner::Root, None),
        Err(CertificateError::Crypto(CryptoError::SignedDataTooShort))
    );
    assert_eq!(
        UserCertificate::unsecure_load(&signed[..10]),
        Err(CertificateError::Crypto(CryptoError::SignedDataTooShort))
    );
}

#[test]
fn bad_zstd_and_bad_format() {
    let (signed, _) = signed_user_certificate();
    let serialized = &signed[64..];
    assert!(format_v0_decompress(serialized).is_ok());

    // Garbage after the format byte, and a truncated zstd frame.
    let mut garbage = vec![0x00];
    garbage.extend_from_slice(b"not zstd at all");
    assert!(matches!(format_v0_decompress(&garbage), Err(CertificateError::Zstd(_))));
    assert!(matches!(
        UserCertificate::load_serialized(&serialized[..serialized.len() - 4]),
        Err(CertificateError::Zstd(_))
    ));
    // Unknown serialization format, empty input.
    let mut v1 = serialized.to_vec();
    v1[0] = 0x01;
    assert_eq!(format_v0_decompress(&v1), Err(CertificateError::UnknownFormat(0x01)));
    assert_eq!(format_v0_decompress(&[]), Err(CertificateError::Empty));
    // A zstd bomb: 2 MiB of zeros compress to a few bytes, and are refused.
    let bomb = format_v0_compress(&vec![0u8; 2 * 1024 * 1024]);
    assert!(bomb.len() < 1024);
    assert_eq!(
        format_v0_decompress(&bomb),
        Err(CertificateError::Zstd("decompressed data too large".into()))
    );
    // Valid zstd of something that is not a certificate map.
    assert!(matches!(
        UserCertificate::load_serialized(&format_v0_compress(&crate::vectors::to_msgpack(&Value::from(1)))),
        Err(CertificateError::Decode(DecodeError::NotAMap("an integer")))
    ));
}

#[test]
fn bad_base64_in_a_reset_url() {
    let invalid_p = AddrError::InvalidParamValue {
        param: "p",
        help: "Invalid `p` parameter",
    };
    let base = "parsec3://parsec.example.com/MyOrg?a=totp_reset&p=";
    // The valid payload, then the same with characters outside url-safe base64.
    let valid = "ktgC5uBlC2PtSROERx5RQj3gmMQQM0csV0obtCB37VuV6O3X-w";
    assert!(TotpResetAddr::parse_any(&format!("{base}{valid}")).is_ok());
    for bad in [
        "ktgC5uBlC2PtSROERx5RQj3gmMQQM0csV0obtCB37VuV6O3X+w",
        "!!!!",
        "ktgC5uBlC2Pt*",
        "a",
    ] {
        assert_eq!(
            TotpResetAddr::parse_any(&format!("{base}{bad}")),
            Err(invalid_p.clone()),
            "{bad}"
        );
    }
    // And in the bootstrap URL.
    assert_eq!(
        BootstrapAddr::parse_any("parsec3://parsec.example.com/MyOrg?a=bootstrap_organization&p=@@@"),
        Err(invalid_p)
    );
}

#[test]
fn bad_base64_in_a_token() {
    let device = "bb72f09cc8954b3fbd891a4944cb1dfb";
    let key = fuzz_key();
    let good = AuthenticatedToken::build(DeviceID::from_hex(device).unwrap(), &key, 1_795_421_520);
    assert!(AuthenticatedToken::parse(&good).is_ok());
    let signed_part = good.rsplit_once('.').unwrap().0;
    for bad in ["@@@", "a+b/", "A"] {
        assert_eq!(
            AuthenticatedToken::parse(&format!("{signed_part}.{bad}")),
            Err(TokenFormatError("signature is not url-safe base64")),
            "{bad}"
        );
    }
    assert_eq!(
        AuthenticatedToken::parse(&format!("PARSEC-SIGN-ED25519.{device}.soon.AA==")),
        Err(TokenFormatError("bad timestamp"))
    );
    assert_eq!(
        AuthenticatedToken::parse("PARSEC-SIGN-ED25519.nothex.1.AA=="),
        Err(TokenFormatError("bad device id"))
    );
}

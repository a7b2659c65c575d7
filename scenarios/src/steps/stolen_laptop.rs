//! The stolen laptop (a client rule): a copy of a person's computer and
//! their password must open nothing without a valid code, online or
//! offline, and the computer must hold neither the authenticator key nor
//! the opaque key the server releases for it (asked for here with a valid
//! code, with the ids the client shows). Checked through a command client only: the
//! harness copies the client's folder as a thief would, and reads its
//! files as bytes, whatever their format.

use super::through_client::{self, CodeAtLogin, command_client, computer};
use super::user::wrong_code;
use crate::client::not_run;
use crate::world::{Device, Held, MfaWorld, Name, Person};
use cucumber::{then, when};
use parsec_mfa_reference::client::config_dir::ConfigDir;
use parsec_mfa_reference::client::mfa::fetch_opaque_key;
use parsec_mfa_reference::totp;
use std::path::Path;

pub static ANCHOR: &str = "stolen laptop steps";

/// The most of a file the check reads: a client's files are small, and a
/// huge one is read in part rather than whole.
const READ_LIMIT: u64 = 16 << 20;

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[when(expr = "{person} copies {person}'s computer and learns her/his password")]
fn copies_computer(world: &mut MfaWorld, thief: Name, victim: Name) {
    if command_client(world, &victim).is_none() {
        not_run("the thief copies a command client's folder");
    }
    let from = computer(world, &victim);
    let to = computer(world, &thief);
    copy_dir(&from, &to).unwrap_or_else(|e| panic!("{} cannot be copied: {e}", from.display()));
    let owner = world.person_ref(&victim);
    let id = owner
        .device()
        .command_id()
        .expect("a device the client under test made")
        .to_owned();
    let ids = match &owner.device().held {
        Held::Command { ids, .. } => ids.clone(),
        Held::Library(_) => None,
    };
    // The thief has the laptop and the password, not the phone.
    let device = Device {
        config: ConfigDir::new(to),
        organization: owner.device().organization.clone(),
        held: Held::Command {
            id,
            protected: true,
            ids,
        },
    };
    let person = Person::new(
        owner.organization.clone(),
        owner.email.clone(),
        owner.password.clone(),
        device,
        owner.profile_in_organization,
    );
    world.people.insert(thief.to_lowercase(), person);
}

#[then(expr = "{person} cannot open {person}'s device without a valid code")]
async fn cannot_open(world: &mut MfaWorld, thief: Name, victim: Name) {
    let client = command_client(world, &thief).expect("a command client (the copy is its folder)");
    let password = world.person_ref(&thief).password.clone();
    for code in [None, Some(wrong_code(world, &victim))] {
        let tried = code.clone();
        let outcome = through_client::login(world, &client, &thief, CodeAtLogin::Typed(code), password.clone()).await;
        let opened = outcome.is_ok();
        through_client::logout(world, &thief).await;
        assert!(
            !opened,
            "the copy of {victim}'s computer opened with her password and {}",
            match tried {
                None => "no code".to_owned(),
                Some(code) => format!("the wrong code {code}"),
            }
        );
    }
}

/// The key the server releases for the person's device against a valid
/// code: asked for here as the client asks for it (its ids are what the
/// client's `device show` printed), to look for it on disk.
async fn released_key(world: &MfaWorld, name: &str) -> Vec<u8> {
    let device = world.person_ref(name).device();
    let (user_id, key_id) = (
        device.user_id(),
        device.opaque_key_id().expect("MFA protects the device"),
    );
    let code = super::user::app_code(world, name).await;
    let conn = world.started().direct_connection_to(&device.organization);
    fetch_opaque_key(&conn, user_id, key_id, &code)
        .await
        .unwrap_or_else(|e| panic!("the server releases {name}'s key for her code: {e}"))
        .as_bytes()
        .to_vec()
}

/// A key as bytes, and as a program might write it: hex, base32, base64.
fn written_forms(key: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let base32 = totp::base32(key);
    let hex = hex::encode(key);
    [
        key.to_vec(),
        base32.clone().into_bytes(),
        base32.to_lowercase().into_bytes(),
        hex.clone().into_bytes(),
        hex.to_uppercase().into_bytes(),
        base64::engine::general_purpose::STANDARD_NO_PAD
            .encode(key)
            .into_bytes(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(key)
            .into_bytes(),
    ]
    .into()
}

#[then(expr = "no file of {person}'s computer holds her/his authenticator key or the key the server released")]
async fn no_key_on_disk(world: &mut MfaWorld, name: Name) {
    let released = released_key(world, &name).await;
    let secrets: Vec<Vec<u8>> = world
        .person_ref(&name)
        .phone
        .entries()
        .iter()
        .map(|e| e.secret.clone())
        .collect();
    assert!(!secrets.is_empty(), "{name}'s phone has an entry");
    let forms: Vec<Vec<u8>> = secrets
        .iter()
        .chain([&released])
        .flat_map(|key| written_forms(key))
        .collect();
    let mut found = Vec::new();
    scan(&computer(world, &name), &forms, &mut found);
    assert!(
        found.is_empty(),
        "{name}'s authenticator key or the key the server released is on disk, in {found:?}"
    );
}

fn scan(dir: &Path, forms: &[Vec<u8>], found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            scan(&path, forms, found);
            continue;
        }
        let mut bytes = Vec::new();
        let read = std::fs::File::open(&path).and_then(|f| {
            use std::io::Read as _;
            f.take(READ_LIMIT).read_to_end(&mut bytes)
        });
        if read.is_ok()
            && forms
                .iter()
                .any(|form| bytes.windows(form.len()).any(|w| w == form.as_slice()))
        {
            found.push(path.display().to_string());
        }
    }
}

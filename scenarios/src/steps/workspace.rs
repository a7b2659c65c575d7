//! The workspace once logged in: files read, written and listed, with
//! or without the server (a command client's workspace shell, kept open
//! since the login).

use super::through_client::{self, command_client};
use crate::world::{MfaWorld, Name};
use cucumber::{given, then, when};
use parsec_mfa_reference::client::workspace::Workspace;

pub static ANCHOR: &str = "workspace steps";

fn workspace(world: &MfaWorld, name: &str) -> Workspace {
    let person = world.person_ref(name);
    let session = person
        .session
        .as_ref()
        .unwrap_or_else(|| panic!("{name} is not logged in"));
    let device = person.device();
    Workspace::open(
        device.config.workspace_dir(session.device_id),
        session.local_symkey.clone(),
    )
}

#[given(expr = "{person} writes {string} in the file {string}")]
#[when(expr = "{person} writes {string} in the file {string}")]
async fn writes(world: &mut MfaWorld, name: Name, text: String, file: String) {
    if command_client(world, &name).is_some() {
        let said = through_client::shell(world, &name, &format!("write {file} {text}")).await;
        assert_eq!(said, [format!("Saved {file}")], "the shell's answer to `write`");
        return;
    }
    workspace(world, &name)
        .write(&file, text.as_bytes())
        .expect("the file is written");
}

#[then(expr = "{person} reads {string} in the file {string}")]
async fn reads(world: &mut MfaWorld, name: Name, text: String, file: String) {
    let content = match command_client(world, &name) {
        Some(_) => through_client::shell(world, &name, &format!("cat {file}"))
            .await
            .join("\n"),
        None => {
            let content = workspace(world, &name).read(&file).expect("the file is read");
            String::from_utf8_lossy(&content).into_owned()
        }
    };
    assert_eq!(content, text);
}

#[then(expr = "{person}'s workspace lists {string}")]
async fn lists(world: &mut MfaWorld, name: Name, listing: String) {
    let expected: Vec<String> = listing.split(", ").map(str::to_owned).collect();
    let listed = match command_client(world, &name) {
        Some(_) => through_client::shell(world, &name, "ls").await,
        None => workspace(world, &name).list().expect("the workspace lists"),
    };
    assert_eq!(listed, expected);
}

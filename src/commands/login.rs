//! `parsec-mfa login`: log in with a device (code first, then password),
//! then work in its local workspace, which needs no server.
//!
//! After login, commands are read one per line from stdin (a prompt is shown
//! on a terminal): `ls`, `cat NAME`, `write NAME TEXT…`, `append NAME TEXT…`,
//! `rm NAME`, `echo TEXT`, `help`, `exit`.

use super::client_faults::{self, ClientFault};
use super::common::{DeviceArgs, Policy, connection_for, open_device};
use super::failure::Failure;
use super::input::Input;
use clap::Args;
use parsec_mfa_reference::client::Connection;
use parsec_mfa_reference::client::workspace::{Workspace, WorkspaceError};
use std::io::{IsTerminal, Write};

#[derive(Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
}

pub async fn run(args: LoginArgs) -> Result<(), Failure> {
    let args = args.device;
    let dir = args.config.dir();
    let (_, file) = dir.find_device(&args.device)?;
    let conn = connection_for(&file, &args.network)?;
    let mut input = Input::new(args.password.password_stdin);
    let device = open_device(&conn, &file, args.code.as_deref(), &mut input, Policy::Enforce).await?;
    println!(
        "Logged in as {} on {} ({})",
        device.human_handle.email,
        device.organization_id.as_str(),
        device.device_label
    );
    let workspace = Workspace::open(dir.workspace_dir(device.device_id), device.local_symkey.clone());
    shell(&workspace, &mut input, &conn).await
}

async fn shell(workspace: &Workspace, input: &mut Input, conn: &Connection) -> Result<(), Failure> {
    let interactive = std::io::stdin().is_terminal();
    let mut failed = false;
    loop {
        if interactive {
            print!("workspace> ");
            let _ = std::io::stdout().flush();
        }
        let Some(line) = input.line() else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "exit" || line == "quit" {
            break;
        }
        // The `workspace-needs-server` defect: nothing works offline.
        if client_faults::on(ClientFault::WorkspaceNeedsServer)
            && let Err(e) = conn.server_config().await
        {
            eprintln!("The workspace needs the server: {e}");
            failed = true;
            continue;
        }
        if let Err(message) = execute(workspace, line) {
            eprintln!("{message}");
            failed = true;
        }
    }
    if failed {
        Err(Failure::general("Some workspace commands failed (see above)."))
    } else {
        Ok(())
    }
}

/// Why a line of the workspace shell did nothing.
#[derive(Debug, thiserror::Error)]
enum ShellError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("Unknown command `{0}` (try `help`).")]
    Unknown(String),
}

fn execute(workspace: &Workspace, line: &str) -> Result<(), ShellError> {
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let (name, text) = rest.trim_start().split_once(' ').unwrap_or((rest.trim(), ""));
    match verb {
        "ls" => {
            for name in workspace.list()? {
                println!("{name}");
            }
        }
        "cat" => {
            let content = workspace.read(name)?;
            println!("{}", String::from_utf8_lossy(&content));
        }
        "write" => {
            workspace.write(name, text.as_bytes())?;
            println!("Saved {name}");
        }
        "append" => {
            let mut content = match workspace.read(name) {
                Ok(content) => content,
                Err(WorkspaceError::NotFound(_)) => Vec::new(),
                Err(other) => return Err(other.into()),
            };
            if !content.is_empty() {
                content.push(b'\n');
            }
            content.extend_from_slice(text.as_bytes());
            workspace.write(name, &content)?;
            println!("Saved {name}");
        }
        "rm" => {
            workspace.remove(name)?;
            println!("Removed {name}");
        }
        // Prints its text: a script (the conformance harness) marks with it
        // where the output of the commands before it ends.
        "echo" => println!("{}", rest.trim()),
        "help" => println!("ls | cat NAME | write NAME TEXT | append NAME TEXT | rm NAME | echo TEXT | exit"),
        other => return Err(ShellError::Unknown(other.to_owned())),
    }
    Ok(())
}

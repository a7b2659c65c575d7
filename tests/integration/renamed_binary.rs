//! The command-line steps run this program whatever its file name: the
//! built binary copied under another name runs the scenarios that drive
//! `parsec-mfa user …` and `parsec-mfa login` (tagged `@guide`) and they
//! pass, with no `PARSEC_MFA_BIN` to point at it.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");

#[test]
fn a_renamed_binary_runs_the_command_line_scenarios() {
    let dir = std::env::temp_dir().join(format!("parsec-mfa-renamed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let renamed = dir.join(format!("my-parsec{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(BINARY, &renamed).unwrap();
    let reports = dir.join("reports");
    let out = Command::new(&renamed)
        .args(["conformance", "--target", "in-process", "--tags", "@guide", "--reports"])
        .arg(&reports)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("PARSEC_MFA_BIN")
        .output()
        .unwrap();
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !console.contains("cannot run"),
        "a step ran another program:\n{console}"
    );
    assert_eq!(out.status.code(), Some(0), "{console}");
    assert!(
        console.contains(" passed, 0 failed, 0 skipped") && !console.contains(" 0 passed,"),
        "no command-line scenario ran:\n{console}"
    );
}

//! Real deployments: servers behind TLS, and an implementation shipped as a
//! container image.
//!
//! - an authority and a certificate for `localhost`, made here with rcgen;
//! - the reference server serving TLS (`serve --ssl-certfile/--ssl-keyfile`):
//!   a conformance run (a few scenarios: admin resets, email, reset links)
//!   through `url=https://localhost:PORT --ca-cert`; the administrator's and
//!   the client's commands through `parsec3://localhost:PORT` addresses;
//!   `bench --ca-cert` (20 requests, no error); an untrusted authority, no
//!   authority, or another name: one `Error:` line, exit 9 (bench: exit
//!   1, as for its other failures);
//! - the official server started with its own TLS flags (`parsec run
//!   --ssl-certfile/--ssl-keyfile`): the same conformance run. Without
//!   Python 3.12: SKIPPED, unless `PARSEC_MFA_REQUIRE_OFFICIAL=1`;
//! - an image of the reference server built here (`docker import` of its
//!   binary, the libraries `ldd` lists and the loader): a conformance run
//!   with `--target image=…`, then no container left; a run stopped by
//!   Ctrl-C leaves none either. Without a Docker engine: SKIPPED, unless
//!   `PARSEC_MFA_REQUIRE_DOCKER=1`.
//!
//! Reports in `reports/deployments/`.

use parsec_mfa_reference::client::tls::HttpSettings;
use parsec_mfa_scenarios::report::TargetReport;
use parsec_mfa_scenarios::servers::{
    ServerOptions, ServerProcess, cargo_target_dir, find_python312, free_port, install_official, official_command,
};
use parsec_mfa_scenarios::testing::run::Run;
use parsec_mfa_scenarios::testing::{ADMIN_TOKEN, available};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
/// Admin resets with and without email, and reset links: the client
/// through the Network, the administrator, and the mailbox, untimed.
const TAGS: &str = "@RST-10 or @RST-6";
const IMAGE: &str = "parsec-mfa-reference:test";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn reports() -> PathBuf {
    root().join("reports").join("deployments")
}

/// The authority, the server's certificate for `localhost` (only: an IP
/// address is another name), and an authority nobody trusts.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    rogue_ca: PathBuf,
}

fn authority(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    CertifiedIssuer::self_signed(params, key).map_err(|e| e.to_string())
}

fn make_pki(dir: &Path) -> Result<Pki, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let ca = authority("parsec-mfa test authority")?;
    let rogue = authority("an authority nobody trusts")?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(|e| e.to_string())?;
    params.distinguished_name.push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params.signed_by(&key, &ca).map_err(|e| e.to_string())?;
    let pki = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
        rogue_ca: dir.join("rogue-ca.pem"),
    };
    for (path, pem) in [
        (&pki.ca, ca.pem()),
        (&pki.cert, cert.pem()),
        (&pki.key, key.serialize_pem()),
        (&pki.rogue_ca, rogue.pem()),
    ] {
        std::fs::write(path, pem).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(pki)
}

fn parsec_mfa(args: &[&str], stdin: &str) -> Run {
    Run::of(Command::new(BINARY).args(args).current_dir(root()), stdin)
}

/// A conformance run of the few scenarios of [`TAGS`] that must all pass.
fn conformance_passes(what: &str, folder: &str, report_name: &str, args: &[&str]) -> Result<(), String> {
    let reports = reports().join(folder);
    let _ = std::fs::remove_dir_all(&reports);
    let reports_arg = reports.display().to_string();
    let mut all = vec!["conformance", "--tags", TAGS, "--reports", &reports_arg];
    all.extend_from_slice(args);
    let run = parsec_mfa(&all, "");
    let _ = std::fs::write(reports.join("console.log"), run.console());
    let report =
        TargetReport::load(&reports.join(report_name)).map_err(|e| format!("{what}: {e}\n{}", run.tail(12)))?;
    let totals = report.totals();
    println!("{what}: {} in {:.1} s (exit {})", totals.line(), run.seconds, run.code);
    if run.code != 0 || totals.failed != 0 || totals.passed < 4 {
        return Err(format!(
            "{what}: exit {}, {}\n{}",
            run.code,
            totals.line(),
            run.tail(12)
        ));
    }
    Ok(())
}

/// A refusal: exit 9 and exactly one `Error:` line, which says `expected`.
fn refused(what: &str, run: &Run, expected: &str) -> Result<(), String> {
    let console = run.console();
    // A password prompt (`--password-stdin`) may precede it on its line.
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .filter_map(|l| l.find("Error:").map(|at| &l[at..]))
        .collect();
    if run.code != 9 || errors.len() != 1 || !errors[0].contains(expected) {
        return Err(format!(
            "{what}: expected exit 9 and one `Error:` line saying `{expected}`; got exit {} and:\n{console}",
            run.code
        ));
    }
    println!("{what}: exit 9, {}", errors[0]);
    Ok(())
}

/// Waits until an HTTPS server answers on `port` (any status), or fails
/// with its log.
fn wait_https(server: &ServerProcess, ca: &Path, timeout: Duration) -> Result<(), String> {
    let client = HttpSettings::trusting_file(ca)
        .and_then(|settings| settings.client())
        .map_err(|e| e.to_string())?;
    let url = format!("https://localhost:{}/", server.port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    loop {
        let answered =
            runtime.block_on(async { client.get(&url).timeout(Duration::from_secs(2)).send().await.is_ok() });
        if answered {
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(format!("{} did not answer on {url}: {}", server.name, server.log()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn log_dir() -> PathBuf {
    let dir = reports().join("servers");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The reference server over TLS, the harness and the commands against it.
fn tls_reference(pki: &Pki) -> Result<(), String> {
    let (port, smtp) = (free_port(), free_port());
    let mut command = Command::new(BINARY);
    command.args(["serve", "--db", "MOCKED", "--port", &port.to_string()]);
    command.args(["--administration-token", ADMIN_TOKEN]);
    command.args(["--server-addr", &format!("parsec3://localhost:{port}")]);
    command.args(["--email-host", "127.0.0.1", "--email-port", &smtp.to_string()]);
    command.args(["--email-sender", "parsec@example.com"]);
    command.arg("--ssl-certfile").arg(&pki.cert);
    command.arg("--ssl-keyfile").arg(&pki.key);
    let log = log_dir().join(format!("reference-tls-{port}.log"));
    let server =
        ServerProcess::launch("the reference server (TLS)", command, port, log, false).map_err(|e| e.to_string())?;
    wait_https(&server, &pki.ca, Duration::from_secs(10))?;
    let url = format!("url=https://localhost:{port}");
    let ca = pki.ca.display().to_string();
    let smtp_listen = format!("127.0.0.1:{smtp}");
    let common = ["--admin-token", ADMIN_TOKEN, "--smtp-listen", &smtp_listen];
    let mut args = vec!["--target", &url, "--ca-cert", &ca];
    args.extend_from_slice(&common);
    conformance_passes(
        "the reference over TLS",
        "tls-reference",
        &format!("url-localhost-{port}"),
        &args,
    )?;

    // The same server, not trusted: one line, exit 9, before any scenario.
    let rogue = pki.rogue_ca.display().to_string();
    let reports_arg = reports().join("refused").display().to_string();
    let refused_run = |target: &str, ca: Option<&str>| {
        let mut args = vec![
            "conformance",
            "--target",
            target,
            "--reports",
            &reports_arg,
            "--tags",
            TAGS,
        ];
        if let Some(ca) = ca {
            args.extend(["--ca-cert", ca]);
        }
        args.extend_from_slice(&common);
        parsec_mfa(&args, "")
    };
    refused(
        "conformance, an authority that did not sign it",
        &refused_run(&url, Some(&rogue)),
        "UnknownIssuer",
    )?;
    refused(
        "conformance, the system's authorities",
        &refused_run(&url, None),
        "UnknownIssuer",
    )?;
    let by_ip = format!("url=https://127.0.0.1:{port}");
    refused(
        "conformance, a certificate for another name",
        &refused_run(&by_ip, Some(&ca)),
        "for another name",
    )?;

    // The administrator's and the client's commands through parsec3://
    // addresses without no_ssl.
    let addr = format!("parsec3://localhost:{port}");
    let create = |ca: &str, org: &str| {
        parsec_mfa(
            &[
                "organization",
                "create",
                "--addr",
                &addr,
                "--token",
                ADMIN_TOKEN,
                "--ca-cert",
                ca,
                org,
            ],
            "",
        )
    };
    refused(
        "organization create, an untrusted authority",
        &create(&rogue, "TlsRefused"),
        "UnknownIssuer",
    )?;
    let created = create(&ca, "TlsOrg");
    let link = created
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Bootstrap URL: "))
        .ok_or_else(|| format!("organization create: exit {}\n{}", created.code, created.console()))?
        .to_owned();
    if !link.starts_with(&format!("parsec3://localhost:{port}/TlsOrg?")) || link.contains("no_ssl") {
        return Err(format!("the bootstrap link is not a TLS address: {link}"));
    }
    let config = reports().join("client-config");
    let _ = std::fs::remove_dir_all(&config);
    let config_arg = config.display().to_string();
    let bootstrap = |ca: &str| {
        parsec_mfa(
            &[
                "organization",
                "bootstrap",
                &link,
                "--email",
                "alice@example.com",
                "--name",
                "Alice",
                "--kdf-cost",
                "minimal",
                "--password-stdin",
                "--deadline",
                "5",
                "--ca-cert",
                ca,
                "--config-dir",
                &config_arg,
            ],
            "P@ssw0rd\n",
        )
    };
    refused(
        "organization bootstrap, an untrusted authority",
        &bootstrap(&rogue),
        "UnknownIssuer",
    )?;
    let bootstrapped = bootstrap(&ca);
    if bootstrapped.code != 0 || !bootstrapped.stdout.contains("Organization TlsOrg bootstrapped") {
        return Err(format!(
            "organization bootstrap over TLS: exit {}\n{}",
            bootstrapped.code,
            bootstrapped.console()
        ));
    }
    println!("organization create and bootstrap over TLS: ok");

    // `bench` over TLS: trusted with --ca-cert; refused with another
    // authority, in one `Error:` line.
    let base = format!("https://localhost:{port}");
    let bench = |ca: &str| {
        parsec_mfa(
            &[
                "bench",
                "--addr",
                &base,
                "--admin-token",
                ADMIN_TOKEN,
                "--requests",
                "20",
                "--connections",
                "2",
                "--ca-cert",
                ca,
            ],
            "",
        )
    };
    let trusted = bench(&ca);
    if trusted.code != 0
        || !trusted.stdout.lines().any(|l| l == "requests: 20")
        || !trusted.stdout.contains("errors: 0")
    {
        return Err(format!("bench over TLS: exit {}\n{}", trusted.code, trusted.console()));
    }
    println!("bench over TLS: 20 requests, 0 errors");
    let untrusted = bench(&rogue);
    let errors: Vec<&str> = untrusted.stderr.lines().filter(|l| l.starts_with("Error:")).collect();
    if untrusted.code == 0 || errors.len() != 1 || !errors[0].contains("UnknownIssuer") {
        return Err(format!(
            "bench, an untrusted authority: expected a failure and one `Error:` line naming it; got exit {}:\n{}",
            untrusted.code,
            untrusted.console()
        ));
    }
    println!("bench, an untrusted authority: exit {}, {}", untrusted.code, errors[0]);
    drop(server);
    Ok(())
}

/// The official server started with its own TLS flags.
fn tls_official(pki: &Pki) -> Result<(), String> {
    let target_dir = cargo_target_dir(root().join("target"));
    let venv = install_official(&target_dir, "3.9.3").map_err(|e| e.to_string())?;
    let (port, smtp) = (free_port(), free_port());
    let options = ServerOptions {
        administration_token: ADMIN_TOKEN.into(),
        smtp_port: Some(smtp),
        advisory_device_file_protection: Vec::new(),
        log_dir: log_dir(),
    };
    let mut command = official_command(&venv, port, &options, None).map_err(|e| e.to_string())?;
    // The last --server-addr is the one `parsec run` keeps.
    command.args(["--server-addr", &format!("parsec3://localhost:{port}")]);
    command.arg("--ssl-certfile").arg(&pki.cert);
    command.arg("--ssl-keyfile").arg(&pki.key);
    let log = log_dir().join(format!("official-tls-{port}.log"));
    let server =
        ServerProcess::launch("the official server (TLS)", command, port, log, false).map_err(|e| e.to_string())?;
    wait_https(&server, &pki.ca, Duration::from_secs(60))?;
    let url = format!("url=https://localhost:{port}");
    let ca = pki.ca.display().to_string();
    let smtp_listen = format!("127.0.0.1:{smtp}");
    conformance_passes(
        "the official 3.9.3 over TLS",
        "tls-official",
        &format!("url-localhost-{port}"),
        &[
            "--target",
            &url,
            "--ca-cert",
            &ca,
            "--admin-token",
            ADMIN_TOKEN,
            "--smtp-listen",
            &smtp_listen,
        ],
    )?;
    let rogue = pki.rogue_ca.display().to_string();
    let reports_arg = reports().join("refused").display().to_string();
    refused(
        "conformance against the official server, an untrusted authority",
        &parsec_mfa(
            &[
                "conformance",
                "--target",
                &url,
                "--ca-cert",
                &rogue,
                "--admin-token",
                ADMIN_TOKEN,
                "--reports",
                &reports_arg,
            ],
            "",
        ),
        "UnknownIssuer",
    )?;
    drop(server);
    Ok(())
}

fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("docker: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// An image of the reference server: its binary, the shared libraries
/// `ldd` lists (with the loader), a minimal /etc/passwd, run as a user.
fn build_image() -> Result<(), String> {
    let rootfs = reports().join("image-rootfs");
    let _ = std::fs::remove_dir_all(&rootfs);
    let copy = |from: &Path, to: &Path| -> Result<(), String> {
        let dest = rootfs.join(to.strip_prefix("/").unwrap_or(to));
        std::fs::create_dir_all(dest.parent().expect("a folder")).map_err(|e| e.to_string())?;
        std::fs::copy(from, &dest).map_err(|e| format!("{}: {e}", from.display()))?;
        Ok(())
    };
    copy(Path::new(BINARY), Path::new("/usr/bin/parsec-mfa"))?;
    let ldd = Command::new("ldd")
        .arg(BINARY)
        .output()
        .map_err(|e| format!("ldd: {e}"))?;
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` or the loader's `/lib64/ld-linux-x86-64.so.2 (0x…)`.
        if let Some(path) = line.split_whitespace().find(|w| w.starts_with('/')) {
            copy(Path::new(path), Path::new(path))?;
        }
    }
    std::fs::create_dir_all(rootfs.join("etc")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(rootfs.join("tmp")).map_err(|e| e.to_string())?;
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/:/sbin/nologin\nparsec:x:1000:1000:parsec:/tmp:/sbin/nologin\n",
    )
    .map_err(|e| e.to_string())?;
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .args(["-cf", "-", "."])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tar: {e}"))?;
    let import = Command::new("docker")
        .args([
            "import",
            "--change",
            r#"ENTRYPOINT ["/usr/bin/parsec-mfa", "serve"]"#,
            "--change",
            "USER parsec",
            "--change",
            "ENV HOME=/tmp",
            "--change",
            "EXPOSE 6777",
            "-",
            IMAGE,
        ])
        .stdin(tar.stdout.ok_or("tar's output")?)
        .output()
        .map_err(|e| format!("docker import: {e}"))?;
    let _ = std::fs::remove_dir_all(&rootfs);
    if !import.status.success() {
        return Err(format!("docker import: {}", String::from_utf8_lossy(&import.stderr)));
    }
    Ok(())
}

/// Containers of the test image, running or not.
fn containers_left() -> Result<String, String> {
    docker(&["ps", "-a", "-q", "--filter", &format!("ancestor={IMAGE}")])
}

fn image_target() -> Result<(), String> {
    build_image()?;
    let target = format!("image={IMAGE}");
    let report_name = "image-parsec-mfa-reference-test";
    conformance_passes(
        "the reference as an image",
        "image",
        report_name,
        &["--target", &target],
    )?;
    let left = containers_left()?;
    if !left.is_empty() {
        return Err(format!("containers left after the run: {left}"));
    }
    let servers = reports().join("image").join(report_name).join("servers");
    let logs: String = std::fs::read_dir(&servers)
        .map_err(|e| format!("{}: {e}", servers.display()))?
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    if !logs.contains("parsec-mfa serving on http://0.0.0.0:6777") {
        return Err(format!(
            "the container's output is not in {}: {logs}",
            servers.display()
        ));
    }
    println!(
        "the image run: no container left, its output kept in {}",
        servers.display()
    );

    // Ctrl-C in the middle of a run: the container goes too.
    let reports_arg = reports().join("image-interrupted").display().to_string();
    let mut child = Command::new(BINARY)
        .args(["conformance", "--target", &target, "--reports", &reports_arg])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    while containers_left()?.is_empty() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            return Err("no container started within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let it start serving scenarios.
    std::thread::sleep(Duration::from_secs(2));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let left = containers_left()?;
    if status.code() != Some(130) || !left.is_empty() {
        return Err(format!("after Ctrl-C: {status}, containers left: `{left}`"));
    }
    println!("Ctrl-C: exit 130, no container left");
    let _ = docker(&["rmi", IMAGE]);
    Ok(())
}

fn main() -> std::process::ExitCode {
    let mut results: Vec<(&str, Result<(), String>)> = Vec::new();
    match make_pki(&reports().join("pki")) {
        Err(e) => results.push(("the test authority", Err(e))),
        Ok(pki) => {
            results.push(("TLS: the reference server", tls_reference(&pki)));
            match available(
                "the official server",
                find_python312().map(|_| ()).map_err(|e| e.to_string()),
                "PARSEC_MFA_REQUIRE_OFFICIAL",
            ) {
                Ok(true) => results.push(("TLS: the official server", tls_official(&pki))),
                Ok(false) => {}
                Err(e) => results.push(("the official server available", Err(e))),
            }
        }
    }
    match available(
        "a Docker engine",
        docker(&["version", "--format", "{{.Server.Version}}"]).map(|_| ()),
        "PARSEC_MFA_REQUIRE_DOCKER",
    ) {
        Ok(true) => results.push(("image= target", image_target())),
        Ok(false) => {}
        Err(e) => results.push(("a Docker engine available", Err(e))),
    }
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    for (what, result) in &results {
        match result {
            Ok(()) => println!("ok: {what}"),
            Err(e) => println!("FAILED: {what}: {e}"),
        }
    }
    println!("{} passed, {} failed", results.len() - failed, failed);
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

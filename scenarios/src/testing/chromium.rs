//! Headless Chromium for the tests that check a page as a reader sees it
//! (`report_in_chromium`, `attack_in_chromium`): the rendered DOM, a
//! screenshot, and whether Chromium is here at all.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a page could not be checked in Chromium.
#[derive(Debug, thiserror::Error)]
pub enum ChromiumError {
    /// Not installed while `PARSEC_MFA_REQUIRE_CHROMIUM=1`.
    #[error("FAILED: {test}: chromium is required: apt-get install chromium")]
    Required { test: String },
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("cannot start {}: {source}", chromium.display())]
    Start { chromium: PathBuf, source: std::io::Error },
    /// Chromium failed or was killed; its log follows the reason.
    #[error("{reason}\n{}: {log}", log_path.display())]
    Run {
        reason: String,
        log_path: PathBuf,
        log: String,
    },
    /// The screenshot is not a PNG, or too small to show the page.
    #[error("{}: {reason}", path.display())]
    Screenshot { path: PathBuf, reason: String },
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> ChromiumError + '_ {
    move |source| ChromiumError::File {
        path: path.to_owned(),
        source,
    }
}

/// Chromium, or why the test `name` does not run: without it the test says
/// SKIPPED and succeeds (`Ok(None)`), unless `PARSEC_MFA_REQUIRE_CHROMIUM=1`
/// (as in CI), where it fails (`Err`).
pub fn chromium_or_skip(name: &str) -> Result<Option<PathBuf>, ChromiumError> {
    match find_chromium() {
        Some(chromium) => Ok(Some(chromium)),
        None if std::env::var("PARSEC_MFA_REQUIRE_CHROMIUM").as_deref() == Ok("1") => {
            Err(ChromiumError::Required { test: name.to_owned() })
        }
        None => {
            println!("SKIPPED: {name}: chromium is not installed (apt-get install chromium)");
            Ok(None)
        }
    }
}

/// No Chromium call may take longer.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// This machine's network is closed: Chromium must not try to reach it.
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// `chromium` on the PATH, else `/usr/bin/chromium`.
pub fn find_chromium() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("chromium"))
        .chain([PathBuf::from("/usr/bin/chromium")])
        .find(|candidate| candidate.is_file())
}

pub fn write(path: &Path, contents: &str) -> Result<(), ChromiumError> {
    std::fs::write(path, contents).map_err(file_error(path))
}

/// The page's DOM as Chromium rendered it (kept next to it, `.dom.html`).
pub fn chromium_dom(chromium: &Path, page: &Path) -> Result<String, ChromiumError> {
    let dom_file = page.with_extension("dom.html");
    let log = page.with_extension("dom.chromium.log");
    chromium_run(chromium, &["--dump-dom".into(), file_url(page)], Some(&dom_file), &log)?;
    std::fs::read_to_string(&dom_file).map_err(file_error(&dom_file))
}

/// A screenshot of the page, checked to be a PNG of some substance; its size.
pub fn chromium_screenshot(chromium: &Path, page: &Path, screenshot: &Path) -> Result<usize, ChromiumError> {
    let _ = std::fs::remove_file(screenshot);
    chromium_run(
        chromium,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2000".into(),
            file_url(page),
        ],
        None,
        &screenshot.with_extension("chromium.log"),
    )?;
    let png = std::fs::read(screenshot).map_err(file_error(screenshot))?;
    let bad = |reason: String| ChromiumError::Screenshot {
        path: screenshot.to_owned(),
        reason,
    };
    if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(bad("not a PNG".into()));
    }
    if png.len() < 20_000 {
        return Err(bad(format!("only {} bytes: the page looks empty", png.len())));
    }
    Ok(png.len())
}

pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// What Chromium's serialiser escapes, and our own numeric references.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&#10;", "\n")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

pub fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for c in path.display().to_string().chars() {
        match c {
            ' ' => url.push_str("%20"),
            '#' => url.push_str("%23"),
            '%' => url.push_str("%25"),
            '?' => url.push_str("%3F"),
            c => url.push(c),
        }
    }
    url
}

pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Runs Chromium with a fresh profile, its standard output into `stdout`
/// and its log (standard error, and standard output when `stdout` is
/// `None`) into `log`; killed with all its processes after [`TIMEOUT`].
pub fn chromium_run(
    chromium: &Path,
    args: &[String],
    stdout: Option<&Path>,
    log_path: &Path,
) -> Result<(), ChromiumError> {
    let profile = std::env::temp_dir().join(format!("parsec-mfa-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).map_err(file_error(&profile))?;
    let open = |path: &Path| std::fs::File::create(path).map_err(file_error(path));
    let log = open(log_path)?;
    let out = match stdout {
        Some(path) => Stdio::from(open(path)?),
        None => Stdio::from(log.try_clone().map_err(file_error(log_path))?),
    };
    let mut child = Command::new(chromium)
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(log)
        // Its own process group, so that its helpers are killed with it.
        .process_group(0)
        .spawn()
        .map_err(|source| ChromiumError::Start {
            chromium: chromium.to_owned(),
            source,
        })?;
    let group = format!("-{}", child.id());
    let started = Instant::now();
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break Ok(()),
            Ok(Some(status)) => break Err(format!("chromium {args:?} failed: {status}")),
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "chromium {args:?} did not finish within {} s: killed",
                    TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => break Err(format!("cannot wait for chromium: {e}")),
        }
    };
    // Whatever of its processes is left.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = std::fs::remove_dir_all(&profile);
    outcome.map_err(|reason| ChromiumError::Run {
        reason,
        log_path: log_path.to_owned(),
        log: std::fs::read_to_string(log_path).unwrap_or_default().trim().to_owned(),
    })
}

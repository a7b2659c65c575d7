//! An implementation shipped as a container image (`--target image=NAME[:TAG]`),
//! started through the Docker Engine API (testcontainers), configured the
//! way Parsec images are: `PARSEC_*` environment variables (those of
//! `parsec run` and `parsec-mfa serve`), plus an optional command with the
//! `cmd=` placeholders. One container serves every scenario: its
//! configuration is fixed, and its clock real (libfaketime cannot be
//! preloaded into a program inside an image the harness did not build), so
//! time-dependent scenarios run in real time within the budget.
//!
//! The harness's mailbox listens on the Docker bridge's gateway, the
//! address the container reaches the host by. The container's output goes
//! to `<reports>/<target>/servers/`; the container is removed when the
//! target is dropped (end of run, error, or Ctrl-C).

use super::remote::{ProbeError, Remote, probe_route};
use super::{BoxFuture, Capabilities, ImageRequest, StartedImage, Target, TargetError, TargetFactory, TargetSpec};
use crate::servers::{ServerOptions, free_port};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testcontainers::core::{ContainerPort, IntoContainerPort, WaitFor};
use testcontainers::{ContainerAsync, GenericImage, ImageExt, runners::AsyncRunner};

/// The port the server listens on inside the container.
pub const CONTAINER_PORT: u16 = 6777;

/// Why an image target runs in real time (its description and skips say it).
pub const CLOCK_NOTE: &str =
    "an image's clock cannot be moved: libfaketime would have to be inside the image and preloaded by its entrypoint";

type DockerError = testcontainers::bollard::errors::Error;

/// Why an image could not be started, or did not answer.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("{0}")]
    Engine(#[from] DockerError),
    #[error("image={reference}: no Docker engine answers ({source})")]
    NoEngine { reference: String, source: DockerError },
    #[error("the Docker bridge network: {0}")]
    BridgeNetwork(#[source] DockerError),
    #[error("the Docker bridge network has no IPv4 gateway")]
    NoGateway,
    #[error("image={reference}: the container did not start: {source}")]
    NotStarted {
        reference: String,
        source: testcontainers::TestcontainersError,
    },
    #[error("image={reference}: port {CONTAINER_PORT} is not published: {source}")]
    NotPublished {
        reference: String,
        source: testcontainers::TestcontainersError,
    },
    /// `code`: its exit code, or "unknown".
    #[error("image={reference}: the container stopped (exit code {code}) before answering: {last_line} (log: {})", log.display())]
    Stopped {
        reference: String,
        code: String,
        last_line: String,
        log: PathBuf,
    },
    #[error("image={reference}: not ready within {timeout:?}: {source} (log: {})", log.display())]
    NotReady {
        reference: String,
        timeout: Duration,
        source: ProbeError,
        log: PathBuf,
    },
}

pub struct Image {
    reference: String,
    container: ContainerAsync<GenericImage>,
    remote: Remote,
    log: PathBuf,
}

/// `NAME[:TAG]` (a registry host's port is part of the name, not a tag).
pub fn split_reference(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') && !name.is_empty() => (name, tag),
        _ => (reference, "latest"),
    }
}

/// Whether a Docker engine answers (`DOCKER_HOST`, or the local socket).
pub async fn engine_answers() -> Result<(), DockerError> {
    let docker = testcontainers::bollard::Docker::connect_with_defaults()?;
    docker.ping().await.map(|_| ())
}

/// The address containers on the default bridge reach the host by: its
/// gateway (the engine's own, or the subnet's first address, Docker's rule).
async fn bridge_gateway() -> Result<IpAddr, ContainerError> {
    let docker = testcontainers::bollard::Docker::connect_with_defaults()?;
    let network = docker
        .inspect_network("bridge", None)
        .await
        .map_err(ContainerError::BridgeNetwork)?;
    let configs = network.ipam.and_then(|ipam| ipam.config).unwrap_or_default();
    for config in configs {
        if let Some(gateway) = config.gateway.and_then(|g| g.parse().ok()) {
            return Ok(gateway);
        }
        if let Some((base, _)) = config.subnet.as_deref().and_then(|s| s.split_once('/'))
            && let Ok(base) = base.parse::<Ipv4Addr>()
        {
            return Ok(IpAddr::V4(Ipv4Addr::from(u32::from(base) + 1)));
        }
    }
    Err(ContainerError::NoGateway)
}

impl Image {
    /// Starts `reference` and waits until it answers as a Parsec server
    /// accepting `token` (at most `timeout`). `command`: the container's
    /// command, with the `cmd=` placeholders (`{port}` is the port inside
    /// the container); `None`: the image's own.
    pub async fn start(
        name: &str,
        reference: &str,
        command: Option<&str>,
        token: &str,
        work_dir: &Path,
        timeout: Duration,
        real_time_budget: Duration,
    ) -> Result<Image, TargetError> {
        engine_answers().await.map_err(|source| ContainerError::NoEngine {
            reference: reference.to_owned(),
            source,
        })?;
        std::fs::create_dir_all(work_dir).map_err(|source| TargetError::Io {
            what: work_dir.display().to_string(),
            source,
        })?;
        let gateway = bridge_gateway().await?;
        let smtp_port = free_port();
        let options = ServerOptions {
            administration_token: token.to_owned(),
            smtp_port: Some(smtp_port),
            advisory_device_file_protection: Vec::new(),
            log_dir: work_dir.to_owned(),
        };
        let (image_name, tag) = split_reference(reference);
        let mut request = GenericImage::new(image_name, tag)
            .with_exposed_port(CONTAINER_PORT.tcp())
            // Readiness is the harness's own check below: any image.
            .with_wait_for(WaitFor::Nothing)
            .with_env_var("PARSEC_HOST", "0.0.0.0")
            .with_env_var("PARSEC_PORT", CONTAINER_PORT.to_string())
            .with_env_var("PARSEC_ADMINISTRATION_TOKEN", token)
            .with_env_var("PARSEC_DB", "MOCKED")
            .with_env_var("PARSEC_BLOCKSTORE", "MOCKED")
            .with_env_var("PARSEC_EMAIL_HOST", gateway.to_string())
            .with_env_var("PARSEC_EMAIL_PORT", smtp_port.to_string())
            .with_env_var("PARSEC_EMAIL_SENDER", "parsec@example.com")
            .with_label("org.parsec-mfa.target", name);
        if let Some(template) = command {
            let template = template.replace("{smtp_host}", &gateway.to_string());
            let line = super::launched::expand_template(&template, CONTAINER_PORT, &options);
            request = request.with_cmd(line.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
        }
        let container = request.start().await.map_err(|source| ContainerError::NotStarted {
            reference: reference.to_owned(),
            source,
        })?;
        let log = work_dir.join(format!("image-{}.log", &container.id()[..12]));
        keep_logs(&container, &log);
        let port = container
            .get_host_port_ipv4(ContainerPort::Tcp(CONTAINER_PORT))
            .await
            .map_err(|source| ContainerError::NotPublished {
                reference: reference.to_owned(),
                source,
            })?;
        let url = format!("http://127.0.0.1:{port}");
        let remote = Remote::new(name, &url, token, &format!("{gateway}:{smtp_port}"), None)
            .await?
            .with_real_time_budget(real_time_budget);
        let image = Image {
            reference: reference.to_owned(),
            container,
            remote,
            log,
        };
        image.wait_ready(token, timeout).await?;
        Ok(image)
    }

    async fn wait_ready(&self, token: &str, timeout: Duration) -> Result<(), TargetError> {
        let route = self.remote.route()?;
        let started = Instant::now();
        loop {
            let running = self.container.is_running().await.unwrap_or(false);
            if !running {
                let code = self.container.exit_code().await.ok().flatten();
                return Err(ContainerError::Stopped {
                    reference: self.reference.clone(),
                    code: code.map_or("unknown".into(), |c| c.to_string()),
                    last_line: self.last_log_line().await,
                    log: self.log.clone(),
                }
                .into());
            }
            match probe_route(&route, token).await {
                Ok(facts) => {
                    self.remote.learn(&facts);
                    return Ok(());
                }
                Err(why) if started.elapsed() > timeout => {
                    return Err(ContainerError::NotReady {
                        reference: self.reference.clone(),
                        timeout,
                        source: why,
                        log: self.log.clone(),
                    }
                    .into());
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn last_log_line(&self) -> String {
        let out = self.container.stderr_to_vec().await.unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        crate::servers::last_line(&text).to_owned()
    }

    pub fn container_id(&self) -> &str {
        self.container.id()
    }

    pub fn smtp_addr(&self) -> std::net::SocketAddr {
        self.remote.smtp_addr()
    }
}

/// [`super::START_IMAGE`] in a build with the `containers` feature.
pub fn start_image(request: ImageRequest<'_>) -> BoxFuture<'_, Result<StartedImage, TargetError>> {
    Box::pin(async move {
        let image = Image::start(
            request.name,
            request.reference,
            request.command,
            request.token,
            request.work_dir,
            request.timeout,
            request.real_time_budget,
        )
        .await?;
        Ok(StartedImage {
            container_id: image.container_id().to_owned(),
            smtp_addr: image.smtp_addr(),
            factory: Arc::new(image),
        })
    })
}

/// Copies the container's output to `log` as it comes (kept if the run
/// stops half-way).
fn keep_logs(container: &ContainerAsync<GenericImage>, log: &Path) {
    for mut stream in [container.stdout(true), container.stderr(true)] {
        let path = log.to_owned();
        tokio::spawn(async move {
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .await;
            if let Ok(mut file) = file {
                let _ = tokio::io::copy_buf(&mut stream, &mut file).await;
            }
        });
    }
}

impl TargetFactory for Image {
    fn name(&self) -> &str {
        self.remote.name()
    }

    fn description(&self) -> String {
        format!(
            "the image {} (container {}), MOCKED storage, fixed configuration; real time ({CLOCK_NOTE}): time-dependent scenarios run in real time within a budget of {} s; its email to SMTP {}; its output in {}",
            self.reference,
            &self.container.id()[..12],
            self.remote.real_time_budget().as_secs(),
            self.remote.smtp_addr(),
            self.log.display()
        )
    }

    fn capabilities(&self) -> Capabilities {
        self.remote.capabilities()
    }

    fn clock_note(&self) -> Option<String> {
        Some(CLOCK_NOTE.into())
    }

    fn real_time_budget(&self) -> Duration {
        self.remote.real_time_budget()
    }

    fn advertised_advice(&self) -> Option<Vec<String>> {
        self.remote.advice()
    }

    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, TargetError>> {
        self.remote.start(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_name_and_tag() {
        assert_eq!(
            split_reference("parsec-mfa-reference:test"),
            ("parsec-mfa-reference", "test")
        );
        assert_eq!(
            split_reference("ghcr.io/scille/parsec"),
            ("ghcr.io/scille/parsec", "latest")
        );
        assert_eq!(
            split_reference("localhost:5000/parsec"),
            ("localhost:5000/parsec", "latest")
        );
        assert_eq!(
            split_reference("localhost:5000/parsec:3.9"),
            ("localhost:5000/parsec", "3.9")
        );
    }
}

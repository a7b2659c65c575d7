//! `--target image=…` in a build without the `containers` feature. The
//! Docker client (testcontainers, with bollard and its BuildKit client) is
//! about a fifth of a cold build and only image targets need it, so the
//! README's `cargo run` builds without it: `cargo test` builds it (the root
//! package's dev-dependency turns the feature on), and so does
//! `cargo run --features containers`. The same API as `container.rs`: an
//! image is never started, and says how to get a build that starts it.

use super::{BoxFuture, Capabilities, Target, TargetError, TargetFactory, TargetSpec};
use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;

/// An image target; none exists in this build.
pub struct Image {
    never: Infallible,
}

/// Why an image could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(
        "image={reference}: this build has no container support; build it with the `containers` feature: cargo run --features containers -- conformance --target image={reference}"
    )]
    NotBuilt { reference: String },
}

impl Image {
    /// Refuses: see the module's documentation.
    pub async fn start(
        _name: &str,
        reference: &str,
        _command: Option<&str>,
        _token: &str,
        _work_dir: &Path,
        _timeout: Duration,
        _real_time_budget: Duration,
    ) -> Result<Image, ContainerError> {
        Err(ContainerError::NotBuilt {
            reference: reference.to_owned(),
        })
    }

    pub fn container_id(&self) -> &str {
        match self.never {}
    }

    pub fn smtp_addr(&self) -> std::net::SocketAddr {
        match self.never {}
    }
}

impl TargetFactory for Image {
    fn name(&self) -> &str {
        match self.never {}
    }

    fn description(&self) -> String {
        match self.never {}
    }

    fn capabilities(&self) -> Capabilities {
        match self.never {}
    }

    fn start(&self, _spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, TargetError>> {
        match self.never {}
    }
}

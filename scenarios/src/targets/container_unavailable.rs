//! `--target image=…` in a build without the `containers` feature (see
//! [`super::START_IMAGE`]): no container is started, and the error says
//! how to get a build that starts one.

use super::{BoxFuture, ImageRequest, StartedImage, TargetError};

pub fn start_image(request: ImageRequest<'_>) -> BoxFuture<'_, Result<StartedImage, TargetError>> {
    let reference = request.reference.to_owned();
    Box::pin(async move { Err(TargetError::NoContainerSupport { reference }) })
}

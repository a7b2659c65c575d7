//! Living documentation: what a scenario's steps showed or received (the
//! email, the QR code, the command's output, the clock's jumps), recorded
//! while the steps run and put beside each step in the report.
//!
//! The steps write into the run's [`AttachmentSink`] through their World's
//! [`Recorder`] (set by the runner's before hook), naming the line of the
//! step they belong to; the [`super::Collector`] takes them when the
//! scenario has finished. cucumber's events carry no World for a step that
//! passed, hence this side channel, keyed like the collector's scenarios
//! (feature file, scenario line).

use super::model::{Attachment, AttachmentKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A scenario by where it is written: its feature file as the reports name
/// it, and its line (an outline row's own).
pub type ScenarioKey = (String, u32);

/// What one scenario's steps recorded: (the step's line, the attachment).
pub type Recorded = Vec<(u32, Attachment)>;

/// Every scenario's attachments of one run, by the line of the step that
/// recorded them.
#[derive(Debug, Clone, Default)]
pub struct AttachmentSink(Arc<Mutex<HashMap<ScenarioKey, Recorded>>>);

impl AttachmentSink {
    /// The handle a scenario's World writes through.
    pub fn recorder(&self, scenario: ScenarioKey) -> Recorder {
        Recorder {
            sink: Some(self.clone()),
            scenario,
        }
    }

    /// The scenario's attachments, in the order recorded (taken out).
    pub fn take(&self, scenario: &ScenarioKey) -> Recorded {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(scenario)
            .unwrap_or_default()
    }
}

/// A scenario's handle on the sink; records nothing when the World was not
/// made by the runner (a step's unit test).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    sink: Option<AttachmentSink>,
    scenario: ScenarioKey,
}

impl Recorder {
    /// Records `attachment` for the step written on `step_line`.
    pub fn attach(&self, step_line: u32, attachment: Attachment) {
        if let Some(sink) = &self.sink {
            sink.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(self.scenario.clone())
                .or_default()
                .push((step_line, attachment));
        }
    }
}

impl Attachment {
    pub fn text(kind: AttachmentKind, label: impl Into<String>, content: impl Into<String>) -> Self {
        Attachment {
            kind,
            label: label.into(),
            media_type: "text/plain".into(),
            content: content.into(),
        }
    }

    /// The QR code of an `otpauth://` URI: the URI is kept, the page draws it.
    pub fn qr_code(label: impl Into<String>, uri: impl Into<String>) -> Self {
        Attachment {
            kind: AttachmentKind::QrCode,
            label: label.into(),
            media_type: OTPAUTH_MEDIA_TYPE.into(),
            content: uri.into(),
        }
    }
}

/// The media type of a QR code's attachment: its content is the URI.
pub const OTPAUTH_MEDIA_TYPE: &str = "text/x-otpauth-uri";

/// The QR code of `uri` as an SVG image: one path of the dark runs of
/// each row, in module units scaled by the viewBox. Drawn here rather than
/// by qrcode's SVG renderer, which writes every module as a segment of its
/// own (15 KB a code; a run's page shows a hundred codes).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == qrcode::Color::Dark {
                let start = x;
                while x < width && row[x] == qrcode::Color::Dark {
                    x += 1;
                }
                path.push_str(&format!(
                    "M{} {}h{}v1h-{}z",
                    start + quiet,
                    y + quiet,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    let size = width + 2 * quiet;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"160\" height=\"160\" shape-rendering=\"crispEdges\" role=\"img\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drawing is the library's QR code: the same dark modules.
    #[test]
    fn the_svg_draws_the_dark_modules_of_the_code() {
        let uri = "otpauth://totp/parsec.cloud:Org?secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&issuer=parsec.cloud";
        let svg = qr_svg(uri).expect("a code");
        let code = qrcode::QrCode::new(uri).expect("a code");
        let dark = code.to_colors().iter().filter(|c| **c == qrcode::Color::Dark).count();
        let drawn: usize = svg
            .split('M')
            .skip(1)
            .map(|run| {
                run.split('h')
                    .nth(1)
                    .and_then(|n| n.split('v').next()?.parse::<usize>().ok())
                    .unwrap_or(0)
            })
            .sum();
        assert_eq!(drawn, dark);
        assert!(svg.len() < 8_000, "{} bytes", svg.len());
    }
}

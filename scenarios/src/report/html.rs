//! `index.html`, the readable page of one run: the target, its totals,
//! then each feature's scenarios with their status and, when not passed,
//! why; then the sections a run added. maud templates, which escape every
//! value unless told otherwise (only the style sheet, a constant, is not);
//! the line breaks between elements are written out so that the page reads
//! well as source too.
//!
//! The page is built from parts that [`super::compare`] shares ([`page`],
//! [`legend`]) and parts meant to grow: [`scenario_row`] (where a
//! scenario's steps and attachments will go) and [`section`].

use super::living::{OTPAUTH_MEDIA_TYPE, qr_svg};
use super::model::{
    Attachment, FeatureResults, Judged, ScenarioResult, Section, StepOutcome, StepRecord, TargetReport, Verdict,
};
use maud::{DOCTYPE, Markup, PreEscaped, html};

const STYLE: &str = include_str!("style.css");

/// A whole page: `head` (title, the style sheet) and `body`.
pub fn page(title: &str, body: Markup) -> String {
    page_styled(title, "", body)
}

/// [`page`] with rules of its own after the shared style sheet.
pub fn page_styled(title: &str, extra_style: &str, body: Markup) -> String {
    html! {
        (DOCTYPE) "\n"
        html lang="en" { "\n"
            head { "\n"
                meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                title { (title) } "\n"
                style { "\n" (PreEscaped(STYLE)) (PreEscaped(extra_style)) } "\n"
            } "\n"
            body { "\n" (body) } "\n"
        } "\n"
    }
    .into_string()
}

/// What Passed, Failed and Skipped mean; in a judged run, what its
/// verdicts mean too.
pub fn legend(judged: bool) -> Markup {
    html! {
        p class="legend" {
            strong { "Passed" } ": the server behaves as the specification says. "
            strong { "Failed" } ": it does not; the step that failed and its message are shown. "
            strong { "Skipped" } ": the scenario was not run against this server; the reason is shown."
        } "\n"
        @if judged {
            p class="legend" {
                "Judged against expected results: every scenario not listed is expected to pass. "
                strong { "Known divergence" } ": failed, as expected (the reason is shown). "
                strong { "Unexpected pass" } ": passed where a failure or a skip was expected; the run fails. "
                strong { "Unexpected skip" } ": not run where it was expected to run; the run fails. "
                "A failure not expected fails the run too."
            } "\n"
        }
    }
}

/// What a judged run was judged against, its verdicts counted, and what
/// was not as expected.
pub fn judgement(report: &TargetReport, judged: &Judged) -> Markup {
    let judgement = report.judgement().unwrap_or_default();
    let mut unexpected: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| r.verdict.is_some_and(|v| !v.as_expected()))
        .collect();
    unexpected.sort_by(|a, b| (&a.feature_file, a.line).cmp(&(&b.feature_file, b.line)));
    html! {
        p class="judgement" data-known-divergences=(judgement.known_divergences)
            data-expected-skips=(judgement.expected_skips) data-unexpected-failures=(judgement.unexpected_failures)
            data-unexpected-passes=(judgement.unexpected_passes) data-unexpected-skips=(judgement.unexpected_skips)
            data-stale=(judgement.stale) {
            (judgement.line()) " (expected results: "
            @for (i, file) in judged.files.iter().enumerate() {
                @if i > 0 { ", " }
                code { (file) }
            }
            ")"
        } "\n"
        @if !unexpected.is_empty() || !judged.stale.is_empty() {
            ul class="mismatches" { "\n"
                @for result in &unexpected {
                    @let verdict = result.verdict.unwrap_or(Verdict::UnexpectedFailure);
                    li data-verdict=(verdict.as_str()) {
                        strong { (verdict.label()) } ": " (result.scenario) " "
                        span class="line" { (result.feature_file) ", line " (result.line) }
                        @if let Some(expected) = &result.expected { " (" (expected.describe()) ")" }
                    } "\n"
                }
                @for stale in &judged.stale {
                    li data-verdict="stale_expectation" { strong { "stale expectation" } ": " (stale.describe()) } "\n"
                }
            } "\n"
        }
        @if judged.left_out > 0 {
            p class="legend" {
                (judged.left_out) " expectation(s) not checked: their scenarios were left out of this run (--tags, --name)."
            } "\n"
        }
    }
}

pub fn to_html(report: &TargetReport) -> String {
    let totals = report.totals();
    let features = report.by_feature();
    let body = html! {
        header { "\n"
            h1 { "Parsec MFA conformance report: " span class="target" { (report.target) } } "\n"
            p class="description" { (report.description) } "\n"
            @if let Some(shard) = report.shard {
                p class="shard" data-shard=(shard) {
                    "Shard " (shard) " of the scenarios (--shard): the other shards' runs complete it (--merge)."
                } "\n"
            }
            p class="totals" data-passed=(totals.passed) data-failed=(totals.failed) data-skipped=(totals.skipped) {
                (totals.line())
            } "\n"
            @if let Some(judged) = &report.expectations {
                (judgement(report, judged))
            }
            (legend(report.expectations.is_some()))
        } "\n"
        nav { "\n"
            h2 { "Features" } "\n"
            table class="features" { "\n"
                thead { tr {
                    th scope="col" { "Feature" } th scope="col" { "File" }
                    th scope="col" { "Passed" } th scope="col" { "Failed" } th scope="col" { "Skipped" }
                } } "\n"
                tbody { "\n"
                    @for (i, feature) in features.iter().enumerate() {
                        (feature_index_row(i + 1, feature)) "\n"
                    }
                } "\n"
            } "\n"
        } "\n"
        @for (i, feature) in features.iter().enumerate() {
            (feature_section(i + 1, feature)) "\n"
        }
        @for extra in &report.sections {
            (section(extra)) "\n"
        }
    };
    page(&format!("Parsec MFA conformance: {}", report.target), body)
}

/// A feature's line in the table of contents.
fn feature_index_row(number: usize, feature: &FeatureResults<'_>) -> Markup {
    let totals = feature.totals();
    let failed_class = if totals.failed > 0 {
        "count has-failures"
    } else {
        "count"
    };
    html! {
        tr {
            td { a href={ "#feature-" (number) } { (feature.feature) } }
            td { code { (feature.feature_file) } }
            td class="count" { (totals.passed) }
            td class=(failed_class) { (totals.failed) }
            td class="count" { (totals.skipped) }
        }
    }
}

fn feature_section(number: usize, feature: &FeatureResults<'_>) -> Markup {
    let totals = feature.totals();
    html! {
        section class="feature" id={ "feature-" (number) } data-feature-file=(feature.feature_file) { "\n"
            h2 { (feature.feature) } "\n"
            p class="file" { "File " code { (feature.feature_file) } ": " (totals.line()) } "\n"
            table class="scenarios" { "\n"
                thead { tr {
                    th scope="col" class="status" { "Result" } th scope="col" { "Scenario" } th scope="col" { "Details" }
                } } "\n"
                tbody { "\n"
                    @for result in &feature.scenarios {
                        (scenario_row(result)) "\n"
                    }
                } "\n"
            } "\n"
        }
    }
}

/// One scenario: its status, name and line, why it did not pass (in a
/// judged run, its verdict and what was expected), then its steps as
/// written with what they recorded.
pub fn scenario_row(result: &ScenarioResult) -> Markup {
    let status = result.status.as_str();
    html! {
        tr class=(row_class(result)) data-status=(status) data-verdict=[result.verdict.map(Verdict::as_str)]
            data-scenario=(result.scenario) data-line=(result.line) {
            td class="status" { (result.status.label()) (verdict_note(result)) }
            td class="name" { (result.scenario) br; span class="line" { "line " (result.line) } }
            td class="detail" {
                @if let Some(expected) = &result.expected { p class="expected" { (expected.describe()) } }
                @if let Some(detail) = &result.detail { pre { (detail) } }
                @if !result.steps.is_empty() {
                    ol class="steps" {
                        @for step in &result.steps { (step_item(step)) }
                    }
                }
            }
        }
    }
}

/// A step as written, marked with its outcome, and what it recorded.
fn step_item(step: &StepRecord) -> Markup {
    let outcome = match step.outcome {
        StepOutcome::Passed => "passed",
        StepOutcome::Failed { .. } => "failed",
        StepOutcome::NotRun => "not_run",
    };
    html! {
        li class={ "step " (outcome) } data-outcome=(outcome) data-line=(step.line) {
            span class="keyword" { (step.keyword) } " " span class="text" { (step.text) }
            @if let Some(docstring) = &step.docstring { pre class="docstring" { (docstring) } }
            @for attachment in &step.attachments { (attachment_block(attachment)) }
        }
    }
}

/// An email, a QR code (drawn from its URI), a command's output, a jump of the clock.
fn attachment_block(attachment: &Attachment) -> Markup {
    let kind = serde_json::to_value(attachment.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    html! {
        div class={ "attachment " (kind) } data-kind=(kind) {
            div class="label" { (attachment.label) }
            @if attachment.media_type == OTPAUTH_MEDIA_TYPE {
                // The SVG comes from the qrcode crate: paths and numbers only.
                @if let Some(svg) = qr_svg(&attachment.content) { (PreEscaped(svg)) }
                code { (attachment.content) }
            } @else {
                pre { (attachment.content) }
            }
        }
    }
}

/// `scenario failed`, and the verdict's class when it is more than the status.
fn row_class(result: &ScenarioResult) -> String {
    let mut class = format!("scenario {}", result.status.as_str());
    if let Some(verdict) = result.verdict.filter(|v| *v != Verdict::Passed) {
        class.push(' ');
        class.push_str(&verdict.css_class());
    }
    class
}

/// Under the status, the verdict when it says more (`known divergence`,
/// `unexpected pass`…).
pub fn verdict_note(result: &ScenarioResult) -> Markup {
    html! {
        @if let Some(verdict) = result.verdict.filter(|v| *v != Verdict::Passed) {
            br; span class="verdict" { (verdict.label()) }
        }
    }
}

/// An extra part of the page: a title, paragraphs, a table.
pub fn section(section: &Section) -> Markup {
    html! {
        section class="extra" id=(section.id) { "\n"
            h2 { (section.title) } "\n"
            @for paragraph in &section.paragraphs {
                p { (paragraph) } "\n"
            }
            @if let Some(table) = &section.table {
                table { "\n"
                    thead { tr { @for column in &table.columns { th scope="col" { (column) } } } } "\n"
                    tbody { "\n"
                        @for row in &table.rows {
                            tr { @for cell in row { td { (cell) } } } "\n"
                        }
                    } "\n"
                } "\n"
            }
        }
    }
}

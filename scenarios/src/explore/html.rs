//! `explore.html`: one exploration's run as a page — what ran, the
//! expected divergences met, and the divergence found with its written
//! scenario, its check and its replay commands. maud escapes every text.

use super::ExploreReport;
use maud::{DOCTYPE, html};

pub const EXPLORE_HTML_FILE: &str = "explore.html";

const STYLE: &str = "body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }
pre { background: #f4f4f4; padding: 1em; overflow-x: auto; }
.ok { color: #1a7f37; } .bad { color: #b42318; font-weight: bold; }
td, th { text-align: left; padding: 0.2em 0.8em; vertical-align: top; }";

pub fn page(report: &ExploreReport) -> String {
    let json = |o: &crate::lockstep::observation::Observation| serde_json::to_string(o).unwrap_or_default();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Exploration of " (report.target) }
                style { (STYLE) }
            }
            body {
                h1 { "Exploration of " (report.target) }
                p {
                    (report.operations) " operations in " (report.sequences) " sequences from seed "
                    (report.seed) ", " (format!("{:.1}", report.seconds)) " s ("
                    (format!("{:.0}", report.operations_per_second)) " operations/s). "
                    @if report.passed() { span.ok { "No unexpected divergence." } }
                    @else { span.bad { "An unexpected divergence." } }
                }
                @if let Some(shard) = report.shard {
                    p { "Shard " (shard) " of the sequences (--shard): the other shards' runs complete it (--merge)." }
                }
                @if !report.merged.is_empty() {
                    p { "Merged from " (report.merged.len()) " shards (--merge)." }
                }
                @if !report.expected.is_empty() {
                    h2 { "Expected divergences met" }
                    table {
                        tr { th { "sequence" } th { "operation" } th { "reference" } th { "target" } th { "reason" } }
                        @for seen in &report.expected {
                            tr {
                                td { (seen.sequence_seed) }
                                td { code { (seen.divergence.operation.to_string()) } }
                                td { code { (json(&seen.divergence.reference)) } }
                                td { code { (json(&seen.divergence.target)) } }
                                td { (seen.reason) }
                            }
                        }
                    }
                }
                @if let Some(found) = &report.found {
                    h2 { "The divergence" }
                    p {
                        "In sequence " (found.sequence_seed) ", at " code { (found.divergence.operation.to_string()) }
                        ": the reference model sees " code { (json(&found.divergence.reference)) }
                        ", the target " code { (json(&found.divergence.target)) } "."
                    }
                    p {
                        "Shrunk from " (found.drawn) " to " (found.operations.len()) " operations in "
                        (found.shrink_runs) " runs"
                        @if found.shrink_exhausted { " (the budget ran out: it may not be minimal)" }
                        "."
                    }
                    h3 { "The scenario (" (found.feature_file.display().to_string()) ")" }
                    pre { (found.feature) }
                    @match (&found.check, &found.check_error) {
                        (Some(check), _) => p {
                            "Checked: it " (if check.fails_on_target { "fails" } else { "does NOT fail" })
                            " on the target and " (if check.passes_on_reference { "passes" } else { "does NOT pass" })
                            " on the reference."
                        },
                        (None, Some(e)) => p.bad { "Not checked: " (e) },
                        (None, None) => {},
                    }
                    h3 { "Replay the sequence" }
                    pre { (found.replay) }
                }
            }
        }
    }
    .into_string()
}

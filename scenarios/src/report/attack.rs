//! The attack report: `attack.html` (the plot, the table of guesses and
//! odds next to the rule's promise, then what was observed on each
//! target), and its terminal summary, from [`AttackReport`]s alone. One
//! target's page sits beside its conformance report
//! (`reports/<target>/attack.html`); several targets of one run share a
//! page too (`reports/attack.html`), one plot for all. maud templates, as
//! the other pages; the plot is [`super::plot`]'s SVG.

use super::html::page_styled;
use super::plot::{PlotError, Series, probability_svg, sample_times};
use crate::attack::model::{AttackReport, Figures, Horizon, Measurement, Round, Stop, Window};
use crate::attack::odds::{Timeline, probability, rule_lockout_seconds};
use maud::{Markup, PreEscaped, html};

/// The page of one target, next to its `index.html`.
pub const ATTACK_HTML_FILE: &str = "attack.html";
/// The observations and figures, for CI.
pub const ATTACK_JSON_FILE: &str = "attack.json";

/// The page's own rules, after the shared style sheet.
const STYLE: &str = include_str!("attack.css");

/// Points of each line of the plot.
const PLOT_POINTS: usize = 240;

/// A probability for a reader: a percentage with two significant digits.
pub fn format_probability(p: f64) -> String {
    if p <= 0.0 {
        return "0 %".into();
    }
    if p > 0.9999 {
        return "> 99.99 %".into();
    }
    let percent = p * 100.0;
    let decimals = (1 - percent.log10().floor() as i32).max(0) as usize;
    format!("{percent:.decimals$} %")
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count for a table cell: exact up to a million, then in words
/// (`attack.json` has it exact).
pub fn count(n: u64) -> String {
    let n_f = n as f64;
    match n {
        n if n < 1_000_000 => thousands(n),
        _ if n_f < 1e9 => format!("{:.1} million", n_f / 1e6),
        _ if n_f < 1e12 => format!("{:.1} billion", n_f / 1e9),
        _ => format!("{:.1} trillion", n_f / 1e12),
    }
}

fn seconds(s: f64) -> String {
    match s {
        s if s < 1.0 => format!("{:.1} ms", s * 1e3),
        s if s < 120.0 => format!("{s:.3} s"),
        s if s < 2.0 * 86_400.0 => format!("{:.0} s ({:.1} h)", s, s / 3_600.0),
        s => format!("{:.0} s ({:.1} days)", s, s / 86_400.0),
    }
}

/// How a target compares with the rule.
fn verdict(measurement: &Measurement, rule: &Figures) -> (&'static str, &'static str) {
    let year = |f: &Figures| f.at(Horizon::Year).map_or(0.0, |h| h.probability);
    if measurement.matches_rule {
        ("passed", "as the rule")
    } else if year(&measurement.figures) > year(rule) {
        ("failed", "weaker than the rule")
    } else {
        ("skipped", "stronger than the rule")
    }
}

/// The lines of the plot: each target and parallelism, then the rule.
pub fn plot_series(reports: &[AttackReport]) -> Vec<Series> {
    let times = sample_times(PLOT_POINTS);
    let line = |timeline: &Timeline, valid_codes: u32| -> Vec<(f64, f64)> {
        times
            .iter()
            .map(|&t| (t, probability(timeline.guesses_by(t) as f64, valid_codes)))
            .collect()
    };
    let mut series = Vec::new();
    for report in reports {
        for (index, measurement) in report.measurements.iter().enumerate() {
            series.push(Series {
                label: format!("{}, {} at once", report.target, measurement.parallelism),
                points: line(&Timeline::of(measurement), measurement.figures.valid_codes),
                promise: false,
                width: [8, 6, 4, 2][index % 4],
            });
        }
    }
    if let Some(first) = reports.first() {
        series.push(Series {
            label: "the rule's promise (any parallelism)".into(),
            points: line(
                &Timeline::new(&crate::attack::odds::rule_rounds(), true),
                first.rule.figures.valid_codes,
            ),
            promise: true,
            width: 2,
        });
    }
    series
}

/// `attack.html` for one or more targets.
pub fn attack_html(reports: &[AttackReport]) -> Result<String, PlotError> {
    let svg = probability_svg(&plot_series(reports))?;
    let targets: Vec<&str> = reports.iter().map(|r| r.target.as_str()).collect();
    let body = html! {
        header { "\n"
            h1 { "How long does a stolen device hold? " span class="target" { (targets.join(", ")) } } "\n"
            p class="description" {
                "An attacker holds a device file protected by MFA, not the phone: it can only guess codes, and the server slows it down. "
                "Played against each target on a server of its own, the figures below are what the target actually lets through, "
                "next to what the throttle rule promises. The model and its limits are at the end of the page."
            } "\n"
            @for report in reports {
                (headline(report)) "\n"
            }
        } "\n"
        section id="plot" { "\n"
            h2 { "Over time" } "\n"
            figure { "\n" (PreEscaped(&svg)) "\n"
                figcaption class="legend" {
                    "Each line: a target attacked with that many codes at once; the dashed line: the rule's promise. "
                    "Lines that coincide are drawn one over the other: within a target, the fewer codes at once, the wider the line."
                }
            } "\n"
        } "\n"
        section id="figures" { "\n"
            h2 { "Guesses checked and odds" } "\n"
            (figures_table(reports)) "\n"
        } "\n"
        @for report in reports {
            (target_section(report)) "\n"
        }
        (model_section(reports)) "\n"
    };
    Ok(page_styled(
        &format!("Parsec MFA attack: {}", targets.join(", ")),
        STYLE,
        body,
    ))
}

fn headline(report: &AttackReport) -> Markup {
    let rule_year = report.rule.figures.at(Horizon::Year).map_or(0.0, |h| h.probability);
    html! {
        @if let Some(best) = report.best() {
            @let year = best.figures.at(Horizon::Year).map_or(0.0, |h| h.probability);
            p class="summary" data-target=(report.target) data-matches-rule=(report.matches_rule) {
                strong { (report.target) } ": the best attacker ("
                (best.parallelism) " at once) opens the device within a year with probability "
                strong class="probability" { (format_probability(year)) }
                "; the rule promises " (format_probability(rule_year)) ". "
                @if report.matches_rule { "The target holds as the rule says." }
                @else if year > rule_year { "The target is weaker than the rule." }
                @else { "The target differs from the rule." }
            }
        }
    }
}

fn horizon_cells(figures: &Figures, rule: &Figures, probability: bool) -> Markup {
    html! {
        @for horizon in Horizon::ALL {
            @if let (Some(f), Some(r)) = (figures.at(horizon), rule.at(horizon)) {
                @let differs = if probability { f.probability != r.probability } else { f.guesses != r.guesses };
                td class={ "count" @if differs { " has-failures" } }
                    data-horizon=(horizon.key())
                    title=[f.extrapolated.then_some("extrapolated from the played rounds")] {
                    @if probability { (format_probability(f.probability)) } @else { (count(f.guesses)) }
                    @if f.extrapolated { "*" }
                }
            }
        }
    }
}

fn figures_table(reports: &[AttackReport]) -> Markup {
    let Some(rule) = reports.first().map(|r| &r.rule) else {
        return html! {};
    };
    html! {
        table class="attack-figures" { "\n"
            thead { "\n"
                tr {
                    th scope="col" rowspan="2" { "Target" } th scope="col" rowspan="2" { "Codes at once" }
                    th scope="col" rowspan="2" { "Valid codes per guess" }
                    th scope="col" colspan="4" { "Guesses checked within" }
                    th scope="col" colspan="4" { "Probability of opening the device within" }
                    th scope="col" rowspan="2" { "Compared with the rule" }
                } "\n"
                tr { @for _ in 0..2 { @for h in Horizon::ALL { th scope="col" { (h.label()) } } } } "\n"
            } "\n"
            tbody { "\n"
                tr class="rule" data-target="rule" {
                    th scope="row" { "the rule's promise" } td { "any" } td class="count" { (rule.figures.valid_codes) }
                    (horizon_cells(&rule.figures, &rule.figures, false))
                    (horizon_cells(&rule.figures, &rule.figures, true))
                    td { }
                } "\n"
                @for report in reports {
                    @for m in &report.measurements {
                        @let (class, text) = verdict(m, &rule.figures);
                        tr class="measurement" data-target=(report.target) data-parallelism=(m.parallelism) data-matches-rule=(m.matches_rule) {
                            th scope="row" { a href={ "#target-" (report.target) } { (report.target) } }
                            td class="count" { (m.parallelism) }
                            td class={ "count" @if m.figures.valid_codes != rule.figures.valid_codes { " has-failures" } } { (m.figures.valid_codes) }
                            (horizon_cells(&m.figures, &rule.figures, false))
                            (horizon_cells(&m.figures, &rule.figures, true))
                            td class={ "status " (class) } { (text) }
                        } "\n"
                    }
                }
            } "\n"
        } "\n"
        p class="legend" {
            "Figures in red differ from the rule's. * extrapolated beyond the rounds played (see each target's section for how far the play got)."
        }
    }
}

fn target_section(report: &AttackReport) -> Markup {
    html! {
        section class="attack-target" id={ "target-" (report.target) } data-target=(report.target) { "\n"
            h2 { (report.target) } "\n"
            p class="description" { (report.description) } "\n"
            p class="file" {
                "Time: " (report.clock.describe())
                @if let Some(note) = &report.clock_note { " (" (note) ")" }
                @if report.clock == crate::attack::model::ClockUsed::Real {
                    "; real-time budget " (report.real_time_budget_seconds) " s per parallelism"
                }
                ". The whole measurement took " (format!("{:.1}", report.wall_seconds)) " s."
            } "\n"
            (window_part(&report.window)) "\n"
            h3 { "Rounds" } "\n"
            p {
                "Each round: that many wrong codes at once, then one more once they are answered (the probe), which reads the lockout that follows. "
                "The next round goes 1 µs after that lockout ends. Checked: answered " code { "invalid_one_time_password" } "; throttled answers do not count."
            } "\n"
            table class="rounds-summary" { "\n"
                thead { tr {
                    th scope="col" { "Codes at once" } th scope="col" { "Rounds played" } th scope="col" { "Checked per round (rule: 1)" }
                    th scope="col" { "Throttled" } th scope="col" { "Attacker's time played" } th scope="col" { "How far it got" }
                } } "\n"
                tbody { "\n"
                    @for m in &report.measurements {
                        @let (least, most) = m.guesses_per_round();
                        tr data-parallelism=(m.parallelism) {
                            td class="count" { (m.parallelism) }
                            td class="count" { (m.rounds.len()) }
                            td class={ "count" @if most != 1 || least != 1 { " has-failures" } } {
                                @if least == most { (least) } @else { (least) "–" (most) }
                            }
                            td class="count" { (m.rounds.iter().map(|r| u64::from(r.throttled)).sum::<u64>()) }
                            td { (seconds(m.played_seconds.min(Horizon::Year.seconds()))) }
                            td { (m.stop.describe()) }
                        } "\n"
                    }
                } "\n"
            } "\n"
            @for m in &report.measurements {
                (rounds_details(m)) "\n"
            }
        }
    }
}

fn window_part(window: &Window) -> Markup {
    let accepted: Vec<String> = window
        .probes
        .iter()
        .filter(|p| p.accepted)
        .map(|p| format!("{:+}", p.step_offset))
        .collect();
    html! {
        h3 { "Codes accepted at one instant" } "\n"
        p class="window" data-accepted-codes=(window.accepted_codes) {
            "At one instant, the codes of the 30 s steps around the current one, each on an opaque key of its own: "
            strong { (window.accepted_codes) } " accepted (steps " (accepted.join(", ")) "; the rule: 3, steps −1, +0, +1). "
            "The current code sent again: "
            @match window.replay_accepted {
                Some(true) => "accepted again (no replay protection, as the rule says).",
                Some(false) => "refused (replay protection, which the rule does not have).",
                None => "not tried: the current code was refused.",
            }
        }
    }
}

fn rounds_details(m: &Measurement) -> Markup {
    // Failures checked so far, this round's included.
    let failures: Vec<u64> = m
        .rounds
        .iter()
        .scan(0u64, |total, round| {
            *total += u64::from(round.guesses());
            Some(*total)
        })
        .collect();
    html! {
        details data-parallelism=(m.parallelism) { "\n"
            summary { "The " (m.rounds.len()) " rounds with " (m.parallelism) " at once" } "\n"
            table class="rounds" { "\n"
                thead { tr {
                    th scope="col" { "Round" } th scope="col" { "Attacker's time" } th scope="col" { "Checked" }
                    th scope="col" { "Throttled" } th scope="col" { "Lockout after it" }
                    th scope="col" { "The rule's lockout after that many failures" } th scope="col" { "Real time" }
                } } "\n"
                tbody { "\n"
                    @for (i, (round, failures)) in m.rounds.iter().zip(&failures).enumerate() {
                        (round_row(i + 1, round, *failures)) "\n"
                    }
                } "\n"
            } "\n"
        }
    }
}

fn round_row(number: usize, round: &Round, failures: u64) -> Markup {
    let rule = rule_lockout_seconds(failures);
    let differs = match round.lockout_seconds {
        Some(lockout) => (lockout - rule).abs() > 1.0 + rule * 0.01,
        None => failures > 0,
    };
    html! {
        tr {
            td class="count" { (number) }
            td { (seconds(round.at_seconds)) }
            td class="count" { (round.guesses()) @if round.probe_checked { " (with the probe)" } }
            td class="count" { (round.throttled) }
            td class={ "count" @if differs { " has-failures" } } {
                @match round.lockout_seconds { Some(l) => (seconds(l)), None => "none" }
            }
            td class="count" { (seconds(rule)) }
            td class="count" { (seconds(round.real_seconds)) }
        }
    }
}

fn model_section(reports: &[AttackReport]) -> Markup {
    let statement = reports.first().map(|r| r.rule.statement.as_str()).unwrap_or_default();
    html! {
        section id="model" { "\n"
            h2 { "The model, and its limits" } "\n"
            p { strong { "The rule: " } (statement) "." } "\n"
            p {
                "The attacker plays rounds: that many wrong codes at once, then the next round as soon as the server allows (1 µs after the lockout it announced), "
                "or as soon as the replies are in where there is no lockout. Its time is the sum of those gaps: lockouts from the server's answers, replies as long as they took here, over loopback. "
                "A year is 365 days, a month 30."
            } "\n"
            p {
                "Each checked guess is a code drawn uniformly among the 10" sup { "6" } " codes, not repeated against the same valid codes; it opens the device when it is one of the codes accepted at that instant. "
                "The valid codes change every 30 s, so guesses are independent trials: with N guesses and w valid codes, the probability is 1 − (1 − w/10" sup { "6" } ")" sup { "N" } "."
            } "\n"
            p {
                "Beyond what was played (a cap of rounds, or the real-time budget), the rounds go on as the last ones did: as many checked per round as on average, "
                "each lockout the last one times the growth of the last two, each round at least as long as on average. "
                "Not modelled: an attacker with several stolen devices (each has its own key and throttle), a server restarted or reset meanwhile, network latency beyond this machine's loopback."
            } "\n"
        }
    }
}

/// The terminal's summary of one target: its table against the rule.
pub fn terminal_summary(report: &AttackReport) -> Vec<String> {
    let rule = &report.rule.figures;
    let mut lines = Vec::new();
    let header = format!(
        "{:<22} {:>15} {:>15} {:>15} {:>15}   opened within a day / week / month / year",
        "guesses checked in", "a day", "a week", "a month", "a year"
    );
    lines.push(header);
    let row = |label: String, figures: &Figures, verdict: &str| {
        let mut line = format!("{label:<22}");
        for h in Horizon::ALL {
            let f = figures.at(h);
            let text = f.map_or(String::new(), |f| {
                format!("{}{}", count(f.guesses), if f.extrapolated { "*" } else { "" })
            });
            line.push_str(&format!(" {text:>15}"));
        }
        let odds: Vec<String> = Horizon::ALL
            .iter()
            .map(|&h| {
                figures
                    .at(h)
                    .map_or(String::new(), |f| format_probability(f.probability))
            })
            .collect();
        line.push_str(&format!("   {}{verdict}", odds.join(" / ")));
        line
    };
    lines.push(row("the rule's promise".into(), rule, ""));
    for m in &report.measurements {
        let (_, text) = verdict(m, rule);
        lines.push(row(
            format!("{} at once", m.parallelism),
            &m.figures,
            &format!("  ({text})"),
        ));
    }
    if let Some(best) = report.best() {
        let year = best.figures.at(Horizon::Year).map_or(0.0, |h| h.probability);
        let rule_year = rule.at(Horizon::Year).map_or(0.0, |h| h.probability);
        lines.push(format!(
            "Within a year the best attacker ({} at once) opens the device with probability {}; the rule promises {}.",
            best.parallelism,
            format_probability(year),
            format_probability(rule_year)
        ));
    }
    if report.measurements.iter().any(|m| m.stop != Stop::YearPlayed) {
        lines.push("* extrapolated beyond the rounds played (see the report)".into());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_read_as_percentages() {
        assert_eq!(format_probability(0.0), "0 %");
        assert_eq!(format_probability(7.5e-5), "0.0075 %");
        assert_eq!(format_probability(0.072), "7.2 %");
        assert_eq!(format_probability(0.632), "63 %");
        assert_eq!(format_probability(0.999_999), "> 99.99 %");
    }

    #[test]
    fn counts_past_a_million_read_in_words() {
        assert_eq!(count(999_999), "999,999");
        assert_eq!(count(265_200_676), "265.2 million");
        assert_eq!(count(96_798_246_668), "96.8 billion");
        assert_eq!(count(2_000_000_000_000), "2.0 trillion");
    }

    #[test]
    fn big_counts_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(4_147_200_000), "4,147,200,000");
    }
}

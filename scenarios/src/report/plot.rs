//! The attack report's plot: the probability that an attacker has opened
//! the stolen device, over the attacker's time, one line per target and
//! parallelism and the rule's promise, drawn by plotters as SVG (inlined in
//! the page; its text is drawn by the browser). Both axes are logarithmic:
//! a minute to a year, one in a million to certainty.

use plotters::coord::Shift;
use plotters::prelude::*;

/// The x axis: the attacker's time in seconds, with its named ticks.
pub const TIME_TICKS: [(f64, &str); 6] = [
    (60.0, "1 minute"),
    (3_600.0, "1 hour"),
    (86_400.0, "1 day"),
    (604_800.0, "1 week"),
    (2_592_000.0, "1 month"),
    (31_536_000.0, "1 year"),
];

/// The y axis starts here: lower probabilities are drawn on it.
pub const LOWEST_PROBABILITY: f64 = 1e-6;

const WIDTH: u32 = 960;
const PLOT_HEIGHT: u32 = 520;
/// The legend, under the plot (inside, it would hide lines wherever they
/// are): two columns.
const LEGEND_COLUMNS: usize = 2;
const LEGEND_ROW: u32 = 24;

/// One line of the plot.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    /// (seconds, probability)
    pub points: Vec<(f64, f64)>,
    /// The rule's promise: drawn dashed, black, on top.
    pub promise: bool,
    /// Lines that coincide (a target that throttles as the rule says,
    /// whatever the parallelism) stay visible when the first is the widest.
    pub width: u32,
}

/// `count` instants spread evenly on the log time axis, a minute to a year.
pub fn sample_times(count: usize) -> Vec<f64> {
    let (first, last) = (TIME_TICKS[0].0.ln(), TIME_TICKS[TIME_TICKS.len() - 1].0.ln());
    (0..count)
        .map(|i| (first + (last - first) * i as f64 / (count.max(2) - 1) as f64).exp())
        .collect()
}

fn percent_label(probability: f64) -> String {
    let percent = probability * 100.0;
    if percent >= 1.0 {
        format!("{percent:.0} %")
    } else {
        let decimals = (-percent.log10()).ceil() as usize;
        format!("{percent:.decimals$} %")
    }
}

fn time_label(seconds: f64) -> String {
    TIME_TICKS
        .iter()
        .find(|(at, _)| (at / seconds - 1.0).abs() < 1e-6)
        .map(|(_, label)| label.to_string())
        .unwrap_or_default()
}

/// plotters could not draw the plot (its reason, whose type depends on the
/// backend).
#[derive(Debug, thiserror::Error)]
#[error("the plot could not be drawn: {0}")]
pub struct PlotError(String);

/// The SVG document of the plot.
pub fn probability_svg(series: &[Series]) -> Result<String, PlotError> {
    let rows = series.len().div_ceil(LEGEND_COLUMNS) as u32;
    let height = PLOT_HEIGHT + 16 + rows * LEGEND_ROW;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        draw(&root, series).map_err(|e| PlotError(e.to_string()))?;
        root.present().map_err(|e| PlotError(e.to_string()))?;
    }
    Ok(svg)
}

type DrawResult = Result<(), DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>;

/// Each line's style: the rule's promise black and dashed, the others in
/// turn from plotters' palette.
fn styles(series: &[Series]) -> Vec<ShapeStyle> {
    let mut colors = (1..).map(|i| Palette99::pick(i).to_rgba());
    series
        .iter()
        .map(|line| {
            let color = match line.promise {
                true => BLACK.to_rgba(),
                false => colors.next().unwrap_or(BLACK.to_rgba()),
            };
            ShapeStyle::from(color).stroke_width(line.width)
        })
        .collect()
}

fn draw(root: &DrawingArea<SVGBackend<'_>, Shift>, series: &[Series]) -> DrawResult {
    root.fill(&WHITE)?;
    let (plot, legend) = root.split_vertically(PLOT_HEIGHT);
    let x_ticks: Vec<f64> = TIME_TICKS.iter().map(|(at, _)| *at).collect();
    let y_ticks: Vec<f64> = (0..=6).map(|e| 10f64.powi(e - 6)).collect();
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "Probability that the attacker has opened the device",
            ("sans-serif", 24),
        )
        .margin(12)
        .margin_right(48)
        .x_label_area_size(48)
        .y_label_area_size(84)
        .build_cartesian_2d(
            (TIME_TICKS[0].0..TIME_TICKS[TIME_TICKS.len() - 1].0)
                .log_scale()
                .with_key_points(x_ticks),
            (LOWEST_PROBABILITY..1.0).log_scale().with_key_points(y_ticks),
        )?;
    chart
        .configure_mesh()
        .x_desc("the attacker's time (logarithmic)")
        .y_desc("probability (logarithmic)")
        .x_label_formatter(&|x| time_label(*x))
        .y_label_formatter(&|y| percent_label(*y))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    let styles = styles(series);
    // The promise last: on top of the lines it is compared with.
    let order = (0..series.len())
        .filter(|&i| !series[i].promise)
        .chain((0..series.len()).filter(|&i| series[i].promise));
    for i in order {
        let points = clamped(&series[i].points);
        match series[i].promise {
            true => chart.draw_series(DashedLineSeries::new(points, 8, 5, styles[i]))?,
            false => chart.draw_series(LineSeries::new(points, styles[i]))?,
        };
    }
    for (i, (line, style)) in series.iter().zip(&styles).enumerate() {
        let x = 96 + (i % LEGEND_COLUMNS) as i32 * 430;
        let y = 8 + (i / LEGEND_COLUMNS) as i32 * LEGEND_ROW as i32;
        let sample: Vec<(i32, i32)> = match line.promise {
            true => vec![(x, y + 8), (x + 10, y + 8)],
            false => vec![(x, y + 8), (x + 32, y + 8)],
        };
        legend.draw(&PathElement::new(sample, *style))?;
        if line.promise {
            legend.draw(&PathElement::new(vec![(x + 18, y + 8), (x + 32, y + 8)], *style))?;
        }
        legend.draw(&Text::new(line.label.clone(), (x + 42, y), ("sans-serif", 16)))?;
    }
    Ok(())
}

fn clamped(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|&(t, p)| (t, p.clamp(LOWEST_PROBABILITY, 1.0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_span_a_minute_to_a_year() {
        let times = sample_times(5);
        assert!((times[0] - 60.0).abs() < 1e-6);
        assert!((times[4] - 31_536_000.0).abs() < 1e-3);
        assert!(times.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn labels_are_percentages_and_named_times() {
        assert_eq!(percent_label(1.0), "100 %");
        assert_eq!(percent_label(0.1), "10 %");
        assert_eq!(percent_label(1e-6), "0.0001 %");
        assert_eq!(time_label(86_400.0), "1 day");
        assert_eq!(time_label(1_000.0), "");
    }

    #[test]
    fn every_line_and_label_is_in_the_svg() {
        let times = sample_times(50);
        let line = |label: &str, promise: bool, factor: f64| Series {
            label: label.into(),
            points: times.iter().map(|&t| (t, (t * factor).min(1.0))).collect(),
            promise,
            width: 2,
        };
        let svg = probability_svg(&[line("target A, 1 at once", false, 1e-7), line("the rule", true, 1e-9)]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| t.split_once('>').and_then(|(_, rest)| rest.split_once("</text>")))
            .map(|(text, _)| text.trim())
            .collect();
        for text in ["target A, 1 at once", "the rule", "1 week", "0.0001 %", "100 %"] {
            assert!(texts.contains(&text), "{text} in {texts:?}");
        }
        // Each line, and its sample in the legend.
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
    }
}

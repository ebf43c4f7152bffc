//! Line plots as inline SVG, drawn here so the HTML report needs no script and no network
//! to show them.

use super::junit::escape;
use std::fmt::Write;

/// What the y values are, for the axis labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Bytes, shown in MiB.
    Bytes,
    /// Milliseconds.
    Millis,
    /// A plain number.
    Count,
}

/// One line.
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend's name.
    pub name: String,
    /// `(x, y)` in x order.
    pub points: Vec<(f64, f64)>,
}

/// One plot.
#[derive(Clone, Debug)]
pub struct Plot {
    /// The heading above it.
    pub title: String,
    /// What x counts.
    pub x_label: String,
    /// What y is.
    pub unit: Unit,
    /// The lines.
    pub series: Vec<Series>,
}

/// Points drawn per series at most; longer series keep the largest value of each stretch,
/// so a peak never disappears.
const MAX_POINTS: usize = 400;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 40.0;
const COLORS: [&str; 4] = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700"];

impl Plot {
    /// Whether any series has a point.
    pub fn has_data(&self) -> bool {
        self.series.iter().any(|s| !s.points.is_empty())
    }

    /// The plot as an `<svg data-plot>` element; an empty string when there is no data.
    pub fn svg(&self, id: &str) -> String {
        if !self.has_data() {
            return String::new();
        }
        let series: Vec<Series> = self
            .series
            .iter()
            .filter(|s| !s.points.is_empty())
            .map(|s| Series {
                name: s.name.clone(),
                points: thin(&s.points),
            })
            .collect();
        let all = series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0f64);
        for &(x, y) in all {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        let scale = self.unit.scale();
        let (ticks, top) = nice_ticks(y1 / scale);
        let y_top = top * scale;
        let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT);
        let py = |y: f64| TOP + (1.0 - y / y_top) * (HEIGHT - TOP - BOTTOM);
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg data-plot=\"{}\" class=\"plot\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
            escape(id),
            escape(&self.title),
            escape(&self.title)
        );
        let _ = write!(
            out,
            "<text x=\"{LEFT}\" y=\"16\" class=\"plot-title\">{}</text>",
            escape(&self.title)
        );
        for tick in &ticks {
            let y = py(tick * scale);
            let _ = write!(
                out,
                "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
                WIDTH - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                self.unit.label(*tick)
            );
        }
        for x in [x0, (x0 + x1) / 2.0, x1] {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                px(x),
                HEIGHT - BOTTOM + 16.0,
                short_number(x)
            );
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
            HEIGHT - 6.0,
            escape(&self.x_label)
        );
        // Legend entries right-aligned on the title's line, each as wide as its name.
        let widths: Vec<f64> = series
            .iter()
            .map(|s| 24.0 + 6.5 * s.name.chars().count() as f64)
            .collect();
        let mut legend_at = vec![0.0; series.len()];
        let mut x = WIDTH - RIGHT;
        for index in (0..series.len()).rev() {
            x -= widths[index];
            legend_at[index] = x;
        }
        for (index, s) in series.iter().enumerate() {
            let color = COLORS[index % COLORS.len()];
            let points: Vec<String> = s
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
                .collect();
            let _ = write!(
                out,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
                points.join(" "),
                escape(&s.name)
            );
            if s.points.len() == 1 {
                let (x, y) = s.points[0];
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                    px(x),
                    py(y)
                );
            }
            let legend_x = legend_at[index];
            let _ = write!(
                out,
                "<rect x=\"{legend_x:.1}\" y=\"8\" width=\"12\" height=\"4\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"14\" class=\"legend\">{}</text>",
                legend_x + 16.0,
                escape(&s.name)
            );
        }
        out.push_str("</svg>");
        out
    }
}

impl Unit {
    fn scale(self) -> f64 {
        match self {
            Unit::Bytes => (1u64 << 20) as f64,
            Unit::Millis | Unit::Count => 1.0,
        }
    }

    fn label(self, value: f64) -> String {
        let number = short_number(value);
        match self {
            Unit::Bytes => format!("{number} MiB"),
            Unit::Millis => format!("{number} ms"),
            Unit::Count => number,
        }
    }
}

/// Up to [`MAX_POINTS`] of `points`: the largest y of each equal stretch, and the last.
fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let stretch = points.len().div_ceil(MAX_POINTS);
    let mut thinned: Vec<(f64, f64)> = points
        .chunks(stretch)
        .map(|chunk| {
            *chunk
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .expect("chunks are not empty")
        })
        .collect();
    let last = *points.last().expect("not empty");
    if thinned.last() != Some(&last) {
        thinned.push(last);
    }
    thinned
}

/// Four or five round tick values from 0 covering `max`, and the top of the axis.
fn nice_ticks(max: f64) -> (Vec<f64>, f64) {
    let max = if max > 0.0 && max.is_finite() {
        max
    } else {
        1.0
    };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| step * 4.0 >= max)
        .unwrap_or(10.0 * magnitude);
    let top = (max / step).ceil() * step;
    let count = (top / step).round() as usize;
    ((0..=count).map(|i| i as f64 * step).collect(), top)
}

/// `1234567` as `1.23M`, `0.25` as `0.25`, `12` as `12`.
fn short_number(value: f64) -> String {
    let abs = value.abs();
    let (scaled, suffix) = if abs >= 1e9 {
        (value / 1e9, "G")
    } else if abs >= 1e6 {
        (value / 1e6, "M")
    } else if abs >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = if scaled.fract() == 0.0 || scaled.abs() >= 100.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 10.0 {
        format!("{scaled:.1}")
    } else {
        format!("{scaled:.2}")
    };
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        let (ticks, top) = nice_ticks(19.3);
        assert_eq!(ticks, [0.0, 5.0, 10.0, 15.0, 20.0]);
        assert_eq!(top, 20.0);
        let (ticks, top) = nice_ticks(0.0);
        assert!(top >= 1.0 && ticks[0] == 0.0);
    }

    #[test]
    fn long_series_keep_their_peak_and_their_end() {
        let mut points: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, 1.0)).collect();
        points[5_001].1 = 99.0;
        points[9_999].1 = 2.0;
        let thinned = thin(&points);
        assert!(thinned.len() <= MAX_POINTS + 1);
        assert!(thinned.iter().any(|p| p.1 == 99.0));
        assert_eq!(thinned.last(), Some(&(9_999.0, 2.0)));
    }

    #[test]
    fn a_plot_is_an_svg_with_one_polyline_per_series_and_escaped_text() {
        let plot = Plot {
            title: "RSS <target>".into(),
            x_label: "seconds".into(),
            unit: Unit::Bytes,
            series: vec![
                Series {
                    name: "rss".into(),
                    points: vec![(0.0, 1e6), (1.0, 2e6)],
                },
                Series {
                    name: "empty".into(),
                    points: vec![],
                },
            ],
        };
        let svg = plot.svg("rss-1");
        assert!(svg.starts_with("<svg data-plot=\"rss-1\""));
        assert_eq!(
            svg.matches("<polyline").count(),
            1,
            "empty series are left out"
        );
        assert!(svg.contains("RSS &lt;target&gt;"));
        assert!(!svg.contains("<target>"));
        let empty = Plot {
            series: vec![],
            ..plot
        };
        assert_eq!(empty.svg("x"), "");
    }
}

//! Plots with `plotters`: latency histogram, CDF and throughput over time,
//! each written as PNG and as SVG.
//!
//! Text is drawn with `ab_glyph` from a TrueType font file found at run time
//! (DejaVu Sans or Liberation Sans, as Debian's `fonts-dejavu-core` and
//! `fonts-liberation` install them; `ROLECALL_FONT` names another), so no
//! fontconfig is involved.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::summary::{percentile, Series};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Drawing failed.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// No font file to draw text with.
    #[error(
        "no TrueType font found (tried {tried}): install fonts-dejavu-core or set ROLECALL_FONT"
    )]
    NoFont {
        /// Paths tried.
        tried: String,
    },
    /// The plot directory cannot be created.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// plotters failed.
    #[error("drawing {path}: {message}")]
    Draw {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
];

static FONT: OnceLock<Result<(), String>> = OnceLock::new();

fn register_font() -> Result<(), PlotError> {
    FONT.get_or_init(|| {
        let mut tried: Vec<String> = std::env::var("ROLECALL_FONT").into_iter().collect();
        tried.extend(FONTS.iter().map(|s| (*s).to_owned()));
        for path in &tried {
            if let Ok(bytes) = std::fs::read(path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(tried.join(", "))
    })
    .clone()
    .map_err(|tried| PlotError::NoFont { tried })
}

/// Draws every plot of `series` into `dir`; returns the files written.
pub fn all(dir: &Path, series: &[Series]) -> Result<Vec<PathBuf>, PlotError> {
    register_font()?;
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let shown: Vec<&Series> = series.iter().take(PALETTE.len()).collect();
    let mut written = Vec::new();
    for kind in [Kind::Histogram, Kind::Cdf, Kind::Throughput] {
        let path = dir.join(format!("{}.png", kind.name()));
        draw(
            kind,
            &shown,
            BitMapBackend::new(&path, (960, 600)).into_drawing_area(),
        )
        .map_err(|message| PlotError::Draw {
            path: path.display().to_string(),
            message,
        })?;
        written.push(path);
        let path = dir.join(format!("{}.svg", kind.name()));
        draw(
            kind,
            &shown,
            SVGBackend::new(&path, (960, 600)).into_drawing_area(),
        )
        .map_err(|message| PlotError::Draw {
            path: path.display().to_string(),
            message,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Draws only the CDF of `series` (one line each, on one chart) into `dir`
/// as `cdf.png` and `cdf.svg`; returns the files written.
pub fn cdf_only(dir: &Path, series: &[Series]) -> Result<Vec<PathBuf>, PlotError> {
    register_font()?;
    create_dir(dir)?;
    let shown: Vec<&Series> = series.iter().take(PALETTE.len()).collect();
    let png = dir.join("cdf.png");
    draw(
        Kind::Cdf,
        &shown,
        BitMapBackend::new(&png, (960, 600)).into_drawing_area(),
    )
    .map_err(|message| draw_error(&png, message))?;
    let svg = dir.join("cdf.svg");
    draw(
        Kind::Cdf,
        &shown,
        SVGBackend::new(&svg, (960, 600)).into_drawing_area(),
    )
    .map_err(|message| draw_error(&svg, message))?;
    Ok(vec![png, svg])
}

/// A line chart: what each line is called and its (x, y) points.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    /// Chart title.
    pub title: String,
    /// What x is.
    pub x_desc: String,
    /// What y is.
    pub y_desc: String,
    /// (legend, points sorted by x).
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

/// Draws `chart` into `dir` as `STEM.png` and `STEM.svg` (a marker on each
/// point); returns the files written.
pub fn lines(dir: &Path, stem: &str, chart: &Lines) -> Result<Vec<PathBuf>, PlotError> {
    register_font()?;
    create_dir(dir)?;
    let png = dir.join(format!("{stem}.png"));
    draw_lines(
        chart,
        BitMapBackend::new(&png, (960, 600)).into_drawing_area(),
    )
    .map_err(|message| draw_error(&png, message))?;
    let svg = dir.join(format!("{stem}.svg"));
    draw_lines(chart, SVGBackend::new(&svg, (960, 600)).into_drawing_area())
        .map_err(|message| draw_error(&svg, message))?;
    Ok(vec![png, svg])
}

fn create_dir(dir: &Path) -> Result<(), PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.display().to_string(),
        source,
    })
}

fn draw_error(path: &Path, message: String) -> PlotError {
    PlotError::Draw {
        path: path.display().to_string(),
        message,
    }
}

fn draw_lines<DB: DrawingBackend>(
    chart: &Lines,
    root: DrawingArea<DB, Shift>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let points = chart.lines.iter().flat_map(|l| l.1.iter());
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0_f64);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = (x1 - x0) * 0.05;
    let y1 = if y1 > 0.0 { y1 * 1.1 } else { 1.0 };
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0 - pad..x1 + pad, 0.0..y1)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc(chart.x_desc.as_str())
        .y_desc(chart.y_desc.as_str())
        .draw()
        .map_err(err)?;
    for (k, (name, pts)) in chart.lines.iter().take(PALETTE.len()).enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        c.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2)));
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(err)?;
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Histogram,
    Cdf,
    Throughput,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Histogram => "histogram",
            Kind::Cdf => "cdf",
            Kind::Throughput => "throughput",
        }
    }
}

fn draw<DB: DrawingBackend>(
    kind: Kind,
    series: &[&Series],
    root: DrawingArea<DB, Shift>,
) -> Result<(), String> {
    match kind {
        Kind::Histogram => histogram(series, root),
        Kind::Cdf => cdf(series, root),
        Kind::Throughput => throughput(series, root),
    }
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn sorted_values(s: &Series) -> Vec<f64> {
    let mut v: Vec<f64> = s.samples.iter().map(|x| x.1).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The x range shared by histogram and CDF: 0 (or the least value) to p99.9.
fn value_range(series: &[&Series]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for s in series {
        let v = sorted_values(s);
        if let (Some(first), Some(_)) = (v.first(), v.last()) {
            lo = lo.min(*first);
            hi = hi.max(percentile(&v, 99.9));
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let lo = lo.min(0.0);
    if hi <= lo {
        (lo, lo + 1.0)
    } else {
        (lo, hi)
    }
}

fn label(s: &Series) -> String {
    let mut l = s.name.clone();
    if l.chars().count() > 60 {
        l = l.chars().take(57).collect::<String>() + "...";
    }
    l
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn histogram<DB: DrawingBackend>(
    series: &[&Series],
    root: DrawingArea<DB, Shift>,
) -> Result<(), String> {
    const BINS: usize = 50;
    root.fill(&WHITE).map_err(err)?;
    let (lo, hi) = value_range(series);
    let width = (hi - lo) / BINS as f64;
    let counts: Vec<Vec<u64>> = series
        .iter()
        .map(|s| {
            let mut c = vec![0u64; BINS];
            for &(_, x) in &s.samples {
                if x <= hi {
                    let i = (((x - lo) / width) as usize).min(BINS - 1);
                    c[i] += 1;
                }
            }
            c
        })
        .collect();
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption("Latency histogram (up to p99.9)", ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0u64..top + top / 10 + 1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("value")
        .y_desc("samples")
        .draw()
        .map_err(err)?;
    for (k, (s, c)) in series.iter().zip(&counts).enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        chart
            .draw_series(c.iter().enumerate().map(|(i, &n)| {
                let x0 = lo + i as f64 * width;
                Rectangle::new([(x0, 0), (x0 + width, n)], color.mix(0.45).filled())
            }))
            .map_err(err)?
            .label(label(s))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

fn cdf<DB: DrawingBackend>(series: &[&Series], root: DrawingArea<DB, Shift>) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let (lo, hi) = value_range(series);
    let mut chart = ChartBuilder::on(&root)
        .caption("Latency CDF (up to p99.9)", ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("value")
        .y_desc("fraction of samples")
        .draw()
        .map_err(err)?;
    for (k, s) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let v = sorted_values(s);
        let n = v.len() as f64;
        let step = (v.len() / 2000).max(1);
        let line = v
            .iter()
            .enumerate()
            .filter(|(i, x)| i % step == 0 && **x <= hi)
            .map(|(i, x)| (*x, (i + 1) as f64 / n));
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(2)))
            .map_err(err)?
            .label(label(s))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

fn throughput<DB: DrawingBackend>(
    series: &[&Series],
    root: DrawingArea<DB, Shift>,
) -> Result<(), String> {
    const BINS: usize = 60;
    root.fill(&WHITE).map_err(err)?;
    let start = series
        .iter()
        .filter_map(|s| s.samples.first().map(|x| x.0))
        .min()
        .unwrap_or(0);
    let end = series
        .iter()
        .filter_map(|s| s.samples.last().map(|x| x.0))
        .max()
        .unwrap_or(start);
    let span_s = ((end - start) as f64 / 1e9).max(1e-3);
    let bin_s = span_s / BINS as f64;
    let rates: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            let mut c = vec![0u64; BINS];
            for &(t, _) in &s.samples {
                let i = ((((t - start) as f64 / 1e9) / bin_s) as usize).min(BINS - 1);
                c[i] += 1;
            }
            c.iter()
                .enumerate()
                .map(|(i, &n)| ((i as f64 + 0.5) * bin_s, n as f64 / bin_s))
                .collect()
        })
        .collect();
    let top = rates.iter().flatten().map(|r| r.1).fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption("Throughput over time", ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..span_s, 0.0..top * 1.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since first sample")
        .y_desc("samples per second")
        .draw()
        .map_err(err)?;
    for (k, (s, r)) in series.iter().zip(rates).enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(r, color.stroke_width(2)))
            .map_err(err)?
            .label(label(s))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

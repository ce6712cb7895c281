//! An SVG chart of requests per task against detection delay, one point per vendor and
//! mode (log scale on both axes).

use std::fmt::Write;

use crate::scale::ModeResult;

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

fn log_scale(v: f64, lo: f64, hi: f64, from: f64, to: f64) -> f64 {
    let (v, lo, hi) = (v.max(lo).log10(), lo.log10(), hi.log10());
    from + (v - lo) / (hi - lo).max(f64::MIN_POSITIVE) * (to - from)
}

fn decades(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut d = 10f64.powf(lo.log10().floor());
    while d <= hi * 1.0001 {
        if d >= lo * 0.9999 {
            out.push(d);
        }
        d *= 10.0;
    }
    out
}

/// The chart as an SVG document.
pub fn svg(results: &[ModeResult]) -> String {
    let colors = [
        ("stream", "#1f77b4"),
        ("redis-cloud", "#d62728"),
        ("runware", "#2ca02c"),
    ];
    let per_task = |r: &ModeResult| (r.requests as f64 / r.tasks.max(1) as f64).max(0.001);
    let (x_lo, x_hi) = (0.001_f64, 100.0_f64);
    let (y_lo, y_hi) = (10.0_f64, 100_000.0_f64);
    let x = |v: f64| log_scale(v, x_lo, x_hi, LEFT, W - RIGHT);
    let y = |v: f64| log_scale(v, y_lo, y_hi, H - BOTTOM, TOP);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">Requests per task against median detection delay</text>"#,
        W / 2.0
    );
    for d in decades(x_lo, x_hi) {
        let px = x(d);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{}" stroke="#ddd"/>"##,
            H - BOTTOM
        );
        let _ = writeln!(
            s,
            r#"<text x="{px:.1}" y="{}" text-anchor="middle">{d}</text>"#,
            H - BOTTOM + 18.0
        );
    }
    for d in decades(y_lo, y_hi) {
        let py = y(d);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#ddd"/>"##,
            W - RIGHT
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{d}</text>"#,
            LEFT - 8.0,
            py + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">HTTP requests per task (log)</text>"#,
        W / 2.0,
        H - 16.0
    );
    let _ = writeln!(
        s,
        r#"<text x="20" y="{}" text-anchor="middle" transform="rotate(-90 20 {})">p50 detection delay, ms (log)</text>"#,
        H / 2.0,
        H / 2.0
    );
    for r in results {
        let color = colors
            .iter()
            .find(|(v, _)| *v == r.vendor)
            .map_or("#555", |(_, c)| c);
        let (px, py) = (x(per_task(r)), y(r.delay_p50_ms.max(y_lo)));
        let _ = writeln!(s, "{}", marker(&r.mode, px, py, color));
    }
    // Legend: colours are vendors, shapes are modes.
    let (lx, mut ly) = (LEFT + 14.0, H - BOTTOM - 112.0);
    for (vendor, color) in colors {
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{:.1}" width="12" height="12" fill="{color}"/><text x="{:.1}" y="{:.1}">{vendor}</text>"#,
            ly - 10.0,
            lx + 18.0,
            ly
        );
        ly += 18.0;
    }
    for (mode, what) in [
        ("a", "a loop per task, 1 request/s"),
        ("b", "taskpoll waits, vendor defaults"),
        ("c", "taskpoll group, coalesced, budgeted"),
    ] {
        let _ = writeln!(s, "{}", marker(mode, lx + 6.0, ly - 4.0, "#555"));
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}">({mode}) {what}</text>"#,
            lx + 18.0,
            ly
        );
        ly += 18.0;
    }
    s.push_str("</svg>\n");
    s
}

/// A circle for (a), a square for (b), a triangle for (c).
fn marker(mode: &str, x: f64, y: f64, color: &str) -> String {
    match mode {
        "a" => format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="none" stroke="{color}" stroke-width="2"/>"#
        ),
        "b" => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="11" height="11" fill="none" stroke="{color}" stroke-width="2"/>"#,
            x - 5.5,
            y - 5.5
        ),
        _ => format!(
            r#"<polygon points="{x:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="{color}"/>"#,
            y - 7.0,
            x - 7.0,
            y + 6.0,
            x + 7.0,
            y + 6.0
        ),
    }
}

/// Options of `chart`.
#[derive(Debug, Clone, clap::Args)]
pub struct ChartArgs {
    /// The JSON lines a `scale --json` run wrote.
    #[arg(long)]
    pub json: std::path::PathBuf,
    /// Where to write the SVG.
    #[arg(long)]
    pub svg: std::path::PathBuf,
}

/// Redraws the chart from saved results.
pub fn run(args: &ChartArgs) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(&args.json)?;
    let results: Vec<ModeResult> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    std::fs::write(&args.svg, svg(&results))?;
    Ok(())
}

//! A hand-written SVG bar chart of the bench results: one group per case, one
//! horizontal bar per implementation, bars normalized per case (the best one spans the
//! full width; for latencies shorter times give longer bars), each labelled with its
//! value (the median over the rounds; REQ/REP: the p50 bar, labelled "p50 / p99").

use std::fmt::Write as _;

use super::case::Case;
use super::columns::IMPLS;
use super::outcome::{Cell, Outcome};
use super::report::format_figure;

const COLORS: [&str; IMPLS.len()] = [
    "#d9480f", "#f08c00", "#1971c2", "#2f9e44", "#7048e8", "#c2255c", "#e64980", "#868e96",
];
/// Legend entries per row, and the horizontal space of one.
const LEGEND_PER_ROW: usize = 4;
const LEGEND_STEP: usize = 200;
const WIDTH: usize = 960;
const LEFT: usize = 250;
const BAR_AREA: usize = 560;
const BAR: usize = 16;
const GAP: usize = 3;
const TITLE: usize = 22;
const GROUP_GAP: usize = 14;
const TOP: usize = 40 + IMPLS.len().div_ceil(LEGEND_PER_ROW) * 18 + 12;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders the chart of the cells' medians over `rounds` rounds.
pub(super) fn chart(results: &[(Case, Vec<Cell>)], rounds: usize) -> String {
    let group = TITLE + IMPLS.len() * (BAR + GAP) + GROUP_GAP;
    let height = TOP + results.len() * group + 20;
    let mut out = String::new();
    header(&mut out, height, rounds);
    for (g, (case, cells)) in results.iter().enumerate() {
        let row: Vec<Outcome> = cells.iter().map(Cell::summary).collect();
        case_group(&mut out, TOP + g * group, case, &row);
    }
    out.push_str("</svg>\n");
    out
}

/// The opening tag, the background, the title and the legend.
fn header(out: &mut String, height: usize, rounds: usize) {
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="22" font-size="16" font-weight="bold">zeroring bench: loopback TCP, medians of {rounds} round{}, bars normalized per case (longest = best)</text>"#,
        if rounds == 1 { "" } else { "s" }
    );
    for (i, name) in IMPLS.iter().enumerate() {
        let x = 10 + (i % LEGEND_PER_ROW) * LEGEND_STEP;
        let y = 36 + (i / LEGEND_PER_ROW) * 18;
        let _ = writeln!(
            out,
            r#"<rect x="{x}" y="{y}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            COLORS[i],
            x + 16,
            y + 10,
            escape(name)
        );
    }
}

/// One case starting at `y0`: its title, then one labelled bar per implementation.
fn case_group(out: &mut String, y0: usize, case: &Case, row: &[Outcome]) {
    let _ = writeln!(
        out,
        r#"<text x="10" y="{}" font-weight="bold">{} ({})</text>"#,
        y0 + 15,
        escape(case.title),
        if case.is_latency() {
            "p50 / p99 round trip, bar: p50, lower is better"
        } else {
            "per second, higher is better"
        }
    );
    let scores: Vec<Option<f64>> = row
        .iter()
        .map(|o| o.value().filter(|v| *v > 0.0))
        .map(|v| v.map(|v| if case.is_latency() { 1.0 / v } else { v }))
        .collect();
    let best = scores.iter().flatten().cloned().fold(0.0f64, f64::max);
    for (i, (outcome, score)) in row.iter().zip(&scores).enumerate() {
        let y = y0 + TITLE + i * (BAR + GAP);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LEFT - 8,
            y + BAR - 4,
            escape(IMPLS[i])
        );
        match (score, outcome) {
            (Some(sc), Outcome::Value(v)) if best > 0.0 => {
                let w = ((sc / best) * BAR_AREA as f64).round().max(1.0) as usize;
                let _ = writeln!(
                    out,
                    r#"<rect x="{LEFT}" y="{y}" width="{w}" height="{BAR}" fill="{}"/><text x="{}" y="{}">{}</text>"#,
                    COLORS[i],
                    LEFT + w + 6,
                    y + BAR - 4,
                    escape(&format_figure(case, *v))
                );
            }
            _ => no_bar(out, y, outcome),
        }
    }
}

/// In place of a bar: why there is no value.
fn no_bar(out: &mut String, y: usize, outcome: &Outcome) {
    let label = match outcome {
        Outcome::Stalled => "stalled",
        Outcome::Failed(_) => "failed",
        Outcome::Skipped => "skipped",
        _ => "n/a",
    };
    let _ = writeln!(
        out,
        r##"<text x="{LEFT}" y="{}" fill="#868e96">{label}</text>"##,
        y + BAR - 4
    );
}

//! The report's charts, drawn on the server as SVG: presentation attributes
//! only (`fill`, `x`, `width`, `font-size`, ...), never a `style` attribute or
//! element, so the console's CSP (`style-src 'self'`) lets them be, and no
//! script. Each chart is an `img` with its title for screen readers.

use maud::{Markup, html};

use super::words::{Lang, W, name, w};
use super::{Counts, MonthFigures};

/// The colour of each channel, in `Channel::ALL`'s order (phone, e-mail, web
/// site, other).
pub(super) const CHANNEL_COLOURS: [&str; 4] = ["#0b5cad", "#2e8b57", "#d08c00", "#7a5195"];
pub(super) const INK: &str = "#1d2733";
pub(super) const MUTED: &str = "#5b6b7b";
pub(super) const GRID: &str = "#d5dde5";
pub(super) const BAR: &str = "#0b5cad";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif";

/// The colour of the `i`-th channel.
pub(super) fn channel_colour(i: usize) -> &'static str {
    CHANNEL_COLOURS.get(i).copied().unwrap_or(MUTED)
}

/// A round number at least `max`, for the top of an axis: 1, 2, 5, 10, 20, ...
pub(super) fn axis_top(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= max.max(1) {
                return m * step;
            }
        }
        step *= 10;
    }
}

fn f(x: f64) -> String {
    format!("{x:.1}")
}

/// The appeals registered each month, one bar a month stacked by channel, with
/// the month's count above it and a legend of the channels.
pub fn trend(lang: Lang, months: &[MonthFigures]) -> Markup {
    const WIDTH: f64 = 1000.0;
    const HEIGHT: f64 = 300.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 12.0;
    const TOP: f64 = 44.0;
    const BOTTOM: f64 = 36.0;
    let title = w(lang, W::ChartTrend);
    let top = axis_top(months.iter().map(|m| m.appeals).max().unwrap_or(0));
    let plot_h = HEIGHT - TOP - BOTTOM;
    let base = HEIGHT - BOTTOM;
    let slot = (WIDTH - LEFT - RIGHT) / months.len().max(1) as f64;
    let bar = (slot * 0.6).min(64.0);
    let y_of = |v: u64| base - plot_h * v as f64 / top as f64;
    // Month labels thin out when there are many months.
    let every = months.len().div_ceil(12).max(1);
    let channels: Vec<String> = months
        .first()
        .map(|m| m.by_channel.iter().map(|(c, _)| c.to_owned()).collect())
        .unwrap_or_default();
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
            width=(WIDTH) height=(HEIGHT) role="img" aria-label=(title)
            font-family=(FONT) font-size="12" {
            title { (title) }
            // Legend.
            @for (i, channel) in channels.iter().enumerate() {
                @let x = LEFT + i as f64 * 150.0;
                rect x=(f(x)) y="8" width="12" height="12" fill=(channel_colour(i)) {}
                text x=(f(x + 18.0)) y="18" fill=(INK) { (name(lang, channel)) }
            }
            // Axis and grid: 0, half and top.
            @for v in [0, top / 2, top] {
                @if v == 0 || v != top / 2 || top.is_multiple_of(2) {
                    line x1=(f(LEFT)) x2=(f(WIDTH - RIGHT)) y1=(f(y_of(v))) y2=(f(y_of(v)))
                        stroke=(if v == 0 { MUTED } else { GRID }) stroke-width="1" {}
                    text x=(f(LEFT - 6.0)) y=(f(y_of(v) + 4.0)) fill=(MUTED) text-anchor="end" { (v) }
                }
            }
            @for (i, m) in months.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
                @for (j, channel, below, n) in stacked(m) {
                    rect x=(f(x)) y=(f(y_of(below + n))) width=(f(bar))
                        height=(f(y_of(below) - y_of(below + n))) fill=(channel_colour(j)) {
                        title { (m.month) ", " (name(lang, channel)) ": " (n) }
                    }
                }
                text x=(f(x + bar / 2.0)) y=(f(y_of(m.appeals) - 5.0)) fill=(INK) text-anchor="middle"
                    font-weight="600" { (m.appeals) }
                @if i % every == 0 {
                    text x=(f(x + bar / 2.0)) y=(f(base + 18.0)) fill=(MUTED) text-anchor="middle" { (m.month) }
                }
            }
        }
    }
}

/// A month's bar, from the bottom: each channel with appeals, its index, name,
/// the count below it and its own.
pub(super) fn stacked(m: &MonthFigures) -> Vec<(usize, &str, u64, u64)> {
    let mut below = 0;
    let mut parts = Vec::new();
    for (j, (channel, n)) in m.by_channel.iter().enumerate() {
        if n > 0 {
            parts.push((j, channel, below, n));
        }
        below += n;
    }
    parts
}

/// Horizontal bars: one a name of `counts`, its label on the left and its count
/// at its end; `label` names each in the reader's language.
pub fn bars(title: &str, counts: &Counts, label: impl Fn(&str) -> String) -> Markup {
    const WIDTH: f64 = 1000.0;
    const ROW: f64 = 30.0;
    const LABEL: f64 = 380.0;
    const RIGHT: f64 = 60.0;
    let rows: Vec<(String, u64)> = counts.iter().map(|(n, c)| (label(n), c)).collect();
    let height = ROW * rows.len().max(1) as f64 + 8.0;
    let top = rows.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1);
    let span = WIDTH - LABEL - RIGHT;
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (height) }
            width=(WIDTH) height=(height) role="img" aria-label=(title)
            font-family=(FONT) font-size="13" {
            title { (title) }
            @for (i, (text_, n)) in rows.iter().enumerate() {
                @let y = 4.0 + ROW * i as f64;
                @let length = span * *n as f64 / top as f64;
                text x=(f(LABEL - 10.0)) y=(f(y + 19.0)) fill=(INK) text-anchor="end" { (text_) }
                rect x=(f(LABEL)) y=(f(y + 5.0)) width=(f(length.max(1.0))) height="18"
                    fill=(if *n > 0 { BAR } else { GRID }) {}
                text x=(f(LABEL + length.max(1.0) + 6.0)) y=(f(y + 19.0)) fill=(INK) { (n) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(axis_top(0), 1);
        assert_eq!(axis_top(3), 5);
        assert_eq!(axis_top(5), 5);
        assert_eq!(axis_top(7), 10);
        assert_eq!(axis_top(11), 20);
        assert_eq!(axis_top(140), 200);
    }

    #[test]
    fn charts_have_no_style_and_no_script() {
        let counts = Counts(vec![("corruption".into(), 3), ("not_corruption".into(), 0)]);
        let svg = bars("By category", &counts, |n| name(Lang::En, n)).into_string();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("not corruption"), "{svg}");
        for banned in [" style=", "<style", "<script", " onload=", " onclick="] {
            assert!(!svg.contains(banned), "{banned} in {svg}");
        }
    }
}

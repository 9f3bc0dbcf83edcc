//! The report's charts drawn into the PDF with rectangles and lines, as
//! `svg` draws them for the page (its colours, its round axis tops, its
//! stacking): the trend, a bar a month stacked by channel, and horizontal bars
//! of counts.

use crate::pdf::{Fonts, Page};
use crate::report::MonthFigures;
use crate::report::svg::{BAR, GRID, INK, MUTED, axis_top, channel_colour, stacked};
use crate::report::words::{Lang, name};

use super::colour;

const LABEL_SIZE: f32 = 7.5;

/// A box on the page: its left, its top, its width and its height.
pub(super) struct Frame {
    pub x: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

/// The appeals registered each month: one bar a month stacked by channel, the
/// month's count above it, a legend of the channels above all, the months
/// under (thinned out when there are many).
pub(super) fn trend(
    page: &mut Page,
    fonts: &Fonts,
    lang: Lang,
    months: &[MonthFigures],
    at: &Frame,
) {
    const AXIS: f32 = 22.0;
    const LEGEND: f32 = 28.0;
    const MONTHS: f32 = 16.0;
    let Frame {
        x,
        top,
        width,
        height,
    } = *at;
    // The legend, from the first month's channels (every month lists them all).
    let channels: Vec<&str> = months
        .first()
        .map(|m| m.by_channel.iter().map(|(c, _)| c).collect())
        .unwrap_or_default();
    let mut lx = x + AXIS;
    for (i, channel) in channels.iter().enumerate() {
        let words = name(lang, channel);
        page.rect(lx, top - 9.0, 7.0, 7.0, colour(channel_colour(i)));
        page.coloured(
            lx + 10.0,
            top - 8.5,
            &words,
            false,
            LABEL_SIZE + 0.5,
            colour(INK),
        );
        lx += 10.0 + fonts.width(&words, false, LABEL_SIZE + 0.5) + 16.0;
    }
    let axis_top = axis_top(months.iter().map(|m| m.appeals).max().unwrap_or(0));
    let base = top - height + MONTHS;
    let plot_h = height - LEGEND - MONTHS;
    let left = x + AXIS;
    let plot_w = width - AXIS;
    let y_of = |v: u64| base + plot_h * v as f32 / axis_top as f32;
    for v in [0, axis_top / 2, axis_top] {
        if v == 0 || v != axis_top / 2 || axis_top.is_multiple_of(2) {
            let (line, w) = if v == 0 { (MUTED, 0.8) } else { (GRID, 0.5) };
            page.rule(left, x + width, y_of(v), w, colour(line));
            let label = v.to_string();
            let lw = fonts.width(&label, false, LABEL_SIZE);
            page.coloured(
                left - 5.0 - lw,
                y_of(v) - 2.5,
                &label,
                false,
                LABEL_SIZE,
                colour(MUTED),
            );
        }
    }
    let slot = plot_w / months.len().max(1) as f32;
    let bar = (slot * 0.6).min(42.0);
    let every = months.len().div_ceil(12).max(1);
    for (i, m) in months.iter().enumerate() {
        let bx = left + slot * i as f32 + (slot - bar) / 2.0;
        for (j, _, below, n) in stacked(m) {
            let (y0, y1) = (y_of(below), y_of(below + n));
            page.rect(bx, y0, bar, y1 - y0, colour(channel_colour(j)));
        }
        let count = m.appeals.to_string();
        let cw = fonts.width(&count, true, LABEL_SIZE + 0.5);
        let cy = y_of(m.appeals) + 3.0;
        page.coloured(
            bx + (bar - cw) / 2.0,
            cy,
            &count,
            true,
            LABEL_SIZE + 0.5,
            colour(INK),
        );
        if i % every == 0 {
            let month = m.month.to_string();
            let mw = fonts.width(&month, false, LABEL_SIZE);
            let my = base - 10.0;
            page.coloured(
                bx + (bar - mw) / 2.0,
                my,
                &month,
                false,
                LABEL_SIZE,
                colour(MUTED),
            );
        }
    }
}

/// Horizontal bars, one a row of `rows` (its words and count): the words at
/// the left, right-aligned and broken into lines if long, the bar, the count at
/// its end. Returns the height used.
pub(super) fn bars(
    page: &mut Page,
    fonts: &Fonts,
    rows: &[(String, u64)],
    x: f32,
    top: f32,
    width: f32,
) -> f32 {
    const SIZE: f32 = 8.8;
    const ROW: f32 = 15.0;
    const LINE: f32 = SIZE * 1.2;
    let label_w = width * 0.4;
    let span = width - label_w - 40.0;
    let most = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let mut y = top;
    for (words, n) in rows {
        let lines = fonts.wrap(words, false, SIZE, label_w - 8.0, label_w - 8.0);
        let height = ROW.max(lines.len() as f32 * LINE + 4.0);
        let middle = y - height / 2.0;
        let first = middle + (lines.len() as f32 - 1.0) * LINE / 2.0 - SIZE * 0.35;
        for (i, line) in lines.iter().enumerate() {
            let lw = fonts.width(line, false, SIZE);
            let ly = first - i as f32 * LINE;
            page.coloured(x + label_w - 8.0 - lw, ly, line, false, SIZE, colour(INK));
        }
        let length = (span * *n as f32 / most as f32).max(1.0);
        let fill = if *n > 0 { BAR } else { GRID };
        page.rect(x + label_w, middle - 5.0, length, 10.0, colour(fill));
        let count = n.to_string();
        let cy = middle - SIZE * 0.35;
        page.coloured(
            x + label_w + length + 5.0,
            cy,
            &count,
            false,
            SIZE,
            colour(INK),
        );
        y -= height;
    }
    top - y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_of_a_bar_stay_inside_its_frame() {
        let fonts = Fonts::serif().expect("fonts");
        let rows = vec![
            ("жіктелмеген".to_owned(), 2),
            ("қылмыстық құқық бұзушылық немесе қауіп (6.3)".repeat(2), 1),
        ];
        let mut page = Page::default();
        let height = bars(&mut page, &fonts, &rows, 50.0, 700.0, 300.0);
        assert!(
            height > 2.0 * 15.0,
            "the long words take two lines: {height}"
        );
        for run in &page.runs {
            assert!(run.x >= 50.0, "{} starts at {}", run.text, run.x);
            assert!(run.y < 700.0 && run.y > 700.0 - height, "{}", run.text);
        }
    }
}

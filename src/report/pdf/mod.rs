//! The report as a PDF for the Director: the same figures and sections as the
//! HTML page (`html::figures`), in the reader's language, set in the embedded
//! DejaVu Serif (`crate::pdf`, so Kazakh letters render and `pdftotext` reads
//! them back). A4: the title with the period (a quarter named as one) and the
//! date made, the key figures, the trend drawn as a chart with its table, the
//! categories as bars, the counts as tables two by two, the calls, the times
//! and the deadlines; each page's footer carries the period and the page's
//! number. Counts and times only, as everywhere in the report.
//!
//! - here: the document, section by section (`render`);
//! - `table`: a table, drawn a row at a time;
//! - `chart`: the trend and the bars.

mod chart;
mod table;

use chrono::{DateTime, Utc};

use crate::pdf::{Flow, Fonts, Info, MM, PAGE_H, PAGE_W, Rgb};

use super::svg::{GRID, INK, MUTED};
use super::words::{Lang, W, date, days, duration, name, outcome, quarter, unit, w};
use super::{Counts, Report, Stats};
use chart::Frame;
use table::{Column, Style, Table};

const LEFT: f32 = 20.0 * MM;
const RIGHT: f32 = 15.0 * MM;
const TOP: f32 = 16.0 * MM;
const BOTTOM: f32 = 18.0 * MM;
const WIDTH: f32 = PAGE_W - LEFT - RIGHT;
const TITLE_SIZE: f32 = 16.0;
const HEADING_SIZE: f32 = 12.0;
const TEXT_SIZE: f32 = 9.5;
/// The gap between two tables side by side.
const GUTTER: f32 = 6.0 * MM;
/// The shade of a table's header and a key figure's box (the page's CSS).
const HEADER_FILL: &str = "#eef2f6";
/// The key figures' colour (the page's CSS: `--accent`).
const ACCENT: &str = "#0b5cad";

/// A colour of the page's palette, written as CSS writes it.
fn colour(css: &str) -> Rgb {
    Rgb::hex(css).unwrap_or(Rgb::BLACK)
}

/// The report as a PDF in `lang`, made at `made_at`; the error says what
/// failed (a font that does not parse or subset: a broken build, never the
/// input).
pub fn render(report: &Report, lang: Lang, made_at: DateTime<Utc>) -> Result<Vec<u8>, String> {
    let fonts = Fonts::serif()?;
    let mut doc = Doc {
        fonts: &fonts,
        flow: Flow::new(PAGE_H - TOP, BOTTOM),
        lang,
    };
    doc.sections(report);
    let period = format!("{} – {}", date(report.period.from), date(report.period.to));
    let page = w(lang, W::Page);
    let pages = doc
        .flow
        .number_pages(&fonts, LEFT + WIDTH, BOTTOM / 2.0, |n, total| {
            format!("{} · {period} · {page} {n} / {total}", w(lang, W::Title))
        });
    let title = format!("{} · {period}", w(lang, W::Title));
    let info = Info {
        title: &title,
        created: made_at,
    };
    crate::pdf::write(&pages, fonts, &info)
}

/// The document being laid out, top to bottom; the flow's `y` is the top of
/// what comes next.
struct Doc<'f> {
    fonts: &'f Fonts,
    flow: Flow,
    lang: Lang,
}

impl Doc<'_> {
    fn t(&self, word: W) -> &'static str {
        w(self.lang, word)
    }

    fn n(&self, stored: &str) -> String {
        name(self.lang, stored)
    }

    /// Lines of text at the left, `size` and `ink`, broken to the width.
    fn text(&mut self, text: &str, bold: bool, size: f32, ink: Rgb) {
        for line in self.fonts.wrap(text, bold, size, WIDTH, WIDTH) {
            self.flow.keep(size * 1.35);
            let y = self.flow.y - size;
            self.flow.page().coloured(LEFT, y, &line, bold, size, ink);
            self.flow.y -= size * 1.35;
        }
    }

    /// A section's heading, kept with `room` points of what follows it.
    fn heading(&mut self, text: &str, room: f32) {
        self.flow.y -= 10.0;
        self.flow.keep(HEADING_SIZE * 1.6 + room);
        self.text(text, true, HEADING_SIZE, colour(INK));
        self.flow.y -= 4.0;
    }

    fn gap(&mut self, points: f32) {
        self.flow.y -= points;
    }

    fn sections(&mut self, report: &Report) {
        self.title(report);
        self.key_figures(report);
        self.trend(report);
        self.categories(report);
        self.counts(report);
        self.calls(report);
        self.times(report);
        self.deadlines(report);
    }

    /// The title, the period (a quarter named as one), the date made and
    /// what the report never shows.
    fn title(&mut self, report: &Report) {
        let p = report.period;
        let period = format!("{} – {}", date(p.from), date(p.to));
        let when = match p.as_quarter() {
            Some((year, q)) => quarter(self.lang, year, q),
            None => period.clone(),
        };
        self.text(self.t(W::Title), true, TITLE_SIZE, colour(INK));
        self.gap(2.0);
        self.text(&when, true, HEADING_SIZE, colour(ACCENT));
        self.gap(3.0);
        // The deadlines still open are judged on the day the report is made.
        let made = format!(
            "{} {period}. {} {}.",
            self.t(W::Period),
            self.t(W::Made),
            date(report.as_of),
        );
        self.text(&made, false, TEXT_SIZE, colour(INK));
        self.text(self.t(W::NoIdentity), false, TEXT_SIZE, colour(MUTED));
        self.gap(4.0);
        let y = self.flow.y;
        self.flow
            .page()
            .rule(LEFT, LEFT + WIDTH, y, 0.8, colour(GRID));
        self.gap(8.0);
    }

    /// Five boxes: a count large, its words under it.
    fn key_figures(&mut self, report: &Report) {
        let missed = format!("{}: {}", self.t(W::Deadlines), self.t(W::Missed));
        let kpis = [
            (report.appeals, self.t(W::Appeals).to_owned()),
            (report.anonymous, self.t(W::Anonymous).to_owned()),
            (report.after_hours, self.t(W::AfterHours).to_owned()),
            (report.calls.missed, self.t(W::MissedCalls).to_owned()),
            (report.deadlines.all.missed(), missed),
        ];
        const VALUE: f32 = 18.0;
        const LABEL: f32 = 7.8;
        let gap = 2.5 * MM;
        let box_w = (WIDTH - gap * (kpis.len() - 1) as f32) / kpis.len() as f32;
        let labels: Vec<Vec<String>> = kpis
            .iter()
            .map(|(_, l)| self.fonts.wrap(l, false, LABEL, box_w - 12.0, box_w - 12.0))
            .collect();
        let lines = labels.iter().map(Vec::len).max().unwrap_or(1);
        let height = 12.0 + VALUE + 4.0 + lines as f32 * LABEL * 1.25 + 6.0;
        self.flow.keep(height);
        let top = self.flow.y;
        let page = self.flow.page();
        for (i, ((value, _), label)) in kpis.iter().zip(&labels).enumerate() {
            let x = LEFT + i as f32 * (box_w + gap);
            page.rect(x, top - height, box_w, height, colour(HEADER_FILL));
            let vy = top - 8.0 - VALUE;
            page.coloured(x + 6.0, vy, &value.to_string(), true, VALUE, colour(ACCENT));
            for (n, line) in label.iter().enumerate() {
                let y = vy - 6.0 - LABEL - n as f32 * LABEL * 1.25;
                page.coloured(x + 6.0, y, line, false, LABEL, colour(MUTED));
            }
        }
        self.flow.y = top - height - 4.0;
    }

    /// The trend: the chart, then its table a row a month.
    fn trend(&mut self, report: &Report) {
        const CHART: f32 = 54.0 * MM;
        self.heading(self.t(W::Trend), CHART);
        self.text(self.t(W::ChartTrend), false, TEXT_SIZE - 1.0, colour(MUTED));
        self.gap(4.0);
        let frame = Frame {
            x: LEFT,
            top: self.flow.y,
            width: WIDTH,
            height: CHART,
        };
        let (fonts, lang) = (self.fonts, self.lang);
        chart::trend(self.flow.page(), fonts, lang, &report.months, &frame);
        self.gap(CHART + 8.0);
        let mut columns = vec![
            Column::text(self.t(W::Month), 1.2),
            Column::number(self.t(W::Appeals), 1.3),
        ];
        for (channel, _) in report.by_channel.iter() {
            columns.push(Column::number(self.n(channel), 1.0));
        }
        columns.push(Column::number(self.t(W::MissedCallsShort), 1.3));
        let mut table = Table::new(columns);
        for m in &report.months {
            let mut cells = vec![m.month.to_string(), m.appeals.to_string()];
            cells.extend(m.by_channel.iter().map(|(_, c)| c.to_string()));
            cells.push(m.calls.missed.to_string());
            table.row(Style::Plain, cells);
        }
        self.tables(&[&table], WIDTH);
    }

    /// The categories as bars.
    fn categories(&mut self, report: &Report) {
        let rows: Vec<(String, u64)> = report
            .by_category
            .iter()
            .map(|(c, n)| (self.n(c), n))
            .collect();
        self.heading(self.t(W::ByCategory), 15.0 * rows.len() as f32);
        self.gap(2.0);
        let (fonts, top) = (self.fonts, self.flow.y);
        let h = chart::bars(self.flow.page(), fonts, &rows, LEFT, top, WIDTH);
        self.gap(h + 4.0);
    }

    /// Channels, statuses, what was done, units, decisions and conclusions:
    /// tables two by two.
    fn counts(&mut self, report: &Report) {
        let lang = self.lang;
        // Paired short with long: the channels beside what was done, the
        // statuses beside the units, the decisions beside the conclusions.
        let tables = [
            self.count_table(W::ByChannel, &report.by_channel, &|c| name(lang, c)),
            self.count_table(W::Outcomes, &report.outcomes, &|e| outcome(lang, e)),
            self.count_table(W::ByStatus, &report.by_status, &|s| name(lang, s)),
            self.count_table(W::ByUnit, &report.by_unit, &|u| unit(lang, u)),
            self.count_table(W::Decisions, &report.decisions, &|d| name(lang, d)),
            self.count_table(W::Findings, &report.findings, &|f| name(lang, f)),
        ];
        self.gap(10.0);
        let half = (WIDTH - GUTTER) / 2.0;
        for pair in tables.chunks(2) {
            let pair: Vec<&Table> = pair.iter().collect();
            self.tables(&pair, half);
        }
    }

    /// A table of counts, headed by what they count.
    fn count_table(&self, heading: W, counts: &Counts, words: &dyn Fn(&str) -> String) -> Table {
        let mut table = Table::new(vec![
            Column::text(self.t(heading), 4.0),
            Column::number("", 1.0),
        ]);
        for (stored, n) in counts.iter() {
            table.row(Style::Plain, vec![words(stored), n.to_string()]);
        }
        table
    }

    /// Tables side by side, each `width` wide, their headers and rows level;
    /// when a page is full they go on over the next under their headers again.
    fn tables(&mut self, tables: &[&Table], width: f32) {
        let fonts = self.fonts;
        let level =
            |height: &dyn Fn(&Table) -> f32| tables.iter().map(|t| height(t)).fold(0.0, f32::max);
        let header = level(&|t| t.header_height(fonts, width));
        let row = |i: usize| level(&|t| t.row_height(fonts, i, width));
        let x = |i: usize| LEFT + i as f32 * (width + GUTTER);
        // The headers of the tables that have rows from `r` on.
        let headers = |flow: &mut Flow, r: usize| {
            let top = flow.y;
            for (i, table) in tables
                .iter()
                .enumerate()
                .filter(|(_, t)| r < t.rows.len().max(1))
            {
                table.draw_header(fonts, flow.page(), (x(i), top, width), header);
            }
            flow.y -= header;
        };
        let rows = tables.iter().map(|t| t.rows.len()).max().unwrap_or(0);
        // Kept whole on one page if they can be; else at least a row with the headers.
        let whole = header + (0..rows).map(row).sum::<f32>();
        let first = if whole <= self.flow.page_room() {
            whole
        } else {
            header + row(0)
        };
        self.flow.keep(first);
        headers(&mut self.flow, 0);
        for r in 0..rows {
            let height = row(r);
            if self.flow.keep(height) {
                headers(&mut self.flow, r);
            }
            let top = self.flow.y;
            for (i, table) in tables.iter().enumerate().filter(|(_, t)| r < t.rows.len()) {
                table.draw_row(fonts, self.flow.page(), r, (x(i), top, width), height);
            }
            self.flow.y -= height;
        }
        self.gap(10.0);
    }

    fn calls(&mut self, report: &Report) {
        let c = &report.calls;
        let mut table = Table::new(vec![Column::text("", 5.0), Column::number("", 1.0)]);
        for (style, word, n) in [
            (Style::Plain, W::CallsLogged, c.calls),
            (Style::Indent, W::Answered, c.answered),
            (Style::Indent, W::Voicemail, c.voicemail),
            (Style::Plain, W::MissedCalls, c.missed),
            (Style::Plain, W::CallsAfterHours, c.after_hours),
            (Style::Indent, W::MissedAfterHours, c.missed_after_hours),
        ] {
            table.row(style, vec![self.t(word).to_owned(), n.to_string()]);
        }
        self.heading(self.t(W::Calls), table.height(self.fonts, WIDTH * 0.62));
        self.tables(&[&table], WIDTH * 0.62);
    }

    fn times(&mut self, report: &Report) {
        let lang = self.lang;
        let times = &report.times;
        let alert = &times.director_alert;
        let none = self.t(W::None);
        let mut table = Table::new(vec![
            Column::text(self.t(W::Measure), 4.2),
            Column::number(self.t(W::Count), 1.2),
            Column::number(self.t(W::Median), 1.5),
            Column::number(self.t(W::Max), 1.5),
        ]);
        let row = |measure: W, stats: &Stats, show: &dyn Fn(i64) -> String| {
            let shown = |v: Option<i64>| v.map(show).unwrap_or_else(|| none.to_owned());
            vec![
                w(lang, measure).to_owned(),
                stats.count.to_string(),
                shown(stats.median),
                shown(stats.max),
            ]
        };
        let seconds = |s| duration(lang, s);
        let in_days = |d| days(lang, d);
        table.row(
            Style::Plain,
            row(W::TimeToRegister, &times.register_seconds, &seconds),
        );
        table.row(Style::Plain, row(W::TimeToAlert, &alert.seconds, &seconds));
        table.row(
            Style::Plain,
            row(W::TimeToReply, &times.reply_days, &in_days),
        );
        self.heading(self.t(W::Times), table.height(self.fonts, WIDTH) + 20.0);
        self.tables(&[&table], WIDTH);
        self.gap(-4.0);
        let alerts = format!(
            "{}: {} / {} / {}",
            self.t(W::AlertsOnTime),
            alert.on_time,
            alert.late,
            alert.not_sent
        );
        self.text(&alerts, false, TEXT_SIZE, colour(INK));
    }

    fn deadlines(&mut self, report: &Report) {
        let mut table = Table::new(vec![
            Column::text(self.t(W::Deadline), 2.6),
            Column::number(self.t(W::Met), 1.0),
            Column::number(self.t(W::MetLate), 1.1),
            Column::number(self.t(W::Overdue), 1.0),
            Column::number(self.t(W::Open), 1.2),
            Column::number(self.t(W::Ended), 1.3),
        ]);
        let cells = |name: String, c: &super::DeadlineCounts| {
            vec![
                name,
                c.met.to_string(),
                c.met_late.to_string(),
                c.overdue.to_string(),
                c.open.to_string(),
                c.ended.to_string(),
            ]
        };
        table.row(
            Style::Total,
            cells(self.t(W::Total).to_owned(), &report.deadlines.all),
        );
        for (kind, c) in &report.deadlines.by_kind {
            if c.total() > 0 {
                table.row(Style::Plain, cells(self.n(kind.as_str()), c));
            }
        }
        self.heading(self.t(W::Deadlines), table.height(self.fonts, WIDTH));
        self.tables(&[&table], WIDTH);
    }
}

//! A table on a PDF page: a shaded header row, then rows under thin rules;
//! the first column's text at the left, numbers at the right; any cell's text
//! broken into lines to fit its column. Drawn a row at a time, so a long table
//! can go on over the next page under its header again, and two tables side
//! by side can keep their rows level (`Doc::tables`).

use crate::pdf::{Fonts, Page};
use crate::report::svg::{GRID, INK, MUTED};

use super::{HEADER_FILL, colour};

const SIZE: f32 = 8.8;
const HEADER_SIZE: f32 = 8.3;
/// A line's height, in font sizes.
const LINE: f32 = 1.3;
const PAD_X: f32 = 4.5;
const PAD_Y: f32 = 2.8;
/// How far an indented row's first cell stands in.
const INDENT: f32 = 12.0;

/// A column: its name in the header, its share of the table's width, and
/// whether it holds numbers (set at the right).
pub(super) struct Column {
    pub name: String,
    pub share: f32,
    pub numeric: bool,
}

impl Column {
    pub fn text(name: impl Into<String>, share: f32) -> Column {
        Column {
            name: name.into(),
            share,
            numeric: false,
        }
    }

    pub fn number(name: impl Into<String>, share: f32) -> Column {
        Column {
            name: name.into(),
            share,
            numeric: true,
        }
    }
}

/// How a row's text is set.
#[derive(Clone, Copy)]
struct Look {
    bold: bool,
    size: f32,
    /// The first cell stood in and grey.
    indent: bool,
}

/// How a row is set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    /// In bold: a total.
    Total,
    /// Its first cell stood in and grey: a part of the row above.
    Indent,
}

pub(super) struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<(Style, Vec<String>)>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, style: Style, cells: Vec<String>) {
        self.rows.push((style, cells));
    }

    /// Each column's left edge and width, for a table `width` wide at `x`.
    fn edges(&self, x: f32, width: f32) -> Vec<(f32, f32)> {
        let total: f32 = self.columns.iter().map(|c| c.share).sum::<f32>().max(0.01);
        let mut at = x;
        self.columns
            .iter()
            .map(|c| {
                let w = width * c.share / total;
                at += w;
                (at - w, w)
            })
            .collect()
    }

    /// The cells of a row broken into lines, and the row's height.
    fn lay(
        &self,
        fonts: &Fonts,
        cells: &[&str],
        bold: bool,
        size: f32,
        width: f32,
    ) -> (Vec<Vec<String>>, f32) {
        let lines: Vec<Vec<String>> = self
            .edges(0.0, width)
            .iter()
            .zip(cells)
            .enumerate()
            .map(|(i, ((_, w), text))| {
                let room = w - 2.0 * PAD_X - if i == 0 { INDENT } else { 0.0 };
                fonts.wrap(text, bold, size, room, room)
            })
            .collect();
        let most = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
        (lines, 2.0 * PAD_Y + most as f32 * size * LINE)
    }

    /// A table whose columns have no names has no header.
    fn headless(&self) -> bool {
        self.columns.iter().all(|c| c.name.is_empty())
    }

    /// The header's height.
    pub fn header_height(&self, fonts: &Fonts, width: f32) -> f32 {
        if self.headless() {
            return 0.0;
        }
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        self.lay(fonts, &names, true, HEADER_SIZE, width).1
    }

    /// The height of row `i`.
    pub fn row_height(&self, fonts: &Fonts, i: usize, width: f32) -> f32 {
        self.rows.get(i).map_or(0.0, |(style, cells)| {
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            self.lay(fonts, &cells, *style == Style::Total, SIZE, width)
                .1
        })
    }

    /// The whole table's height.
    pub fn height(&self, fonts: &Fonts, width: f32) -> f32 {
        self.header_height(fonts, width)
            + (0..self.rows.len())
                .map(|i| self.row_height(fonts, i, width))
                .sum::<f32>()
    }

    /// The header, its top at `top`, at least `at_least` high (level with the
    /// header of a table beside it); its height.
    pub fn draw_header(
        &self,
        fonts: &Fonts,
        page: &mut Page,
        (x, top, width): (f32, f32, f32),
        at_least: f32,
    ) -> f32 {
        if self.headless() {
            page.rule(x, x + width, top, 0.6, colour(GRID));
            return 0.0;
        }
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        let (lines, h) = self.lay(fonts, &names, true, HEADER_SIZE, width);
        let h = h.max(at_least);
        page.rect(x, top - h, width, h, colour(HEADER_FILL));
        let look = Look {
            bold: true,
            size: HEADER_SIZE,
            indent: false,
        };
        self.cells(fonts, page, (x, top, width), &lines, look);
        page.rule(x, x + width, top - h, 0.6, colour(GRID));
        h
    }

    /// Row `i`, its top at `top`, at least `at_least` high (level with the row
    /// beside it); its height.
    pub fn draw_row(
        &self,
        fonts: &Fonts,
        page: &mut Page,
        i: usize,
        (x, top, width): (f32, f32, f32),
        at_least: f32,
    ) -> f32 {
        let Some((style, cells)) = self.rows.get(i) else {
            return 0.0;
        };
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        let bold = *style == Style::Total;
        let (lines, h) = self.lay(fonts, &cells, bold, SIZE, width);
        let h = h.max(at_least);
        let look = Look {
            bold,
            size: SIZE,
            indent: *style == Style::Indent,
        };
        self.cells(fonts, page, (x, top, width), &lines, look);
        page.rule(x, x + width, top - h, 0.5, colour(GRID));
        h
    }

    /// The lines of each cell of a row whose top is at `top`.
    fn cells(
        &self,
        fonts: &Fonts,
        page: &mut Page,
        (x, top, width): (f32, f32, f32),
        lines: &[Vec<String>],
        look: Look,
    ) {
        let Look { bold, size, indent } = look;
        for (i, ((left, w), cell)) in self.edges(x, width).into_iter().zip(lines).enumerate() {
            let numeric = self.columns.get(i).is_some_and(|c| c.numeric);
            let stand_in = indent && i == 0;
            let ink = colour(if stand_in { MUTED } else { INK });
            for (n, line) in cell.iter().enumerate() {
                let y = top - PAD_Y - size - n as f32 * size * LINE;
                let at = if numeric {
                    left + w - PAD_X - fonts.width(line, bold, size)
                } else {
                    left + PAD_X + if stand_in { INDENT } else { 0.0 }
                };
                page.coloured(at, y, line, bold, size, ink);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stand_at_the_right_and_long_names_wrap() {
        let fonts = Fonts::serif().expect("fonts");
        let mut table = Table::new(vec![
            Column::text("Канал", 3.0),
            Column::number("Саны", 1.0),
        ]);
        table.row(Style::Plain, vec!["эл. пошта".into(), "4".into()]);
        let long = "Өткізіп алынған қоңыраулар (жауапсыз, бос емес, ақау)".repeat(3);
        table.row(Style::Indent, vec![long, "12".into()]);
        let one = table.row_height(&fonts, 0, 200.0);
        assert!(table.row_height(&fonts, 1, 200.0) > 2.0 * one);
        let mut page = Page::default();
        let h = table.draw_header(&fonts, &mut page, (0.0, 500.0, 200.0), 0.0);
        let level = table.draw_row(&fonts, &mut page, 0, (0.0, 500.0 - h, 200.0), 40.0);
        assert_eq!(level, 40.0);
        let four = page.runs.iter().find(|r| r.text == "4").expect("the count");
        let end = four.x + fonts.width("4", false, SIZE);
        assert!((end - (200.0 - PAD_X)).abs() < 0.01, "{end}");
        let name = page
            .runs
            .iter()
            .find(|r| r.text == "эл. пошта")
            .expect("the name");
        assert_eq!(name.x, PAD_X);
        assert!(name.y < 500.0 - h);
    }
}

//! A letter as PDF: A4, each language's section from a page of its own, set in
//! DejaVu Serif through `crate::pdf` (the fonts subset to the glyphs used, so
//! `pdftotext` reads the text back, Kazakh letters included). Paragraphs are
//! justified; each page's footer carries the outgoing number and the page's
//! number.

use chrono::{DateTime, Utc};

use super::letter::{Block, Section};
use crate::pdf::{Flow, Fonts, Info, MM, PAGE_H, Rgb};

/// The margins of Kazakhstan's official letters: 30 mm at the left for the
/// binding, 15 mm at the right, 20 mm above and below.
const LEFT: f32 = 30.0 * MM;
const RIGHT: f32 = 15.0 * MM;
const TOP: f32 = 20.0 * MM;
const BOTTOM: f32 = 20.0 * MM;
const WIDTH: f32 = crate::pdf::PAGE_W - LEFT - RIGHT;
const SIZE: f32 = 12.0;
const LEADING: f32 = SIZE * 1.35;
const INDENT: f32 = 12.5 * MM;

/// What a letter's PDF says about itself.
pub struct Meta<'a> {
    pub title: &'a str,
    /// The outgoing number, in each page's footer.
    pub number: &'a str,
    pub issued_at: DateTime<Utc>,
}

/// The letter's sections as a PDF; the error says what failed (a font that
/// does not parse or subset: a broken build, never the input).
pub fn render(sections: &[Section], meta: &Meta<'_>) -> Result<Vec<u8>, String> {
    render_counted(sections, meta).map(|(bytes, _)| bytes)
}

/// `render`, and how many pages the PDF has.
pub fn render_counted(sections: &[Section], meta: &Meta<'_>) -> Result<(Vec<u8>, usize), String> {
    let fonts = Fonts::serif()?;
    let mut layout = Layout {
        fonts: &fonts,
        flow: Flow::new(PAGE_H - TOP - SIZE, BOTTOM),
    };
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            layout.flow.new_page();
        }
        for block in &section.blocks {
            layout.block(block);
        }
    }
    let pages = layout
        .flow
        .number_pages(&fonts, LEFT + WIDTH, BOTTOM / 2.0, |n, total| {
            format!("{} · {n}/{total}", meta.number)
        });
    let count = pages.len();
    let info = Info {
        title: meta.title,
        created: meta.issued_at,
    };
    crate::pdf::write(&pages, fonts, &info).map(|bytes| (bytes, count))
}

/// Places blocks on pages, top to bottom; the flow's `y` is the next line's
/// baseline.
struct Layout<'f> {
    fonts: &'f Fonts,
    flow: Flow,
}

impl Layout<'_> {
    /// Room for `lines` more lines on this page, or a new page.
    fn keep(&mut self, lines: usize) {
        self.flow.keep(LEADING * (lines.saturating_sub(1) as f32));
    }

    /// One line of text at `x`; the baseline moves down.
    fn line(&mut self, x: f32, text: &str, bold: bool) {
        self.keep(1);
        let y = self.flow.y;
        self.flow.page().text(x, y, text, bold, SIZE);
        self.flow.y -= LEADING;
    }

    /// One line spread to `width` (its words placed one by one).
    fn justified(&mut self, x: f32, width: f32, text: &str) {
        self.keep(1);
        let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
        let widths: Vec<f32> = words
            .iter()
            .map(|w| self.fonts.width(w, false, SIZE))
            .collect();
        let space = self.fonts.width(" ", false, SIZE);
        let gap = if words.len() > 1 {
            (width - widths.iter().sum::<f32>()) / (words.len() - 1) as f32
        } else {
            space
        };
        // A line of few long words would show wide holes: set it ragged instead.
        let gap = if gap > space * 4.0 { space } else { gap };
        let y = self.flow.y;
        let mut at = x;
        for (word, w) in words.iter().zip(&widths) {
            self.flow.page().text(at, y, word, false, SIZE);
            at += w + gap;
        }
        self.flow.y -= LEADING;
    }

    fn gap(&mut self, lines: f32) {
        self.flow.y -= LEADING * lines;
    }

    /// `text` broken into lines: the first `first` wide, the rest `rest` wide.
    fn wrap(&self, text: &str, bold: bool, first: f32, rest: f32) -> Vec<String> {
        self.fonts.wrap(text, bold, SIZE, first, rest)
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Letterhead(name) => {
                for line in self.wrap(name, true, WIDTH, WIDTH) {
                    let w = self.fonts.width(&line, true, SIZE);
                    self.line(LEFT + (WIDTH - w) / 2.0, &line, true);
                }
                let rule = self.flow.y + LEADING - 7.0;
                self.flow
                    .page()
                    .rule(LEFT, LEFT + WIDTH, rule, 0.7, Rgb::BLACK);
                self.flow.y = rule - LEADING - 6.0;
            }
            Block::Reference(lines) => {
                for line in lines {
                    self.line(LEFT, line, false);
                }
                self.gap(0.5);
            }
            Block::Addressee { name, lines } => {
                let x = LEFT + WIDTH * 0.5;
                let w = WIDTH * 0.5;
                let mut all: Vec<(String, bool)> = self
                    .wrap(name, true, w, w)
                    .into_iter()
                    .map(|l| (l, true))
                    .collect();
                for line in lines {
                    all.extend(self.wrap(line, false, w, w).into_iter().map(|l| (l, false)));
                }
                self.keep(all.len());
                for (line, bold) in all {
                    self.line(x, &line, bold);
                }
                self.gap(1.5);
            }
            Block::Heading(text) => {
                let lines = self.wrap(text, true, WIDTH * 0.6, WIDTH * 0.6);
                self.keep(lines.len() + 2);
                for line in lines {
                    self.line(LEFT, &line, true);
                }
                self.gap(1.0);
            }
            Block::Paragraph(text) => {
                let lines = self.wrap(text, false, WIDTH - INDENT, WIDTH);
                let last = lines.len().saturating_sub(1);
                for (i, line) in lines.iter().enumerate() {
                    let (x, w) = if i == 0 {
                        (LEFT + INDENT, WIDTH - INDENT)
                    } else {
                        (LEFT, WIDTH)
                    };
                    if i == last {
                        self.line(x, line, false);
                    } else {
                        self.justified(x, w, line);
                    }
                }
                self.gap(0.4);
            }
            Block::Plain(text) => {
                if text.trim().is_empty() {
                    self.gap(1.0);
                }
                for line in self.wrap(text, false, WIDTH, WIDTH) {
                    self.line(LEFT, &line, false);
                }
            }
            Block::Label(text) => {
                self.keep(2);
                self.line(LEFT + INDENT, text, false);
            }
            Block::Item(text) => {
                let number = text.split_once(' ').map_or("", |(n, _)| n);
                let hang = self.fonts.width(&format!("{number} "), false, SIZE);
                let x = LEFT + INDENT;
                let lines = self.wrap(text, false, WIDTH - INDENT, WIDTH - INDENT - hang);
                for (i, line) in lines.iter().enumerate() {
                    let at = if i == 0 { x } else { x + hang };
                    self.line(at, line, false);
                }
            }
            Block::Signature { title, name } => {
                self.gap(2.0);
                let lines = self.wrap(title, true, WIDTH * 0.55, WIDTH * 0.55);
                self.keep(lines.len());
                let first = self.flow.y;
                for line in &lines {
                    self.line(LEFT, line, true);
                }
                let w = self.fonts.width(name, true, SIZE);
                self.flow
                    .page()
                    .text(LEFT + WIDTH - w, first, name, true, SIZE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_becomes_a_pdf_with_its_fonts_subset() {
        let sections = vec![Section {
            lang: "kk",
            blocks: vec![
                Block::Letterhead("Кәсіпорын".into()),
                Block::Paragraph("ә ғ қ ң ө ұ ү һ і ".repeat(40)),
                Block::Signature {
                    title: "Бас директор".into(),
                    name: "Ж. Жаһанова".into(),
                },
            ],
        }];
        let meta = Meta {
            title: "test",
            number: "OUT-2026-0001",
            issued_at: DateTime::<Utc>::default(),
        };
        let pdf = render(&sections, &meta).expect("rendered");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 120_000, "subset fonts: {} bytes", pdf.len());
    }
}

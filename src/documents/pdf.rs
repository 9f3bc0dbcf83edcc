//! A letter as PDF: A4, each language's section from a page of its own, set in
//! DejaVu Serif (regular and bold, `assets/fonts/`, embedded in the binary).
//! Only the glyphs a letter uses are embedded (`subsetter`), as CID fonts with a
//! ToUnicode map, so the text is selectable and `pdftotext` reads it back,
//! Kazakh letters (ә ғ қ ң ө ұ ү һ і) included. Paragraphs are justified; each
//! page's footer carries the outgoing number and the page's number.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Datelike, Timelike, Utc};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::letter::{Block, Section};

/// DejaVu Serif, regular and bold (`assets/fonts/LICENSE-DejaVu.txt`).
pub(crate) const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif.ttf");
pub(crate) const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif-Bold.ttf");

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
/// The margins of Kazakhstan's official letters: 30 mm at the left for the
/// binding, 15 mm at the right, 20 mm above and below.
const LEFT: f32 = 30.0 * MM;
const RIGHT: f32 = 15.0 * MM;
const TOP: f32 = 20.0 * MM;
const BOTTOM: f32 = 20.0 * MM;
const WIDTH: f32 = PAGE_W - LEFT - RIGHT;
const SIZE: f32 = 12.0;
const LEADING: f32 = SIZE * 1.35;
const INDENT: f32 = 12.5 * MM;
const FOOTER_SIZE: f32 = 8.0;

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
    let fonts = [
        Font::load(REGULAR, "SNMREG+DejaVuSerif")?,
        Font::load(BOLD, "SNMBLD+DejaVuSerif-Bold")?,
    ];
    let mut layout = Layout::new(&fonts);
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            layout.new_page();
        }
        for block in &section.blocks {
            layout.block(block);
        }
    }
    let pages = layout.pages;
    let count = pages.len();
    let [regular, bold] = fonts;
    write(pages, [regular, bold], meta).map(|bytes| (bytes, count))
}

/// A font: its face for measuring, and the glyphs a document used.
struct Font {
    face: Face<'static>,
    data: &'static [u8],
    base: &'static str,
    remapper: GlyphRemapper,
    /// New glyph id → (glyph id in the font, the character it shows).
    used: BTreeMap<u16, (u16, char)>,
}

impl Font {
    fn load(data: &'static [u8], base: &'static str) -> Result<Font, String> {
        let face = Face::parse(data, 0).map_err(|e| format!("the font {base}: {e}"))?;
        Ok(Font {
            face,
            data,
            base,
            remapper: GlyphRemapper::new(),
            used: BTreeMap::new(),
        })
    }

    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// The advance of a glyph, in thousandths of the font size.
    fn advance(&self, glyph: GlyphId) -> f32 {
        let upem = f32::from(self.face.units_per_em().max(1));
        f32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) * 1000.0 / upem
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// `text` as the two-byte codes of the subset's glyphs (Identity-H).
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let old = self.glyph(c).0;
            let new = self.remapper.remap(old);
            self.used.entry(new).or_insert((old, c));
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }
}

/// A run of text at a place on a page.
struct Run {
    x: f32,
    y: f32,
    bold: bool,
    size: f32,
    text: String,
}

#[derive(Default)]
struct Page {
    runs: Vec<Run>,
    /// Horizontal rules: (from x, to x, at y).
    rules: Vec<(f32, f32, f32)>,
}

/// Places blocks on pages, top to bottom; `y` is the next line's baseline.
struct Layout<'f> {
    fonts: &'f [Font; 2],
    pages: Vec<Page>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f [Font; 2]) -> Self {
        Layout {
            fonts,
            pages: vec![Page::default()],
            y: PAGE_H - TOP - SIZE,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = PAGE_H - TOP - SIZE;
    }

    fn font(&self, bold: bool) -> &Font {
        &self.fonts[usize::from(bold)]
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Room for `lines` more lines on this page, or a new page.
    fn keep(&mut self, lines: usize) {
        if self.y - LEADING * (lines.saturating_sub(1) as f32) < BOTTOM {
            self.new_page();
        }
    }

    /// One line of text at `x`; the baseline moves down.
    fn line(&mut self, x: f32, text: &str, bold: bool) {
        self.keep(1);
        let y = self.y;
        self.page().runs.push(Run {
            x,
            y,
            bold,
            size: SIZE,
            text: text.to_owned(),
        });
        self.y -= LEADING;
    }

    /// One line spread to `width` (its words placed one by one).
    fn justified(&mut self, x: f32, width: f32, text: &str) {
        self.keep(1);
        let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
        let font = self.font(false);
        let widths: Vec<f32> = words.iter().map(|w| font.width(w, SIZE)).collect();
        let space = font.width(" ", SIZE);
        let gap = if words.len() > 1 {
            (width - widths.iter().sum::<f32>()) / (words.len() - 1) as f32
        } else {
            space
        };
        // A line of few long words would show wide holes: set it ragged instead.
        let gap = if gap > space * 4.0 { space } else { gap };
        let y = self.y;
        let mut at = x;
        for (word, w) in words.iter().zip(&widths) {
            self.page().runs.push(Run {
                x: at,
                y,
                bold: false,
                size: SIZE,
                text: (*word).to_owned(),
            });
            at += w + gap;
        }
        self.y -= LEADING;
    }

    fn gap(&mut self, lines: f32) {
        self.y -= LEADING * lines;
    }

    /// `text` broken into lines: the first `first` wide, the rest `rest` wide.
    fn wrap(&self, text: &str, bold: bool, first: f32, rest: f32) -> Vec<String> {
        let font = self.font(bold);
        let mut lines = Vec::new();
        let mut line = String::new();
        // Words are split at plain spaces only: a no-break space (after `№`,
        // say) keeps its neighbours on one line.
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let limit = if lines.is_empty() { first } else { rest };
            // A word wider than a line (a link, a hash) is broken where it
            // must be, on a line of its own.
            if font.width(word, SIZE) > limit {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    let limit = if lines.is_empty() { first } else { rest };
                    line.push(c);
                    if font.width(&line, SIZE) > limit && line.chars().count() > 1 {
                        line.pop();
                        lines.push(std::mem::replace(&mut line, c.to_string()));
                    }
                }
                continue;
            }
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if line.is_empty() || font.width(&candidate, SIZE) <= limit {
                line = candidate;
            } else {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Letterhead(name) => {
                for line in self.wrap(name, true, WIDTH, WIDTH) {
                    let w = self.font(true).width(&line, SIZE);
                    self.line(LEFT + (WIDTH - w) / 2.0, &line, true);
                }
                let rule = self.y + LEADING - 7.0;
                self.page().rules.push((LEFT, LEFT + WIDTH, rule));
                self.y = rule - LEADING - 6.0;
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
                let hang = self.font(false).width(&format!("{number} "), SIZE);
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
                let first = self.y;
                for line in &lines {
                    self.line(LEFT, line, true);
                }
                let w = self.font(true).width(name, SIZE);
                self.page().runs.push(Run {
                    x: LEFT + WIDTH - w,
                    y: first,
                    bold: true,
                    size: SIZE,
                    text: name.clone(),
                });
            }
        }
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("cannot compress: {e}"))
}

/// The pages and the fonts they use, as a PDF.
fn write(pages: Vec<Page>, mut fonts: [Font; 2], meta: &Meta<'_>) -> Result<Vec<u8>, String> {
    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let tree = alloc.bump();
    let info = alloc.bump();
    let font_refs: Vec<[Ref; 5]> = (0..fonts.len())
        .map(|_| {
            [
                alloc.bump(),
                alloc.bump(),
                alloc.bump(),
                alloc.bump(),
                alloc.bump(),
            ]
        })
        .collect();
    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc.bump(), alloc.bump())).collect();
    let font_names = [Name(b"F1"), Name(b"F2")];

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    let total = pages.len();
    for (n, (page, (page_ref, content_ref))) in pages.iter().zip(&page_refs).enumerate() {
        let mut content = Content::new();
        for (x1, x2, y) in &page.rules {
            content.set_line_width(0.7);
            content.move_to(*x1, *y);
            content.line_to(*x2, *y);
            content.stroke();
        }
        content.begin_text();
        for run in &page.runs {
            let font = usize::from(run.bold);
            let codes = fonts[font].encode(&run.text);
            content.set_font(font_names[font], run.size);
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, run.y]);
            content.show(Str(&codes));
        }
        let footer = format!("{} · {}/{}", meta.number, n + 1, total);
        let w = fonts[0].width(&footer, FOOTER_SIZE);
        let codes = fonts[0].encode(&footer);
        content.set_fill_gray(0.35);
        content.set_font(font_names[0], FOOTER_SIZE);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, LEFT + WIDTH - w, BOTTOM / 2.0]);
        content.show(Str(&codes));
        content.end_text();
        let stream = deflate(&content.finish())?;
        pdf.stream(*content_ref, &stream)
            .filter(Filter::FlateDecode);
        let mut p = pdf.page(*page_ref);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        p.parent(tree);
        p.contents(*content_ref);
        let mut resources = p.resources();
        let mut f = resources.fonts();
        for (name, refs) in font_names.iter().zip(&font_refs) {
            f.pair(*name, refs[0]);
        }
        f.finish();
        resources.finish();
        p.finish();
    }
    for (font, refs) in fonts.iter().zip(&font_refs) {
        write_font(&mut pdf, font, *refs)?;
    }
    let at = meta.issued_at;
    let date = Date::new(u16::try_from(at.year()).unwrap_or(2000))
        .month(u8::try_from(at.month()).unwrap_or(1))
        .day(u8::try_from(at.day()).unwrap_or(1))
        .hour(u8::try_from(at.hour()).unwrap_or(0))
        .minute(u8::try_from(at.minute()).unwrap_or(0))
        .second(u8::try_from(at.second()).unwrap_or(0))
        .utc_offset_hour(0);
    pdf.document_info(info)
        .title(TextStr(meta.title))
        .producer(TextStr("Senim"))
        .creation_date(date);
    Ok(pdf.finish())
}

/// One font as a Type 0 font over a CID font of its subset: [type 0, CID
/// font, descriptor, ToUnicode map, font file].
fn write_font(pdf: &mut Pdf, font: &Font, refs: [Ref; 5]) -> Result<(), String> {
    let [type0, cid, descriptor, cmap_ref, file] = refs;
    let base = Name(font.base.as_bytes());
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap_ref);
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2)
        .base_font(base)
        .system_info(system)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    {
        let mut widths = c.widths();
        for (new, (old, _)) in &font.used {
            widths.consecutive(*new, [font.advance(GlyphId(*old))]);
        }
    }
    c.finish();
    let face = &font.face;
    let scale = 1000.0 / f32::from(face.units_per_em().max(1));
    let bbox = face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(base)
        .flags(FontFlags::SERIF | FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(face.ascender()) * scale)
        .descent(f32::from(face.descender()) * scale)
        .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
        .stem_v(80.0)
        .font_file2(file);
    let mut cmap = UnicodeCmap::new(Name(b"Senim-UTF16"), system);
    for (new, (_, c)) in &font.used {
        cmap.pair(*new, *c);
    }
    pdf.cmap(cmap_ref, &cmap.finish());
    let subset = subsetter::subset(font.data, 0, &font.remapper)
        .map_err(|e| format!("cannot subset the font {}: {e}", font.base))?;
    let compressed = deflate(&subset)?;
    pdf.stream(file, &compressed)
        .filter(Filter::FlateDecode)
        .pair(
            Name(b"Length1"),
            i32::try_from(subset.len()).unwrap_or(i32::MAX),
        );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fonts_hold_every_kazakh_letter() {
        for data in [REGULAR, BOLD] {
            let face = Face::parse(data, 0).expect("the embedded font parses");
            for c in "ӘәҒғҚқҢңӨөҰұҮүҺһІі".chars() {
                assert!(face.glyph_index(c).is_some(), "{c} is missing");
            }
        }
    }

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

//! The pages and their fonts as a PDF file: one content stream a page (its
//! shapes, then its text), compressed; the two fonts subset to the glyphs
//! used; the document's title, producer and date.

use std::io::Write;

use chrono::{DateTime, Datelike, Timelike, Utc};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::{Fonts, PAGE_H, PAGE_W, Page, Rgb, Shape};

/// What a PDF says about itself.
pub struct Info<'a> {
    pub title: &'a str,
    /// When it was made.
    pub created: DateTime<Utc>,
}

/// The names the pages' resources give the regular and the bold font.
const FONT_NAMES: [Name<'static>; 2] = [Name(b"F1"), Name(b"F2")];

pub(super) fn deflate(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("cannot compress: {e}"))
}

/// A4 `pages` set in `fonts`, as a PDF; the error says what failed (a font
/// that does not subset: a broken build, never the input).
pub fn write(pages: &[Page], mut fonts: Fonts, info: &Info<'_>) -> Result<Vec<u8>, String> {
    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let tree = alloc.bump();
    let info_ref = alloc.bump();
    let mut font_refs = || {
        [
            alloc.bump(),
            alloc.bump(),
            alloc.bump(),
            alloc.bump(),
            alloc.bump(),
        ]
    };
    let font_refs = [font_refs(), font_refs()];
    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc.bump(), alloc.bump())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    for (page, (page_ref, content_ref)) in pages.iter().zip(&page_refs) {
        let stream = deflate(&content(page, &mut fonts))?;
        pdf.stream(*content_ref, &stream)
            .filter(Filter::FlateDecode);
        let mut p = pdf.page(*page_ref);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        p.parent(tree);
        p.contents(*content_ref);
        let mut resources = p.resources();
        let mut f = resources.fonts();
        for (name, refs) in FONT_NAMES.iter().zip(&font_refs) {
            f.pair(*name, refs[0]);
        }
        f.finish();
        resources.finish();
        p.finish();
    }
    fonts.regular.write(&mut pdf, font_refs[0])?;
    fonts.bold.write(&mut pdf, font_refs[1])?;
    let at = info.created;
    let date = Date::new(u16::try_from(at.year()).unwrap_or(2000))
        .month(u8::try_from(at.month()).unwrap_or(1))
        .day(u8::try_from(at.day()).unwrap_or(1))
        .hour(u8::try_from(at.hour()).unwrap_or(0))
        .minute(u8::try_from(at.minute()).unwrap_or(0))
        .second(u8::try_from(at.second()).unwrap_or(0))
        .utc_offset_hour(0);
    pdf.document_info(info_ref)
        .title(TextStr(info.title))
        .producer(TextStr("Senim"))
        .creation_date(date);
    Ok(pdf.finish())
}

/// A page's content stream: its shapes, then its text.
fn content(page: &Page, fonts: &mut Fonts) -> Vec<u8> {
    let mut content = Content::new();
    for shape in &page.shapes {
        match *shape {
            Shape::Line {
                from,
                to,
                width,
                colour: Rgb(r, g, b),
            } => {
                content.set_stroke_rgb(r, g, b);
                content.set_line_width(width);
                content.move_to(from.0, from.1);
                content.line_to(to.0, to.1);
                content.stroke();
            }
            Shape::Rect {
                x,
                y,
                w,
                h,
                fill: Rgb(r, g, b),
            } => {
                content.set_fill_rgb(r, g, b);
                content.rect(x, y, w, h);
                content.fill_nonzero();
            }
        }
    }
    content.begin_text();
    let mut colour = None;
    for run in &page.runs {
        if colour != Some(run.colour) {
            let Rgb(r, g, b) = run.colour;
            content.set_fill_rgb(r, g, b);
            colour = Some(run.colour);
        }
        let codes = fonts.get_mut(run.bold).encode(&run.text);
        content.set_font(FONT_NAMES[usize::from(run.bold)], run.size);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, run.y]);
        content.show(Str(&codes));
    }
    content.end_text();
    content.finish().into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_become_a_pdf_with_their_fonts_subset() {
        let mut page = Page::default();
        page.text(50.0, 700.0, &"ә ғ қ ң ө ұ ү һ і ".repeat(40), false, 12.0);
        page.text(50.0, 680.0, "Бас директор", true, 12.0);
        page.rule(50.0, 500.0, 670.0, 0.7, Rgb::BLACK);
        page.rect(50.0, 600.0, 20.0, 40.0, Rgb::grey(0.5));
        let info = Info {
            title: "test",
            created: DateTime::<Utc>::default(),
        };
        let fonts = Fonts::serif().expect("fonts");
        let pdf = write(&[page.clone(), page], fonts, &info).expect("written");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 120_000, "subset fonts: {} bytes", pdf.len());
    }
}

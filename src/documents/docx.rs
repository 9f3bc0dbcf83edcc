//! A letter as DOCX (`docx-rs`), to edit before it is printed and signed: A4,
//! the margins of official letters, Times New Roman 14 (it holds the Kazakh
//! letters), each language's section from a page of its own, paragraphs
//! justified with their first line indented.

use docx_rs::{
    AlignmentType, Docx, PageMargin, Paragraph, Run, RunFonts, SpecialIndentType, Tab, TabValueType,
};

use super::letter::{Block, Section};

/// A4 and its text width, in twentieths of a point.
const PAGE_W: u32 = 11_906;
const PAGE_H: u32 = 16_838;
const LEFT: i32 = 1_701;
const RIGHT: i32 = 850;
const TEXT_W: i32 = PAGE_W as i32 - LEFT - RIGHT;
const INDENT: i32 = 709;
/// Times New Roman 14, in half-points.
const SIZE: usize = 28;
const FONT: &str = "Times New Roman";

/// The letter's sections as a DOCX file.
pub fn render(sections: &[Section], title: &str) -> Result<Vec<u8>, String> {
    let fonts = RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .cs(FONT)
        .east_asia(FONT);
    let mut doc = Docx::new()
        .default_fonts(fonts)
        .default_size(SIZE)
        .page_size(PAGE_W, PAGE_H)
        .page_margin(PageMargin {
            top: 1_134,
            left: LEFT,
            bottom: 1_134,
            right: RIGHT,
            header: 709,
            footer: 709,
            gutter: 0,
        })
        .custom_property("title", title);
    for (i, section) in sections.iter().enumerate() {
        let mut first = i > 0;
        for block in &section.blocks {
            for p in paragraphs(block) {
                // Each language from a page of its own.
                doc = doc.add_paragraph(if first { p.page_break_before(true) } else { p });
                first = false;
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| format!("cannot write the DOCX: {e}"))?;
    Ok(out.into_inner())
}

fn text(t: &str) -> Run {
    Run::new().add_text(t)
}

fn bold(t: &str) -> Run {
    Run::new().add_text(t).bold()
}

fn empty() -> Paragraph {
    Paragraph::new()
}

/// The paragraphs of one block.
fn paragraphs(block: &Block) -> Vec<Paragraph> {
    match block {
        Block::Letterhead(name) => vec![
            Paragraph::new()
                .add_run(bold(name))
                .align(AlignmentType::Center),
            empty(),
        ],
        Block::Reference(lines) => {
            let mut out: Vec<Paragraph> = lines
                .iter()
                .map(|l| Paragraph::new().add_run(text(l)))
                .collect();
            out.push(empty());
            out
        }
        Block::Addressee { name, lines } => {
            let half = Some(TEXT_W / 2);
            let mut out = vec![
                Paragraph::new()
                    .add_run(bold(name))
                    .indent(half, None, None, None),
            ];
            out.extend(lines.iter().map(|l| {
                Paragraph::new()
                    .add_run(text(l))
                    .indent(half, None, None, None)
            }));
            out.push(empty());
            out
        }
        Block::Heading(t) => vec![
            Paragraph::new()
                .add_run(bold(t))
                .indent(None, None, Some(TEXT_W * 2 / 5), None),
            empty(),
        ],
        Block::Paragraph(t) => vec![
            Paragraph::new()
                .add_run(text(t))
                .align(AlignmentType::Both)
                .indent(None, Some(SpecialIndentType::FirstLine(INDENT)), None, None),
        ],
        Block::Plain(t) => vec![Paragraph::new().add_run(text(t))],
        Block::Label(t) => vec![Paragraph::new().add_run(text(t)).indent(
            None,
            Some(SpecialIndentType::FirstLine(INDENT)),
            None,
            None,
        )],
        Block::Item(t) => {
            vec![
                Paragraph::new()
                    .add_run(text(t))
                    .indent(Some(INDENT), None, None, None),
            ]
        }
        Block::Signature { title, name } => vec![
            empty(),
            empty(),
            Paragraph::new()
                .add_tab(
                    Tab::new()
                        .val(TabValueType::Right)
                        .pos(usize::try_from(TEXT_W).unwrap_or_default()),
                )
                .add_run(bold(title).add_tab().add_text(name.as_str())),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_docx_is_a_zip_whose_document_holds_the_text() {
        let sections = vec![
            Section {
                lang: "kk",
                blocks: vec![Block::Paragraph("Сыбайлас жемқорлық туралы".into())],
            },
            Section {
                lang: "ru",
                blocks: vec![Block::Paragraph("О направлении сообщения".into())],
            },
        ];
        let bytes = render(&sections, "t").expect("rendered");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .expect("the document")
            .read_to_string(&mut xml)
            .expect("read");
        assert!(xml.contains("Сыбайлас жемқорлық туралы"), "{xml}");
        assert!(xml.contains("О направлении сообщения"));
        assert!(xml.contains("w:pageBreakBefore"), "{xml}");
    }
}

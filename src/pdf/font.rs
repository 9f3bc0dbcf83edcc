//! The embedded fonts: DejaVu Serif, regular and bold (`assets/fonts/`), for
//! measuring text, breaking it into lines and writing the glyphs a document
//! used. Only those glyphs are embedded (`subsetter`), as a Type 0 font over a
//! CID font of the subset, with a ToUnicode map so that the text can be
//! selected and read back.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::write::deflate;

/// DejaVu Serif, regular and bold (`assets/fonts/LICENSE-DejaVu.txt`).
pub const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif.ttf");
pub const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif-Bold.ttf");

/// The regular and the bold font of a document, and the glyphs it used.
pub struct Fonts {
    pub(super) regular: Font,
    pub(super) bold: Font,
}

impl Fonts {
    /// DejaVu Serif; the error says which font does not parse (a broken build,
    /// never the input).
    pub fn serif() -> Result<Fonts, String> {
        Ok(Fonts {
            regular: Font::load(REGULAR, "SNMREG+DejaVuSerif")?,
            bold: Font::load(BOLD, "SNMBLD+DejaVuSerif-Bold")?,
        })
    }

    pub(super) fn get(&self, bold: bool) -> &Font {
        if bold { &self.bold } else { &self.regular }
    }

    pub(super) fn get_mut(&mut self, bold: bool) -> &mut Font {
        if bold {
            &mut self.bold
        } else {
            &mut self.regular
        }
    }

    /// The width of `text` at `size`, in points.
    pub fn width(&self, text: &str, bold: bool, size: f32) -> f32 {
        let font = self.get(bold);
        text.chars()
            .map(|c| font.advance(font.glyph(c)))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// `text` broken into lines at plain spaces: the first line `first` wide,
    /// the rest `rest` wide. A no-break space (after `№`, say) keeps its
    /// neighbours together; a word wider than the line stands on a line alone.
    pub fn wrap(&self, text: &str, bold: bool, size: f32, first: f32, rest: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        // Words are split at plain spaces only: a no-break space (after `№`,
        // say) keeps its neighbours on one line.
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let limit = if lines.is_empty() { first } else { rest };
            // A word wider than a line (a link, a hash) is broken where it
            // must be, on a line of its own.
            if self.width(word, bold, size) > limit {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    let limit = if lines.is_empty() { first } else { rest };
                    line.push(c);
                    if self.width(&line, bold, size) > limit && line.chars().count() > 1 {
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
            if line.is_empty() || self.width(&candidate, bold, size) <= limit {
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
}

/// A font: its face for measuring, and the glyphs a document used.
pub(super) struct Font {
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

    /// `text` as the two-byte codes of the subset's glyphs (Identity-H).
    pub(super) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let old = self.glyph(c).0;
            let new = self.remapper.remap(old);
            self.used.entry(new).or_insert((old, c));
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }

    /// The font as a Type 0 font over a CID font of its subset: [type 0, CID
    /// font, descriptor, ToUnicode map, font file].
    pub(super) fn write(&self, pdf: &mut Pdf, refs: [Ref; 5]) -> Result<(), String> {
        let [type0, cid, descriptor, cmap_ref, file] = refs;
        let base = Name(self.base.as_bytes());
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
            for (new, (old, _)) in &self.used {
                widths.consecutive(*new, [self.advance(GlyphId(*old))]);
            }
        }
        c.finish();
        let face = &self.face;
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
        for (new, (_, c)) in &self.used {
            cmap.pair(*new, *c);
        }
        pdf.cmap(cmap_ref, &cmap.finish());
        let subset = subsetter::subset(self.data, 0, &self.remapper)
            .map_err(|e| format!("cannot subset the font {}: {e}", self.base))?;
        let compressed = deflate(&subset)?;
        pdf.stream(file, &compressed)
            .filter(Filter::FlateDecode)
            .pair(
                Name(b"Length1"),
                i32::try_from(subset.len()).unwrap_or(i32::MAX),
            );
        Ok(())
    }
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
    fn text_breaks_at_plain_spaces_only() {
        let fonts = Fonts::serif().expect("fonts");
        let one = fonts.width("word", false, 10.0);
        assert!(one > 10.0 && one < 40.0, "{one}");
        let lines = fonts.wrap(
            "word word word\u{a0}word",
            false,
            10.0,
            one * 2.5,
            one * 2.5,
        );
        assert_eq!(lines, ["word word", "word\u{a0}word"]);
        // A word wider than the line (a link, a hash) is broken where it must
        // be, each piece within the line, nothing lost.
        let limit = fonts.width("Өтін", true, 10.0) + 0.5;
        let narrow = fonts.wrap("Өтініштер өтініштер", true, 10.0, limit, limit);
        assert!(narrow.len() >= 4, "{narrow:?}");
        assert!(
            narrow.iter().all(|l| fonts.width(l, true, 10.0) <= limit),
            "{narrow:?}"
        );
        assert_eq!(narrow.concat(), "Өтініштерөтініштер");
        assert!(fonts.wrap("   ", false, 10.0, 100.0, 100.0).is_empty());
    }
}

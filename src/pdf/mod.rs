//! PDF documents laid out by hand: A4 pages of text runs, lines and filled
//! rectangles, set in DejaVu Serif embedded in the binary and written with
//! `pdf-writer`. What the letters (`documents`) and the report (`report`)
//! share; it imports nothing of the crate.
//!
//! - here: the page's parts (`Page`, `Run`, `Shape`, `Rgb`) and A4's size;
//! - `font`: the embedded fonts (`Fonts`): measuring, breaking text into
//!   lines, and the subset of the glyphs a document used (`subsetter`), as CID
//!   fonts with a ToUnicode map, so `pdftotext` reads the text back, Kazakh
//!   letters (ә ғ қ ң ө ұ ү һ і) included;
//! - `flow`: the cursor that places things top to bottom and starts a new page
//!   when one is full (`Flow`), and the page numbers in the footers;
//! - `write`: the pages and their fonts as a PDF (`write`, `Info`).

mod flow;
mod font;
mod write;

pub use flow::Flow;
pub use font::{BOLD, Fonts, REGULAR};
pub use write::{Info, write};

/// A millimetre, in points.
pub const MM: f32 = 72.0 / 25.4;
/// A4's width, in points.
pub const PAGE_W: f32 = 210.0 * MM;
/// A4's height, in points.
pub const PAGE_H: f32 = 297.0 * MM;

/// A colour: red, green and blue from 0 to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);

    /// A grey, 0 black to 1 white.
    pub const fn grey(level: f32) -> Rgb {
        Rgb(level, level, level)
    }

    /// `#rrggbb`, as CSS writes it; `None` if it is not one.
    pub fn hex(css: &str) -> Option<Rgb> {
        let digits = css.strip_prefix('#').filter(|d| d.len() == 6)?;
        let value = u32::from_str_radix(digits, 16).ok()?;
        let part = |shift: u32| ((value >> shift) & 0xff) as f32 / 255.0;
        Some(Rgb(part(16), part(8), part(0)))
    }
}

/// A run of text: its baseline starts at (`x`, `y`), from the page's bottom left.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub x: f32,
    pub y: f32,
    pub bold: bool,
    pub size: f32,
    pub text: String,
    pub colour: Rgb,
}

/// What is drawn under the text.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A straight line from one point to another.
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        colour: Rgb,
    },
    /// A filled rectangle: its bottom left corner, width and height.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Rgb,
    },
}

/// One page: its shapes, then its text over them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub runs: Vec<Run>,
    pub shapes: Vec<Shape>,
}

impl Page {
    /// Black text at (`x`, `y`).
    pub fn text(&mut self, x: f32, y: f32, text: &str, bold: bool, size: f32) {
        self.coloured(x, y, text, bold, size, Rgb::BLACK);
    }

    /// Text in `colour` at (`x`, `y`).
    pub fn coloured(&mut self, x: f32, y: f32, text: &str, bold: bool, size: f32, colour: Rgb) {
        self.runs.push(Run {
            x,
            y,
            bold,
            size,
            text: text.to_owned(),
            colour,
        });
    }

    /// A horizontal line at `y`, from `x1` to `x2`.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32, colour: Rgb) {
        self.shapes.push(Shape::Line {
            from: (x1, y),
            to: (x2, y),
            width,
            colour,
        });
    }

    /// A filled rectangle, its bottom left corner at (`x`, `y`).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Rgb) {
        self.shapes.push(Shape::Rect { x, y, w, h, fill });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_read_as_css_writes_them() {
        assert_eq!(Rgb::hex("#ff0000"), Some(Rgb(1.0, 0.0, 0.0)));
        assert_eq!(Rgb::hex("#000000"), Some(Rgb::BLACK));
        assert_eq!(Rgb::hex("0b5cad"), None);
        assert_eq!(Rgb::hex("#0b5ca"), None);
        assert_eq!(Rgb::hex("#zzzzzz"), None);
    }
}

//! Placing things down the pages: `Flow` keeps the pages made so far and the
//! height reached on the last, and starts a new page when what comes next does
//! not fit above the bottom margin; `Flow::number_pages` writes each page's
//! footer once the count of pages is known.

use super::{Fonts, Page, Rgb};

/// The size of a footer's text.
const FOOTER_SIZE: f32 = 8.0;
/// The grey of a footer's text.
const FOOTER_GREY: Rgb = Rgb::grey(0.35);

/// Pages filled top to bottom.
pub struct Flow {
    pub pages: Vec<Page>,
    /// Where the next thing goes: a baseline, or the top of a box.
    pub y: f32,
    /// Where a new page starts.
    top: f32,
    /// Nothing goes below this.
    bottom: f32,
}

impl Flow {
    /// One empty page; things start at `top` and stay above `bottom`.
    pub fn new(top: f32, bottom: f32) -> Flow {
        Flow {
            pages: vec![Page::default()],
            y: top,
            top,
            bottom,
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = self.top;
    }

    /// The page being filled.
    pub fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// The height a fresh page has room for.
    pub fn page_room(&self) -> f32 {
        self.top - self.bottom
    }

    /// Room for `height` more points below `y` on this page, or a new page;
    /// true if a new page was started.
    pub fn keep(&mut self, height: f32) -> bool {
        let fresh = self.y == self.top;
        if self.y - height < self.bottom && !fresh {
            self.new_page();
            return true;
        }
        false
    }

    /// The pages, each with its footer at the right: `footer(page, pages)`
    /// (counted from 1), its right end at `right`, its baseline at `y`.
    pub fn number_pages(
        mut self,
        fonts: &Fonts,
        right: f32,
        y: f32,
        footer: impl Fn(usize, usize) -> String,
    ) -> Vec<Page> {
        let total = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let text = footer(i + 1, total);
            let w = fonts.width(&text, false, FOOTER_SIZE);
            page.coloured(right - w, y, &text, false, FOOTER_SIZE, FOOTER_GREY);
        }
        self.pages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_starts_another_and_every_page_is_numbered() {
        let mut flow = Flow::new(800.0, 50.0);
        assert_eq!(flow.page_room(), 750.0);
        assert!(!flow.keep(2000.0), "a fresh page takes what it can");
        flow.y = 100.0;
        assert!(!flow.keep(50.0));
        assert!(flow.keep(51.0));
        assert_eq!((flow.pages.len(), flow.y), (2, 800.0));
        flow.page().text(10.0, 700.0, "x", false, 10.0);
        let fonts = Fonts::serif().expect("fonts");
        let pages = flow.number_pages(&fonts, 500.0, 20.0, |n, of| format!("{n}/{of}"));
        let footers: Vec<&str> = pages
            .iter()
            .map(|p| p.runs.last().map_or("", |r| r.text.as_str()))
            .collect();
        assert_eq!(footers, ["1/2", "2/2"]);
        assert!(pages[1].runs[1].x < 500.0);
    }
}

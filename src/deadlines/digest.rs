//! The manager's digest on working days at 09:00 Astana: deadlines overdue, due
//! today, and due within three working days.

use std::fmt::Write;

use chrono::NaiveDate;

use super::Deadline;
use crate::calendar::Calendar;

/// Working days ahead the digest looks.
pub const LOOKAHEAD_WORKING_DAYS: u32 = 3;

/// The digest's three lists.
#[derive(Clone, Debug, Default)]
pub struct Digest {
    pub overdue: Vec<Deadline>,
    pub today: Vec<Deadline>,
    pub soon: Vec<Deadline>,
}

impl Digest {
    /// Sorts open deadlines due up to the horizon into the three lists.
    pub fn build(calendar: &Calendar, today: NaiveDate, open: Vec<Deadline>) -> Digest {
        let horizon = horizon(calendar, today);
        let mut d = Digest::default();
        for deadline in open {
            if deadline.due_on < today {
                d.overdue.push(deadline);
            } else if deadline.due_on == today {
                d.today.push(deadline);
            } else if deadline.due_on <= horizon {
                d.soon.push(deadline);
            }
        }
        d
    }

    pub fn is_empty(&self) -> bool {
        self.overdue.is_empty() && self.today.is_empty() && self.soon.is_empty()
    }

    /// The text; `number` gives an appeal's registration number.
    pub fn render(&self, today: NaiveDate, number: impl Fn(&Deadline) -> String) -> String {
        let mut s = format!("Deadlines on {today} (working day)\n");
        for (title, list) in [
            ("OVERDUE", &self.overdue),
            ("Due today", &self.today),
            ("Due within three working days", &self.soon),
        ] {
            let _ = writeln!(s, "\n{title}: {}", list.len());
            for d in list {
                let _ = writeln!(
                    s,
                    "  {}  due {}{}  {}",
                    number(d),
                    d.due_on,
                    if d.extended { " (extended)" } else { "" },
                    d.kind.describe()
                );
            }
        }
        s
    }
}

/// The last date the digest looks at.
pub fn horizon(calendar: &Calendar, today: NaiveDate) -> NaiveDate {
    calendar.add_working_days(today, LOOKAHEAD_WORKING_DAYS)
}

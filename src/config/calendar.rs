//! `[calendar]`: the line's time zone, working hours and calendar data file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{TimeOfDay, Zone};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// IANA time zone of the trust line; Astana time is `Asia/Almaty`.
    pub timezone: Zone,
    /// Working hours of the line (clause 10.4), `HH:MM` local time.
    pub opens: TimeOfDay,
    pub closes: TimeOfDay,
    /// A calendar data file replacing the embedded one (Kurban Ait dates and the
    /// yearly transfers of days off); empty means the embedded file.
    pub file: Option<PathBuf>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self {
            timezone: Zone(chrono_tz::Asia::Almaty),
            opens: TimeOfDay::hm(9, 0),
            closes: TimeOfDay::hm(18, 0),
            file: None,
        }
    }
}

impl CalendarConfig {
    /// The `[calendar]` values serde cannot check: the hours in order, the
    /// data file there.
    pub(super) fn check(&self) -> Result<(), String> {
        let (opens, closes) = (self.opens, self.closes);
        if closes <= opens {
            return Err(format!(
                "calendar.closes ({closes}) must be later than calendar.opens ({opens})"
            ));
        }
        if let Some(file) = &self.file
            && !file.exists()
        {
            return Err(format!("calendar.file: {} does not exist", file.display()));
        }
        Ok(())
    }
}

//! `[retention]`: how long personal data is kept, as the records schedule says.

use serde::{Deserialize, Serialize};

use super::Days;

/// How long personal data is kept (`[retention]`), in days, as the enterprise's
/// records schedule says; `senim journal purge` destroys what is past its period.
/// An appeal's period runs from when its case ended (`Status::ends_the_case`). 0 is refused: personal data
/// is not kept forever, and "destroy at once" is never what a schedule means.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// An ended appeal classified as corruption: its reporter's identity and text,
    /// and everything its channels keep of it.
    pub corruption_days: Days,
    /// An ended appeal classified as a criminal offence or security threat (6.3).
    pub criminal_offence_days: Days,
    /// An ended appeal classified as not corruption.
    pub not_corruption_days: Days,
    /// An ended appeal never classified.
    pub unclassified_days: Days,
    /// The caller numbers of calls that never became appeals (missed calls), from
    /// the call's start.
    pub missed_call_days: Days,
    /// Machine-made mail tied to no appeal (bounces, auto-replies: a bounced
    /// receipt carries the reporter's address), from its receipt.
    pub automatic_mail_days: Days,
    /// An ended appeal's raw mail (the message as received, its attachments), if
    /// kept for less than the appeal itself; unset: as long as the appeal.
    pub raw_mail_days: Option<Days>,
    /// An ended appeal's call recordings, if kept for less than the appeal itself;
    /// unset: as long as the appeal.
    pub recordings_days: Option<Days>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            corruption_days: Days::new(1826),
            criminal_offence_days: Days::new(1826),
            not_corruption_days: Days::new(1096),
            unclassified_days: Days::new(1096),
            missed_call_days: Days::new(90),
            automatic_mail_days: Days::new(90),
            raw_mail_days: None,
            recordings_days: None,
        }
    }
}

impl RetentionConfig {
    /// How long a closed appeal of `category` is kept.
    pub fn appeal_days(&self, category: crate::journal::Category) -> Days {
        use crate::journal::Category;
        match category {
            Category::Corruption => self.corruption_days,
            Category::CriminalOffence => self.criminal_offence_days,
            Category::NotCorruption => self.not_corruption_days,
            Category::Unclassified => self.unclassified_days,
        }
    }

    /// How long a closed appeal's raw mail is kept: never longer than the appeal.
    pub fn raw_mail_days(&self, category: crate::journal::Category) -> Days {
        let appeal = self.appeal_days(category);
        self.raw_mail_days.map_or(appeal, |days| days.min(appeal))
    }

    /// How long a closed appeal's recordings are kept: never longer than the appeal.
    pub fn recordings_days(&self, category: crate::journal::Category) -> Days {
        let appeal = self.appeal_days(category);
        self.recordings_days.map_or(appeal, |days| days.min(appeal))
    }

    pub(super) fn check(&self) -> Result<(), String> {
        let keys = [
            ("corruption_days", Some(self.corruption_days)),
            ("criminal_offence_days", Some(self.criminal_offence_days)),
            ("not_corruption_days", Some(self.not_corruption_days)),
            ("unclassified_days", Some(self.unclassified_days)),
            ("missed_call_days", Some(self.missed_call_days)),
            ("automatic_mail_days", Some(self.automatic_mail_days)),
            ("raw_mail_days", self.raw_mail_days),
            ("recordings_days", self.recordings_days),
        ];
        for (key, days) in keys {
            if days.is_some_and(|d| d.get() == 0) {
                return Err(format!(
                    "retention.{key} must be at least 1 (days): personal data is not kept \
                     forever; take the period from the enterprise's records schedule"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load_str;
    use super::*;

    #[test]
    fn retention_periods_are_days_never_zero_and_media_never_outlive_the_appeal() {
        use crate::journal::Category;
        let defaults = RetentionConfig::default();
        assert_eq!(defaults.appeal_days(Category::Corruption), Days::new(1826));
        assert_eq!(
            defaults.raw_mail_days(Category::NotCorruption),
            Days::new(1096)
        );
        let config = load_str(
            "[retention]\nnot_corruption_days = 30\nraw_mail_days = 60\nrecordings_days = 7\n",
        )
        .unwrap();
        let r = &config.retention;
        assert_eq!(r.appeal_days(Category::NotCorruption), Days::new(30));
        // Raw mail kept 60 days, but the appeal only 30: it goes with the appeal.
        assert_eq!(r.raw_mail_days(Category::NotCorruption), Days::new(30));
        assert_eq!(r.raw_mail_days(Category::Corruption), Days::new(60));
        assert_eq!(r.recordings_days(Category::CriminalOffence), Days::new(7));
        for key in ["unclassified_days", "missed_call_days", "recordings_days"] {
            let err = load_str(&format!("[retention]\n{key} = 0\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("retention.{key}")), "{err}");
            assert!(err.contains("at least 1"), "{err}");
        }
    }
}

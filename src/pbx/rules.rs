//! What a call becomes (`[pbx.rules]`): an answered call is a phone appeal
//! awaiting the operator's notes; a voicemail is an appeal with its recording
//! kept; a missed call with no message is only logged and counted.

use super::formats::{CallRecord, Disposition, Recording};
use crate::config::PbxRulesConfig;
use crate::journal::Status;

/// The rules' verdict on one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallRuling {
    /// The disposition after the rules (an answer by the voicemail box is a voicemail).
    pub disposition: Disposition,
    pub outcome: CallOutcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// Registered in the Journal with this status.
    Appeal(Status),
    /// Only logged as a call.
    Logged,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Appeal(_) => "appeal",
            CallOutcome::Logged => "logged",
        }
    }
}

pub fn decide(record: &CallRecord, rules: &PbxRulesConfig) -> CallRuling {
    let is_voicemail_box = |v: &Option<String>| {
        v.as_deref().is_some_and(|v| {
            rules
                .voicemail_extensions
                .iter()
                .any(|x| x.eq_ignore_ascii_case(v))
        })
    };
    let has_message = matches!(
        record.recording,
        Some(Recording::Url(_) | Recording::Upload { .. } | Recording::Name(_))
    );
    let disposition = match record.disposition {
        Disposition::Answered
            if is_voicemail_box(&record.extension) || is_voicemail_box(&record.application) =>
        {
            Disposition::Voicemail
        }
        Disposition::NoAnswer | Disposition::Busy
            if has_message && rules.recording_means_voicemail =>
        {
            Disposition::Voicemail
        }
        d => d,
    };
    let register = match disposition {
        Disposition::Answered => rules.register_answered,
        Disposition::Voicemail => rules.register_voicemail,
        Disposition::NoAnswer | Disposition::Busy | Disposition::Failed => rules.register_missed,
    };
    CallRuling {
        disposition,
        outcome: if register {
            CallOutcome::Appeal(Status::AwaitingOperatorNotes)
        } else {
            CallOutcome::Logged
        },
    }
}

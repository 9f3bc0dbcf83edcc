//! The report's words in Kazakh, Russian and English: the figures' names, and
//! the names of channels, categories, statuses, outcomes and deadlines. The
//! console shows the report in the person's language; `senim report --lang`
//! chooses it for the command line.

pub use crate::config::mailbox::Language as Lang;

macro_rules! words {
    ($($name:ident => ($en:expr, $ru:expr, $kk:expr),)*) => {
        /// A word of the report.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum W { $($name,)* }

        impl W {
            /// Every word, for the test that each has three languages.
            pub const ALL: &'static [W] = &[$(W::$name,)*];
        }

        /// `word` in `lang`.
        pub fn w(lang: Lang, word: W) -> &'static str {
            match (word, lang) {
                $(
                    (W::$name, Lang::En) => $en,
                    (W::$name, Lang::Ru) => $ru,
                    (W::$name, Lang::Kk) => $kk,
                )*
            }
        }
    };
}

words! {
    Title => (
        "Appeals to the trust line: summary",
        "Обращения на линию доверия: сводка",
        "Сенім желісіне түскен өтініштер: жиынтық"
    ),
    Period => ("Registered", "Зарегистрированы", "Тіркелген"),
    From => ("from", "с", "бастап"),
    To => ("to", "по", "дейін"),
    Made => ("Made on", "Составлен", "Жасалған күні"),
    Page => ("Page", "Стр.", "Бет"),
    Figure => ("Figure", "Показатель", "Көрсеткіш"),
    AsOf => ("deadlines as of", "сроки на", "мерзімдер күні"),
    NoIdentity => (
        "Counts and times only: no reporter, no text, no registration number.",
        "Только количества и сроки: без заявителей, текстов и регистрационных номеров.",
        "Тек сандар мен мерзімдер: өтініш берушісіз, мәтінсіз, тіркеу нөмірінсіз."
    ),
    Appeals => ("Appeals registered", "Зарегистрировано обращений", "Тіркелген өтініштер"),
    Anonymous => ("of them anonymous", "из них анонимных", "оның ішінде жасырын"),
    AfterHours => (
        "of them received outside working hours",
        "из них поступило в нерабочее время",
        "оның ішінде жұмыс уақытынан тыс түскен"
    ),
    ByChannel => ("By channel", "По каналам", "Арналар бойынша"),
    ByCategory => ("By category", "По категориям", "Санаттар бойынша"),
    ByStatus => ("By status today", "По статусу на сегодня", "Бүгінгі мәртебе бойынша"),
    ByUnit => (
        "Sent on to structural units (10.9)",
        "Направлено в структурные подразделения (10.9)",
        "Құрылымдық бөлімшелерге жолданды (10.9)"
    ),
    Outcomes => ("What was done", "Что сделано", "Не істелді"),
    Decisions => (
        "The Director's decisions (7.11)",
        "Решения директора (7.11)",
        "Директордың шешімдері (7.11)"
    ),
    Calls => ("Calls to the line", "Звонки на линию", "Желіге қоңыраулар"),
    CallsLogged => ("Calls logged", "Звонков в журнале АТС", "АТС журналындағы қоңыраулар"),
    Answered => ("answered", "отвечено", "жауап берілді"),
    Voicemail => ("voicemail", "голосовая почта", "дауыстық пошта"),
    MissedCalls => (
        "Missed calls (no answer, busy, failed)",
        "Пропущенные звонки (без ответа, занято, сбой)",
        "Өткізіп алынған қоңыраулар (жауапсыз, бос емес, ақау)"
    ),
    MissedCallsShort => ("Missed calls", "Пропущенные звонки", "Өткізіп алынған қоңыраулар"),
    CallsAfterHours => (
        "Calls outside working hours",
        "Звонки в нерабочее время",
        "Жұмыс уақытынан тыс қоңыраулар"
    ),
    MissedAfterHours => (
        "of them missed",
        "из них пропущено",
        "оның ішінде өткізіп алынған"
    ),
    Times => ("Times", "Сроки обработки", "Өңдеу мерзімдері"),
    Measure => ("From → to", "От → до", "Бастап → дейін"),
    Count => ("Appeals", "Обращений", "Өтініштер"),
    Median => ("Median", "Медиана", "Медиана"),
    Max => ("Longest", "Максимум", "Ең ұзақ"),
    TimeToRegister => (
        "Receipt → registration",
        "Поступление → регистрация",
        "Түсу → тіркеу"
    ),
    TimeToAlert => (
        "Registration → the Director alerted (10.6)",
        "Регистрация → оповещение директора (10.6)",
        "Тіркеу → директорға хабарлау (10.6)"
    ),
    TimeToReply => (
        "Receipt → reply to the citizen",
        "Поступление → ответ заявителю",
        "Түсу → өтініш берушіге жауап"
    ),
    AlertsOnTime => (
        "Director's alerts sent in time / late / not yet sent",
        "Оповещения директора: в срок / с опозданием / ещё не отправлены",
        "Директорға хабарламалар: мерзімінде / кешігіп / әлі жіберілмеген"
    ),
    AlertsInTime => (
        "Director's alerts sent in time",
        "Оповещения директора в срок",
        "Директорға мерзімінде жіберілген хабарламалар"
    ),
    AlertsLate => (
        "Director's alerts sent late",
        "Оповещения директора с опозданием",
        "Директорға кешігіп жіберілген хабарламалар"
    ),
    AlertsNotSent => (
        "Director's alerts not yet sent",
        "Оповещения директора ещё не отправлены",
        "Директорға әлі жіберілмеген хабарламалар"
    ),
    Deadlines => ("Deadlines", "Сроки", "Мерзімдер"),
    Deadline => ("Deadline", "Срок", "Мерзім"),
    Met => ("met", "соблюдён", "сақталды"),
    MetLate => ("met late", "исполнен с опозданием", "кешігіп орындалды"),
    Overdue => ("overdue", "просрочен", "мерзімі өтті"),
    Open => ("open, not yet due", "открыт, срок не наступил", "ашық, мерзімі келмеген"),
    Ended => (
        "ended (no longer owed)",
        "прекращён (более не требуется)",
        "тоқтатылды (енді талап етілмейді)"
    ),
    Missed => ("missed", "нарушено", "бұзылды"),
    Total => ("all", "все", "барлығы"),
    Trend => ("Month by month", "По месяцам", "Айлар бойынша"),
    Month => ("Month", "Месяц", "Ай"),
    None => ("none", "нет", "жоқ"),
    Seconds => ("s", "с", "с"),
    Minutes => ("min", "мин", "мин"),
    Hours => ("h", "ч", "сағ"),
    Days => ("d", "дн.", "күн"),
    ChartTrend => (
        "Appeals registered each month, by channel",
        "Обращения по месяцам регистрации, по каналам",
        "Тіркелген айы бойынша өтініштер, арналар бойынша"
    ),
    ChartCategory => (
        "Appeals by category",
        "Обращения по категориям",
        "Санаттар бойынша өтініштер"
    ),

    ChannelPhone => ("phone", "телефон", "телефон"),
    ChannelEmail => ("e-mail", "эл. почта", "эл. пошта"),
    ChannelWeb => ("web site", "веб-сайт", "веб-сайт"),
    ChannelOther => ("other", "иное", "басқа"),

    CategoryUnclassified => ("not yet classified", "не классифицировано", "жіктелмеген"),
    CategoryCorruption => ("corruption", "коррупция", "сыбайлас жемқорлық"),
    CategoryNotCorruption => ("not corruption", "не коррупция", "сыбайлас жемқорлық емес"),
    CategoryCriminal => (
        "criminal offence or threat (6.3)",
        "уголовное правонарушение или угроза (6.3)",
        "қылмыстық құқық бұзушылық немесе қауіп (6.3)"
    ),

    StatusRegistered => ("registered", "зарегистрировано", "тіркелді"),
    StatusAwaitingNotes => (
        "awaiting the operator's notes",
        "ожидает записи оператора",
        "оператор жазбасын күтуде"
    ),
    StatusInReview => ("in review", "на рассмотрении", "қаралуда"),
    StatusRouted => ("sent on to a unit", "направлено в подразделение", "бөлімшеге жолданды"),
    StatusForwarded => ("forwarded", "направлено в уполномоченный орган", "уәкілетті органға жолданды"),
    StatusNotConsidered => ("not considered (6.3)", "не рассматривается (6.3)", "қаралмайды (6.3)"),
    StatusUnderInvestigation => ("under investigation", "идёт расследование", "тергеу жүргізілуде"),
    StatusDecided => ("decided", "принято решение", "шешім қабылданды"),
    StatusReplied => ("replied", "дан ответ", "жауап берілді"),
    StatusClosed => ("closed", "закрыто", "жабылды"),

    OutcomeRouted => ("sent on to a unit", "направлено в подразделение", "бөлімшеге жолданды"),
    OutcomeForwarded => (
        "forwarded to a competent body",
        "направлено в уполномоченный орган",
        "уәкілетті органға жолданды"
    ),
    OutcomeRedirected => (
        "redirected outside competence",
        "перенаправлено по компетенции",
        "құзыреті бойынша қайта жолданды"
    ),
    OutcomeNotConsidered => ("not considered (6.3)", "не рассмотрено (6.3)", "қаралмады (6.3)"),
    OutcomeInvestigation => (
        "internal investigation ordered",
        "назначено служебное расследование",
        "қызметтік тергеу тағайындалды"
    ),
    OutcomeDecision => ("decided (7.11)", "принято решение (7.11)", "шешім қабылданды (7.11)"),
    OutcomeReplied => ("reply sent", "ответ направлен", "жауап жіберілді"),
    OutcomeClosed => ("closed", "закрыто", "жабылды"),

    DecisionStop => ("consideration stopped", "рассмотрение прекращено", "қарау тоқтатылды"),
    DecisionAuthorities => (
        "handed to the authorities",
        "передано в уполномоченные органы",
        "уәкілетті органдарға берілді"
    ),
    DecisionDisciplinary => ("disciplinary measures", "дисциплинарные меры", "тәртіптік шаралар"),
    DecisionOther => ("other measures", "иные меры", "өзге шаралар"),

    Findings => (
        "The commission's conclusions (7.10)",
        "Заключения комиссии (7.10)",
        "Комиссия қорытындылары (7.10)"
    ),
    FindingSubstantiated => ("substantiated", "доводы подтвердились", "дәлелдер расталды"),
    FindingNotSubstantiated => (
        "not substantiated",
        "доводы не подтвердились",
        "дәлелдер расталмады"
    ),
    FindingNotStated => (
        "conclusion without a finding recorded",
        "заключение без отметки о подтверждении",
        "растау белгісіз қорытынды"
    ),
    DefaultUnit => ("default unit", "подразделение по умолчанию", "әдепкі бөлімше"),

    KindReply => ("reply to the citizen", "ответ заявителю", "өтініш берушіге жауап"),
    KindExtensionNotice => (
        "notice of the extension",
        "уведомление о продлении",
        "ұзарту туралы хабарлама"
    ),
    KindRedirect => ("redirection", "перенаправление", "қайта жолдау"),
    KindInvestigation => ("internal investigation", "служебное расследование", "қызметтік тергеу"),
    KindMaterials => ("materials to the commission", "материалы комиссии", "комиссияға материалдар"),
    KindTriage => ("triage by the day after registration", "рассмотрение на следующий день после регистрации", "тіркелгеннен кейінгі күні қарау"),
    KindThreatForward => ("offence or threat sent on the same day", "направление в тот же день (6.3)", "сол күні жіберу (6.3)"),
}

/// The name of a channel, category, status, outcome, decision or deadline kind
/// as the report stores it (`phone`, `not_corruption`, `reply_sent`, ...), in
/// `lang`; a name it does not know, as it is.
pub fn name(lang: Lang, stored: &str) -> String {
    match word_of(stored) {
        Some(word) => w(lang, word).to_owned(),
        None => stored.to_owned(),
    }
}

/// The word of a stored name, if the report knows it.
fn word_of(stored: &str) -> Option<W> {
    Some(match stored {
        "phone" => W::ChannelPhone,
        "email" => W::ChannelEmail,
        "web" => W::ChannelWeb,
        "other" => W::ChannelOther,
        "unclassified" => W::CategoryUnclassified,
        "corruption" => W::CategoryCorruption,
        "not_corruption" => W::CategoryNotCorruption,
        "criminal_offence" => W::CategoryCriminal,
        "registered" => W::StatusRegistered,
        "awaiting_operator_notes" => W::StatusAwaitingNotes,
        "in_review" => W::StatusInReview,
        "routed" => W::StatusRouted,
        "forwarded" => W::StatusForwarded,
        "not_considered" => W::StatusNotConsidered,
        "under_investigation" => W::StatusUnderInvestigation,
        "decided" => W::StatusDecided,
        "replied" => W::StatusReplied,
        "closed" => W::StatusClosed,
        "redirected" => W::OutcomeRedirected,
        "investigation_ordered" => W::OutcomeInvestigation,
        "decision" => W::OutcomeDecision,
        "reply_sent" => W::OutcomeReplied,
        "stop_consideration" => W::DecisionStop,
        "hand_to_authorities" => W::DecisionAuthorities,
        "disciplinary" => W::DecisionDisciplinary,
        "other_measures" => W::DecisionOther,
        "substantiated" => W::FindingSubstantiated,
        "not_substantiated" => W::FindingNotSubstantiated,
        "not_stated" => W::FindingNotStated,
        "reply" => W::KindReply,
        "extension_notice" => W::KindExtensionNotice,
        "redirect" => W::KindRedirect,
        "investigation" => W::KindInvestigation,
        "materials" => W::KindMaterials,
        "triage" => W::KindTriage,
        "threat_forward" => W::KindThreatForward,
        _ => return None,
    })
}

/// The name the routing gives the unit of `alerts.default_unit`
/// (`alerts::Policy::route`, `cases::acts::units`).
const DEFAULT_UNIT: &str = "default unit";

/// A unit's name (10.9) as configured, in every language; the unit of
/// `alerts.default_unit`, which has none, in `lang`.
pub fn unit(lang: Lang, unit: &str) -> String {
    if unit == DEFAULT_UNIT {
        w(lang, W::DefaultUnit).to_owned()
    } else {
        unit.to_owned()
    }
}

/// The name of an outcome event (`routed`, `forwarded`, ...) in `lang`: what
/// was done, where `name` gives a status.
pub fn outcome(lang: Lang, event: &str) -> String {
    let word = match event {
        "routed" => W::OutcomeRouted,
        "forwarded" => W::OutcomeForwarded,
        "not_considered" => W::OutcomeNotConsidered,
        "closed" => W::OutcomeClosed,
        other => return name(lang, other),
    };
    w(lang, word).to_owned()
}

/// A number of seconds as people read it: `35 s`, `1 h 7 min`, `2 d 19 h`.
pub fn duration(lang: Lang, seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    let unit = |word| w(lang, word);
    if d > 0 {
        if h > 0 {
            format!("{d} {} {h} {}", unit(W::Days), unit(W::Hours))
        } else {
            format!("{d} {}", unit(W::Days))
        }
    } else if h > 0 {
        if m > 0 {
            format!("{h} {} {m} {}", unit(W::Hours), unit(W::Minutes))
        } else {
            format!("{h} {}", unit(W::Hours))
        }
    } else if m > 0 {
        if s > 0 {
            format!("{m} {} {s} {}", unit(W::Minutes), unit(W::Seconds))
        } else {
            format!("{m} {}", unit(W::Minutes))
        }
    } else {
        format!("{s} {}", unit(W::Seconds))
    }
}

/// A date as people read it: `01.11.2026`.
pub fn date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// A calendar quarter (1 to 4) of `year`: `Q4 2026`, `IV квартал 2026 г.`,
/// `2026 жылғы IV тоқсан`.
pub fn quarter(lang: Lang, year: i32, quarter: u32) -> String {
    let roman = match quarter {
        1 => "I",
        2 => "II",
        3 => "III",
        _ => "IV",
    };
    match lang {
        Lang::En => format!("Q{quarter} {year}"),
        Lang::Ru => format!("{roman} квартал {year} г."),
        Lang::Kk => format!("{year} жылғы {roman} тоқсан"),
    }
}

/// A number of days: `22 d`.
pub fn days(lang: Lang, days: i64) -> String {
    format!("{days} {}", w(lang, W::Days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Category, Channel, Status};

    #[test]
    fn every_word_has_three_languages() {
        for word in W::ALL {
            for lang in Lang::ALL {
                assert!(!w(*lang, *word).is_empty(), "{word:?} in {lang}");
            }
        }
        assert_ne!(w(Lang::Ru, W::Title), w(Lang::Kk, W::Title));
    }

    #[test]
    fn every_stored_name_has_words() {
        let stored = Channel::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(Category::ALL.iter().map(|c| c.as_str()))
            .chain(Status::ALL.iter().map(|s| s.as_str()))
            .chain(crate::deadlines::Kind::ALL.iter().map(|k| k.as_str()))
            .chain(super::super::OUTCOME_EVENTS);
        for name_ in stored {
            assert!(word_of(name_).is_some(), "{name_} has no words");
        }
        for decision in super::super::DECISIONS
            .iter()
            .chain(&super::super::FINDINGS)
        {
            assert!(word_of(decision).is_some(), "{decision} has no words");
        }
        assert_eq!(outcome(Lang::En, "routed"), "sent on to a unit");
        assert_eq!(name(Lang::En, "Human resources"), "Human resources");
        assert_eq!(unit(Lang::Ru, "default unit"), "подразделение по умолчанию");
        assert_eq!(unit(Lang::Ru, "Human resources"), "Human resources");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(Lang::En, 35), "35 s");
        assert_eq!(duration(Lang::En, 600), "10 min");
        assert_eq!(duration(Lang::En, 4050), "1 h 7 min");
        assert_eq!(duration(Lang::En, 241_200), "2 d 19 h");
        assert_eq!(duration(Lang::Ru, 7200), "2 ч");
        assert_eq!(days(Lang::Kk, 22), "22 күн");
        assert_eq!(quarter(Lang::En, 2026, 4), "Q4 2026");
        assert_eq!(quarter(Lang::Ru, 2026, 1), "I квартал 2026 г.");
        assert_eq!(quarter(Lang::Kk, 2027, 3), "2027 жылғы III тоқсан");
    }
}

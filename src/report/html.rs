//! The report as HTML. `figures` is the body the console's report page shows
//! too: classes only, no `style` attribute, no script (the console's CSP). `page`
//! is the self-contained page of `senim report --format html`: the same body
//! with its CSS inline, nothing fetched, nothing run.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::svg;
use super::words::{Lang, W, date, days, duration, name, outcome, unit, w};
use super::{Counts, Report, Stats};

/// The page's style: the console's look, inline.
const CSS: &str = include_str!("report.css");

/// The self-contained page: `figures` with its CSS inline, no script.
pub fn page(report: &Report, lang: Lang) -> String {
    let title = w(lang, W::Title);
    html! {
        (DOCTYPE)
        html lang=(lang.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (report.period.from) " – " (report.period.to) }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    h1 { (title) }
                    (figures(report, lang))
                }
            }
        }
    }
    .into_string()
}

/// A table of counts, each name in the reader's language (`label`).
fn count_table(heading: &str, counts: &Counts, label: impl Fn(&str) -> String) -> Markup {
    html! {
        table.figures {
            thead { tr { th { (heading) } th.num { "" } } }
            tbody {
                @for (n, c) in counts.iter() {
                    tr { td { (label(n)) } td.num { (c) } }
                }
            }
        }
    }
}

/// A time's median and longest, as people read them (`show`).
fn stats_row(measure: &str, stats: &Stats, show: impl Fn(i64) -> String, none: &str) -> Markup {
    html! {
        tr {
            td { (measure) }
            td.num { (stats.count) }
            td.num { (stats.median.map(&show).unwrap_or_else(|| none.to_owned())) }
            td.num { (stats.max.map(&show).unwrap_or_else(|| none.to_owned())) }
        }
    }
}

/// The figures of a report: what the console's page shows and `page` wraps.
pub fn figures(report: &Report, lang: Lang) -> Markup {
    let t = |word| w(lang, word);
    let n = |stored: &str| name(lang, stored);
    let none = t(W::None);
    let times = &report.times;
    let alert = &times.director_alert;
    html! {
        section.report {
            p.period {
                (t(W::Period)) " " strong { (date(report.period.from)) " – " (date(report.period.to)) }
                "; " (t(W::AsOf)) " " (date(report.as_of)) ". "
                span.muted { (t(W::NoIdentity)) }
            }
            div.kpis {
                div.kpi { span.value { (report.appeals) } span.label { (t(W::Appeals)) } }
                div.kpi { span.value { (report.anonymous) } span.label { (t(W::Anonymous)) } }
                div.kpi { span.value { (report.after_hours) } span.label { (t(W::AfterHours)) } }
                div.kpi { span.value { (report.calls.missed) } span.label { (t(W::MissedCalls)) } }
                div.kpi { span.value { (report.deadlines.all.missed()) } span.label { (t(W::Deadlines)) ": " (t(W::Missed)) } }
            }

            h2 { (t(W::Trend)) }
            (svg::trend(lang, &report.months))
            table.figures {
                thead {
                    tr {
                        th { (t(W::Month)) }
                        th.num { (t(W::Appeals)) }
                        @for (channel, _) in report.by_channel.iter() { th.num { (n(channel)) } }
                        th.num { (t(W::MissedCallsShort)) }
                    }
                }
                tbody {
                    @for m in &report.months {
                        tr {
                            td.month { (m.month) }
                            td.num { (m.appeals) }
                            @for (_, c) in m.by_channel.iter() { td.num { (c) } }
                            td.num { (m.calls.missed) }
                        }
                    }
                }
            }

            h2 { (t(W::ByCategory)) }
            (svg::bars(t(W::ChartCategory), &report.by_category, n))
            div.tables {
                (count_table(t(W::ByChannel), &report.by_channel, n))
                (count_table(t(W::ByStatus), &report.by_status, n))
                (count_table(t(W::Outcomes), &report.outcomes, |e| outcome(lang, e)))
                (count_table(t(W::ByUnit), &report.by_unit, |u: &str| unit(lang, u)))
                (count_table(t(W::Decisions), &report.decisions, n))
                (count_table(t(W::Findings), &report.findings, n))
            }

            h2 { (t(W::Calls)) }
            table.figures.narrow {
                tbody {
                    tr { td { (t(W::CallsLogged)) } td.num { (report.calls.calls) } }
                    tr { td.indent { (t(W::Answered)) } td.num { (report.calls.answered) } }
                    tr { td.indent { (t(W::Voicemail)) } td.num { (report.calls.voicemail) } }
                    tr { td { (t(W::MissedCalls)) } td.num { (report.calls.missed) } }
                    tr { td { (t(W::CallsAfterHours)) } td.num { (report.calls.after_hours) } }
                    tr { td.indent { (t(W::MissedAfterHours)) } td.num { (report.calls.missed_after_hours) } }
                }
            }

            h2 { (t(W::Times)) }
            table.figures {
                thead {
                    tr {
                        th { (t(W::Measure)) }
                        th.num { (t(W::Count)) }
                        th.num { (t(W::Median)) }
                        th.num { (t(W::Max)) }
                    }
                }
                tbody {
                    (stats_row(t(W::TimeToRegister), &times.register_seconds, |s| duration(lang, s), none))
                    (stats_row(t(W::TimeToAlert), &alert.seconds, |s| duration(lang, s), none))
                    (stats_row(t(W::TimeToReply), &times.reply_days, |d| days(lang, d), none))
                }
            }
            p.note {
                (t(W::AlertsOnTime)) ": "
                strong { (alert.on_time) " / " (alert.late) " / " (alert.not_sent) }
            }

            h2 { (t(W::Deadlines)) }
            table.figures {
                thead {
                    tr {
                        th { (t(W::Deadline)) }
                        th.num { (t(W::Met)) }
                        th.num { (t(W::MetLate)) }
                        th.num { (t(W::Overdue)) }
                        th.num { (t(W::Open)) }
                        th.num { (t(W::Ended)) }
                    }
                }
                tbody {
                    @let all = &report.deadlines.all;
                    tr.total {
                        td { (t(W::Total)) }
                        td.num { (all.met) } td.num { (all.met_late) } td.num { (all.overdue) } td.num { (all.open) } td.num { (all.ended) }
                    }
                    @for (kind, c) in &report.deadlines.by_kind {
                        @if c.total() > 0 {
                            tr {
                                td { (n(kind.as_str())) }
                                td.num { (c.met) } td.num { (c.met_late) } td.num { (c.overdue) } td.num { (c.open) } td.num { (c.ended) }
                            }
                        }
                    }
                }
            }
        }
    }
}

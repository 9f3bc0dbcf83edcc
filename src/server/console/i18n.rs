//! The console's words in Kazakh, Russian and English (the person's own language,
//! `persons.language`, else the one picked at the login, else `console.language`;
//! the header's switch changes it), and Astana time for every instant shown.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use crate::config::mailbox::Language as Lang;

macro_rules! messages {
    ($($name:ident => ($en:expr, $ru:expr, $kk:expr),)*) => {
        /// A phrase of the console.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Msg { $($name,)* }

        /// `msg` in `lang`.
        pub fn t(lang: Lang, msg: Msg) -> &'static str {
            match (msg, lang) {
                $(
                    (Msg::$name, Lang::En) => $en,
                    (Msg::$name, Lang::Ru) => $ru,
                    (Msg::$name, Lang::Kk) => $kk,
                )*
            }
        }
    };
}

messages! {
    Title => ("Senim: the trust line", "Senim: линия доверия", "Senim: сенім желісі"),
    LoginHeading => ("Log in", "Вход", "Кіру"),
    Login => ("Login", "Логин", "Логин"),
    Password => ("Password", "Пароль", "Құпиясөз"),
    Passphrase => (
        "Key passphrase (to read sealed appeals; optional)",
        "Парольная фраза ключа (чтобы читать запечатанные обращения; по желанию)",
        "Кілттің құпия сөйлемі (мөрленген өтініштерді оқу үшін; міндетті емес)"
    ),
    SignIn => ("Log in", "Войти", "Кіру"),
    WrongLogin => ("Wrong login or password.", "Неверный логин или пароль.", "Логин немесе құпиясөз қате."),
    WrongPassphrase => (
        "The key passphrase is wrong, or you have no key yet.",
        "Неверная парольная фраза ключа, или у вас ещё нет ключа.",
        "Кілттің құпия сөйлемі қате немесе сізде әлі кілт жоқ."
    ),
    LockedOut => (
        "Too many failed attempts: this login is locked until",
        "Слишком много неудачных попыток: вход заблокирован до",
        "Тым көп сәтсіз әрекет: кіру бұғатталды, дейін"
    ),
    Busy => (
        "The server is busy checking other logins: try again in a moment.",
        "Сервер занят проверкой других входов: попробуйте ещё раз через минуту.",
        "Сервер басқа кірулерді тексеріп жатыр: сәлден кейін қайталап көріңіз."
    ),
    KeyTooCostly => (
        "Your key is protected with more work than the server accepts: ask the administrator to protect it again (senim keys passphrase).",
        "Ваш ключ защищён с трудоёмкостью выше допустимой для сервера: попросите администратора защитить его заново (senim keys passphrase).",
        "Кілтіңіз сервер қабылдайтыннан көп еңбекпен қорғалған: әкімшіден оны қайта қорғауды сұраңыз (senim keys passphrase)."
    ),
    LogOut => ("Log out", "Выйти", "Шығу"),
    LogOutEverywhere => ("Log out everywhere", "Выйти на всех устройствах", "Барлық жерден шығу"),
    Queue => ("Calls awaiting notes", "Звонки, ожидающие записи", "Жазбаны күтіп тұрған қоңыраулар"),
    NoCalls => ("No call is waiting.", "Ожидающих звонков нет.", "Күтіп тұрған қоңырау жоқ."),
    NewCall => ("A call awaits your notes", "Звонок ожидает вашей записи", "Қоңырау жазбаңызды күтуде"),
    EnableNotifications => (
        "Tell me of new calls (a notification and a sound)",
        "Сообщать о новых звонках (уведомление и звук)",
        "Жаңа қоңыраулар туралы хабарлау (хабарландыру және дыбыс)"
    ),
    Number => ("Number", "Номер", "Нөмірі"),
    Received => ("Received (Astana)", "Поступило (Астана)", "Түскен уақыты (Астана)"),
    Registered => ("Registered", "Зарегистрировано", "Тіркелген күні"),
    Channel => ("Channel", "Канал", "Арна"),
    Category => ("Category", "Категория", "Санат"),
    Status => ("Status", "Статус", "Мәртебе"),
    Flags => ("Flags", "Отметки", "Белгілер"),
    RecordNotes => ("Record the notes", "Внести запись", "Жазбаны енгізу"),
    ScriptHeading => (
        "Say to the caller (clause 10.5), and tick each point once said",
        "Скажите звонящему (пункт 10.5) и отметьте каждый пункт, когда произнесли его",
        "Қоңырау шалушыға айтыңыз (10.5-тармақ) және әр тармақты айтқан соң белгілеңіз"
    ),
    ScriptOwnName => (
        "My name and position.",
        "Своё имя и должность.",
        "Өз атым мен лауазымым."
    ),
    ScriptScope => (
        "This line takes only reports of corruption by the enterprise's employees.",
        "Эта линия принимает только сообщения о коррупции со стороны работников предприятия.",
        "Бұл желі кәсіпорын қызметкерлерінің сыбайлас жемқорлығы туралы хабарламаларды ғана қабылдайды."
    ),
    ScriptSecret => (
        "Information about a person who helps fight corruption is a state secret.",
        "Сведения о лице, оказывающем содействие в борьбе с коррупцией, являются государственной тайной.",
        "Сыбайлас жемқорлыққа қарсы күреске көмектесетін адам туралы мәліметтер мемлекеттік құпия болып табылады."
    ),
    ScriptRequired => (
        "Tick each point of the script once you have said it.",
        "Отметьте каждый пункт сценария после того, как произнесли его.",
        "Сценарийдің әр тармағын айтқаннан кейін белгілеңіз."
    ),
    Caller => ("The caller", "Звонящий", "Қоңырау шалушы"),
    Surname => ("Surname", "Фамилия", "Тегі"),
    FullName => ("Name", "ФИО", "Аты-жөні"),
    GivenName => ("Name", "Имя", "Аты"),
    Patronymic => ("Patronymic", "Отчество", "Әкесінің аты"),
    Organisation => ("Organisation", "Организация", "Ұйым"),
    PostalAddress => ("Postal address (for the reply)", "Почтовый адрес (для ответа)", "Пошта мекенжайы (жауап үшін)"),
    Phone => ("Phone (for feedback)", "Телефон (для обратной связи)", "Телефон (кері байланыс үшін)"),
    Email => ("E-mail", "Электронная почта", "Электрондық пошта"),
    Substance => ("What the caller reports", "Суть сообщения", "Хабарламаның мәні"),
    Save => ("Save", "Сохранить", "Сақтау"),
    NotesSaved => (
        "Saved. The appeal is registered and leaves your queue.",
        "Сохранено. Обращение зарегистрировано и ушло из вашей очереди.",
        "Сақталды. Өтініш тіркелді және кезегіңізден шықты."
    ),
    NotAwaiting => (
        "This appeal is not awaiting the operator's notes.",
        "Это обращение не ожидает записи оператора.",
        "Бұл өтініш оператордың жазбасын күтпейді."
    ),
    Journal => ("Journal", "Журнал", "Журнал"),
    From => ("From", "С", "Бастап"),
    To => ("To", "По", "Дейін"),
    Any => ("any", "любой", "кез келген"),
    Show => ("Show", "Показать", "Көрсету"),
    Previous => ("Previous", "Назад", "Алдыңғы"),
    Next => ("Next", "Далее", "Келесі"),
    NoAppeals => ("No appeal matches.", "Обращений не найдено.", "Өтініш табылмады."),
    Anonymous => ("anonymous", "анонимное", "жасырын"),
    NoReturn => ("no return address", "без обратного адреса", "кері мекенжайсыз"),
    Forbidden => (
        "Your role does not open this page.",
        "Ваша роль не открывает эту страницу.",
        "Рөліңіз бұл бетті ашпайды."
    ),
    BadForm => (
        "The form has expired: open the page again.",
        "Форма устарела: откройте страницу заново.",
        "Форманың мерзімі өтті: бетті қайта ашыңыз."
    ),
    SignedInAs => ("Logged in as", "Вы вошли как", "Кірген пайдаланушы"),
    Suggestion => ("Suggested category", "Предлагаемая категория", "Ұсынылған санат"),
    StateSecret => ("state secret (clause 10.5)", "государственная тайна (пункт 10.5)", "мемлекеттік құпия (10.5-тармақ)"),
    Reveal => ("Show the reporter and the text", "Показать заявителя и текст", "Өтініш берушіні және мәтінді көрсету"),
    RevealRecorded => (
        "(recorded in the Journal in your name)",
        "(фиксируется в журнале от вашего имени)",
        "(журналда сіздің атыңыздан тіркеледі)"
    ),
    NeedsKey => (
        "This appeal is sealed: log in again with your key's passphrase to read it.",
        "Обращение запечатано: войдите заново с парольной фразой ключа, чтобы прочитать его.",
        "Өтініш мөрленген: оны оқу үшін кілттің құпия сөйлемімен қайта кіріңіз."
    ),
    Classify => ("Classify", "Классифицировать", "Жіктеу"),
    Reason => ("Reason", "Основание", "Негіздеме"),
    ReasonSealed => ("(sealed: reveal the appeal with your key)", "(запечатано: раскройте обращение своим ключом)", "(мөрленген: өтінішті кілтіңізбен ашыңыз)"),
    ReasonDestroyed => ("(destroyed under the records schedule)", "(уничтожено по номенклатуре дел)", "(істер номенклатурасы бойынша жойылды)"),
    History => ("History", "История", "Тарих"),
    Audit => ("Audit", "Аудит", "Аудит"),
    Alerts => ("Alerts", "Оповещения", "Хабарламалар"),
    Outbox => ("Outbox", "Исходящая почта", "Шығыс пошта"),
    NoMail => ("No mail.", "Писем нет.", "Хат жоқ."),
    Attempts => ("Attempts", "Попыток", "Әрекеттер"),
    LastError => ("Last error", "Последняя ошибка", "Соңғы қате"),
    Retry => ("Try again now", "Повторить сейчас", "Қазір қайталау"),
    Retried => ("Put back for sending:", "Возвращено в очередь:", "Жіберу кезегіне қайтарылды:"),
    NoAlerts => ("No alert yet.", "Оповещений пока нет.", "Әзірге хабарлама жоқ."),
    Kind => ("Kind", "Вид", "Түрі"),
    Sent => ("Sent (Astana)", "Отправлено (Астана)", "Жіберілді (Астана)"),
    DueBy => ("Due by (10.6)", "Срок (10.6)", "Мерзімі (10.6)"),
    ReadReceipt => ("Read", "Прочтение", "Оқылуы"),
    Read => ("read", "прочитано", "оқылды"),
    MarkRead => ("Mark as read", "Отметить прочитанным", "Оқылды деп белгілеу"),
    ChainIntact => (
        "The Journal is intact: appeals / events checked:",
        "Журнал цел: проверено обращений / событий:",
        "Журнал бүтін: тексерілген өтініштер / оқиғалар:"
    ),
    ChainBroken => (
        "The Journal was changed outside Senim:",
        "Журнал изменён в обход Senim:",
        "Журнал Senim-ді айналып өзгертілген:"
    ),
    LastHead => ("Last published head", "Последняя опубликованная вершина", "Соңғы жарияланған шың"),
    NoHead => (
        "No head published yet (journal.published_heads_file).",
        "Вершина ещё не опубликована (journal.published_heads_file).",
        "Шың әлі жарияланған жоқ (journal.published_heads_file)."
    ),
    Classified => (
        "Classified. The alerts it causes are on their way.",
        "Классифицировано. Оповещения отправляются.",
        "Жіктелді. Хабарламалар жіберілуде."
    ),
    Recorded => ("Recorded in the Journal.", "Записано в Журнал.", "Журналға жазылды."),
    Deadlines => ("Deadlines", "Сроки", "Мерзімдер"),
    NoDeadlines => ("No deadline.", "Сроков нет.", "Мерзім жоқ."),
    Due => ("Due", "Срок", "Мерзімі"),
    Met => ("Met", "Исполнено", "Орындалды"),
    Extended => ("extended", "продлён", "ұзартылды"),
    Overdue => ("Overdue", "Просрочено", "Мерзімі өтті"),
    DueToday => ("Due today", "Срок сегодня", "Мерзімі бүгін"),
    DueSoon => ("Due within three working days", "Срок в ближайшие три рабочих дня", "Мерзімі үш жұмыс күні ішінде"),
    DeadlineReply => (
        "Reply to the citizen (APPK Art. 76)",
        "Ответ заявителю (АППК, ст. 76)",
        "Өтініш берушіге жауап (ӘРПК, 76-бап)"
    ),
    DeadlineExtensionNotice => (
        "Tell the citizen of the extension",
        "Уведомить заявителя о продлении",
        "Өтініш берушіге ұзарту туралы хабарлау"
    ),
    DeadlineRedirect => (
        "Redirect outside competence",
        "Перенаправить не по компетенции",
        "Құзыретке жатпайтынын қайта жолдау"
    ),
    DeadlineInvestigation => (
        "Internal investigation (7.5)",
        "Служебное расследование (7.5)",
        "Қызметтік тергеу (7.5)"
    ),
    DeadlineMaterials => (
        "Materials to the commission (7.8)",
        "Материалы комиссии (7.8)",
        "Комиссияға материалдар (7.8)"
    ),
    DirectorsDecisions => ("The Director's decisions", "Решения директора", "Директордың шешімдері"),
    ConsentHeading => (
        "Send the report with its materials to the anti-corruption service (10.6, 10.7)?",
        "Направить сообщение с материалами в антикоррупционную службу (10.6, 10.7)?",
        "Хабарламаны материалдарымен сыбайлас жемқорлыққа қарсы қызметке жіберу керек пе (10.6, 10.7)?"
    ),
    ConsentSend => ("I consent: send it", "Согласен: направить", "Келісемін: жіберу"),
    ConsentRefuse => ("Do not send (give the reason)", "Не направлять (укажите основание)", "Жібермеу (негіздемесін көрсетіңіз)"),
    OrderHeading => (
        "Order an internal investigation (10.10)",
        "Назначить служебное расследование (10.10)",
        "Қызметтік тергеу тағайындау (10.10)"
    ),
    OrderDate => ("Date of the order", "Дата приказа", "Бұйрық күні"),
    Order => ("Order it", "Назначить", "Тағайындау"),
    ExtendHeading => (
        "Extend the investigation (7.5)",
        "Продлить расследование (7.5)",
        "Тергеуді ұзарту (7.5)"
    ),
    Until => ("Until", "До", "Дейін"),
    WrittenDecision => (
        "Your written decision (number and date)",
        "Ваше письменное решение (номер и дата)",
        "Жазбаша шешіміңіз (нөмірі мен күні)"
    ),
    Extend => ("Extend", "Продлить", "Ұзарту"),
    DecisionHeading => (
        "Decision on the commission's conclusion (7.11)",
        "Решение по заключению комиссии (7.11)",
        "Комиссия қорытындысы бойынша шешім (7.11)"
    ),
    Decision => ("Decision", "Решение", "Шешім"),
    DecisionStop => ("Stop the consideration", "Прекратить рассмотрение", "Қарауды тоқтату"),
    DecisionAuthorities => (
        "Hand the materials to the competent authorities",
        "Передать материалы в уполномоченные органы",
        "Материалдарды уәкілетті органдарға беру"
    ),
    DecisionDisciplinary => ("Disciplinary measures", "Меры дисциплинарного взыскания", "Тәртіптік жаза шаралары"),
    DecisionOther => ("Other measures", "Иные меры", "Өзге шаралар"),
    OnDate => ("Date", "Дата", "Күні"),
    Record => ("Record", "Записать", "Жазу"),
    CaseWork => ("Case work", "Работа по обращению", "Өтініш бойынша жұмыс"),
    RecordEvent => ("Record an event", "Записать событие", "Оқиғаны жазу"),
    Event => ("Event", "Событие", "Оқиға"),
    EventReplySent => ("Reply sent to the citizen", "Ответ заявителю направлен", "Өтініш берушіге жауап жіберілді"),
    EventReplyExtended => ("Reply extended", "Срок ответа продлён", "Жауап мерзімі ұзартылды"),
    EventCitizenNotified => (
        "Citizen told of the extension",
        "Заявитель уведомлён о продлении",
        "Өтініш беруші ұзарту туралы хабардар етілді"
    ),
    EventOutsideCompetence => ("Outside our competence", "Не относится к компетенции", "Құзыретімізге жатпайды"),
    EventRedirected => ("Redirected", "Перенаправлено", "Қайта жолданды"),
    EventMaterialsRequested => (
        "Materials requested by the commission",
        "Комиссия запросила материалы",
        "Комиссия материалдарды сұратты"
    ),
    EventMaterialsReceived => ("Materials received", "Материалы получены", "Материалдар алынды"),
    UntilIfExtended => ("Until (for an extension)", "До (для продления)", "Дейін (ұзарту үшін)"),
    ReasonIfExtended => ("Reason (for an extension)", "Основание (для продления)", "Негіздеме (ұзарту үшін)"),
    RouteHeading => (
        "Send on to a structural unit (10.9)",
        "Направить в структурное подразделение (10.9)",
        "Құрылымдық бөлімшеге жолдау (10.9)"
    ),
    Unit => ("Unit", "Подразделение", "Бөлімше"),
    Route => ("Send on", "Направить", "Жолдау"),
    ForwardHeading => (
        "Forwarded to a competent body (10.7, 6.3)",
        "Направлено в уполномоченный орган (10.7, 6.3)",
        "Уәкілетті органға жолданды (10.7, 6.3)"
    ),
    ForwardTo => ("To", "Куда", "Қайда"),
    AntiCorruptionService => (
        "The anti-corruption service (with the Director's consent)",
        "Антикоррупционная служба (с согласия директора)",
        "Сыбайлас жемқорлыққа қарсы қызмет (директордың келісімімен)"
    ),
    CompetentBody => ("The competent state body (6.3)", "Уполномоченный государственный орган (6.3)", "Уәкілетті мемлекеттік орган (6.3)"),
    Method => ("Sent by", "Способ отправки", "Жіберу тәсілі"),
    MethodPost => ("Post, on paper", "Почтой, на бумаге", "Поштамен, қағаз түрінде"),
    MethodCourier => ("Courier", "Курьером", "Курьермен"),
    MethodByHand => ("By hand, against signature", "Нарочно, под роспись", "Қолма-қол, қолхатпен"),
    MethodEmail => ("E-mail", "Электронной почтой", "Электрондық поштамен"),
    TrackingReference => ("Tracking or outgoing number", "Трек-номер или исходящий номер", "Трек-нөмір немесе шығыс нөмірі"),
    NotConsideredHeading => (
        "Not considered (6.3): anonymous, or no facts",
        "Не рассматривается (6.3): анонимное или без фактов",
        "Қаралмайды (6.3): жасырын немесе фактісіз"
    ),
    CloseHeading => ("Close the case", "Закрыть дело", "Істі жабу"),
    Close => ("Close", "Закрыть", "Жабу"),
    ConsentGiven => (
        "The Director consented to send the report to the anti-corruption service",
        "Директор дал согласие направить сообщение в антикоррупционную службу",
        "Директор хабарламаны сыбайлас жемқорлыққа қарсы қызметке жіберуге келісім берді"
    ),
    ConsentRefused => (
        "The Director decided not to send the report",
        "Директор решил не направлять сообщение",
        "Директор хабарламаны жібермеуге шешім қабылдады"
    ),

    Language => ("Language", "Язык", "Тіл"),
    UnknownLanguage => (
        "Unknown language: choose kk, ru or en.",
        "Неизвестный язык: выберите kk, ru или en.",
        "Белгісіз тіл: kk, ru немесе en таңдаңыз."
    ),
    Export => (
        "Export the Journal (no identity)",
        "Выгрузка журнала (без личных данных)",
        "Журналды экспорттау (жеке деректерсіз)"
    ),
    ExportHint => (
        "One CSV row per appeal: number, dates, channel, category, status, flags; no reporter and no text. The export is recorded in the audit chain in your name.",
        "Одна строка CSV на обращение: номер, даты, канал, категория, статус, отметки; без заявителя и текста. Выгрузка фиксируется в цепочке аудита от вашего имени.",
        "Әр өтінішке бір CSV жолы: нөмірі, күндері, арнасы, санаты, мәртебесі, белгілері; өтініш берушісіз және мәтінсіз. Экспорт аудит тізбегінде сіздің атыңыздан тіркеледі."
    ),
    RegistrationDates => (
        "Registration dates (optional)",
        "Даты регистрации (необязательно)",
        "Тіркеу күндері (міндетті емес)"
    ),
    DownloadCsv => ("Download CSV", "Скачать CSV", "CSV жүктеп алу"),
    BadDates => (
        "Give dates as YYYY-MM-DD, the first not after the last.",
        "Укажите даты в формате ГГГГ-ММ-ДД, начальную не позже конечной.",
        "Күндерді ЖЖЖЖ-АА-КК пішімінде көрсетіңіз, бастапқысы соңғысынан кеш болмасын."
    ),
    Materials => ("Case materials", "Материалы обращения", "Өтініш материалдары"),
    DownloadsRecorded => (
        "Each download is recorded in the Journal in your name.",
        "Каждое скачивание фиксируется в журнале от вашего имени.",
        "Әр жүктеп алу журналда сіздің атыңыздан тіркеледі."
    ),
    Correspondence => ("Correspondence", "Переписка", "Хат алмасу"),
    Mail => ("Mail", "Письмо", "Хат"),
    MailFirst => (
        "registered the appeal",
        "зарегистрировано как обращение",
        "өтініш ретінде тіркелді"
    ),
    MailLater => ("a later mail", "последующее письмо", "кейінгі хат"),
    Sender => ("From", "От кого", "Кімнен"),
    Subject => ("Subject", "Тема", "Тақырыбы"),
    NoText => ("(no text)", "(без текста)", "(мәтінсіз)"),
    Attachments => ("Attachments", "Вложения", "Тіркемелер"),
    FileName => ("File", "Файл", "Файл"),
    FileType => ("Type", "Тип", "Түрі"),
    Size => ("Size", "Размер", "Көлемі"),
    Download => ("Download", "Скачать", "Жүктеп алу"),
    RawMail => (
        "Download the mail as received (.eml)",
        "Скачать письмо в исходном виде (.eml)",
        "Хатты алынған күйінде жүктеп алу (.eml)"
    ),
    Calls => ("Calls", "Звонки", "Қоңыраулар"),
    Call => ("Call", "Звонок", "Қоңырау"),
    CallerNumber => ("Caller's number", "Номер звонящего", "Қоңырау шалушының нөмірі"),
    CalledNumber => ("Number called", "Набранный номер", "Терілген нөмір"),
    Extension => ("Extension", "Внутренний номер", "Ішкі нөмір"),
    Recording => ("Recording", "Запись разговора", "Әңгіме жазбасы"),
    DownloadRecording => ("Download the recording", "Скачать запись", "Жазбаны жүктеп алу"),
    NoRecording => ("No recording is stored.", "Запись не сохранена.", "Жазба сақталмаған."),
    Destroyed => (
        "Destroyed under the records schedule.",
        "Уничтожено по сроку хранения.",
        "Сақтау мерзімі бойынша жойылды."
    ),
    SealedNeedsKey => (
        "Sealed: log in again with your key's passphrase to read it.",
        "Запечатано: войдите заново с парольной фразой ключа, чтобы прочитать.",
        "Мөрленген: оқу үшін кілттің құпия сөйлемімен қайта кіріңіз."
    ),
    NotFound => (
        "There is no such item in this appeal.",
        "В этом обращении нет такого материала.",
        "Бұл өтініште мұндай материал жоқ."
    ),
    DocumentsHeading => ("Documents sent", "Исходящие документы", "Шығыс құжаттар"),
    NoDocuments => (
        "No document has been issued on this appeal.",
        "По этому обращению документы не оформлялись.",
        "Бұл өтініш бойынша құжат ресімделмеген."
    ),
    OutgoingNumber => ("Outgoing number", "Исходящий номер", "Шығыс нөмірі"),
    Issued => ("Issued", "Оформлен", "Ресімделді"),
    Recipient => ("To", "Адресат", "Алушы"),
    Files => ("Files", "Файлы", "Файлдар"),
    KindCoverLetter => ("Cover letter", "Сопроводительное письмо", "Ілеспе хат"),
    KindReply => ("Reply", "Ответ", "Жауап"),
    KindExtensionNotice => ("Extension notice", "Уведомление о продлении", "Ұзарту туралы хабарлама"),
    ReplyHeading => ("Reply to the citizen", "Ответ заявителю", "Өтініш иесіне жауап"),
    ReplyText => ("The reply's text", "Текст ответа", "Жауап мәтіні"),
    ReplyMethod => ("Sent", "Способ отправки", "Жіберу тәсілі"),
    SendReply => ("Send the reply", "Отправить ответ", "Жауапты жіберу"),
    GenerateCoverLetter => ("Generate the cover letter", "Сформировать сопроводительное письмо", "Ілеспе хатты жасау"),
    CoverLetterExplained => (
        "The cover letter to the anti-corruption service (10.7), in Kazakh and Russian, takes the next outgoing number; it names no one: the materials travel separately.",
        "Сопроводительное письмо в антикоррупционную службу (10.7) на казахском и русском языках получит следующий исходящий номер; в нём нет сведений о заявителе: материалы передаются отдельно.",
        "Сыбайлас жемқорлыққа қарсы қызметке ілеспе хат (10.7) қазақ және орыс тілдерінде келесі шығыс нөмірін алады; онда өтініш берушінің деректері жоқ: материалдар бөлек беріледі."
    ),
    CoverLetterNeedsConsent => (
        "The cover letter is made once the Director has consented to send the report (10.7).",
        "Сопроводительное письмо формируется после согласия Директора направить сообщение (10.7).",
        "Ілеспе хат Директор хабарламаны жіберуге келісім бергеннен кейін жасалады (10.7)."
    ),
    CoverLetterNeedsPackage => (
        "The cover letter lists the materials package's enclosures with their pages: make the package first.",
        "Сопроводительное письмо перечисляет приложения пакета материалов с числом листов: сначала сформируйте пакет.",
        "Ілеспе хат материалдар пакетінің қосымшаларын парақ санымен көрсетеді: алдымен пакетті жасаңыз."
    ),
    Quarters => ("Quarters", "Кварталы", "Тоқсандар"),
    MakePackage => ("Make the materials package (ZIP)", "Сформировать пакет материалов (ZIP)", "Материалдар пакетін жасау (ZIP)"),
    PackageExplained => (
        "The appeal's text, correspondence, attachments, recordings and an extract of its audit events, with printable copies and a SHA-256 manifest (10.12, 7.8). It names the reporter: it is handed to you and not kept; its making is recorded.",
        "Текст обращения, переписка, вложения, записи звонков и выписка из журнала событий, с копиями для печати и перечнем SHA-256 (10.12, 7.8). Пакет содержит сведения о заявителе: он выдаётся вам и не хранится; его формирование записывается.",
        "Өтініш мәтіні, хат алмасу, тіркемелер, қоңырау жазбалары және оқиғалар журналынан үзінді, басып шығаруға арналған көшірмелер мен SHA-256 тізімі (10.12, 7.8). Пакетте өтініш беруші туралы мәліметтер бар: ол сізге беріледі және сақталмайды; оны жасау жазылады."
    ),
    PackageAtTheCommandLine => ("The same at the command line:", "То же в командной строке:", "Командалық жолда да солай:"),
    LetterFormat => ("The letter as", "Формат письма", "Хаттың пішімі"),
    FormatBoth => ("PDF and DOCX (ZIP)", "PDF и DOCX (ZIP)", "PDF және DOCX (ZIP)"),
    LetterNotKept => (
        "A letter names the person: it is handed to you and not kept.",
        "Письмо содержит сведения о заявителе: оно выдаётся вам и не хранится.",
        "Хатта өтініш иесінің деректері бар: ол сізге беріледі және сақталмайды."
    ),
    ExtensionNoticeHeading => (
        "Notice that the reply is extended (APPK Art. 76)",
        "Уведомление о продлении срока ответа (АППК, ст. 76)",
        "Жауап мерзімін ұзарту туралы хабарлама (ӘРПК, 76-бап)"
    ),
    MakeExtensionNotice => ("Make the notice", "Сформировать уведомление", "Хабарламаны жасау"),
    Unavailable => (
        "The materials cannot be read now; try again in a while.",
        "Материалы сейчас недоступны; повторите попытку позже.",
        "Материалдарды қазір оқу мүмкін емес; біраздан соң қайталаңыз."
    ),
    Report => ("Report", "Отчёт", "Есеп"),
    ReportHeading => (
        "Analysis of appeals (10.13)",
        "Анализ обращений (10.13)",
        "Өтініштерді талдау (10.13)"
    ),
    ReportPeriod => (
        "Registration dates (Astana)",
        "Даты регистрации (Астана)",
        "Тіркеу күндері (Астана)"
    ),
    ReportTooLong => (
        "A report covers at most ten years: choose a shorter period.",
        "Отчёт охватывает не более десяти лет: выберите период короче.",
        "Есеп он жылдан аспайды: қысқарақ кезеңді таңдаңыз."
    ),
    DownloadFigures => ("The figures as CSV", "Показатели в CSV", "Көрсеткіштер CSV түрінде"),
    DownloadPage => (
        "The report as a page (HTML, to print or mail)",
        "Отчёт одной страницей (HTML, для печати или письма)",
        "Есеп бір бет түрінде (HTML, басып шығару немесе хат үшін)"
    ),
    DownloadPublication => (
        "For the web site (4.7): CSV by whole months, counts below 5 hidden",
        "Для сайта (4.7): CSV по полным месяцам, числа меньше 5 скрыты",
        "Сайт үшін (4.7): толық айлар бойынша CSV, 5-тен кіші сандар жасырылған"
    ),
    Investigations => ("Investigations", "Служебные расследования", "Қызметтік тергеулер"),
    InvFile => ("Investigation file", "Материалы служебного расследования", "Қызметтік тергеу ісі"),
    InvSealedNote => (
        "Sealed: read only by the Director, the managers and the commission's members (7.9). Each opening is recorded.",
        "Запечатано: читают только директор, менеджеры и члены комиссии (7.9). Каждое открытие записывается.",
        "Мөрленген: тек директор, менеджерлер және комиссия мүшелері оқиды (7.9). Әр ашылуы жазылады."
    ),
    InvNone => ("No investigation file you may read.", "Нет доступных вам материалов расследований.", "Сіз оқи алатын тергеу ісі жоқ."),
    InvOpened => ("Ordered", "Назначено", "Тағайындалды"),
    InvLast => ("Last entry", "Последняя запись", "Соңғы жазба"),
    InvMember => ("you are a member", "вы член комиссии", "сіз комиссия мүшесісіз"),
    InvNotOrdered => ("No investigation is ordered on this appeal.", "Расследование по обращению не назначено.", "Өтініш бойынша тергеу тағайындалмаған."),
    InvNeedsKey => (
        "Log in with your key passphrase to open the file; you may record in it without.",
        "Чтобы открыть материалы, войдите с парольной фразой ключа; записывать можно и без неё.",
        "Істі ашу үшін кілттің құпия сөйлемімен кіріңіз; онсыз да жазуға болады."
    ),
    InvOrderNumber => ("Order number", "Номер приказа", "Бұйрық нөмірі"),
    InvMembersLogins => (
        "Members who work the line (logins, comma-separated)",
        "Члены комиссии — пользователи системы (логины через запятую)",
        "Жүйені пайдаланатын комиссия мүшелері (логиндер, үтір арқылы)"
    ),
    InvMembersOutside => (
        "Other members (one per line: name, position)",
        "Другие члены комиссии (по одному в строке: ФИО, должность)",
        "Басқа мүшелер (әр жолда біреу: аты-жөні, лауазымы)"
    ),
    InvCommission => ("The commission", "Комиссия", "Комиссия"),
    InvCommissionHeading => ("Change the commission", "Изменить состав комиссии", "Комиссия құрамын өзгерту"),
    InvRequests => ("Materials requested (7.8: one working day)", "Запрошенные материалы (7.8: один рабочий день)", "Сұратылған материалдар (7.8: бір жұмыс күні)"),
    InvRequestHeading => ("The commission asks for materials (7.8)", "Комиссия запрашивает материалы (7.8)", "Комиссия материалдарды сұратады (7.8)"),
    InvFromWhom => ("From whom", "У кого", "Кімнен"),
    InvWhat => ("What", "Что", "Не"),
    InvRequestNumber => ("Request number", "Номер запроса", "Сұрау нөмірі"),
    InvNote => ("Note", "Примечание", "Ескертпе"),
    InvConclusion => ("Reasoned conclusion", "Мотивированное заключение", "Дәлелді қорытынды"),
    InvConclusionHeading => ("The commission's reasoned conclusion (7.10)", "Мотивированное заключение комиссии (7.10)", "Комиссияның дәлелді қорытындысы (7.10)"),
    InvDecisionText => ("What is decided (required for other measures)", "Что решено (обязательно для иных мер)", "Не шешілді (өзге шаралар үшін міндетті)"),
    InvEntries => ("Entries", "Записи", "Жазбалар"),
    InvReaders => ("Who holds the file's key", "У кого есть ключ к материалам", "Іс кілті кімде"),
    InvOrdered => ("Investigation ordered", "Расследование назначено", "Тергеу тағайындалды"),
    InvExtended => ("Investigation extended", "Расследование продлено", "Тергеу ұзартылды"),
    InvForbidden => (
        "The investigation file is read only by the Director, the managers and the commission's members (7.9).",
        "Материалы расследования читают только директор, менеджеры и члены комиссии (7.9).",
        "Тергеу ісін тек директор, менеджерлер және комиссия мүшелері оқиды (7.9)."
    ),
    InvOpenFile => ("Open the investigation file", "Открыть материалы расследования", "Тергеу ісін ашу"),
    DownloadPublicationXlsx => (
        "The same for the web site as XLSX",
        "То же для сайта в XLSX",
        "Сайт үшін сол XLSX түрінде"
    ),
    DownloadPdf => (
        "The report as PDF (for the Director)",
        "Отчёт в PDF (для директора)",
        "Есеп PDF түрінде (директор үшін)"
    ),
    DownloadWorkbook => (
        "The figures and the months as XLSX",
        "Показатели и месяцы в XLSX",
        "Көрсеткіштер мен айлар XLSX түрінде"
    ),
    // The law's deadlines and the head's extension (issue 19).
    DeadlineTriage => (
        "Classify, send on or find not considered (10.6)",
        "Классифицировать, направить или признать не подлежащим рассмотрению (10.6)",
        "Жіктеу, жолдау немесе қаралмайды деп тану (10.6)"
    ),
    DeadlineThreatForward => (
        "Send the offence or threat to the competent body the same day (6.3)",
        "Направить в уполномоченный орган в тот же день (6.3)",
        "Сол күні уәкілетті органға жіберу (6.3)"
    ),
    EndedBy => ("Ended: no longer owed", "Прекращён: больше не требуется", "Тоқтатылды: енді қажет емес"),
    ReplyExtendHeading => (
        "Extend the reply to the citizen (APPK Art. 76, at most one month)",
        "Продлить срок ответа заявителю (ст. 76 АППК, не более чем на месяц)",
        "Өтініш берушіге жауап беру мерзімін ұзарту (ӘПК 76-бап, бір айдан аспайды)"
    ),
    ExtensionReason => ("Reason for the extension", "Основание продления", "Ұзарту негіздемесі"),
    RouteWithText => (
        "Send the unit the appeal's subject and substance (opened with your key and recorded; never the reporter's identity)",
        "Направить подразделению тему и суть обращения (открываются вашим ключом и фиксируются; без данных заявителя)",
        "Бөлімшеге өтініштің тақырыбы мен мәнін жіберу (кілтіңізбен ашылады және тіркеледі; өтініш берушінің деректерінсіз)"
    ),
    // Issue 19, one investigation model sealed or not (i19-inv).
    InvPlainNote => (
        "Read only by the Director, the managers and the commission's members (7.9); each opening is recorded. Sealed once the office key exists (senim keys init).",
        "Читают только директор, менеджеры и члены комиссии (7.9); каждое открытие записывается. Запечатывается, когда создан ключ ведомства (senim keys init).",
        "Тек директор, менеджерлер және комиссия мүшелері оқиды (7.9); әр ашылуы жазылады. Мекеме кілті жасалғанда мөрленеді (senim keys init)."
    ),
    InvSubstantiatedQuestion => (
        "Did the commission find the report substantiated?",
        "Признала ли комиссия сообщение обоснованным?",
        "Комиссия хабарламаны негізді деп тапты ма?"
    ),
    InvSubstantiatedYes => ("Substantiated", "Обоснованно", "Негізді"),
    InvSubstantiatedNo => ("Not substantiated", "Необоснованно", "Негізсіз"),
    InvDecidedNoMore => (
        "The Director has decided (7.11): nothing more is recorded in this file.",
        "Директор принял решение (7.11): в эти материалы больше ничего не записывается.",
        "Директор шешім қабылдады (7.11): бұл іске енді ештеңе жазылмайды."
    ),
    InvReadersPlain => ("Who may read the file", "Кто может читать материалы", "Істі кім оқи алады"),
    // Issue 19, the operator's notes: the script's last point (10.5), the checked
    // phone and e-mail, the recorded correction.
    ScriptLiability => (
        "It is handed over only as the law provides, and disclosing it carries liability.",
        "Они передаются только в порядке, предусмотренном законом, а их разглашение влечёт ответственность.",
        "Олар тек заңда көзделген тәртіппен беріледі, ал оларды жария ету жауапкершілікке әкеп соғады."
    ),
    BadPhone => (
        "Not a phone number: write it as +7 701 234 56 78 or 8 701 234 56 78.",
        "Это не номер телефона: укажите его как +7 701 234 56 78 или 8 701 234 56 78.",
        "Бұл телефон нөмірі емес: +7 701 234 56 78 немесе 8 701 234 56 78 түрінде жазыңыз."
    ),
    BadEmail => (
        "A reply cannot go to this address: write it as name@example.kz.",
        "На этот адрес нельзя отправить ответ: укажите его как name@example.kz.",
        "Бұл мекенжайға жауап жіберу мүмкін емес: name@example.kz түрінде жазыңыз."
    ),
    FieldsRefused => (
        "Nothing was saved: correct the field marked below.",
        "Ничего не сохранено: исправьте отмеченное ниже поле.",
        "Ештеңе сақталмады: төменде белгіленген өрісті түзетіңіз."
    ),
    Correct => ("Correct the details", "Исправить сведения", "Мәліметтерді түзету"),
    CorrectHelp => (
        "Change only what was recorded wrongly and say why: the earlier values stay in the record, the audit log names the fields.",
        "Измените только то, что записано неверно, и укажите причину: прежние значения остаются в журнале, журнал аудита называет поля.",
        "Тек қате жазылғанын өзгертіп, себебін көрсетіңіз: бұрынғы мәндер журналда қалады, аудит журналы өрістерді атайды."
    ),
    CorrectReason => (
        "Reason for the correction (no values here)",
        "Причина исправления (без самих сведений)",
        "Түзету себебі (мәліметтердің өзін жазбаңыз)"
    ),
    CorrectReasonRequired => (
        "Say why the details are corrected.",
        "Укажите, почему исправляются сведения.",
        "Мәліметтердің неге түзетілетінін көрсетіңіз."
    ),
    CorrectNothing => (
        "Nothing was changed.",
        "Ничего не изменено.",
        "Ештеңе өзгертілген жоқ."
    ),
    Corrected => (
        "The correction is recorded; the earlier values are kept.",
        "Исправление записано; прежние значения сохранены.",
        "Түзету жазылды; бұрынғы мәндер сақталды."
    ),
}

/// A language's own name for itself, as the login page and the header's switch
/// offer it.
pub fn name(lang: Lang) -> &'static str {
    match lang {
        Lang::Kk => "Қазақша",
        Lang::Ru => "Русский",
        Lang::En => "English",
    }
}

/// An instant as the line's people read it: Astana time.
pub fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_has_three_languages() {
        for lang in [Lang::En, Lang::Ru, Lang::Kk] {
            assert!(!t(lang, Msg::ScriptSecret).is_empty());
        }
        assert_ne!(t(Lang::Ru, Msg::Save), t(Lang::Kk, Msg::Save));
        for msg in [
            Msg::Language,
            Msg::Export,
            Msg::DownloadCsv,
            Msg::BadDates,
            Msg::ReportHeading,
            Msg::ReportPeriod,
            Msg::ReportTooLong,
            Msg::DownloadFigures,
            Msg::DownloadPage,
            Msg::DownloadPublication,
            Msg::DownloadPublicationXlsx,
            Msg::DownloadPdf,
            Msg::DownloadWorkbook,
            Msg::ScriptLiability,
            Msg::BadPhone,
            Msg::BadEmail,
            Msg::FieldsRefused,
            Msg::Correct,
            Msg::CorrectHelp,
            Msg::CorrectReason,
            Msg::CorrectReasonRequired,
            Msg::CorrectNothing,
            Msg::Corrected,
        ] {
            let words = [t(Lang::En, msg), t(Lang::Ru, msg), t(Lang::Kk, msg)];
            assert!(words.iter().all(|w| !w.is_empty()), "{msg:?}");
            assert!(words[0] != words[1] && words[1] != words[2], "{msg:?}");
        }
        let names: std::collections::HashSet<_> = Lang::ALL.iter().map(|l| name(*l)).collect();
        assert_eq!(names.len(), 3, "each language has its own name");
    }
}

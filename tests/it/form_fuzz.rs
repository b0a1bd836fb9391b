//! Issue 14, kept in the project: every form handler of the pages gets bad input, on both
//! engines.
//!
//! Each role with pages (the system admin, the hall manager, a clerk, the approver, the chief
//! representative, the leader, and a visitor who is not signed in) signs in through the
//! sign-in form and crawls the pages reachable from where it lands (`/start`; `/` for the
//! visitor). Every `<form method="post">` found there (its action, inputs, selects, text areas,
//! named submit button and hidden CSRF field; a small scan of the HTML, no parser crate) is
//! sent as `application/x-www-form-urlencoded` with mutated fields: control characters,
//! 100 KB strings, text in number fields, integers out of range (2147483648, -1, 20 digits),
//! empty values, missing fields, repeated and unknown extra fields, odd UTF-8 (emoji, bidi
//! marks, invalid bytes) and no CSRF token. The checks: no answer is 5xx (nor none at all);
//! a refusal (4xx) is an HTML page, not JSON, plain text or an empty body; and a refused
//! request writes nothing (the row count of every table is the same after it).
//!
//! Each role gets one form of each shape (its action with numbers blurred, its field names).
//! The short run (CI) sends every whole-form case and a rotating part of the per-field cases,
//! and only the whole-form cases for a shape an earlier role has had; `YICHUANG_FUZZ_ROUNDS=N`
//! (the API fuzz's variable) sends every case to every role's forms, plus 2·N generated values
//! per field, and crawls further (`YICHUANG_FUZZ_SEED` changes the generator's seed):
//!
//! ```text
//! YICHUANG_FUZZ_ROUNDS=2 cargo test --locked --test it -- form_fuzz:: --nocapture
//! ```

use std::{
    collections::{BTreeSet, VecDeque},
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use yichuang::db::Backend;

use crate::fuzz::Tally;
use crate::helpers::TestApp;

/// The roles that have pages with forms: (login, where the crawl starts). `None` is a
/// visitor who is not signed in.
const ROLES: &[(Option<&str>, &str)] = &[
    (Some("admin"), "/start"),
    (Some("manager"), "/start"),
    (Some("clerk1"), "/start"),
    (Some("approver"), "/start"),
    (Some("chief"), "/start"),
    (Some("leader"), "/start"),
    (None, "/"),
];

/// Form actions the fuzz leaves out, and why.
const EXCLUDED_ACTIONS: &[(&str, &str)] = &[(
    "/logout",
    "ends the fuzzing client's own session; its one input is the CSRF token",
)];

/// Tables a refused request of an action may write to by rule: (action prefix, table, why).
const WRITES_BY_RULE: &[(&str, &str, &str)] = &[
    (
        "/login",
        "sign_in_attempts",
        "a sign-in is counted before its password is checked (issue 14 #3)",
    ),
    (
        "/login",
        "audit_log",
        "wrong passwords that lock a login are audited (issue 14 #5)",
    ),
];

/// Tables left out of the snapshot: the job runner's own bookkeeping is not the request's.
const UNCOUNTED: &[&str] = &["jobs", "_migrations", "schema_migrations"];

/// Links the crawl does not follow: downloads, streams, the API, signing out.
fn followable(link: &str) -> bool {
    link.starts_with('/')
        && !link.starts_with("//")
        && ![
            "/static/", "/api/", "/files/", "/logout", "/metrics", "/healthz",
        ]
        .iter()
        .any(|p| link.starts_with(p))
        && ![
            "/events", ".pdf", ".xlsx", ".svg", ".png", ".ico", "export", "/print",
        ]
        .iter()
        .any(|p| link.split('?').next().unwrap_or(link).contains(p))
}

// ---- a deterministic generator ----

use crate::fuzz::Rng;

impl Rng {
    /// A short value of any kind: digits, signs, CJK, emoji, controls, quotes, invalid bytes.
    fn form_value(&mut self) -> Vec<u8> {
        const PIECES: &[&[u8]] = &[
            b"a",
            b"0",
            b"9",
            b"-",
            b".",
            b"e",
            b" ",
            b"\t",
            b"\n",
            b"'",
            b"\"",
            b"<b>",
            b"&amp;",
            b"%",
            b"\x00",
            b"\x01",
            b"\x7f",
            b"\xff",
            "中".as_bytes(),
            "😀".as_bytes(),
            "\u{202E}".as_bytes(),
            "\u{FEFF}".as_bytes(),
            b"2147483648",
            b"-2147483649",
            b"9223372036854775808",
            b"2026-02-30",
            b"24:61",
        ];
        let n = self.below(6) + 1;
        (0..n)
            .flat_map(|_| PIECES[self.below(PIECES.len())].to_vec())
            .collect()
    }
}

// ---- a small HTML scan ----

/// A start or end tag: its lower-case name (`/form` for an end tag) and attributes.
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
    /// Byte offset just past the tag's `>`.
    end: usize,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.attrs.iter().any(|(n, _)| n == name)
    }
}

/// `&amp;`, `&quot;`, `&#39;` … as askama writes them.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The tag that starts at `at` (a `<`), or `None` for a comment, doctype or stray `<`.
fn tag_at(html: &str, at: usize) -> Option<Tag> {
    let bytes = html.as_bytes();
    let mut i = at + 1;
    let start = i;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'/') {
        i += 1;
    }
    if i == start {
        return None;
    }
    let name = html[start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        if bytes[i] == b'>' {
            return Some(Tag {
                name,
                attrs,
                end: i + 1,
            });
        }
        let n0 = i;
        while i < bytes.len() && !matches!(bytes[i], b'=' | b'>' | b' ' | b'\n' | b'\t' | b'/') {
            i += 1;
        }
        let attr = html[n0..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                let v0 = i + 1;
                i = v0;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
                value = unescape(&html[v0..i.min(bytes.len())]);
                i += 1;
            } else {
                let v0 = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = unescape(&html[v0..i]);
            }
        }
        attrs.push((attr, value));
    }
}

/// Every tag of a page, in order, with the raw text of `<textarea>` and `<option>` after it.
fn tags(html: &str) -> Vec<(Tag, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let at = i + off;
        let Some(tag) = tag_at(html, at) else {
            i = at + 1;
            continue;
        };
        i = tag.end;
        let mut text = String::new();
        if matches!(tag.name.as_str(), "script" | "style" | "textarea") {
            let close = format!("</{}", tag.name);
            let end = html[i..].find(&close).map_or(html.len(), |e| i + e);
            text = unescape(&html[i..end]);
            i = end;
        } else if tag.name == "option" {
            let end = html[i..].find('<').map_or(html.len(), |e| i + e);
            text = unescape(html[i..end].trim());
        }
        out.push((tag, text));
    }
    out
}

/// The links of a page (`href="/…"`), unescaped.
fn links(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|(t, _)| t.name == "a")
        .filter_map(|(t, _)| t.attr("href").map(str::to_owned))
        .collect()
}

/// One field of a form.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    name: String,
    /// input type (`text`, `number`, `hidden`, `date`, `checkbox` …), `select` or `textarea`.
    kind: String,
    value: String,
    /// Sent by a browser as the page stands (a checkbox only when checked).
    sent: bool,
}

/// A `<form method="post">` as found on a page.
#[derive(Clone, Debug)]
pub(crate) struct Form {
    /// The page it is on.
    page: String,
    pub(crate) action: String,
    fields: Vec<Field>,
    multipart: bool,
}

impl Form {
    /// The form's shape: its action with numbers blurred, and its field names.
    fn shape(&self) -> String {
        let names: BTreeSet<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        format!(
            "{} [{}]",
            blur(&self.action),
            names.into_iter().collect::<Vec<_>>().join(",")
        )
    }

    /// Destructive forms (delete, revoke, cancel …) go last, so the others still find what
    /// they act on.
    fn destructive(&self) -> bool {
        ["delete", "revoke", "remove", "cancel", "leave", "refuse"]
            .iter()
            .any(|w| self.action.contains(w))
    }
}

/// A path with every run of digits replaced by `#`: pages of one kind look alike.
fn blur(path: &str) -> String {
    let mut out = String::new();
    let mut digits = false;
    for c in path.chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('#');
            }
            digits = true;
        } else {
            out.push(c);
            digits = false;
        }
    }
    out
}

/// The post forms of a page at `page`.
pub(crate) fn forms(page: &str, html: &str) -> Vec<Form> {
    let mut out = Vec::new();
    let mut form: Option<Form> = None;
    let mut select: Option<(String, Option<String>, Option<String>)> = None;
    let mut has_submit = false;
    for (tag, text) in tags(html) {
        match tag.name.as_str() {
            "form" => {
                let post = tag
                    .attr("method")
                    .is_some_and(|m| m.eq_ignore_ascii_case("post"));
                has_submit = false;
                form = post.then(|| Form {
                    page: page.to_owned(),
                    action: tag
                        .attr("action")
                        .filter(|a| !a.is_empty())
                        .unwrap_or(page)
                        .to_owned(),
                    fields: Vec::new(),
                    multipart: tag.attr("enctype").is_some_and(|e| e.contains("multipart")),
                });
            }
            "/form" => {
                if let Some(f) = form.take() {
                    out.push(f);
                }
            }
            _ => {}
        }
        let Some(f) = form.as_mut() else { continue };
        let name = tag.attr("name").unwrap_or_default().to_owned();
        match tag.name.as_str() {
            "input" if !name.is_empty() && !tag.has("disabled") => {
                let kind = tag.attr("type").unwrap_or("text").to_ascii_lowercase();
                if matches!(kind.as_str(), "submit" | "button" | "reset" | "image") {
                    continue;
                }
                let checkable = matches!(kind.as_str(), "checkbox" | "radio");
                let value = tag
                    .attr("value")
                    .unwrap_or(if checkable { "on" } else { "" })
                    .to_owned();
                let sent = kind != "file" && (!checkable || tag.has("checked"));
                // A radio group is one field: its checked member, else its first.
                if kind == "radio"
                    && let Some(other) = f.fields.iter_mut().find(|o| o.name == name)
                {
                    if sent {
                        other.value = value;
                        other.sent = true;
                    }
                    continue;
                }
                f.fields.push(Field {
                    name,
                    kind,
                    value,
                    sent,
                });
            }
            "button" if !name.is_empty() && !has_submit => {
                has_submit = true;
                f.fields.push(Field {
                    name,
                    kind: "submit".into(),
                    value: tag.attr("value").unwrap_or_default().to_owned(),
                    sent: true,
                });
            }
            "textarea" if !name.is_empty() => f.fields.push(Field {
                name,
                kind: "textarea".into(),
                value: text.strip_prefix('\n').unwrap_or(&text).to_owned(),
                sent: true,
            }),
            "select" if !name.is_empty() => select = Some((name, None, None)),
            "option" => {
                if let Some((_, first, chosen)) = select.as_mut() {
                    let value = tag.attr("value").map_or(text, str::to_owned);
                    if first.is_none() {
                        *first = Some(value.clone());
                    }
                    if tag.has("selected") {
                        *chosen = Some(value);
                    }
                }
            }
            "/select" => {
                if let Some((name, first, chosen)) = select.take() {
                    f.fields.push(Field {
                        name,
                        kind: "select".into(),
                        value: chosen.or(first).unwrap_or_default(),
                        sent: true,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

// ---- the cases ----

/// One request: what it tries and the body's pairs (raw bytes, percent-encoded when sent).
struct Case {
    what: String,
    pairs: Vec<(String, Vec<u8>)>,
}

/// Percent-encodes every byte that is not unreserved.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the page would send: every field a browser sends, as it stands.
pub(crate) fn plausible(form: &Form) -> Vec<(String, Vec<u8>)> {
    form.fields
        .iter()
        .filter(|f| f.sent)
        .map(|f| (f.name.clone(), f.value.clone().into_bytes()))
        .collect()
}

/// 100 KB of CJK text in no pattern.
fn huge() -> Vec<u8> {
    let mut rng = Rng(14);
    (0..34_000)
        .map(|_| char::from_u32(0x4E00 + rng.below(0x51A0) as u32).unwrap_or('中'))
        .collect::<String>()
        .into_bytes()
}

/// The values every field is tried with.
fn field_values() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("NUL", b"a\x00b".to_vec()),
        ("control characters", b"\x01\x1b\x7f".to_vec()),
        ("100 KB", huge()),
        ("text for a number", b"abc".to_vec()),
        ("2147483648", b"2147483648".to_vec()),
        ("-1", b"-1".to_vec()),
        ("20 digits", b"99999999999999999999".to_vec()),
        ("a fraction", b"1.5e3".to_vec()),
        ("empty", Vec::new()),
        ("spaces", b"   ".to_vec()),
        (
            "emoji and bidi marks",
            "😀\u{202E}\u{FEFF}𠮷\u{200B}".as_bytes().to_vec(),
        ),
        ("invalid UTF-8", b"\xff\xfe\xc3".to_vec()),
        ("markup", b"<script>alert(1)</script>'\"".to_vec()),
        ("an impossible date", b"2026-02-30".to_vec()),
    ]
}

/// How many whole-form cases [`cases_for`] puts first (the last, no CSRF token, only where
/// the form has one).
const WHOLE_FORM_CASES: usize = 5;

/// The cases for one form: whole-form cases, then per-field ones (`rotation` picks which in
/// the short run), then `generated` rounds of generated values per field.
fn cases_for(
    form: &Form,
    short: bool,
    rotation: usize,
    generated: usize,
    rng: &mut Rng,
) -> Vec<Case> {
    let base = plausible(form);
    let csrf = |pairs: &[(String, Vec<u8>)]| pairs.iter().any(|(n, _)| n == "csrf");
    let mut cases = vec![
        Case {
            what: "an unknown extra field".into(),
            pairs: base
                .iter()
                .cloned()
                .chain([("zz_unknown".to_owned(), b"1".to_vec())])
                .collect(),
        },
        Case {
            what: "every field empty".into(),
            pairs: base
                .iter()
                .map(|(n, v)| (n.clone(), if n == "csrf" { v.clone() } else { Vec::new() }))
                .collect(),
        },
        Case {
            what: "only the CSRF token".into(),
            pairs: base.iter().filter(|(n, _)| n == "csrf").cloned().collect(),
        },
        Case {
            what: "every field emoji".into(),
            pairs: base
                .iter()
                .map(|(n, v)| {
                    if n == "csrf" {
                        (n.clone(), v.clone())
                    } else {
                        (n.clone(), "😀🀄️".as_bytes().to_vec())
                    }
                })
                .collect(),
        },
    ];
    if csrf(&base) {
        cases.push(Case {
            what: "no CSRF token".into(),
            pairs: base.iter().filter(|(n, _)| n != "csrf").cloned().collect(),
        });
    }
    let values = field_values();
    let fields: Vec<&Field> = form.fields.iter().filter(|f| f.name != "csrf").collect();
    for (i, field) in fields.iter().enumerate() {
        let set = |value: &[u8]| -> Vec<(String, Vec<u8>)> {
            let mut pairs: Vec<(String, Vec<u8>)> = base
                .iter()
                .filter(|(n, _)| *n != field.name)
                .cloned()
                .collect();
            pairs.push((field.name.clone(), value.to_vec()));
            pairs
        };
        // In the short run three values a field, a different three for each field and form.
        let picked: Vec<usize> = if short {
            (0..3)
                .map(|k| (rotation + i * 3 + k * 5) % values.len())
                .collect()
        } else {
            (0..values.len()).collect()
        };
        for k in picked {
            let (what, value) = &values[k];
            cases.push(Case {
                what: format!("{} ({}) = {what}", field.name, field.kind),
                pairs: set(value),
            });
        }
        if !short || (rotation + i).is_multiple_of(2) {
            cases.push(Case {
                what: format!("{} missing", field.name),
                pairs: base
                    .iter()
                    .filter(|(n, _)| *n != field.name)
                    .cloned()
                    .collect(),
            });
            let mut twice = set(&field.value.clone().into_bytes());
            twice.push((field.name.clone(), b"2".to_vec()));
            cases.push(Case {
                what: format!("{} twice", field.name),
                pairs: twice,
            });
        }
        for _ in 0..generated {
            let value = rng.form_value();
            cases.push(Case {
                what: format!(
                    "{} generated {:?}",
                    field.name,
                    String::from_utf8_lossy(&value)
                ),
                pairs: set(&value),
            });
        }
    }
    cases
}

// ---- sending and checking ----

fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // Only so a hung answer ends the run.
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A client of `login` signed in through the sign-in form, or a visitor's client.
async fn sign_in(app: &TestApp, login: Option<&str>) -> Client {
    let client = client();
    let html = crate::helpers::page_text(app, &client, "/login").await;
    let Some(login) = login else { return client };
    let form = forms("/login", &html)
        .into_iter()
        .find(|f| f.action == "/login")
        .expect("the sign-in form");
    let mut pairs = plausible(&form);
    for (n, v) in &mut pairs {
        match n.as_str() {
            "login" => *v = login.as_bytes().to_vec(),
            "password" => *v = app.passwords[login].as_bytes().to_vec(),
            _ => {}
        }
    }
    let r = post(&client, app, "/login", &pairs).await.expect("sign-in");
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{login} signs in");
    client
}

async fn post(
    client: &Client,
    app: &TestApp,
    action: &str,
    pairs: &[(String, Vec<u8>)],
) -> reqwest::Result<reqwest::Response> {
    let body = pairs
        .iter()
        .map(|(n, v)| format!("{}={}", encode(n.as_bytes()), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    client
        .post(app.url(action))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
}

/// Every table's name, but [`UNCOUNTED`] ones.
async fn table_names(app: &TestApp) -> Vec<String> {
    let sql = match app.app.db.backend() {
        Backend::Sqlite => {
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' \
             and name not like '%_fts_%' order by name"
        }
        Backend::Postgres => {
            "select table_name::text from information_schema.tables \
             where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1"
        }
    };
    let names: Vec<String> = sqlx::query_scalar(sql)
        .fetch_all(app.app.db.pool())
        .await
        .expect("table names");
    names
        .into_iter()
        .filter(|n| !UNCOUNTED.contains(&n.as_str()))
        .collect()
}

/// The row count of every table.
async fn snapshot(app: &TestApp, tables: &[String]) -> Vec<(String, i64)> {
    let sql: Vec<String> = tables
        .iter()
        .map(|t| format!("select cast('{t}' as text) as t, count(*) as n from {t}"))
        .collect();
    crate::fuzz::named_numbers(app, &sql).await
}

/// Waits (at most five seconds) until the job runner has run every job that is due, so that
/// its writes (a case's deadline warning) are not taken for a refused request's.
async fn settle(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let due: i64 = sqlx::query_scalar(
            "select count(*) from jobs where state in ('pending', 'running') and run_at <= $1",
        )
        .bind(app.app.clock.now_micros())
        .fetch_one(app.app.db.pool())
        .await
        .expect("due jobs");
        if due == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn short_text(text: &str) -> String {
    let flat: String = text.chars().filter(|c| !c.is_control()).collect();
    match flat.char_indices().nth(100) {
        Some((end, _)) => format!("{}…", &flat[..end]),
        None => flat,
    }
}

/// The fuzzing run over one server.
struct Fuzz<'a> {
    app: &'a TestApp,
    tables: Vec<String>,
    counts: Vec<(String, i64)>,
    tally: Tally,
}

impl Fuzz<'_> {
    async fn send(&mut self, client: &Client, who: &str, form: &Form, case: &Case) {
        self.tally.sent += 1;
        let label = format!(
            "{who}: POST {} (form on {}{}) {}",
            form.action,
            form.page,
            if form.multipart {
                ", a file form sent urlencoded"
            } else {
                ""
            },
            case.what
        );
        let (status, kind, text) = match post(client, self.app, &form.action, &case.pairs).await {
            Ok(r) => {
                let kind = crate::helpers::content_type(&r);
                (
                    r.status().as_u16(),
                    kind,
                    r.text().await.unwrap_or_default(),
                )
            }
            Err(e) => {
                self.tally.findings.push(format!("{label}: no answer: {e}"));
                self.counts = snapshot(self.app, &self.tables).await;
                return;
            }
        };
        let mut wrong = self
            .tally
            .answered("form fuzz", &label, status, &short_text(&text));
        let html = kind.starts_with("text/html") && text.to_ascii_lowercase().contains("<html");
        if status >= 400 && !html {
            wrong.push(format!("a refusal that is not an HTML page ({kind:?})"));
        }
        if status == 200 && (text.is_empty() || kind.contains("json")) {
            wrong.push(format!("200 with {kind:?} and {} bytes", text.len()));
        }
        if status < 400 {
            settle(self.app).await;
        }
        let after = snapshot(self.app, &self.tables).await;
        if status >= 400 && after != self.counts {
            let by_rule = |table: &str| {
                WRITES_BY_RULE
                    .iter()
                    .any(|(a, t, _)| form.action.starts_with(a) && table == *t)
            };
            let changed = crate::fuzz::changed_counts(&self.counts, &after, by_rule);
            if !changed.is_empty() {
                wrong.push(format!("refused but wrote: {}", changed.join(", ")));
            }
        }
        self.counts = after;
        self.tally
            .record(&label, &wrong, status, &short_text(&text));
    }
}

/// Crawls from `start` as `client`: the post forms of every page of each kind (numbers
/// blurred) up to `max_pages` pages.
async fn crawl(
    app: &TestApp,
    client: &Client,
    who: &str,
    start: &str,
    max_pages: usize,
    findings: &mut Vec<String>,
) -> (usize, Vec<Form>) {
    let mut queue = VecDeque::from([start.to_owned()]);
    let mut seen = BTreeSet::from([blur(start)]);
    let mut pages = 0;
    let mut out = Vec::new();
    while let Some(page) = queue.pop_front() {
        if pages >= max_pages {
            break;
        }
        let r = match client.get(app.url(&page)).send().await {
            Ok(r) => r,
            Err(e) => {
                findings.push(format!("{who}: GET {page}: no answer: {e}"));
                continue;
            }
        };
        let status = r.status();
        if status.is_server_error() {
            findings.push(format!("{who}: GET {page} answered {status}"));
        }
        let mut next = Vec::new();
        if status.is_redirection() {
            if let Some(to) = r.headers().get("location").and_then(|l| l.to_str().ok()) {
                next.push(to.to_owned());
            }
        } else {
            let html = r
                .headers()
                .get("content-type")
                .is_some_and(|k| k.to_str().unwrap_or_default().starts_with("text/html"));
            if !html || !status.is_success() {
                continue;
            }
            pages += 1;
            let text = r.text().await.unwrap_or_default();
            out.extend(forms(&page, &text));
            next.extend(links(&text));
        }
        for link in next {
            let link = link.split('#').next().unwrap_or_default().to_owned();
            if followable(&link) && seen.insert(blur(&link)) {
                queue.push_back(link);
            }
        }
    }
    (pages, out)
}

/// A server with the demo cases (so the case pages have their forms) and a body limit that
/// lets 100 KB strings through, on a Tuesday morning in December 2026 so the records it makes
/// are valid.
async fn spawn(backend: Backend) -> TestApp {
    crate::fuzz::spawn_configured(backend, |c| {
        c.max_body_bytes = 4 * 1024 * 1024;
        c.demo_cases = true;
    })
    .await
}

async fn fuzz_every_form(backend: Backend) {
    let app = spawn(backend).await;
    let started = Instant::now();
    let rounds = crate::fuzz::rounds();
    let short = rounds == 0;
    let mut rng = Rng(crate::fuzz::seed());
    let tables = table_names(&app).await;
    assert!(tables.len() > 30, "the schema's tables: {tables:?}");
    let mut fuzz = Fuzz {
        app: &app,
        counts: snapshot(&app, &tables).await,
        tables,
        tally: Tally::default(),
    };
    let mut shapes = BTreeSet::new();
    let mut found = 0;
    let mut pages = 0;
    // Every role signs in and crawls before anything is fuzzed, so that no form sent by one
    // role changes what another sees or whether it may sign in.
    let mut crawled = Vec::new();
    let mut tried = 0;
    for (login, start) in ROLES {
        let who = login.unwrap_or("visitor");
        let client = sign_in(&app, *login).await;
        let (n, role_forms) = crawl(
            &app,
            &client,
            who,
            start,
            if short { 120 } else { 400 },
            &mut fuzz.tally.findings,
        )
        .await;
        pages += n;
        found += role_forms.len();
        crawled.push((*login, who, client, n, role_forms));
    }
    let fuzzing: Vec<&str> = ROLES.iter().filter_map(|(l, _)| *l).collect();
    settle(&app).await;
    fuzz.counts = snapshot(&app, &fuzz.tables).await;
    for (login, who, mut client, n, mut role_forms) in crawled {
        role_forms.retain(|f| {
            !EXCLUDED_ACTIONS
                .iter()
                .any(|(a, _)| f.action.split('?').next() == Some(*a))
                // Not the fuzzing roles' own accounts: a change there (a new password, a
                // role taken away) would end the run's sessions.
                && !fuzzing
                    .iter()
                    .any(|l| f.action == format!("/admin/staff/{l}"))
        });
        // One form of each shape per role. In the short run a shape an earlier role has had
        // gets only the whole-form cases (enough to find a role it should refuse).
        let mut mine = BTreeSet::new();
        role_forms.retain(|f| mine.insert(f.shape()));
        role_forms.sort_by_key(Form::destructive);
        for (i, form) in role_forms.iter().enumerate() {
            let new = shapes.insert(form.shape());
            let mut cases = cases_for(form, short, i, 2 * rounds, &mut rng);
            if short && !new {
                cases.truncate(WHOLE_FORM_CASES);
            }
            for case in &cases {
                fuzz.send(&client, who, form, case).await;
            }
            // A case may have ended the session: sign in again so the next form is still
            // tried as this role.
            if let Some(l) = login {
                let r = client.get(app.url("/start")).send().await.unwrap();
                let to_login = r
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|to| to.starts_with("/login"));
                if to_login {
                    eprintln!("form fuzz: {l} was signed out after {}", form.action);
                    client = sign_in(&app, Some(l)).await;
                }
            }
        }
        tried += role_forms.len();
        eprintln!(
            "form fuzz on {backend:?}: {who}: {n} pages, {} forms tried",
            role_forms.len()
        );
    }
    eprintln!(
        "form fuzz on {backend:?}: {pages} pages, {found} forms found, {} distinct forms, {tried} tried over the roles, {} requests in {:.1} s, statuses {:?}, {} findings",
        shapes.len(),
        fuzz.tally.sent,
        started.elapsed().as_secs_f64(),
        fuzz.tally.statuses,
        fuzz.tally.findings.len()
    );
    assert!(found > 30, "the crawl found the forms: {found}");
    fuzz.tally
        .assert_clean("form fuzz", &format!("{backend:?}"), 80);
}

crate::helpers::on_each_engine!(
    every_form_of_the_pages_refuses_bad_input_cleanly,
    fuzz_every_form
);

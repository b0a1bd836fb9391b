//! 搜索同义词: the words people say at the counter (社保卡, 上户口, 准生证, 补办身份证) and the
//! words of the catalogue (社会保障卡, 户口登记/出生登记, 生育登记, 身份证 + 补领). The hall
//! managers keep the list (shipped with defaults, migration 0017); [`super::search`] expands a
//! query with it. A change is audited and bumps `catalog_version` in its transaction, so every
//! server's cached answers are dropped (see `search::Cache`).

use std::sync::Arc;

use askama::Template;
use axum::{
    Json, Router,
    extract::{Query, State},
    http::StatusCode,
    routing::get,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{search, store};
use crate::{
    app::App,
    audit::{self, Actor},
    auth::{CurrentUser, Viewer},
    error::{AppError, AppResult},
    extract::{ApiJson, Fields},
    web::{Chrome, Flash, PageResult, done, render_status},
};

/// Entries kept at most.
pub const MAX_ENTRIES: usize = 500;
/// Alternatives of one term at most.
pub const MAX_ALTERNATIVES: usize = 10;
const MAX_TERM_CHARS: usize = 20;
const MAX_ALTERNATIVE_CHARS: usize = 40;

/// One entry: a word people type and what it means in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Synonym {
    /// The word as people type it, e.g. `社保卡` (no spaces).
    pub term: String,
    /// What the catalogue calls it. An alternative of several words separated by a space
    /// (`身份证 补领`) finds a matter that has all of them.
    pub alternatives: Vec<String>,
}

/// The whole list, in the managers' order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SynonymList {
    pub items: Vec<Synonym>,
}

/// The list as search uses it: terms longest first, so 社保卡 wins over 社保.
#[derive(Clone, Debug, Default)]
pub struct Synonyms {
    longest_first: Vec<Synonym>,
}

impl Synonyms {
    pub fn new(list: &[Synonym]) -> Self {
        let mut longest_first = list.to_vec();
        longest_first.sort_by_key(|s| std::cmp::Reverse(s.term.chars().count()));
        Self { longest_first }
    }

    /// The longest term that `text` starts with.
    pub fn at_start(&self, text: &str) -> Option<&Synonym> {
        self.longest_first
            .iter()
            .find(|s| !s.term.is_empty() && text.starts_with(s.term.as_str()))
    }
}

/// Lower case, spaces collapsed to one, trimmed.
fn tidy(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Checks and normalises a list: terms without spaces and unique, each with 1–10
/// alternatives that search can cut into words; at most 500 entries. `line` names the
/// entries of a pasted text (its line numbers) in the messages.
fn normalise(items: &[Synonym], line: &dyn Fn(usize) -> String) -> AppResult<Vec<Synonym>> {
    if items.len() > MAX_ENTRIES {
        return Err(AppError::invalid_field(
            "synonyms",
            format!("同义词最多 {MAX_ENTRIES} 条"),
        ));
    }
    let bad =
        |i: usize, msg: String| AppError::invalid_field("synonyms", format!("{}{msg}", line(i)));
    let mut out: Vec<Synonym> = Vec::with_capacity(items.len());
    for (i, s) in items.iter().enumerate() {
        let term = tidy(&s.term);
        if term.is_empty() {
            return Err(bad(i, "缺少要替换的词".into()));
        }
        if term.contains(' ') {
            return Err(bad(i, format!("“{term}”中不能有空格")));
        }
        if term.chars().count() > MAX_TERM_CHARS {
            return Err(bad(i, format!("词“{term}”不能超过 {MAX_TERM_CHARS} 个字")));
        }
        if search::words(&term).is_empty() {
            return Err(bad(i, format!("“{term}”中没有可搜索的文字")));
        }
        if out.iter().any(|o| o.term == term) {
            return Err(bad(i, format!("“{term}”重复列出，请合并为一条")));
        }
        let mut alternatives: Vec<String> = Vec::new();
        for a in &s.alternatives {
            let a = tidy(a);
            if a.is_empty() || a == term || alternatives.contains(&a) {
                continue;
            }
            if a.chars().count() > MAX_ALTERNATIVE_CHARS {
                return Err(bad(
                    i,
                    format!("同义词“{a}”不能超过 {MAX_ALTERNATIVE_CHARS} 个字"),
                ));
            }
            if search::words(&a).is_empty() {
                return Err(bad(i, format!("同义词“{a}”中没有可搜索的文字")));
            }
            alternatives.push(a);
        }
        if alternatives.is_empty() {
            return Err(bad(i, format!("“{term}”至少要有一个同义词")));
        }
        if alternatives.len() > MAX_ALTERNATIVES {
            return Err(bad(
                i,
                format!("“{term}”的同义词最多 {MAX_ALTERNATIVES} 个"),
            ));
        }
        out.push(Synonym { term, alternatives });
    }
    Ok(out)
}

/// Separators between alternatives in the text form.
fn is_separator(c: char) -> bool {
    matches!(c, ',' | '，' | '、' | ';' | '；' | '|' | '/')
}

/// The text form the admin page edits: one entry a line, `社保卡 = 社会保障卡，医保卡`.
pub fn to_text(items: &[Synonym]) -> String {
    items
        .iter()
        .map(|s| format!("{} = {}", s.term, s.alternatives.join("，")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the text form: one entry a line, the term, `=` (or `＝`, `→`), its alternatives
/// separated by `，`, `、`, `,`, `;` or `|`; empty lines and lines starting with `#` are skipped.
pub fn parse_text(text: &str) -> AppResult<Vec<Synonym>> {
    let mut items = Vec::new();
    let mut lines = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((term, rest)) = l
            .split_once('=')
            .or_else(|| l.split_once('＝'))
            .or_else(|| l.split_once('→'))
        else {
            return Err(AppError::invalid_field(
                "synonyms",
                format!("第 {} 行缺少“=”：应写成“社保卡 = 社会保障卡”", n + 1),
            ));
        };
        items.push(Synonym {
            term: term.to_owned(),
            alternatives: rest.split(is_separator).map(str::to_owned).collect(),
        });
        lines.push(n + 1);
    }
    normalise(&items, &|i| format!("第 {} 行：", lines[i]))
}

#[derive(sqlx::FromRow)]
struct Row {
    term: String,
    alternatives_json: String,
}

/// The list as stored, in order.
pub async fn list(conn: &mut sqlx::AnyConnection) -> AppResult<Vec<Synonym>> {
    let rows: Vec<Row> = sqlx::query_as(
        "select term, alternatives_json from search_synonyms order by position, term",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Synonym {
            term: r.term,
            alternatives: serde_json::from_str(&r.alternatives_json).unwrap_or_default(),
        })
        .collect())
}

/// The list as search uses it.
pub async fn load(pool: &sqlx::AnyPool) -> AppResult<Synonyms> {
    let mut conn = pool.acquire().await?;
    Ok(Synonyms::new(&list(&mut conn).await?))
}

/// The list as the audit trail shows it: one field per term.
fn snapshot(items: &[Synonym]) -> Value {
    Value::Object(
        items
            .iter()
            .map(|s| (s.term.clone(), Value::String(s.alternatives.join("、"))))
            .collect::<Map<_, _>>(),
    )
}

/// Managers keep the list: the hall manager (大厅管理员) or the system admin.
fn require_manager(user: &CurrentUser) -> AppResult<()> {
    if user.is_manager() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "搜索同义词由大厅管理员或系统管理员维护".into(),
        ))
    }
}

/// Replaces the whole list for `user` (a manager): checked first, written, audited and the
/// catalogue's version bumped in one transaction. An unchanged list writes nothing.
pub async fn replace(app: &App, user: &CurrentUser, items: &[Synonym]) -> AppResult<Vec<Synonym>> {
    require_manager(user)?;
    let items = normalise(items, &|i| format!("第 {} 条：", i + 1))?;
    let actor = Actor::from(user);
    let now = app.clock.now_micros();
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let before = list(&mut tx).await?;
                if before == items {
                    return Ok(items);
                }
                sqlx::query("delete from search_synonyms")
                    .execute(&mut **tx)
                    .await?;
                for (i, s) in items.iter().enumerate() {
                    let json = serde_json::to_string(&s.alternatives)
                        .map_err(|e| AppError::internal(e.to_string()))?;
                    sqlx::query(
                        "insert into search_synonyms (term, alternatives_json, position, updated_at) \
                         values ($1, $2, $3, $4)",
                    )
                    .bind(&s.term)
                    .bind(json)
                    .bind(i as i64 + 1)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                store::bump_version(&mut tx).await?;
                audit::record(
                    &mut tx,
                    &actor,
                    "update",
                    "search_synonyms",
                    "search_synonyms",
                    None,
                    Some(snapshot(&before)),
                    Some(snapshot(&items)),
                    now,
                )
                .await?;
                Ok(items)
            })
        })
        .await
}

/// The synonym list.
#[utoipa::path(get, path = "/api/v1/catalog/synonyms", summary = "搜索同义词（公开）", tag = "catalog",
    responses((status = 200, body = SynonymList)))]
pub async fn api_get(State(app): State<Arc<App>>) -> AppResult<Json<SynonymList>> {
    let mut conn = app.db.pool().acquire().await?;
    Ok(Json(SynonymList {
        items: list(&mut conn).await?,
    }))
}

/// Replaces the synonym list (hall manager or system admin); takes effect at once.
#[utoipa::path(put, path = "/api/v1/catalog/synonyms", summary = "保存搜索同义词（整表替换）", tag = "catalog",
    request_body = SynonymList,
    responses((status = 200, body = SynonymList), (status = 403, description = "只有管理员可以修改"),
        (status = 422, description = "某条同义词不合规，未作任何修改")))]
pub async fn api_put(
    State(app): State<Arc<App>>,
    user: CurrentUser,
    ApiJson(input): ApiJson<SynonymList>,
) -> AppResult<Json<SynonymList>> {
    let items = replace(&app, &user, &input.items).await?;
    Ok(Json(SynonymList { items }))
}

#[derive(Template)]
#[template(path = "catalog/synonyms.html")]
struct SynonymsPage {
    chrome: Chrome,
    items: Vec<Synonym>,
    /// The text in the editor: the stored list, or what was submitted after a refusal.
    text: String,
    ok: Option<String>,
    error: Option<String>,
}

impl SynonymsPage {
    /// The page with the stored list, and in the editor `text` (none: the stored list).
    async fn of(
        app: &App,
        viewer: Viewer,
        text: Option<String>,
        ok: Option<String>,
        error: Option<String>,
    ) -> AppResult<Self> {
        let mut conn = app.db.pool().acquire().await?;
        let items = list(&mut conn).await?;
        Ok(SynonymsPage {
            chrome: viewer.chrome(),
            text: text.unwrap_or_else(|| to_text(&items)),
            items,
            ok,
            error,
        })
    }
}

async fn page(State(app): State<Arc<App>>, viewer: Viewer, Query(f): Query<Flash>) -> PageResult {
    require_manager(&viewer.user)?;
    render_status(
        StatusCode::OK,
        &SynonymsPage::of(&app, viewer, None, f.ok, None).await?,
    )
}

async fn page_submit(State(app): State<Arc<App>>, viewer: Viewer, form: Fields) -> PageResult {
    require_manager(&viewer.user)?;
    let text = form.get("synonyms").to_owned();
    let saved = match parse_text(&text) {
        Ok(items) => replace(&app, &viewer.user, &items).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(items) => {
            let msg = format!("已保存 {} 条同义词，搜索立即生效", items.len());
            done("/admin/search-synonyms", &msg)
        }
        Err(e @ (AppError::Invalid(_) | AppError::InvalidField { .. })) => {
            let error = Some(e.public_message());
            let page = SynonymsPage::of(&app, viewer, Some(text), None, error).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/catalog/synonyms", get(api_get).put(api_put))
        .route("/admin/search-synonyms", get(page).post(page_submit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_reads_terms_and_their_alternatives() {
        let items = parse_text(
            "# 注释\n社保卡 = 社会保障卡\n\n补办身份证 ＝ 身份证  补领，身份证 换领、身份证 补领\nGeTi → 个体工商户",
        )
        .unwrap();
        assert_eq!(
            items,
            vec![
                Synonym {
                    term: "社保卡".into(),
                    alternatives: vec!["社会保障卡".into()]
                },
                Synonym {
                    term: "补办身份证".into(),
                    alternatives: vec!["身份证 补领".into(), "身份证 换领".into()]
                },
                Synonym {
                    term: "geti".into(),
                    alternatives: vec!["个体工商户".into()]
                },
            ]
        );
        assert_eq!(parse_text(&to_text(&items)).unwrap(), items);
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let e = parse_text("社保卡 = 社会保障卡\n\n准生证 生育登记").unwrap_err();
        assert!(
            e.public_message().contains("第 3 行"),
            "{}",
            e.public_message()
        );
        let e = parse_text("社保卡 = 社会保障卡\n社保卡 = 社保").unwrap_err();
        assert!(
            e.public_message().contains("重复"),
            "{}",
            e.public_message()
        );
        let e = parse_text("社保卡 =").unwrap_err();
        assert!(e.public_message().contains("至少要有一个同义词"));
        let e = parse_text("社 保卡 = 社会保障卡").unwrap_err();
        assert!(e.public_message().contains("空格"));
    }

    #[test]
    fn the_longest_term_wins() {
        let s = Synonyms::new(&parse_text("社保 = 社会保险\n社保卡 = 社会保障卡").unwrap());
        assert_eq!(s.at_start("社保卡补领").unwrap().term, "社保卡");
        assert_eq!(s.at_start("社保缴费").unwrap().term, "社保");
        assert!(s.at_start("医保").is_none());
    }
}

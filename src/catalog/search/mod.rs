//! Matter search: names and paths cut into words by jieba (search mode, so 户口 is found in
//! 居民户口簿补领), plus the pinyin and pinyin initials of the name and of each word (bdcdj →
//! 不动产登记). Tokens go to FTS5 on SQLite and, on PostgreSQL, to a narrow table of their
//! own (`matter_search`, migration 0021) with a GIN index over every prefix of every lexeme,
//! so that a word matched as a prefix is one exact entry of the index. A query ([`Query`])
//! is the AND of its words as prefixes, a word the managers listed as a synonym standing
//! also for its alternatives (社保卡 → 社会保障卡); answers come names first. When nothing
//! matches, a plain substring match on the name is tried.

mod answers;
mod memory;
mod query;

use std::{collections::HashMap, sync::LazyLock};

use jieba_rs::Jieba;
use pinyin::ToPinyin;
use serde::Serialize;
use utoipa::ToSchema;

pub use answers::{Answer, Cache};
pub use memory::Index;
use query::center_lexeme;
pub use query::{Query, escape_like};

use super::{
    MatterInput, MatterSummary,
    queries::{MatterRow, path_of, select_sql},
    synonyms::Synonyms,
};
use crate::{
    db::{Backend, Db, Tx, dialect},
    error::{AppError, AppResult},
};

/// The dictionary is read once per process (about 0.3 s) and never changes.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Results per page.
pub const PER_PAGE: i64 = 20;

fn is_cjk(c: char) -> bool {
    ('\u{3400}'..='\u{9fff}').contains(&c) || ('\u{f900}'..='\u{faff}').contains(&c)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Words of `text` in search mode, lower-cased, without punctuation; repeated words once.
pub fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in JIEBA.cut_for_search(text, true) {
        let w: String = t
            .word
            .chars()
            .filter(|c| is_word_char(*c))
            .flat_map(char::to_lowercase)
            .collect();
        if !w.is_empty() && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Pinyin initials of the Chinese characters (and ASCII letters/digits) of `text`.
pub fn initials(text: &str) -> String {
    spelled(text, pinyin::Pinyin::first_letter)
}

/// Toneless pinyin of `text`, syllables run together.
pub fn full_pinyin(text: &str) -> String {
    spelled(text, pinyin::Pinyin::plain)
}

/// `text` with each Chinese character spelled by `spell` and each ASCII letter or digit kept
/// (lower case); anything else is dropped.
fn spelled(text: &str, spell: fn(pinyin::Pinyin) -> &'static str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        if let Some(p) = c.to_pinyin() {
            s.push_str(spell(p));
        } else if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        }
    }
    s
}

/// The search tokens of a matter: words of its path and department, the pinyin initials
/// of its name, and the pinyin and initials of each word of its name.
/// The token that puts a matter in its center's catalogue (no one types a Greek letter).
pub fn center_token(center_id: i64) -> String {
    format!("ζ{center_id}")
}

pub fn tokens(path: &[String], department: &str, center_id: i64) -> String {
    tokens_with(&Cuts::default(), path, department, center_id)
}

/// Words of names and departments cut ahead of a write: jieba is the slow part of indexing,
/// and an import cuts its whole file before it begins the transaction.
#[derive(Debug, Default)]
pub struct Cuts(HashMap<String, Vec<String>>);

impl Cuts {
    /// Cuts each text once.
    pub fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Cuts {
        let mut map = HashMap::new();
        for t in texts {
            if !map.contains_key(t) {
                map.insert(t.to_owned(), words(t));
            }
        }
        Cuts(map)
    }

    /// The words of `text`, cut now if they were not cut before.
    fn words(&self, text: &str) -> Vec<String> {
        match self.0.get(text) {
            Some(w) => w.clone(),
            None => words(text),
        }
    }
}

/// [`tokens`], with words cut beforehand where there are.
pub fn tokens_with(cuts: &Cuts, path: &[String], department: &str, center_id: i64) -> String {
    let name = path.last().map(String::as_str).unwrap_or("");
    let mut all: Vec<String> = Vec::new();
    let mut push = |w: String| {
        if !w.is_empty() && !all.contains(&w) {
            all.push(w);
        }
    };
    for w in cuts.words(name) {
        let (ini, full) = (initials(&w), full_pinyin(&w));
        push(w);
        push(ini);
        push(full);
    }
    push(initials(name));
    // Single characters of the name, for the fallback of a query cut differently.
    for c in name.chars().filter(|c| is_cjk(*c)) {
        push(c.to_string());
    }
    for p in path.iter().take(path.len().saturating_sub(1)) {
        for w in cuts.words(p) {
            push(w);
        }
    }
    for w in cuts.words(department) {
        push(w);
    }
    push(center_token(center_id));
    all.join(" ")
}

async fn write_tokens(tx: &mut Tx, id: i64, text: &str) -> AppResult<()> {
    if tx.backend_name() == "PostgreSQL" {
        // The search table's row (migration 0021): the name as saved just now, in this
        // transaction, lower-cased for the ranking, and the tokens its index reads.
        sqlx::query(
            "insert into matter_search (id, name_lower, tokens) \
             select id, lower(name), $1 from matters where id = $2 \
             on conflict (id) do update set name_lower = excluded.name_lower, tokens = excluded.tokens",
        )
        .bind(text)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    } else {
        unindex(tx, id).await?;
        sqlx::query("insert into matter_fts (rowid, tokens) values ($1, $2)")
            .bind(id)
            .bind(text)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Indexes a matter just saved; categories are not searched.
pub async fn index(
    tx: &mut Tx,
    id: i64,
    center_id: i64,
    path: &[String],
    m: &MatterInput,
    cuts: &Cuts,
) -> AppResult<()> {
    if m.node == "category" {
        return unindex(tx, id).await;
    }
    write_tokens(tx, id, &tokens_with(cuts, path, &m.department, center_id)).await
}

/// Re-indexes a stored matter (after its path changed).
pub async fn reindex(tx: &mut Tx, id: i64) -> AppResult<()> {
    #[derive(sqlx::FromRow)]
    struct Stored {
        path_json: String,
        department: String,
        center_id: i64,
        node: String,
    }
    let m: Stored =
        sqlx::query_as("select path_json, department, center_id, node from matters where id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
    if m.node == "category" {
        return unindex(tx, id).await;
    }
    write_tokens(
        tx,
        id,
        &tokens(&path_of(&m.path_json), &m.department, m.center_id),
    )
    .await
}

/// Drops a matter from the index (before it is deleted).
pub async fn unindex(tx: &mut Tx, id: i64) -> AppResult<()> {
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("delete from matter_search where id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    } else {
        sqlx::query("delete from matter_fts where rowid = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A page of results.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Found {
    pub items: Vec<MatterSummary>,
    pub total: i64,
}

/// Searches the matters (not categories) of one center, or of all; `page` counts from 1.
/// An empty query lists every matter in catalogue order; otherwise the query is expanded
/// with `synonyms` ([`Query`]) and the answers come names first (see [`Query::rank`]), each
/// page cut from the full ranked list, so `total` counts every match.
pub async fn search(
    db: &Db,
    synonyms: &Synonyms,
    q: &str,
    center: Option<&str>,
    page: i64,
) -> AppResult<Found> {
    search_indexed(db, None, synonyms, q, center, page).await
}

/// [`search`], answered from `index` ([`Index`], PostgreSQL's search table held in memory)
/// where it can: the same answer, with no read of the search table. `index` must be of the
/// catalogue version the caller searches under.
pub async fn search_indexed(
    db: &Db,
    index: Option<&Index>,
    synonyms: &Synonyms,
    q: &str,
    center: Option<&str>,
    page: i64,
) -> AppResult<Found> {
    let q = q.trim();
    if q.chars().count() > 100 {
        return Err(AppError::invalid_field("q", "搜索内容不能超过 100 个字"));
    }
    let page = page.clamp(1, 10_000);
    let center_id: Option<i64> = match center.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            sqlx::query_scalar("select id from centers where code = $1")
                .bind(c)
                .fetch_optional(db.pool())
                .await?
                .ok_or_else(|| AppError::NotFound(format!("找不到编码为“{c}”的中心")))?,
        ),
    };
    let offset = (page - 1) * PER_PAGE;
    let query = Query::new(q, synonyms);
    if let Some(found) = index
        .filter(|_| !query.is_empty())
        .and_then(|ix| ix.search(&query, q, center_id.map(center_token).as_deref(), offset))
    {
        return Ok(found);
    }
    let found = if query.is_empty() {
        run(db, "1 = 1", Vec::new(), center_id, offset).await?
    } else {
        // The center is a token too, so one index lookup answers the count.
        let center = center_id.map(center_token);
        match db.backend() {
            Backend::Sqlite => {
                ranked(
                    db,
                    "select count(*) from matter_fts where matter_fts match $1",
                    "m.id in (select rowid from matter_fts where matter_fts match $1)",
                    vec![query.fts5(center.as_deref())],
                    &query,
                    offset,
                )
                .await?
            }
            Backend::Postgres => {
                let (filter, args) = pg_match(query.tsquery_prefixes(), center.as_deref());
                ranked_pg(db, &filter, args, &query, offset).await?
            }
        }
    };
    if found.total > 0 || q.is_empty() {
        return Ok(found);
    }
    // Nothing by words (a query jieba cuts differently from the name): names that hold
    // every character of the query, checked as a substring. Both steps use the index.
    let chars: Vec<String> = q
        .chars()
        .filter(|c| is_cjk(*c))
        .map(String::from)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if chars.is_empty() {
        return Ok(found);
    }
    let like = format!("%{}%", escape_like(q));
    let quoted = |quote: fn(&String) -> String, and: &str| {
        chars.iter().map(quote).collect::<Vec<_>>().join(and)
    };
    match db.backend() {
        Backend::Sqlite => {
            let mut arg = quoted(|w| format!("\"{w}\""), " AND ");
            if let Some(c) = center_id {
                arg.push_str(&format!(" AND \"{}\"", center_token(c)));
            }
            let filter = "m.id in (select rowid from matter_fts where matter_fts match $1) and m.name like $2 escape '\\'";
            ranked(
                db,
                &format!("select count(*) from matters m where {filter}"),
                filter,
                vec![arg, like],
                &query,
                offset,
            )
            .await
        }
        Backend::Postgres => {
            // The characters are prefixes in the search document, so rows whose words start
            // with them match the index too; the name's substring decides, as it did.
            let cjk = quoted(|w| format!("'{w}'"), " & ");
            let (filter, mut args) = pg_match(cjk, center_id.map(center_token).as_deref());
            args.push(like);
            let filter = format!(
                "{filter} and exists (select 1 from matters n where n.id = m.id and n.name like ${} escape '\\')",
                args.len()
            );
            ranked_pg(db, &filter, args, &query, offset).await
        }
    }
}

/// PostgreSQL's match of the search table `m` (migration 0021): `words`, a tsquery of exact
/// lexemes, in its document of prefixes, and the center's whole token; the filter and its
/// arguments from `$1`.
fn pg_match(words: String, center: Option<&str>) -> (String, Vec<String>) {
    let doc = "matter_search_document(m.tokens)";
    match center {
        None => (format!("{doc} @@ to_tsquery('simple', $1)"), vec![words]),
        Some(c) => (
            format!("{doc} @@ (to_tsquery('simple', $1) && cast($2 as tsquery))"),
            vec![words, center_lexeme(c)],
        ),
    }
}

/// SQLite's ranked search: the page in the query's rank order with the count of every match,
/// first the ids of the page (the ranking reads only the names), then those rows. `count_sql`
/// (over the same arguments as `filter`) counts only when the page is empty.
async fn ranked(
    db: &Db,
    count_sql: &str,
    filter: &str,
    args: Vec<String>,
    query: &Query,
    offset: i64,
) -> AppResult<Found> {
    // The page's ids and the count of every match in one statement, so the full-text index
    // is searched once (it was most of an uncached search's time, searched twice).
    let (rank, rank_args) = query.rank(args.len() + 1);
    let n = args.len() + rank_args.len();
    let mut page = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(format!(
        "select m.id, count(*) over () from matters m where {filter} \
         order by {rank}, m.id limit ${} offset ${}",
        n + 1,
        n + 2
    )));
    for a in args.iter().chain(&rank_args) {
        page = page.bind(a.clone());
    }
    let rows: Vec<(i64, i64)> = page
        .bind(PER_PAGE)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    let total = match rows.first() {
        Some(&(_, total)) => total,
        // Nothing on this page: no match at all, or a page past the end; the count says.
        None => {
            let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.to_owned()));
            for a in &args {
                count = count.bind(a.clone());
            }
            count.fetch_one(db.pool()).await?
        }
    };
    page_of(db, rows.into_iter().map(|(id, _)| id).collect(), total).await
}

/// [`ranked`] on PostgreSQL, in one statement over the search table `matter_search m`
/// ([`pg_match`]; the ranking reads `m.name_lower`): the index finds the matches once, and
/// their count and the page's ids come from that one pass, whose heap reads are the table's
/// narrow rows rather than the wide `matters`.
async fn ranked_pg(
    db: &Db,
    filter: &str,
    args: Vec<String>,
    query: &Query,
    offset: i64,
) -> AppResult<Found> {
    let (rank, rank_args) = query.rank_of("m.name_lower", args.len() + 1);
    let n = args.len() + rank_args.len();
    let mut q = sqlx::query_as::<_, (i64, Option<String>)>(sqlx::AssertSqlSafe(format!(
        "with hits as materialized (select m.id, {rank} as r from matter_search m where {filter}) \
         select (select count(*) from hits), \
         (select string_agg(cast(id as text), ',' order by r, id) \
          from (select id, r from hits order by r, id limit ${} offset ${}) p)",
        n + 1,
        n + 2
    )));
    for a in args.iter().chain(&rank_args) {
        q = q.bind(a.clone());
    }
    let (total, ids) = q.bind(PER_PAGE).bind(offset).fetch_one(db.pool()).await?;
    let ids = ids
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|e| AppError::internal(e.to_string()))?;
    page_of(db, ids, total).await
}

/// The page: the rows of `ids`, in that order.
async fn page_of(db: &Db, ids: Vec<i64>, total: i64) -> AppResult<Found> {
    if ids.is_empty() {
        return Ok(Found {
            items: Vec::new(),
            total,
        });
    }
    let json = serde_json::to_string(&ids).map_err(|e| AppError::internal(e.to_string()))?;
    let rows: Vec<MatterRow> = sqlx::query_as(select_sql(&format!(
        "where m.id in {}",
        dialect::id_set(db.backend(), 1)
    )))
    .bind(json)
    .fetch_all(db.pool())
    .await?;
    let mut by_id: HashMap<i64, MatterRow> = rows.into_iter().map(|r| (r.id.get(), r)).collect();
    Ok(Found {
        items: ids
            .iter()
            .filter_map(|id| by_id.remove(id))
            .map(|r| r.summary())
            .collect(),
        total,
    })
}

async fn run(
    db: &Db,
    filter: &str,
    args: Vec<String>,
    center_id: Option<i64>,
    offset: i64,
) -> AppResult<Found> {
    // Placeholders: the filter's arguments first, then center, limit, offset.
    let mut n = args.len();
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let center_sql = match center_id {
        Some(_) => format!(" and m.center_id = {}", next()),
        None => String::new(),
    };
    // Only matters are indexed: a search filter needs no test of the node, which on
    // PostgreSQL made every count read the rows themselves.
    let node = if args.is_empty() {
        " and m.node = 'matter'"
    } else {
        ""
    };
    let cond = format!("where {filter}{node}{center_sql}");
    let limit = next();
    let off = next();
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "select count(*) from matters m {cond}"
    )));
    let mut items = sqlx::query_as::<_, MatterRow>(select_sql(&format!(
        "{cond} order by m.id limit {limit} offset {off}"
    )));
    for a in &args {
        count = count.bind(a.clone());
        items = items.bind(a.clone());
    }
    if let Some(c) = center_id {
        count = count.bind(c);
        items = items.bind(c);
    }
    let total = count.fetch_one(db.pool()).await?;
    let rows = if total > offset {
        items
            .bind(PER_PAGE)
            .bind(offset)
            .fetch_all(db.pool())
            .await?
    } else {
        Vec::new()
    };
    Ok(Found {
        items: rows.iter().map(MatterRow::summary).collect(),
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_include_two_character_words_inside_longer_ones() {
        assert!(words("居民户口簿补领").contains(&"户口".to_owned()));
        assert!(words("首次申领居民身份证").contains(&"身份证".to_owned()));
    }

    #[test]
    fn initials_spell_the_name() {
        assert_eq!(initials("不动产登记（宅基地建房）"), "bdcdjzjdjf");
        assert_eq!(full_pinyin("户口"), "hukou");
    }

    #[test]
    fn tokens_carry_pinyin_of_each_word_and_the_path() {
        let t = tokens(&["公安".into(), "首次申领居民身份证".into()], "公安局", 7);
        for w in [
            "身份证",
            "sfz",
            "shenfenzheng",
            "scsljmsfz",
            "公安",
            "ζ7",
            "证",
        ] {
            assert!(t.split(' ').any(|x| x == w), "{w} missing from {t}");
        }
    }
}

//! PostgreSQL's search answered in memory: each server keeps the search table of one
//! `catalog_version` (`matter_search`, migration 0021) as posting lists, and answers a query
//! there exactly as the GIN index and the ranking would (`ranked_pg`): the same prefix
//! document, the same center token, the same four ranks, catalogue order within each, an exact
//! count. An uncached search then reads nothing from the database; on PostgreSQL it visited
//! every match's heap row, about 3 ms of the engine's CPU for a common word.
//!
//! The lexemes are PostgreSQL's own (`to_tsvector('simple', tokens)` read with the rows), so a
//! document holds here what its GIN entry holds. A query word is looked up as it is only when
//! it is plain (ASCII letters and digits, CJK ideographs): the text-search parser leaves such a
//! word whole, so it is the lexeme `to_tsquery` would make. A query with any other word is
//! answered by the database, as is every search while the index is built or is older than
//! the catalogue.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use super::{Found, PER_PAGE, Query, is_cjk};
use crate::{
    catalog::{MatterSummary, queries::path_of},
    db::Db,
    error::{AppError, AppResult},
};

/// One searched matter.
#[derive(Debug)]
struct Doc {
    /// `matters.name`, for the fallback's substring test.
    name: Box<str>,
    /// `matter_search.name_lower`, for the ranking.
    name_lower: Box<str>,
    /// The center tokens among its lexemes (`ζ<id>`), matched whole.
    centers: Box<[Box<str>]>,
    summary: MatterSummary,
}

/// The search table of one catalogue version. Documents are in id order, so a posting list
/// (indices into `docs`, ascending) is in catalogue order too.
#[derive(Debug)]
pub struct Index {
    pub version: i64,
    docs: Vec<Doc>,
    /// Every prefix of every lexeme, as in `matter_search_document`.
    prefixes: HashMap<Box<str>, Vec<u32>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    name_lower: String,
    lexemes: String,
    code: String,
    name: String,
    department: String,
    type_name: Option<String>,
    kind: String,
    path_json: String,
}

impl Index {
    /// Reads the search table and the summaries in one snapshot with the version they belong
    /// to, and builds the index off the async workers.
    pub async fn load(db: &Db) -> AppResult<Index> {
        let started = Instant::now();
        let conn = db.pool().acquire().await?;
        let mut tx = sqlx::Transaction::begin(
            conn,
            Some(sqlx::SqlSafeStr::into_sql_str(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            )),
        )
        .await?;
        let version: i64 = sqlx::query_scalar("select version from catalog_version where id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<Row> = sqlx::query_as(
            "select s.name_lower, \
         array_to_string(tsvector_to_array(to_tsvector('simple', s.tokens)), ' ') as lexemes, \
         m.code, m.name, m.department, t.name as type_name, m.kind, m.path_json \
         from matter_search s join matters m on m.id = s.id \
         left join matter_types t on t.code = m.type_code order by s.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.rollback().await?;
        let index = tokio::task::spawn_blocking(move || Index::build(version, rows))
            .await
            .map_err(|e| AppError::internal(format!("building the search index: {e}")))?;
        // Seen in /metrics: a bench waits for the index before it measures.
        crate::metrics::install();
        metrics::gauge!("search_index_build_seconds").set(started.elapsed().as_secs_f64());
        metrics::gauge!("search_index_matters").set(index.docs.len() as f64);
        metrics::gauge!("search_index_version").set(index.version as f64);
        Ok(index)
    }

    fn build(version: i64, rows: Vec<Row>) -> Index {
        let mut prefixes: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        let mut docs = Vec::with_capacity(rows.len());
        let mut own: Vec<&str> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            own.clear();
            let mut centers = Vec::new();
            for l in r.lexemes.split(' ').filter(|l| !l.is_empty()) {
                if l.starts_with('ζ') {
                    centers.push(Box::from(l));
                }
                own.extend(l.char_indices().skip(1).map(|(end, _)| &l[..end]));
                own.push(l);
            }
            own.sort_unstable();
            own.dedup();
            for p in &own {
                match prefixes.get_mut(*p) {
                    Some(list) => list.push(i as u32),
                    None => {
                        prefixes.insert(Box::from(*p), vec![i as u32]);
                    }
                }
            }
            docs.push(Doc {
                name: Box::from(r.name.as_str()),
                name_lower: Box::from(r.name_lower.as_str()),
                centers: centers.into_boxed_slice(),
                summary: MatterSummary {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    department: r.department.clone(),
                    type_name: r.type_name.clone().unwrap_or_default(),
                    kind: r.kind.clone(),
                    path: path_of(&r.path_json),
                },
            });
        }
        for list in prefixes.values_mut() {
            list.shrink_to_fit();
        }
        Index {
            version,
            docs,
            prefixes,
        }
    }

    /// How many matters it holds.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The answer [`super::search`] gives on PostgreSQL for a query with words, from `offset`:
    /// `None` when a word is not plain (the database answers it). `q` is the trimmed query,
    /// for the substring fallback when no matter holds the words.
    pub fn search(
        &self,
        query: &Query,
        q: &str,
        center: Option<&str>,
        offset: i64,
    ) -> Option<Found> {
        let mut hits = self.matching(query.groups(), center)?;
        if hits.is_empty() {
            // As the database does: every CJK character of the query as a word, and the
            // name holding the query as typed.
            let chars: BTreeSet<char> = q.chars().filter(|c| is_cjk(*c)).collect();
            if chars.is_empty() {
                return Some(self.page(query, hits, offset));
            }
            let groups: Vec<Vec<Vec<String>>> =
                chars.iter().map(|c| vec![vec![c.to_string()]]).collect();
            hits = self.matching(&groups, center)?;
            hits.retain(|&i| self.docs[i as usize].name.contains(q));
        }
        Some(self.page(query, hits, offset))
    }

    /// The documents matching every group (an OR of alternatives, each an AND of words as
    /// prefixes) and the center's token.
    fn matching(&self, groups: &[Vec<Vec<String>>], center: Option<&str>) -> Option<Vec<u32>> {
        let mut sets: Vec<Vec<u32>> = Vec::with_capacity(groups.len());
        for alternatives in groups {
            let mut union: Vec<u32> = Vec::new();
            for words in alternatives {
                let mut lists: Vec<&[u32]> = Vec::with_capacity(words.len());
                for w in words {
                    if !plain(w) {
                        return None;
                    }
                    lists.push(self.prefixes.get(w.as_str()).map_or(&[], Vec::as_slice));
                }
                lists.sort_by_key(|l| l.len());
                let mut all = lists.first().map(|l| l.to_vec()).unwrap_or_default();
                for l in &lists[1.min(lists.len())..] {
                    all = intersect(&all, l);
                }
                union = merge(&union, &all);
            }
            sets.push(union);
        }
        sets.sort_by_key(Vec::len);
        let mut sets = sets.into_iter();
        let mut hits = sets.next().unwrap_or_default();
        for s in sets {
            hits = intersect(&hits, &s);
        }
        if let Some(c) = center {
            hits.retain(|&i| self.docs[i as usize].centers.iter().any(|x| **x == *c));
        }
        Some(hits)
    }

    /// The page from `offset` of `hits` ranked as [`Query::rank`] orders them, and their count.
    fn page(&self, query: &Query, hits: Vec<u32>, offset: i64) -> Found {
        let total = hits.len() as i64;
        let mut ranks: [Vec<u32>; 4] = Default::default();
        for i in hits {
            ranks[rank(query, &self.docs[i as usize].name_lower)].push(i);
        }
        let items = ranks
            .iter()
            .flatten()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(PER_PAGE as usize)
            .map(|&i| self.docs[i as usize].summary.clone())
            .collect();
        Found { items, total }
    }
}

/// [`Query::rank`] of a lower-cased name: 0 it starts with a way of saying the query, 1 it
/// holds one, 2 it holds every word (of one alternative of each group), 3 otherwise.
fn rank(query: &Query, name: &str) -> usize {
    let phrases = query.phrases();
    if phrases.iter().any(|p| name.starts_with(p.as_str())) {
        0
    } else if phrases.iter().any(|p| name.contains(p.as_str())) {
        1
    } else if query.groups().iter().all(|alts| {
        alts.iter()
            .any(|a| a.iter().all(|w| name.contains(w.as_str())))
    }) {
        2
    } else {
        3
    }
}

/// A word the text-search parser leaves whole and the `simple` dictionary leaves as it is:
/// lower-case ASCII letters and digits and CJK ideographs.
fn plain(word: &str) -> bool {
    !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || ('\u{4e00}'..='\u{9fff}').contains(&c)
                || ('\u{3400}'..='\u{4dbf}').contains(&c)
        })
}

/// The elements of both ascending lists.
fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    let mut rest = large;
    for &x in small {
        // Galloping: a short list against a long one costs its length times a log.
        let mut step = 1;
        while step < rest.len() && rest[step] < x {
            step *= 2;
        }
        let end = (step + 1).min(rest.len());
        let at = rest[..end].partition_point(|&y| y < x);
        rest = &rest[at..];
        if rest.first() == Some(&x) {
            out.push(x);
            rest = &rest[1..];
        }
        if rest.is_empty() {
            break;
        }
    }
    out
}

/// The elements of either ascending list, ascending, each once.
fn merge(a: &[u32], b: &[u32]) -> Vec<u32> {
    if a.is_empty() {
        return b.to_vec();
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_intersect_and_merge_in_order() {
        let a = [1, 3, 5, 7, 9, 200, 300];
        let b: Vec<u32> = (0..250).collect();
        assert_eq!(intersect(&a, &b), [1, 3, 5, 7, 9, 200]);
        assert_eq!(intersect(&b, &a), [1, 3, 5, 7, 9, 200]);
        assert_eq!(intersect(&a, &[]), Vec::<u32>::new());
        assert_eq!(merge(&[1, 4, 6], &[2, 4, 9]), [1, 2, 4, 6, 9]);
        assert_eq!(merge(&[], &[2]), [2]);
    }

    #[test]
    fn only_words_the_parser_leaves_whole_are_plain() {
        assert!(plain("户口") && plain("bdcdj") && plain("2号"));
        assert!(!plain("①号") && !plain("ⅱ类") && !plain("ζ7") && !plain(""));
    }

    fn row(name: &str, lexemes: &str) -> Row {
        Row {
            name_lower: name.to_lowercase(),
            lexemes: lexemes.to_owned(),
            code: name.to_owned(),
            name: name.to_owned(),
            department: String::new(),
            type_name: None,
            kind: "immediate".to_owned(),
            path_json: "[]".to_owned(),
        }
    }

    #[test]
    fn words_match_as_prefixes_within_a_center_and_rank_names_first() {
        let index = Index::build(
            1,
            vec![
                row("户籍证明", "户籍 证明 ζ1"),
                row("居民户口簿补领", "居民 户口 户口簿 补领 ζ1"),
                row("户口迁移", "户口 迁移 ζ12"),
                row("户口登记", "户口 登记 ζ1"),
            ],
        );
        let q = Query::new("户口", &Default::default());
        let found = index.search(&q, "户口", Some("ζ1"), 0).unwrap();
        let codes: Vec<&str> = found.items.iter().map(|m| m.code.as_str()).collect();
        assert_eq!(found.total, 2);
        assert_eq!(codes, ["户口登记", "居民户口簿补领"]);
        assert_eq!(index.search(&q, "户口", None, 0).unwrap().total, 3);
        // 户 is a prefix of 户籍 and 户口: four matters.
        let q = Query::new("户", &Default::default());
        assert_eq!(index.search(&q, "户", None, 0).unwrap().total, 4);
    }
}

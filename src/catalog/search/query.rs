//! A query as search runs it. The words people type are cut by jieba; a word the managers
//! listed as a synonym (社保卡) stands for itself or any of its alternatives (社会保障卡), and
//! an alternative of several words (身份证 补领) needs all of them. The result is an AND of
//! groups, each an OR of alternatives, each an AND of words matched as prefixes — written as
//! an FTS5 expression or a tsquery — and the order of the answers: names that start with the
//! query (or a way of saying it), then names that hold it, then names that hold its words,
//! then matters found only by their category, department or pinyin.

use super::words;
use crate::catalog::synonyms::Synonyms;

/// Ways of saying the whole query kept for the ranking at most (each synonym multiplies them).
const MAX_PHRASES: usize = 8;

/// The name as the ranking compares it.
const NAME: &str = "lower(m.name)";

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    /// Text no synonym covers.
    Text(String),
    /// A listed term: itself, then its alternatives.
    Term(Vec<String>),
}

/// A parsed query.
#[derive(Debug)]
pub struct Query {
    /// Every group must match; a group matches when one of its alternatives does; an
    /// alternative when all of its words do.
    groups: Vec<Vec<Vec<String>>>,
    /// The whole query and each way of saying it with the synonyms, lower-cased, no spaces.
    phrases: Vec<String>,
}

/// Cuts `q` into text and listed terms, longest term first, left to right.
fn segments(q: &str, synonyms: &Synonyms) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = q;
    while let Some(c) = rest.chars().next() {
        match synonyms.at_start(rest) {
            Some(s) => {
                if !text.is_empty() {
                    out.push(Segment::Text(std::mem::take(&mut text)));
                }
                let mut said = vec![s.term.clone()];
                said.extend(s.alternatives.iter().cloned());
                out.push(Segment::Term(said));
                rest = &rest[s.term.len()..];
            }
            None => {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !text.is_empty() {
        out.push(Segment::Text(text));
    }
    out
}

impl Query {
    pub fn new(q: &str, synonyms: &Synonyms) -> Query {
        let q = q.trim().to_lowercase();
        let segments = segments(&q, synonyms);
        let mut groups: Vec<Vec<Vec<String>>> = Vec::new();
        let mut phrases = vec![String::new()];
        for seg in &segments {
            let options: Vec<String> = match seg {
                Segment::Text(t) => {
                    for w in words(t) {
                        groups.push(vec![vec![w]]);
                    }
                    vec![t.split_whitespace().collect()]
                }
                Segment::Term(said) => {
                    let mut alternatives: Vec<Vec<String>> = Vec::new();
                    for s in said {
                        let w = words(s);
                        if !w.is_empty() && !alternatives.contains(&w) {
                            alternatives.push(w);
                        }
                    }
                    if !alternatives.is_empty() {
                        groups.push(alternatives);
                    }
                    // An alternative of several words is no phrase of a name.
                    said.iter().filter(|s| !s.contains(' ')).cloned().collect()
                }
            };
            let mut next = Vec::new();
            'outer: for p in &phrases {
                for o in &options {
                    if next.len() >= MAX_PHRASES {
                        break 'outer;
                    }
                    next.push(format!("{p}{o}"));
                }
            }
            phrases = next;
        }
        phrases.retain(|p| !p.is_empty());
        phrases.dedup();
        Query { groups, phrases }
    }

    /// The groups: every one must match; one matches when an alternative does, an
    /// alternative when all of its words do (as prefixes).
    pub(super) fn groups(&self) -> &[Vec<Vec<String>>] {
        &self.groups
    }

    /// The whole query and each way of saying it with the synonyms, lower-cased.
    pub(super) fn phrases(&self) -> &[String] {
        &self.phrases
    }

    /// No word to look for: every matter is an answer.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    fn expression(&self, word: &dyn Fn(&str) -> String, and: &str, or: &str) -> Vec<String> {
        self.groups
            .iter()
            .map(|alternatives| {
                let alts: Vec<String> = alternatives
                    .iter()
                    .map(|a| a.iter().map(|w| word(w)).collect::<Vec<_>>().join(and))
                    .collect();
                if alts.len() == 1 {
                    alts.into_iter().next().unwrap_or_default()
                } else {
                    format!(
                        "({})",
                        alts.iter()
                            .map(|a| format!("({a})"))
                            .collect::<Vec<_>>()
                            .join(or)
                    )
                }
            })
            .collect()
    }

    /// The FTS5 expression, limited to a center by its token. Words hold letters and digits
    /// only ([`words`]), so they need no escaping inside the quotes.
    pub fn fts5(&self, center: Option<&str>) -> String {
        let mut terms = self.expression(&|w| format!("\"{w}\"*"), " AND ", " OR ");
        terms.extend(center.map(|c| format!("\"{c}\"")));
        terms.join(" AND ")
    }

    /// The tsquery (`simple` configuration), limited to a center by its token.
    pub fn tsquery(&self, center: Option<&str>) -> String {
        let mut terms = self.expression(&|w| format!("'{w}':*"), " & ", " | ");
        terms.extend(center.map(|c| format!("'{c}'")));
        terms.join(" & ")
    }

    /// The words as a tsquery (`simple` configuration) of exact lexemes, for PostgreSQL's
    /// search document, which holds every prefix of every lexeme: a word there matches what
    /// `word:*` matches in the lexemes themselves. The center is matched apart
    /// ([`center_lexeme`]).
    pub fn tsquery_prefixes(&self) -> String {
        self.expression(&|w| format!("'{w}'"), " & ", " | ")
            .join(" & ")
    }

    /// The `order by` key of an answer (0 first) and its arguments, numbered from
    /// `$first`: 0 the name starts with the query or a way of saying it, 1 the name holds
    /// it, 2 the name holds every word (of one alternative of each group), 3 found by its
    /// category, department or pinyin only.
    pub fn rank(&self, first: usize) -> (String, Vec<String>) {
        self.rank_of(NAME, first)
    }

    /// [`Query::rank`] over `name`, an expression that is the lower-cased name already
    /// (PostgreSQL's search table keeps it so, and lower-cases no row at search time).
    pub fn rank_of(&self, name: &str, first: usize) -> (String, Vec<String>) {
        let mut args: Vec<String> = Vec::new();
        let mut like = |pattern: String| {
            args.push(pattern);
            format!("{name} like ${} escape '\\'", first + args.len() - 1)
        };
        let any = |conds: Vec<String>| {
            if conds.is_empty() {
                "1 = 0".to_owned()
            } else {
                conds.join(" or ")
            }
        };
        let starts = any(self
            .phrases
            .iter()
            .map(|p| like(format!("{}%", escape_like(p))))
            .collect());
        let holds = any(self
            .phrases
            .iter()
            .map(|p| like(format!("%{}%", escape_like(p))))
            .collect());
        let mut every = Vec::new();
        for alternatives in &self.groups {
            let alts: Vec<String> = alternatives
                .iter()
                .map(|a| {
                    let conds: Vec<String> = a
                        .iter()
                        .map(|w| like(format!("%{}%", escape_like(w))))
                        .collect();
                    format!("({})", conds.join(" and "))
                })
                .collect();
            every.push(format!("({})", alts.join(" or ")));
        }
        let every = if every.is_empty() {
            "1 = 0".to_owned()
        } else {
            every.join(" and ")
        };
        (
            format!("case when {starts} then 0 when {holds} then 1 when {every} then 2 else 3 end"),
            args,
        )
    }
}

/// The lexeme of PostgreSQL's search document that marks a center's token as a whole
/// lexeme (its prefixes are there too, and `ζ1` is one of `ζ12`), as a tsquery literal.
pub fn center_lexeme(center_token: &str) -> String {
    format!("'{center_token}#'")
}

/// `text` as a literal inside a `like … escape '\'` pattern.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::synonyms::parse_text;

    fn synonyms() -> Synonyms {
        Synonyms::new(
            &parse_text(
                "社保卡 = 社会保障卡\n补办 = 补领，换领\n补办身份证 = 身份证 补领，身份证 换领",
            )
            .unwrap(),
        )
    }

    #[test]
    fn a_query_without_synonyms_is_the_and_of_its_words() {
        let q = Query::new("户口", &Synonyms::default());
        assert_eq!(q.fts5(Some("ζ2")), "\"户口\"* AND \"ζ2\"");
        assert_eq!(q.tsquery(None), "'户口':*");
        assert_eq!(q.phrases, ["户口"]);
    }

    #[test]
    fn a_term_stands_for_itself_or_its_alternatives() {
        let q = Query::new("社保卡补办", &synonyms());
        let fts = q.fts5(None);
        assert!(fts.contains(" OR "), "{fts}");
        assert!(fts.contains("\"补领\"*"), "{fts}");
        assert!(
            q.phrases.contains(&"社会保障卡补领".to_owned()),
            "{:?}",
            q.phrases
        );
        let ts = q.tsquery(None);
        assert!(ts.contains(" | ") && ts.contains("'换领':*"), "{ts}");
    }

    #[test]
    fn an_alternative_of_several_words_needs_them_all() {
        let q = Query::new("补办身份证", &synonyms());
        // The whole term is one group; 身份证 补领 is an AND inside it.
        assert_eq!(q.groups.len(), 1);
        assert!(
            q.groups[0]
                .iter()
                .any(|a| a.contains(&"身份证".to_owned()) && a.contains(&"补领".to_owned()))
        );
        assert_eq!(q.phrases, ["补办身份证"]);
    }

    #[test]
    fn the_rank_numbers_its_arguments_after_the_filters() {
        let q = Query::new("身份证", &Synonyms::default());
        let (sql, args) = q.rank(2);
        assert!(sql.starts_with("case when lower(m.name) like $2"), "{sql}");
        assert_eq!(args[0], "身份证%");
        assert_eq!(args[1], "%身份证%");
        assert_eq!(sql.matches('$').count(), args.len());
        assert_eq!(escape_like("50%_a\\"), "50\\%\\_a\\\\");
    }
}

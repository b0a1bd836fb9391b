//! The SQL that differs between SQLite and PostgreSQL, in one place. Everything else is written
//! once in the portable subset; a statement that needs one of these pieces asks for it by name
//! (`dialect::id_set(backend, 2)`) instead of matching on the engine itself.
//!
//! Search (FTS5 against tsvector) differs in whole statements and stays in `catalog::search`.

use super::Backend;

/// The statement that starts a write transaction. SQLite takes the write lock at once
/// (`begin immediate`): a deferred transaction that later upgrades fails with SQLITE_BUSY.
pub fn begin_write(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "begin immediate",
        Backend::Postgres => "begin",
    }
}

/// Appended to a `select` whose rows the transaction will change, so writers on several servers
/// take different rows: ` for update skip locked` on PostgreSQL; nothing on SQLite, where the one
/// writer serialises them.
pub fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " for update skip locked",
    }
}

/// Names the index SQLite should use (` indexed by name`); SQLite keeps no statistics and may
/// otherwise walk a whole partial index the wrong way. PostgreSQL plans by itself: nothing.
pub fn indexed_by(backend: Backend, index: &str) -> String {
    match backend {
        Backend::Sqlite => format!(" indexed by {index}"),
        Backend::Postgres => String::new(),
    }
}

/// An aggregate joining the text `expr` of every row with `sep`, for reads of many small rows
/// that are cheaper as one value (each row otherwise crosses from the driver's thread on its
/// own): `group_concat` on SQLite, `string_agg` on PostgreSQL; null when there are no rows.
pub fn text_agg(backend: Backend, expr: &str, sep: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expr}, '{sep}')"),
        Backend::Postgres => format!("string_agg({expr}, '{sep}')"),
    }
}

/// A subquery yielding the integers of a JSON array bound at `$param` (`[3,5,8]`), for
/// `id in (…)` with any number of ids and one bound value.
pub fn id_set(backend: Backend, param: usize) -> String {
    match backend {
        Backend::Sqlite => format!("(select value from json_each(${param}))"),
        Backend::Postgres => format!(
            "(select cast(value as bigint) from json_array_elements_text(cast(${param} as json)))"
        ),
    }
}

/// A subquery yielding the texts of a JSON array bound at `$param` (`["a","b"]`).
pub fn text_set(backend: Backend, param: usize) -> String {
    match backend {
        Backend::Sqlite => format!("(select value from json_each(${param}))"),
        Backend::Postgres => {
            format!("(select value from json_array_elements_text(cast(${param} as json)))")
        }
    }
}

/// A derived table of integer tuples from a JSON array of arrays bound at `$param`
/// (`[[1,2,3],[4,5,6]]`), its columns named by `columns`: `(select … as t, … as w from …)`.
pub fn int_rows(backend: Backend, param: usize, columns: &[&str]) -> String {
    let cols = |f: &dyn Fn(usize) -> String| {
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} as {c}", f(i)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match backend {
        Backend::Sqlite => format!(
            "(select {} from json_each(${param}))",
            cols(&|i| format!("json_extract(value, '$[{i}]')"))
        ),
        Backend::Postgres => format!(
            "(select {} from json_array_elements(cast(${param} as json)) e)",
            cols(&|i| format!("cast(e->>{i} as bigint)"))
        ),
    }
}

/// PostgreSQL's rows of a JSON array of objects bound at `$param`, typed by `columns`
/// (`"c bigint, d text"`), as a `from` item named `r`: one statement text whatever the number
/// of rows, so the statement cache keeps one plan where a multi-row `values` list of N rows
/// was a statement to parse and plan again for each N.
pub fn pg_records(param: usize, columns: &str) -> String {
    format!("json_to_recordset(cast(${param} as json)) as r({columns})")
}

/// `n` comma-separated placeholders numbered from `start`, for multi-row statements. SQLite
/// gets anonymous `?`: sqlx resolves each named `$N` by scanning the statement's parameter
/// names, which profiles showed costing a tenth of a writer's time on a 4,096-parameter insert.
pub fn placeholders(backend: Backend, start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| match backend {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${i}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_read_as_each_engine_wants() {
        assert_eq!(skip_locked(Backend::Postgres), " for update skip locked");
        assert_eq!(indexed_by(Backend::Sqlite, "ix"), " indexed by ix");
        assert_eq!(indexed_by(Backend::Postgres, "ix"), "");
        assert_eq!(placeholders(Backend::Postgres, 3, 2), "$3, $4");
        assert_eq!(placeholders(Backend::Sqlite, 3, 2), "?, ?");
        assert_eq!(
            int_rows(Backend::Postgres, 2, &["t", "w"]),
            "(select cast(e->>0 as bigint) as t, cast(e->>1 as bigint) as w \
             from json_array_elements(cast($2 as json)) e)"
        );
        assert_eq!(
            int_rows(Backend::Sqlite, 2, &["t"]),
            "(select json_extract(value, '$[0]') as t from json_each($2))"
        );
    }
}

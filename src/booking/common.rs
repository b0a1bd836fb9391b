//! Pieces the booking area's files share: the rows read by one key.

use crate::db::Conn;
use crate::error::AppResult;

/// The one row of `select {columns} from {from} where {key} = $1`, if any.
pub(crate) async fn row_by<'q, T, K>(
    conn: &mut Conn,
    columns: &str,
    from: &str,
    key: &str,
    value: K,
) -> AppResult<Option<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    K: 'q + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
{
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {columns} from {from} where {key} = $1"
    )))
    .bind(value)
    .fetch_optional(&mut *conn)
    .await?)
}

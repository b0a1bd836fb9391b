//! `yichuang bench search`: catalogue search over HTTP against a running server, through the
//! shared load generator. Queries rotate over words, pinyin initials and a miss; an answer
//! counts only when it is a 200 with a `total`.

use crate::bench::{BenchArgs, BenchError, Output, load, load_config, load_output};

/// Queries in rotation: words, a two-character word, pinyin initials, a phrase, a miss.
pub const QUERIES: &[&str] = &[
    "户口",
    "身份证",
    "bdcdj",
    "社会保障卡补领",
    "营业执照",
    "ylbx",
    "不动产登记",
    "婚姻",
    "驾驶证换领",
    "低保",
    "zzz不存在",
];

/// The path and query of request `i`.
pub fn path(i: usize, center: &str) -> String {
    let q: String =
        url::form_urlencoded::byte_serialize(QUERIES[i % QUERIES.len()].as_bytes()).collect();
    format!("/api/v1/matters?q={q}&center={center}")
}

/// Runs the search scenario against `args.url` for `args.center`.
pub async fn run(args: &BenchArgs) -> Result<Output, BenchError> {
    let center = args.center.clone();
    let r = load::run(
        load_config(args),
        move |_, i| load::get(&path(i, &center)),
        |_, status, body| status.is_success() && body.windows(7).any(|w| w == b"\"total\""),
    )
    .await?;
    Ok(load_output(
        "search",
        &r,
        serde_json::json!({"center": args.center, "queries": QUERIES.len()}),
    ))
}

//! `yichuang bench search`: catalogue search over HTTP against a running server, through the
//! shared load generator, on the synthetic catalogue (`yichuang catalog generate`). The
//! queries are the words people type: the common ones of any hall (户口, 身份证, bdcdj …), then
//! the synthetic catalogue's subjects, pairs of words and their pinyin initials, actions,
//! whole names, and misses — about 4,300 in all, most asked first. `--queries zipf` draws them
//! as people ask, a few very often and the tail rarely (rank r with weight 1/r), so most
//! answers come from the server's cache after the first minute of a day; `--queries cold`
//! asks every (query, page) once, so every answer is searched. An answer counts only when it
//! is a 200 with a `total`.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use super::{
    generate::{ACTIONS, QUALIFIERS, SUBJECTS},
    search::initials,
};
use crate::bench::{BenchArgs, BenchError, Output, load, load_config, load_output};

/// The common words of any hall, asked most.
const COMMON: &[&str] = &[
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

/// Every query of the mix, most asked first.
pub fn queries() -> Vec<String> {
    let mut q: Vec<String> = COMMON.iter().map(|s| (*s).to_owned()).collect();
    q.extend(SUBJECTS.iter().map(|s| (*s).to_owned()));
    for s in SUBJECTS {
        for a in ACTIONS {
            let pair = format!("{s}{a}");
            q.push(initials(&pair));
            q.push(pair);
        }
    }
    q.extend(ACTIONS.iter().map(|a| (*a).to_owned()));
    for qualifier in QUALIFIERS.iter().filter(|x| !x.is_empty()) {
        for s in SUBJECTS {
            for a in ACTIONS {
                q.push(format!("{s}{a}{qualifier}"));
            }
        }
    }
    q.extend((1..=40).map(|i| format!("查无此事{i}")));
    let mut seen = HashSet::new();
    q.retain(|x| seen.insert(x.clone()));
    q
}

/// SplitMix64: a fixed sequence of well-mixed numbers, so every run asks the same.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The query (index) and page of request `n` in the mix.
pub struct Mix {
    queries: Vec<String>,
    /// Cumulative Zipf weights.
    cdf: Vec<f64>,
    cold: bool,
}

impl Mix {
    pub fn new(cold: bool) -> Self {
        let queries = queries();
        let mut total = 0.0;
        let cdf = (1..=queries.len())
            .map(|r| {
                total += 1.0 / r as f64;
                total
            })
            .collect();
        Self { queries, cdf, cold }
    }

    /// The path of request `n` (distinct for every `n` when cold).
    pub fn path(&self, n: u64, center: &str) -> (usize, i64, String) {
        let (i, page) = if self.cold {
            let len = self.queries.len() as u64;
            ((n % len) as usize, (n / len + 1) as i64)
        } else {
            let total = self.cdf.last().copied().unwrap_or(1.0);
            let u = (mix(n) >> 11) as f64 / (1u64 << 53) as f64 * total;
            (
                self.cdf
                    .partition_point(|c| *c < u)
                    .min(self.queries.len() - 1),
                1,
            )
        };
        let q: String = url::form_urlencoded::byte_serialize(self.queries[i].as_bytes()).collect();
        let page_param = if page > 1 {
            format!("&page={page}")
        } else {
            String::new()
        };
        (
            i,
            page,
            format!("/api/v1/matters?q={q}&center={center}{page_param}"),
        )
    }
}

/// Runs the search scenario against `args.url` for `args.center`.
pub async fn run(args: &BenchArgs) -> Result<Output, BenchError> {
    let cold = match args.queries.as_str() {
        "zipf" => false,
        "cold" => true,
        other => return Err(format!("--queries 须为 zipf 或 cold，收到“{other}”").into()),
    };
    let mix = Arc::new(Mix::new(cold));
    let asked = Arc::new(Mutex::new(HashSet::<(usize, i64)>::new()));
    let center = args.center.clone();
    let workers = args.concurrency.max(1) as u64;
    let (m, a) = (mix.clone(), asked.clone());
    let r = load::run(
        load_config(args),
        move |w, own| {
            let n = own as u64 * workers + w as u64;
            let (i, page, path) = m.path(n, &center);
            a.lock().expect("asked").insert((i, page));
            load::get(&path)
        },
        |_, status, body| status.is_success() && body.windows(7).any(|w| w == b"\"total\""),
    )
    .await?;
    let distinct = asked.lock().expect("asked").len();
    let mut out = load_output(
        "search",
        &r,
        serde_json::json!({"center": args.center, "queries": args.queries,
            "query_set": mix.queries.len(), "distinct_asked": distinct}),
    );
    out.table.push_str(&format!(
        "\n{} queries ({}): {distinct} distinct (query, page) asked — on a freshly started server, at most that many answers were searched, the rest came from its cache",
        mix.queries.len(),
        args.queries
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_asks_the_common_words_most_and_cold_never_twice() {
        let m = Mix::new(false);
        let mut first = 0;
        for n in 0..10_000 {
            if m.path(n, "GX").0 < COMMON.len() {
                first += 1;
            }
        }
        // Weights 1/r: the 11 common words take about a third of the traffic.
        assert!((2_500..4_500).contains(&first), "{first}");
        let cold = Mix::new(true);
        let paths: HashSet<String> = (0..20_000).map(|n| cold.path(n, "GX").2).collect();
        assert_eq!(paths.len(), 20_000);
        assert!(queries().len() > 4_000);
    }
}

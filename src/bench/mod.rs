//! `yichuang bench SCENARIO`: the project's own measurements, loopback only and bounded.
//! Scenarios: `startup` (time to a 200 on /healthz, idle memory). Later areas add theirs.

mod startup;

use serde::Serialize;

pub use startup::{StartupReport, startup};

/// One figure of a report, for the table.
#[derive(Debug, Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
}

/// Renders figures as an aligned table.
pub fn table(figures: &[Figure]) -> String {
    let width = figures.iter().map(|f| f.name.len()).max().unwrap_or(0);
    figures
        .iter()
        .map(|f| format!("{:<width$}  {:>10.1} {}", f.name, f.value, f.unit))
        .collect::<Vec<_>>()
        .join("\n")
}

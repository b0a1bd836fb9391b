//! `yichuang catalog …`: import and export spreadsheets, generate a synthetic catalogue.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use clap::Subcommand;

use super::{queries, service, xlsx};
use crate::{audit::Actor, clock::Clock, config::Config, db::Db};

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Import an .xlsx workbook (all rows or none); prints the time it took.
    Import { file: String },
    /// Export the catalogue (of one center, or all) to an .xlsx workbook.
    Export {
        file: String,
        #[arg(long)]
        center: Option<String>,
    },
    /// Add a synthetic catalogue of N 办事情形 for benchmarks (codes SYN-…).
    Generate {
        #[arg(long, default_value_t = 100_000)]
        situations: usize,
        /// Center code (default: the demo county center GX, which `bench search` loads by default).
        #[arg(long, default_value = "GX")]
        center: String,
    },
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub async fn run(config: &Config, command: CatalogCommand) -> CliResult {
    let db = Db::connect(&config.database_url, 2).await?;
    db.migrate().await?;
    let now = Clock::system().now_micros();
    match command {
        CatalogCommand::Import { file } => {
            let bytes = std::fs::read(&file)?;
            let started = Instant::now();
            let ok = |_: i64| Ok(());
            match service::import_workbook(&db, &Actor::cli(), &bytes, now, &ok).await {
                Ok(r) => {
                    println!(
                        "已导入：新增 {}，更新 {}，未变 {}；用时 {:.2} 秒",
                        r.created,
                        r.updated,
                        r.unchanged,
                        started.elapsed().as_secs_f64()
                    );
                    Ok(())
                }
                Err(xlsx::ImportError::Rows(rows)) => {
                    for r in &rows {
                        eprintln!("{r}");
                    }
                    Err(format!("表格有 {} 处错误，未导入任何内容", rows.len()).into())
                }
                Err(xlsx::ImportError::App(e)) => Err(e.public_message().into()),
            }
        }
        CatalogCommand::Export { file, center } => {
            let mut conn = db.pool().acquire().await?;
            let matters = queries::export(&mut conn, center.as_deref()).await?;
            let types = queries::types(db.pool()).await?;
            let bytes = xlsx::write(&matters, &types)?;
            std::fs::write(&file, bytes)?;
            println!("已导出 {} 项到 {file}", matters.len());
            Ok(())
        }
        CatalogCommand::Generate { situations, center } => {
            let started = Instant::now();
            let mut tx = db.begin().await?;
            let n = super::generate::generate(&mut tx, &center, situations, now).await?;
            tx.commit().await?;
            println!(
                "已生成 {n} 个办事情形；用时 {:.1} 秒",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

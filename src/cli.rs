//! The command line: `yichuang serve | migrate | demo | user | token | backup`.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{
    app::Server,
    audit::Actor,
    auth::{Role, password, tokens},
    clock::Clock,
    config::Config,
    db::{Backend, Db},
    demo,
    hall::staff::{self, StaffInput},
};

#[derive(Parser)]
#[command(
    name = "yichuang",
    version,
    about = "一窗 — 政务服务大厅平台 (government service hall platform)"
)]
struct Cli {
    /// TOML settings file (default: ./yichuang.toml if present).
    #[arg(long, global = true)]
    config: Option<String>,
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "YICHUANG_DATABASE_URL")]
    database_url: Option<String>,
    /// `serve`'s address when no command is given (`cargo run --release -- --listen 0.0.0.0:8080`).
    #[arg(long)]
    listen: Option<String>,
    /// `serve --no-demo` when no command is given.
    #[arg(long)]
    no_demo: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default command).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Do not load the demo hall into an empty database.
        #[arg(long)]
        no_demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo hall into an empty database and print its accounts.
    Demo,
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens for devices and integrations.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write an online, consistent copy of an SQLite database to PATH.
    Backup { path: String },
    /// The service calendar: a day's hours, or a working-day deadline.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The matter catalogue: import/export .xlsx, generate a synthetic catalogue.
    Catalog {
        #[command(subcommand)]
        command: crate::catalog::cli::CatalogCommand,
    },
    /// Measure: startup, healthz, calendar, and the areas' load scenarios.
    Bench(crate::bench::BenchArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints the generated password.
    Add {
        login: String,
        /// Display name (姓名).
        #[arg(long)]
        name: String,
        /// Role: system_admin, hall_manager, window_clerk, approver, chief_representative, leader.
        #[arg(long, default_value = "window_clerk")]
        role: Vec<String>,
        /// Center code the user belongs to (repeatable).
        #[arg(long)]
        center: Vec<String>,
    },
    /// Set a new random password (and unlock the account); prints it.
    Passwd { login: String },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// What a center offers on a date (regular and extended hours).
    Day {
        /// YYYY-MM-DD
        date: String,
        /// Center code (default: the demo county center, or seed 000's hours).
        #[arg(long)]
        center: Option<String>,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The due date of N working days counted from the day after acceptance.
    Deadline {
        /// Day of acceptance, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Working days.
        #[arg(long, allow_hyphen_values = true)]
        days: String,
        #[arg(long)]
        center: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for a user; the token is the last line printed.
    Create {
        #[arg(long)]
        user: String,
        /// A label for the token, e.g. the device's place.
        #[arg(long, default_value = "device")]
        name: String,
    },
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "yichuang=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .event_format(crate::error::WithRequestId(
            tracing_subscriber::fmt::format::Format::default(),
        ))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // The answer was printed; the warning on stderr says why it is provisional.
        Err(e) if e.downcast_ref::<NoticeMissing>().is_some() => ExitCode::from(2),
        Err(e) => {
            eprintln!("错误：{e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A calendar answer computed for a year whose holiday notice is not loaded: printed, with a
/// warning, and the command exits with status 2 so scripts notice.
#[derive(Debug)]
struct NoticeMissing;

impl std::fmt::Display for NoticeMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("节假日安排缺失")
    }
}

impl std::error::Error for NoticeMissing {}

async fn dispatch(cli: Cli) -> CliResult {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    match cli.command.unwrap_or(Command::Serve {
        listen: cli.listen,
        no_demo: cli.no_demo,
    }) {
        Command::Serve { listen, no_demo } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            if no_demo {
                config.demo = false;
            }
            serve(config).await
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 2).await?;
            let n = db.migrate().await?;
            println!("已应用 {n} 个迁移 (applied {n} migrations)");
            Ok(())
        }
        Command::Demo => {
            let db = Db::connect(&config.database_url, 4).await?;
            db.migrate().await?;
            let n: i64 = sqlx::query_scalar("select count(*) from centers")
                .fetch_one(db.pool())
                .await?;
            if n > 0 {
                return Err("数据库中已有中心数据，演示数据只能载入空数据库".into());
            }
            let accounts = demo::load(&db, &Clock::system(), password::HashCost::default()).await?;
            print_accounts(&accounts);
            Ok(())
        }
        Command::User { command } => user(config, command).await,
        Command::Token {
            command: TokenCommand::Create { user, name },
        } => {
            let db = open(&config).await?;
            let mut tx = db.begin().await?;
            let token = tokens::create(
                &mut tx,
                &Actor::cli(),
                &user,
                &name,
                Clock::system().now_micros(),
            )
            .await?;
            tx.commit().await?;
            println!("已为 {user} 创建令牌（只显示这一次）：");
            println!("{token}");
            Ok(())
        }
        Command::Backup { path } => backup(&config, &path).await,
        Command::Calendar { command } => calendar(&config, command).await,
        Command::Catalog { command } => crate::catalog::cli::run(&config, command).await,
        Command::Bench(args) => {
            let out = crate::bench::dispatch(&args, &config.database_url).await?;
            if args.json {
                println!("{}", out.json);
            } else {
                println!("{}", out.table);
            }
            Ok(())
        }
    }
}

async fn open(config: &Config) -> Result<Db, Box<dyn std::error::Error + Send + Sync>> {
    let db = Db::connect(&config.database_url, 2).await?;
    db.migrate().await?;
    Ok(db)
}

async fn serve(config: Config) -> CliResult {
    let server = Server::build(config, Clock::system(), password::HashCost::default()).await?;
    if !server.demo_accounts.is_empty() {
        println!("已载入演示大厅。以下账号的密码只显示这一次，请妥善保存：");
        print_accounts(&server.demo_accounts);
    }
    println!("一窗已启动：http://{}", server.local_addr());
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn print_accounts(accounts: &[demo::Account]) {
    for a in accounts {
        println!(
            "  {:<10} {:<8} {:<12} {}",
            a.login,
            a.display_name,
            a.role.label(),
            a.password
        );
    }
}

async fn user(config: Config, command: UserCommand) -> CliResult {
    let db = open(&config).await?;
    let clock = Clock::system();
    match command {
        UserCommand::Add {
            login,
            name,
            role,
            center,
        } => {
            let roles = role
                .iter()
                .map(|r| Role::parse(r).ok_or_else(|| format!("未知角色“{r}”")))
                .collect::<Result<Vec<_>, _>>()?;
            let plain = password::generate();
            let hash =
                staff::hash_new_password(plain.clone(), password::HashCost::default()).await?;
            let input = StaffInput {
                login: Some(login.clone()),
                display_name: name,
                employment: None,
                roles,
                centers: center,
                active: true,
                password: None,
            };
            let mut tx = db.begin().await?;
            staff::create(
                &mut tx,
                None,
                &Actor::cli(),
                &input,
                &hash,
                clock.now_micros(),
            )
            .await?;
            tx.commit().await?;
            println!("已创建用户 {login}，密码（只显示这一次）：");
            println!("{plain}");
        }
        UserCommand::Passwd { login } => {
            let plain = password::generate();
            let hash =
                staff::hash_new_password(plain.clone(), password::HashCost::default()).await?;
            let mut tx = db.begin().await?;
            let id: Option<i64> = sqlx::query_scalar("select id from users where login = $1")
                .bind(&login)
                .fetch_optional(&mut *tx)
                .await?;
            let id = id.ok_or_else(|| format!("找不到用户“{login}”"))?;
            staff::set_password_hash(&mut tx, id, &hash).await?;
            crate::audit::record(
                &mut tx,
                &Actor::cli(),
                "passwd",
                "staff",
                &login,
                None,
                None,
                None,
                clock.now_micros(),
            )
            .await?;
            tx.commit().await?;
            println!("已重置 {login} 的密码（只显示这一次）：");
            println!("{plain}");
        }
    }
    Ok(())
}

async fn backup(config: &Config, path: &str) -> CliResult {
    if Backend::from_url(&config.database_url) == Some(Backend::Postgres) {
        return Err(
            "PostgreSQL 数据库请使用 pg_dump 备份，例如：pg_dump -Fc -f yichuang.dump postgres://…"
                .into(),
        );
    }
    if std::path::Path::new(path).exists() {
        return Err(format!("目标文件“{path}”已存在，请换一个路径").into());
    }
    let db = Db::connect(&config.database_url, 1).await?;
    // VACUUM INTO writes a consistent snapshot while the server keeps running.
    let quoted = path.replace('\'', "''");
    sqlx::query(sqlx::AssertSqlSafe(format!("vacuum into '{quoted}'")))
        .execute(db.pool())
        .await?;
    println!("已备份到 {path}");
    Ok(())
}

/// The hours to use: the named center's, else the demo county center's, else seed 000's.
async fn calendar_hours(
    db: &Db,
    center: Option<&str>,
) -> Result<crate::calendar::Hours, Box<dyn std::error::Error + Send + Sync>> {
    let code = center.unwrap_or(demo::COUNTY);
    match crate::hall::centers::by_code(db.pool(), code).await {
        Ok(c) => Ok(crate::timetable::center_hours(db.pool(), c.id).await?),
        Err(_) if center.is_none() => Ok(crate::calendar::Hours::default()),
        Err(e) => Err(e.public_message().into()),
    }
}

fn warn_missing(years: &[i16]) {
    for y in years {
        eprintln!(
            "注意：尚未录入 {y} 年国务院节假日安排；{y} 年的法定节假日已按《全国年节及纪念日放假办法》计入，调休以通知为准"
        );
    }
}

async fn calendar(config: &Config, command: CalendarCommand) -> CliResult {
    use crate::calendar::{parse_date, parse_days};
    match command {
        CalendarCommand::Day { date, center, json } => {
            let date = parse_date(&date)?;
            let db = open(config).await?;
            let hours = calendar_hours(&db, center.as_deref()).await?;
            let table = crate::timetable::build_table(db.pool()).await?;
            let day = table.day(date, &hours)?;
            let missing = day.year_missing;
            if missing {
                warn_missing(&[date.year()]);
            }
            if json {
                // The contract's keys in the contract's order; a missing notice is said on stderr.
                #[derive(serde::Serialize)]
                struct DayJson<'a> {
                    date: String,
                    workday: bool,
                    holiday: &'a Option<String>,
                    regular: &'a [crate::calendar::Period],
                    extended: &'a [crate::calendar::ExtPeriod],
                }
                let out = DayJson {
                    date: date.to_string(),
                    workday: day.workday,
                    holiday: &day.holiday,
                    regular: &day.regular,
                    extended: &day.extended,
                };
                println!("{}", serde_json::to_string(&out)?);
            } else {
                let kind = day.holiday.clone().unwrap_or_else(|| {
                    if day.workday {
                        "工作日".into()
                    } else {
                        "周末".into()
                    }
                });
                println!("{date} {kind}");
                let fmt = |s: &serde_json::Value| s.to_string();
                println!("工作时间：{}", fmt(&serde_json::to_value(&day.regular)?));
                println!("延时错时：{}", fmt(&serde_json::to_value(&day.extended)?));
            }
            if missing {
                return Err(NoticeMissing.into());
            }
        }
        CalendarCommand::Deadline {
            from,
            days,
            center,
            json,
        } => {
            let from = parse_date(&from)?;
            let days = parse_days(&days)?;
            let db = open(config).await?;
            if let Some(c) = center.as_deref() {
                crate::hall::centers::by_code(db.pool(), c)
                    .await
                    .map_err(|e| e.public_message())?;
            }
            let table = crate::timetable::build_table(db.pool()).await?;
            let d = table.deadline(from, days, &[], None)?;
            warn_missing(&d.missing_years);
            if json {
                #[derive(serde::Serialize)]
                struct DeadlineJson {
                    from: String,
                    days: u32,
                    due: String,
                }
                let out = DeadlineJson {
                    from: from.to_string(),
                    days,
                    due: d.due.to_string(),
                };
                println!("{}", serde_json::to_string(&out)?);
            } else {
                println!("{from} 受理，{days} 个工作日，应于 {} 前办结", d.due);
            }
            if !d.missing_years.is_empty() {
                return Err(NoticeMissing.into());
            }
        }
    }
    Ok(())
}

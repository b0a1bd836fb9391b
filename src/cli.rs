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
    /// Measure: `startup` (time to a healthy server, idle memory).
    Bench {
        /// The scenario to run.
        scenario: String,
        /// Repetitions; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Print one JSON object on the last line instead of a table.
        #[arg(long)]
        json: bool,
    },
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
        Err(e) => {
            eprintln!("错误：{e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn dispatch(cli: Cli) -> CliResult {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    match cli.command.unwrap_or(Command::Serve {
        listen: None,
        no_demo: false,
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
        Command::Bench {
            scenario,
            runs,
            json,
        } => bench(&scenario, runs, json).await,
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

async fn bench(scenario: &str, runs: usize, json: bool) -> CliResult {
    match scenario {
        "startup" => {
            let report = tokio::task::spawn_blocking(move || crate::bench::startup(runs)).await??;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{}", crate::bench::table(&report.figures()));
            }
            Ok(())
        }
        other => Err(format!("未知的测量场景“{other}”；可用：startup").into()),
    }
}

//! Appointment scenarios of `yichuang bench`:
//! - `booking`: citizens booking distinct hours over HTTP, each a different applicant;
//! - `booking-flash`: a flash opening, `--concurrency` clients at once for the 50 places of one
//!   hour;
//! - `booking-month`: the month slot view of a matter with millions of bookings stored.
//!
//! Each prepares its own matter and windows (codes `BENCH-…`, windows `BK…`/`FL…`) in the
//! server's database, and afterwards counts in the database that no hour holds more bookings
//! than places and that every place taken is one active booking. They change the center's
//! booking settings (90 days ahead, caps at their maximum): run them on a database kept for
//! measuring.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use serde_json::{Value, json};

use crate::{
    bench::{
        BenchArgs, BenchError, Figure, Output, center_id, load, load_config, load_output,
        matter_id, open_db, table,
    },
    clock::Clock,
    db::{Backend, Db},
};

/// Places each window offers per hour in `booking` and `booking-month`.
const WIDE_CAPACITY: i64 = 1000;
/// The places of the flash opening's hour.
const FLASH_PLACES: i64 = 50;
/// Bookings kept in the database for `booking-month`.
const MONTH_STORED: i64 = 3_000_000;

/// One row of a report's table.
const fn figure(name: &'static str, value: f64, unit: &'static str) -> Figure {
    Figure { name, value, unit }
}

/// What a scenario booked against.
struct Prepared {
    center: i64,
    matter: String,
    windows: Vec<i64>,
}

/// A matter of its own at `windows` new windows of `capacity` places, booked in regular and
/// extended hours and confirmed at once; the center books 90 days ahead with the caps at their
/// maximum.
async fn prepare(
    db: &Db,
    center_code: &str,
    tag: &str,
    windows: usize,
    capacity: i64,
) -> Result<Prepared, BenchError> {
    let now = Clock::system().now_micros();
    let center = center_id(db, center_code).await?;
    let user: i64 = sqlx::query_scalar("select min(id) from users")
        .fetch_one(db.pool())
        .await?;
    let mut tx = db.begin().await?;
    let code = format!("BENCH-{tag}-{center_code}");
    sqlx::query(
        "insert into matters (center_id, code, node, name, path_json, kind, list_kind, created_at, updated_at) \
         values ($1, $2, 'matter', $3, '[\"预约压测\"]', 'promised', 'booking', $4, $4) \
         on conflict (code) do nothing",
    )
    .bind(center)
    .bind(&code)
    .bind(format!("预约压测事项{tag}"))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let matter = matter_id(&mut tx, &code).await?;
    sqlx::query(
        "insert into booking_matters (matter_id, periods, answer, updated_at) values ($1, 'both', 'auto', $2) \
         on conflict (matter_id) do update set periods = 'both', answer = 'auto'",
    )
    .bind(matter)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into booking_settings (center_id, days_ahead, max_per_person, max_per_phone, no_show_limit, updated_at) \
         values ($1, 90, 100, 100, 0, $2) on conflict (center_id) do update \
         set days_ahead = 90, max_per_person = 100, max_per_phone = 100, no_show_limit = 0",
    )
    .bind(center)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from matter_windows where matter_id = $1")
        .bind(matter)
        .execute(&mut *tx)
        .await?;
    let mut ids = Vec::new();
    for i in 1..=windows {
        let w = format!("{tag}{i:02}");
        sqlx::query(
            "insert into windows (center_id, code, name, kind, created_at) values ($1, $2, $3, 'general', $4) \
             on conflict (center_id, code) do nothing",
        )
        .bind(center)
        .bind(&w)
        .bind(format!("预约压测窗口{w}"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let id: i64 =
            sqlx::query_scalar("select id from windows where center_id = $1 and code = $2")
                .bind(center)
                .bind(&w)
                .fetch_one(&mut *tx)
                .await?;
        // Open, with its places, someone posted, serving the matter: (statement, $1, $2).
        let steps = [
            (
                "update windows set active = 1, booking_capacity = $1 where id = $2",
                capacity,
                id,
            ),
            (
                "insert into window_posts (window_id, user_id, post) values ($1, $2, 'A') on conflict do nothing",
                id,
                user,
            ),
            (
                "insert into matter_windows (matter_id, window_id, rights) values ($1, $2, 'accept')",
                matter,
                id,
            ),
        ];
        for (sql, first, second) in steps {
            sqlx::query(sql)
                .bind(first)
                .bind(second)
                .execute(&mut *tx)
                .await?;
        }
        ids.push(id);
    }
    tx.commit().await?;
    Ok(Prepared {
        center,
        matter: code,
        windows: ids,
    })
}

/// One bookable hour as the slot view lists it.
#[derive(Clone, Debug)]
struct Hour {
    date: String,
    start: String,
    free: i64,
}

/// The free hours of a matter over the next 90 days, through the public slot view.
async fn free_hours(args: &BenchArgs, center: &str, matter: &str) -> Result<Vec<Hour>, BenchError> {
    let today = crate::timetable::today_at(&Clock::system());
    let mut hours = Vec::new();
    for (from, to) in [(0, 59), (60, 89)] {
        let day = |n: i64| {
            today
                .checked_add(jiff::Span::new().days(n))
                .unwrap_or(today)
        };
        let path = format!(
            "/api/v1/centers/{center}/slots?matter={matter}&from={}&to={}",
            day(from),
            day(to)
        );
        let found = Arc::new(Mutex::new(Vec::new()));
        let sink = found.clone();
        load::run(
            load::LoadConfig {
                base: args.url.clone(),
                concurrency: 1,
                duration: None,
                requests: Some(1),
            },
            move |_, _| load::get(&path),
            move |_, status, body| {
                if let Ok(v) = serde_json::from_slice::<Value>(body)
                    && let Some(items) = v["items"].as_array()
                {
                    sink.lock()
                        .expect("hours")
                        .extend(items.iter().map(|i| Hour {
                            date: i["date"].as_str().unwrap_or_default().to_owned(),
                            start: i["start"].as_str().unwrap_or_default().to_owned(),
                            free: i["capacity"].as_i64().unwrap_or(0)
                                - i["booked"].as_i64().unwrap_or(0),
                        }));
                }
                status.is_success()
            },
        )
        .await?;
        hours.extend(found.lock().expect("hours").drain(..));
    }
    if hours.is_empty() {
        return Err(
            format!("事项“{matter}”在未来 90 天没有可预约时段（检查中心的办公时间）").into(),
        );
    }
    Ok(hours)
}

/// The `n`-th applicant of this run: a valid ID-card number and a phone of their own.
/// `run` keeps runs apart, since one person may hold one booking per matter and day.
fn applicant(run: u64, n: usize) -> (String, String) {
    let birth = jiff::civil::date(1940, 1, 1)
        .checked_add(jiff::Span::new().days((n / 1000) as i64 + (run % 300) as i64 * 73))
        .unwrap_or(jiff::civil::date(1940, 1, 1));
    let id = crate::identity::make_id_card("360702", birth, (n % 1000) as u16);
    let phone = format!("13{:09}", (run % 10_000) * 100_000 + n as u64 % 100_000);
    (id, phone)
}

fn body(center: &str, matter: &str, h: &Hour, run: u64, n: usize) -> String {
    let (id_card, phone) = applicant(run, n);
    json!({
        "center": center, "matter": matter, "date": h.date, "start": h.start,
        "name": "压测申请人", "phone": phone, "id_card": id_card, "reason": "工作日上班，只能延时时段办理",
    })
    .to_string()
}

/// Hours holding more bookings than places, and places that are not exactly one active
/// booking, at the given windows, counted in the database.
/// Only hours from today on: the stored history of `booking-month` is not what a run booked.
async fn overbooked(db: &Db, p: &Prepared) -> Result<(i64, i64), BenchError> {
    let (windows, center) = (&p.windows, p.center);
    let today = crate::timetable::today_at(&Clock::system());
    let ids = windows
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let over: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from booking_hours h join windows w on w.id = h.window_id \
         where h.window_id in ({ids}) and h.service_date >= '{today}' and h.booked > w.booking_capacity"
    )))
    .fetch_one(db.pool())
    .await?;
    let mismatched: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from booking_hours h where h.window_id in ({ids}) and h.service_date >= '{today}' and h.booked <> \
         (select count(*) from appointments a where a.center_id = {center} and a.service_date = h.service_date \
          and a.window_id = h.window_id \
          and a.start = h.start and a.state in ('pending', 'confirmed', 'refusing', 'checked_in', 'no_show'))"
    )))
    .fetch_one(db.pool())
    .await?;
    Ok((over, mismatched))
}

fn run_id() -> u64 {
    Clock::system().now_micros() as u64 / 1_000_000
}

/// `booking`: every request a different applicant on the next hour in turn, so bookings
/// spread over the hours of 90 days as on an ordinary morning rather than on one hot row.
pub async fn booking(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await?;
    let p = prepare(&db, &args.center, "BK", 10, WIDE_CAPACITY).await?;
    let hours = Arc::new(free_hours(args, &args.center, &p.matter).await?);
    let run = run_id();
    let concurrency = load_config(args).concurrency;
    let (center, matter, h) = (args.center.clone(), p.matter.clone(), hours.clone());
    let full = Arc::new(AtomicUsize::new(0));
    let f2 = full.clone();
    let r = load::run(
        load_config(args),
        move |w, n| {
            let i = n * concurrency + w;
            let hour = &h[i % h.len()];
            load::post_json(
                "/api/v1/appointments",
                body(&center, &matter, hour, run, i),
                None,
            )
        },
        move |_, status, _| {
            if status.as_u16() == 409 {
                f2.fetch_add(1, Ordering::Relaxed);
            }
            status.as_u16() == 201
        },
    )
    .await?;
    let (over, mismatched) = overbooked(&db, &p).await?;
    let mut out = load_output(
        "booking",
        &r,
        json!({"hours": hours.len(), "slot_full": full.load(Ordering::Relaxed),
               "overbooked_hours": over, "mismatched_hours": mismatched}),
    );
    out.table.push_str(&format!(
        "\n{} hours of 10 windows × {WIDE_CAPACITY} places; {} answered slot_full; \
         in the database: {over} hours over capacity, {mismatched} hours whose count differs from their bookings",
        hours.len(),
        full.load(Ordering::Relaxed)
    ));
    Ok(out)
}

/// `booking-flash`: `--concurrency` clients (default 64; the case is 2,000) each book
/// the same hour once, at once, for its 50 places.
pub async fn flash(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await?;
    let p = prepare(&db, &args.center, "FL", 1, FLASH_PLACES).await?;
    let hours = free_hours(args, &args.center, &p.matter).await?;
    // An hour no earlier run has touched: all its places free, a week or more ahead.
    let hour = hours
        .iter()
        .skip(hours.len() / 10)
        .find(|h| h.free == FLASH_PLACES)
        .cloned()
        .ok_or("没有仍有 50 个空位的整点时段：请换一个数据库再测")?;
    let clients = args.concurrency.clamp(1, 4096);
    let run = run_id();
    let granted = Arc::new(AtomicUsize::new(0));
    let full = Arc::new(AtomicUsize::new(0));
    let other = Arc::new(Mutex::new(Vec::<String>::new()));
    let (g2, f2, o2) = (granted.clone(), full.clone(), other.clone());
    let (center, matter, h) = (args.center.clone(), p.matter.clone(), hour.clone());
    let r = load::run(
        load::LoadConfig {
            base: args.url.clone(),
            concurrency: clients,
            duration: None,
            requests: Some(clients),
        },
        // A worker that starts early may send a second request: each its own applicant.
        move |w, n| {
            load::post_json(
                "/api/v1/appointments",
                body(&center, &matter, &h, run, n * clients + w),
                None,
            )
        },
        move |_, status, body| {
            let code = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            match status.as_u16() {
                201 => {
                    g2.fetch_add(1, Ordering::Relaxed);
                    true
                }
                409 if code == "slot_full" => {
                    f2.fetch_add(1, Ordering::Relaxed);
                    true
                }
                s => {
                    let mut o = o2.lock().expect("answers");
                    if o.len() < 5 {
                        o.push(format!("{s} {}", String::from_utf8_lossy(body)));
                    }
                    false
                }
            }
        },
    )
    .await?;
    let booked: i64 = sqlx::query_scalar(
        "select coalesce(sum(booked), 0) from booking_hours where window_id = $1 and service_date = $2 and start = $3",
    )
    .bind(p.windows[0])
    .bind(&hour.date)
    .bind(&hour.start)
    .fetch_one(db.pool())
    .await?;
    let (over, mismatched) = overbooked(&db, &p).await?;
    let (g, f) = (
        granted.load(Ordering::Relaxed),
        full.load(Ordering::Relaxed),
    );
    let others = other.lock().expect("answers").clone();
    let table = format!(
        "booking-flash: {clients} clients at once for {FLASH_PLACES} places of {} {}, in {:.2} s\n{}\n\
         in the database: {booked} places taken, {over} hours over capacity, {mismatched} mismatched{}",
        hour.date,
        hour.start,
        r.seconds,
        table(&[
            figure("granted (201)", g as f64, ""),
            figure("told slot_full (409)", f as f64, ""),
            figure("other answers", (clients - g - f) as f64, ""),
            figure("latency p50", r.p50_ms, "ms"),
            figure("latency p99", r.p99_ms, "ms"),
        ]),
        if others.is_empty() {
            String::new()
        } else {
            format!("\nother answers: {}", others.join(" | "))
        }
    );
    Ok(Output {
        table,
        json: json!({"scenario": "booking-flash", "clients": clients, "places": FLASH_PLACES,
            "granted": g, "slot_full": f, "errors": clients - g - f, "db_booked": booked,
            "overbooked_hours": over, "mismatched_hours": mismatched,
            "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "seconds": r.seconds}),
    })
}

/// Stores bookings of past years at the bench windows, as a hall keeps them, until the
/// database holds [`MONTH_STORED`] appointments; each with its place in `booking_hours`.
async fn store_history(db: &Db, p: &Prepared, matter_id: i64) -> Result<i64, BenchError> {
    let have: i64 = sqlx::query_scalar("select count(*) from appointments")
        .fetch_one(db.pool())
        .await?;
    let missing = MONTH_STORED - have;
    if missing <= 0 {
        return Ok(have);
    }
    // Twenty bookings an hour at each window, nine hours a day, from 2019 on (180 a window-day:
    // three million end in 2023, well before the viewed month).
    let per_day = 180i64;
    let windows = p.windows.len() as i64;
    let start_day = jiff::civil::date(2019, 1, 1);
    let chunk = 200_000i64;
    let mut done = 0i64;
    while done < missing {
        let n = chunk.min(missing - done);
        let lo = have + done + 1;
        let hi = lo + n - 1;
        // k counts bookings: window k % windows, day d, hour h and the person from k.
        let (series, date_expr) = match db.backend() {
            Backend::Postgres => (
                format!("select generate_series({lo}::bigint, {hi}::bigint) as k"),
                format!("to_char(date '{start_day}' + d::int, 'YYYY-MM-DD')"),
            ),
            Backend::Sqlite => (
                format!(
                    "with recursive s(k) as (select {lo} union all select k + 1 from s where k < {hi}) select k from s"
                ),
                format!("date('{start_day}', '+' || d || ' days')"),
            ),
        };
        let windows_case = p
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| format!("when {i} then {w}"))
            .collect::<Vec<_>>()
            .join(" ");
        let hhmm =
            |h: &str| format!("case when {h} < 10 then '0' || {h} else '' || {h} end || ':00'");
        let sql = format!(
            "insert into appointments (code, center_id, matter_id, window_id, service_date, start, slot_end, starts_at, \
             state, channel, name, phone, id_card, reason, created_at, updated_at) \
             select 'H' || k, {center}, {matter_id}, case k % {windows} {windows_case} end, {date_expr}, \
             {start}, {end}, 0, \
             case when k % 10 = 0 then 'no_show' when k % 10 = 1 then 'cancelled' else 'checked_in' end, 'online', \
             '历史申请人', '139' || (10000000 + k % 90000000), 'H' || k, '历史预约', 0, 0 \
             from (select k, (k / {windows}) / {per_day} as d, 8 + ((k / {windows}) % {per_day}) / 20 as h \
                   from ({series}) s0) s",
            center = p.center,
            start = hhmm("h"),
            end = hhmm("(h + 1)"),
        );
        let mut tx = db.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        done += n;
    }
    // Their places: every booking not cancelled holds one.
    let ids = p
        .windows
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut tx = db.begin().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "insert into booking_hours (window_id, service_date, start, booked) \
         select window_id, service_date, start, count(*) from appointments \
         where window_id in ({ids}) and service_date < '2026-01-01' and state <> 'cancelled' \
         group by window_id, service_date, start \
         on conflict (window_id, service_date, start) do update set booked = excluded.booked"
    )))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if db.backend() == Backend::Postgres {
        for table in ["appointments", "booking_hours"] {
            let analyze = format!("analyze {table}");
            sqlx::query(sqlx::AssertSqlSafe(analyze))
                .execute(db.pool())
                .await?;
        }
    }
    Ok(MONTH_STORED)
}

/// `booking-month`: the public month view (31 days) of a matter at 10 windows, with three
/// million bookings stored and the viewed month half booked.
pub async fn month(args: &BenchArgs, db_url: &str) -> Result<Output, BenchError> {
    let db = open_db(db_url).await?;
    let p = prepare(&db, &args.center, "BK", 10, WIDE_CAPACITY).await?;
    let matter_id: i64 = sqlx::query_scalar("select id from matters where code = $1")
        .bind(&p.matter)
        .fetch_one(db.pool())
        .await?;
    let stored = store_history(&db, &p, matter_id).await?;
    let today = crate::timetable::today_at(&Clock::system());
    let to = today
        .checked_add(jiff::Span::new().days(30))
        .unwrap_or(today);
    // Every window and hour of the viewed month has its row of places, as a busy month has.
    let mut tx = db.begin().await?;
    for w in &p.windows {
        let mut d = today;
        while d <= to {
            for h in 8..=20 {
                sqlx::query(
                    "insert into booking_hours (window_id, service_date, start, booked) values ($1, $2, $3, 0) \
                     on conflict (window_id, service_date, start) do nothing",
                )
                .bind(w)
                .bind(d.to_string())
                .bind(format!("{h:02}:00"))
                .execute(&mut *tx)
                .await?;
            }
            d = d
                .checked_add(jiff::Span::new().days(1))
                .unwrap_or(to.tomorrow().unwrap_or(to));
        }
    }
    tx.commit().await?;
    let path = format!(
        "/api/v1/centers/{}/slots?matter={}&from={today}&to={to}",
        args.center, p.matter
    );
    let items = Arc::new(AtomicUsize::new(0));
    let i2 = items.clone();
    let r = load::run(
        load_config(args),
        move |_, _| load::get(&path),
        // Counting the hours without parsing the whole answer: the client shares the cores
        // with the server, and a parse of every 20 KB answer would cost it more than the server.
        move |_, status, body| {
            if !status.is_success() {
                return false;
            }
            let n = body.windows(8).filter(|w| w == b"\"start\":").count();
            i2.store(n, Ordering::Relaxed);
            n > 0
        },
    )
    .await?;
    let hours = items.load(Ordering::Relaxed);
    let mut out = load_output(
        "booking-month",
        &r,
        json!({"stored": stored, "hours": hours}),
    );
    out.table.push_str(&format!(
        "\n31 days, {hours} hours listed per answer, 10 windows; {stored} bookings stored"
    ));
    Ok(out)
}

//! The rules of booking, the same-day answer and check-in, through the API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{book_ok, book_refused, booked, booking, id_card, make_bookable, slots};
use crate::helpers::on_both_at;

// 2026-12-01 is a Tuesday in winter hours: a 12:00–13:30 lunch break, booked 12:00–13:00
// (two places at each of TY01 and TY02) and 13:00–13:30 (one place each).
on_both_at!(
    slots_follow_the_calendar_and_the_matters_periods,
    "2026-12-01T09:00",
    |app: crate::helpers::TestApp| async move {
        let m = make_bookable(&app, "T-BK-SLOTS", "extended", "auto").await;
        let anyone = app.anonymous();
        let items = slots(&anyone, &m, "2026-12-01", "2026-12-07").await;
        let on = |d: &str| -> Vec<(String, String, i64)> {
            items
                .iter()
                .filter(|s| s["date"] == d)
                .map(|s| {
                    (
                        s["start"].as_str().unwrap().to_owned(),
                        s["end"].as_str().unwrap().to_owned(),
                        s["capacity"].as_i64().unwrap(),
                    )
                })
                .collect()
        };
        assert_eq!(
            on("2026-12-01"),
            vec![
                ("12:00".into(), "13:00".into(), 4),
                ("13:00".into(), "13:30".into(), 2)
            ],
            "the lunch break by the hour; never the on-demand hour after closing"
        );
        // Saturday: extended service in the season's regular hours, from 08:30.
        let sat = on("2026-12-05");
        assert_eq!(sat.first().map(|s| s.0.as_str()), Some("08:30"));
        assert!(sat.iter().all(|s| s.2 >= 2));
        assert!(items.iter().all(|s| s["booked"] == 0));

        // Booked in regular hours only: no weekend hour.
        make_bookable(&app, "T-BK-REG", "regular", "auto").await;
        let r = anyone
            .get("/api/v1/centers/GX-ML/slots?matter=T-BK-REG&from=2026-12-05&to=2026-12-06")
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");

        // Beyond the booking horizon (14 days) nothing is offered.
        let day_of = |d: &'static str| {
            let anyone = &anyone;
            let m = &m;
            async move {
                slots(anyone, m, d, d)
                    .await
                    .iter()
                    .map(|s| s["start"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert!(
            day_of("2026-12-20").await.is_empty(),
            "past the 14 days ahead"
        );
        // With 90 days ahead: 正月初一 2027 (a Saturday) has no slot even in extended hours,
        // while the Sunday after (初二) has its weekend service; 除夕 (Friday 2027-02-05) offers
        // its lunch break and nothing in the afternoon.
        let manager = app.api_as("manager").await;
        let r = manager
            .put(
                "/api/v1/centers/GX-ML/booking/settings",
                json!({"days_ahead": 90, "max_per_person": 3, "max_per_phone": 5,
                       "grace_minutes": 30, "early_minutes": 60, "no_show_limit": 0}),
            )
            .await;
        assert!(
            r.status().is_success(),
            "{}",
            r.text().await.unwrap_or_default()
        );
        assert!(!day_of("2026-12-20").await.is_empty());
        assert_eq!(day_of("2027-02-06").await, Vec::<String>::new(), "正月初一");
        assert!(
            !day_of("2027-02-07").await.is_empty(),
            "初二 is a weekend day with service"
        );
        let eve = day_of("2027-02-05").await;
        assert!(!eve.is_empty(), "除夕 keeps its lunch break");
        assert!(
            eve.iter().all(|s| s.as_str() < "13:30"),
            "除夕 afternoon: {eve:?}"
        );

        // A matter that is not bookable, and a range too long: 422 in Chinese.
        make_bookable(&app, "T-BK-NONE", "none", "auto").await;
        let msg = anyone
            .get_error(
                "/api/v1/centers/GX-ML/slots?matter=T-BK-NONE",
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        assert!(msg.contains("不提供预约"), "{msg}");
        anyone
            .get_error(
                &format!("/api/v1/centers/GX-ML/slots?matter={m}&from=2026-12-01&to=2027-03-01"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
    }
);

on_both_at!(
    booking_keeps_its_rules_and_bad_input_changes_nothing,
    "2026-12-01T09:00",
    |app: crate::helpers::TestApp| async move {
        let m = make_bookable(&app, "T-BK-RULES", "extended", "auto").await;
        let anyone = app.anonymous();
        let a = book_ok(&anyone, booking(&m, "2026-12-01", "13:00", 1)).await;
        assert_eq!(a["status"], "confirmed");
        let code = a["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 10);
        assert_eq!(booked(&anyone, &m, "2026-12-01", "13:00").await, 1);

        let before = app.count("appointments").await;
        // The same person, matter and day again: one active booking a day.
        book_refused(
            &anyone,
            booking(&m, "2026-12-01", "12:00", 1),
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;
        // A wrong check digit, a bad phone, no reason, an hour outside the periods.
        let id = id_card(2);
        let wrong = if id.ends_with('0') { "1" } else { "0" };
        let with = |field: &str, value: Value| {
            let mut bad = booking(&m, "2026-12-02", "12:00", 2);
            bad[field] = value;
            bad
        };
        // Each with what the message must say.
        for (bad, says) in [
            (
                with("id_card", json!(format!("{}{wrong}", &id[..17]))),
                "校验",
            ),
            (
                with("phone", json!("12345")),
                "联系电话须为 11 位手机号码，或带区号的固定电话",
            ),
            (with("reason", json!("")), "请填写预约事由"),
            (
                booking(&m, "2026-12-02", "10:00", 2),
                "不是该事项的可预约时段",
            ),
            (
                booking(&m, "2026-11-30", "12:00", 2),
                "不能预约已经过去的日期",
            ),
        ] {
            let msg = book_refused(&anyone, bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
            assert!(msg.contains(says), "{msg}");
        }
        assert_eq!(app.count("appointments").await, before);

        // The 13:00–13:30 hour has two places: the third booking is told slot_full.
        book_ok(&anyone, booking(&m, "2026-12-01", "13:00", 3)).await;
        let msg = book_refused(
            &anyone,
            booking(&m, "2026-12-01", "13:00", 4),
            StatusCode::CONFLICT,
            "slot_full",
        )
        .await;
        assert!(msg.contains("已满"), "{msg}");
        assert_eq!(booked(&anyone, &m, "2026-12-01", "13:00").await, 2);

        // Looking up and cancelling need the phone.
        anyone
            .delete_error(
                &format!("/api/v1/appointments/{code}?phone=13900000009"),
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        let r = anyone
            .delete(&format!("/api/v1/appointments/{code}?phone=13900000001"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "cancelled");
        assert_eq!(booked(&anyone, &m, "2026-12-01", "13:00").await, 1);
        anyone
            .delete_error(
                &format!("/api/v1/appointments/{code}?phone=13900000001"),
                StatusCode::CONFLICT,
                "invalid_state",
            )
            .await;
        // The place is free again: applicant 4 now gets it.
        let four = book_ok(&anyone, booking(&m, "2026-12-01", "13:00", 4)).await;

        // 改约: to Saturday morning; the old place is given back.
        let r = anyone
            .put(
                &format!(
                    "/api/v1/appointments/{}?phone=13900000004",
                    four["code"].as_str().unwrap()
                ),
                json!({"date": "2026-12-05", "start": "08:30"}),
            )
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (
                v["date"].as_str(),
                v["start"].as_str(),
                v["status"].as_str()
            ),
            (Some("2026-12-05"), Some("08:30"), Some("confirmed")),
            "{v}"
        );
        assert_eq!(booked(&anyone, &m, "2026-12-01", "13:00").await, 1);
        assert_eq!(booked(&anyone, &m, "2026-12-05", "08:30").await, 1);

        // The cap of active bookings per ID number (3 by default).
        let other = make_bookable(&app, "T-BK-RULES2", "extended", "auto").await;
        let third = make_bookable(&app, "T-BK-RULES3", "extended", "auto").await;
        let fourth = make_bookable(&app, "T-BK-RULES4", "extended", "auto").await;
        book_ok(&anyone, booking(&other, "2026-12-02", "12:00", 7)).await;
        book_ok(&anyone, booking(&third, "2026-12-02", "12:00", 7)).await;
        book_ok(&anyone, booking(&fourth, "2026-12-02", "12:00", 7)).await;
        let msg = book_refused(
            &anyone,
            booking(&m, "2026-12-03", "12:00", 7),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        assert!(msg.contains("最多可同时保留 3 个"), "{msg}");

        // Every booking has its steps and its messages in the outbox.
        let steps: i64 = sqlx::query_scalar("select count(*) from appointment_steps")
            .fetch_one(app.app.db.pool())
            .await
            .unwrap();
        assert!(steps >= 8, "{steps}");
        let confirmed: i64 =
            sqlx::query_scalar("select count(*) from notifications where kind = 'confirmed'")
                .fetch_one(app.app.db.pool())
                .await
                .unwrap();
        assert!(confirmed >= 6, "{confirmed}");
        // The history cannot be edited.
        crate::helpers::assert_append_only(&app, "appointment_steps", "note").await;
    }
);

on_both_at!(
    a_request_is_answered_the_same_day_and_a_refusal_needs_the_manager,
    "2026-12-01T09:00",
    |app: crate::helpers::TestApp| async move {
        let m = make_bookable(&app, "T-BK-ANSWER", "extended", "clerk").await;
        let anyone = app.anonymous();
        let a = book_ok(&anyone, booking(&m, "2026-12-02", "12:00", 11)).await;
        assert_eq!(a["status"], "pending");
        let code = a["code"].as_str().unwrap().to_owned();
        let b = book_ok(&anyone, booking(&m, "2026-12-02", "12:00", 12)).await;
        let code_b = b["code"].as_str().unwrap().to_owned();

        let clerk = app.api_as("clerk7").await;
        let open = clerk.get("/api/v1/centers/GX-ML/appointments/open").await;
        let open: Value = open.json().await.unwrap();
        assert_eq!(open["items"].as_array().unwrap().len(), 2);

        // A refusal needs a reason; the clerk's proposal waits for the hall manager.
        clerk
            .post_error(
                &format!("/api/v1/appointments/{code}/refuse"),
                json!({"reason": ""}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        let r = clerk
            .post(
                &format!("/api/v1/appointments/{code}/refuse"),
                json!({"reason": "该事项须现场踏勘，不宜预约午休办理"}),
            )
            .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "refusing", "{v}");
        clerk
            .post_error(
                &format!("/api/v1/appointments/{code}/refusal"),
                json!({"approve": true}),
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        let manager = app.api_as("manager").await;
        let v = manager
            .post_json(
                &format!("/api/v1/appointments/{code}/refusal"),
                json!({"approve": true}),
            )
            .await;
        assert_eq!(v["status"], "refused");
        let told: String = sqlx::query_scalar(
            "select body from notifications where kind = 'refused' order by id desc limit 1",
        )
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
        assert!(told.contains("现场踏勘"), "{told}");
        // The refused booking's place is free; the other is confirmed by the clerk.
        assert_eq!(booked(&anyone, &m, "2026-12-02", "12:00").await, 1);
        let v = clerk
            .post_json(&format!("/api/v1/appointments/{code_b}/confirm"), json!({}))
            .await;
        assert_eq!(v["status"], "confirmed");
        clerk
            .post_error(
                &format!("/api/v1/appointments/{code_b}/confirm"),
                json!({}),
                StatusCode::CONFLICT,
                "invalid_state",
            )
            .await;

        // Not answered by the end of the day: overdue on the manager's page.
        let c = book_ok(&anyone, booking(&m, "2026-12-03", "12:00", 13)).await;
        app.app.clock.set(crate::helpers::at("2026-12-02T08:00"));
        let page = manager
            .get_status("/appointments?center=GX-ML", StatusCode::OK)
            .await;
        let html = page.text().await.unwrap();
        assert!(html.contains("逾期未答复"), "overdue shown");
        assert!(html.contains(c["code"].as_str().unwrap()));

        // The day list masks the applicant for those who do not serve them (a leader).
        let leader = app.api_as("leader").await;
        let day = leader
            .get_json("/api/v1/centers/GX-ML/appointments?date=2026-12-02")
            .await;
        let of_b = |day: &Value| {
            day["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["code"] == code_b.as_str())
                .cloned()
                .unwrap()
        };
        let line = of_b(&day);
        assert_ne!(line["id_card"], id_card(12), "{line}");
        assert!(line["id_card"].as_str().unwrap().contains('*'));
        let day = clerk
            .get_json("/api/v1/centers/GX-ML/appointments?date=2026-12-02")
            .await;
        assert_eq!(
            of_b(&day)["id_card"],
            id_card(12),
            "the window's clerk sees it"
        );
    }
);

on_both_at!(
    checking_in_turns_a_booking_into_a_priority_ticket,
    "2026-12-01T11:20",
    |app: crate::helpers::TestApp| async move {
        let m = make_bookable(&app, "T-BK-CHECKIN", "extended", "auto").await;
        let anyone = app.anonymous();
        let a = book_ok(&anyone, booking(&m, "2026-12-01", "12:00", 21)).await;
        let code = a["code"].as_str().unwrap().to_owned();
        let later = book_ok(&anyone, booking(&m, "2026-12-02", "12:00", 22)).await;

        // Appointment priority is not the visitor's to claim at the ticket API.
        anyone
            .post_error(
                "/api/v1/centers/GX-ML/tickets",
                json!({"zone": "TYZH", "priority": "appointment"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        // Tomorrow's booking cannot check in today; an unknown code is 404.
        anyone
            .post_error(
                &format!(
                    "/api/v1/appointments/{}/check-in",
                    later["code"].as_str().unwrap()
                ),
                json!({}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            )
            .await;
        anyone
            .post_error(
                "/api/v1/appointments/ZZZZZZZZZZ/check-in",
                json!({}),
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;

        let r = anyone
            .post(&format!("/api/v1/appointments/{code}/check-in"), json!({}))
            .await;
        let status = r.status();
        let t: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{t}");
        let number = t["number"].as_str().unwrap().to_owned();
        let (priority, at): (Option<String>, Option<i64>) =
            sqlx::query_as("select priority, appointment_at from tickets where number = $1")
                .bind(&number)
                .fetch_one(app.app.db.pool())
                .await
                .unwrap();
        assert_eq!(priority.as_deref(), Some("appointment"));
        let booked_at = crate::helpers::at("2026-12-01T12:00").as_microsecond();
        assert_eq!(at, Some(booked_at));
        let v = anyone
            .get_json(&format!("/api/v1/appointments/{code}?phone=13900000021"))
            .await;
        assert_eq!(v["status"], "checked_in");
        assert_eq!(
            v["ticket"],
            number.as_str(),
            "the booking refers to its ticket"
        );
        // Twice: refused, and no second ticket.
        let tickets = app.count("tickets").await;
        anyone
            .post_error(
                &format!("/api/v1/appointments/{code}/check-in"),
                json!({}),
                StatusCode::CONFLICT,
                "invalid_state",
            )
            .await;
        assert_eq!(app.count("tickets").await, tickets);

        // By ID-card number at the kiosk page, for a second booking today.
        let b = book_ok(&anyone, booking(&m, "2026-12-01", "13:00", 23)).await;
        let form = [("key", id_card(23))];
        let r = reqwest::Client::new()
            .post(app.url("/centers/GX-ML/check-in"))
            .form(&form)
            .send()
            .await
            .unwrap();
        // Forms need the CSRF token: refused without it, nothing changed.
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let v = anyone
            .get_json(&format!(
                "/api/v1/appointments/{}?phone=13900000023",
                b["code"].as_str().unwrap()
            ))
            .await;
        assert_eq!(v["status"], "confirmed");

        // After the grace time (30 minutes) a confirmed booking is a no-show.
        app.app.clock.set(crate::helpers::at("2026-12-01T13:31"));
        let id: i64 = sqlx::query_scalar("select id from appointments where code = $1")
            .bind(b["code"].as_str().unwrap())
            .fetch_one(app.app.db.pool())
            .await
            .unwrap();
        assert!(
            yichuang::booking::service::mark_no_show(&app.app, yichuang::ids::BookingId(id))
                .await
                .unwrap()
        );
        let v = anyone
            .get_json(&format!(
                "/api/v1/appointments/{}?phone=13900000023",
                b["code"].as_str().unwrap()
            ))
            .await;
        assert_eq!(v["status"], "no_show");
        // The reminder and no-show jobs were enqueued with the bookings.
        let jobs: i64 =
            sqlx::query_scalar("select count(*) from jobs where kind = 'booking.no_show'")
                .fetch_one(app.app.db.pool())
                .await
                .unwrap();
        assert!(jobs >= 3, "{jobs}");
        let reminders: i64 =
            sqlx::query_scalar("select count(*) from jobs where kind = 'booking.remind'")
                .fetch_one(app.app.db.pool())
                .await
                .unwrap();
        assert_eq!(
            reminders, 1,
            "tomorrow's booking is reminded at 16:00 today; today's are not"
        );
    }
);

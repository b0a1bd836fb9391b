-- Appointments (预约), SPEC R5: bookable hours per window, the bookings, their history and the
-- notification outbox.

-- Places a window offers per bookable hour (0: the window takes no bookings).
alter table windows add column booking_capacity integer not null default 2 check (booking_capacity between 0 and 1000);

-- A center's booking rules; a center without a row uses the defaults.
create table booking_settings (
    center_id integer primary key references centers (id),
    -- How far ahead citizens may book, in days.
    days_ahead integer not null default 14 check (days_ahead between 1 and 90),
    -- Active (pending or confirmed, not yet due) bookings per ID-card number and per phone.
    max_per_person integer not null default 3 check (max_per_person between 1 and 100),
    max_per_phone integer not null default 5 check (max_per_phone between 1 and 100),
    -- A visitor arriving this many minutes after the booked hour's start still checks in.
    grace_minutes integer not null default 30 check (grace_minutes between 0 and 240),
    -- Check-in opens this many minutes before the booked hour.
    early_minutes integer not null default 60 check (early_minutes between 0 and 480),
    -- After this many no-shows in 90 days online booking is refused (0: no-shows do not count).
    no_show_limit integer not null default 0 check (no_show_limit between 0 and 100),
    updated_at integer not null
);

-- Per matter: which periods it is booked in and how a request is answered. A 预约服务目录
-- matter without a row is booked in extended hours and confirmed at once.
create table booking_matters (
    matter_id integer primary key references matters (id) on delete cascade,
    periods text not null check (periods in ('none', 'extended', 'regular', 'both')),
    answer text not null check (answer in ('auto', 'clerk')),
    updated_at integer not null
);

-- Places taken per window and hour: the one row every booking of that hour updates, guarded by
-- the window's capacity, so no hour is ever overbooked on one server or several.
create table booking_hours (
    window_id integer not null references windows (id),
    service_date text not null,
    start text not null,
    booked integer not null default 0 check (booked >= 0),
    primary key (window_id, service_date, start)
);

create table appointments (
    id integer primary key,
    -- The booking code the citizen keeps (with the phone number it cancels or changes).
    code text not null unique,
    center_id integer not null references centers (id),
    matter_id integer not null references matters (id),
    window_id integer not null references windows (id),
    service_date text not null,
    -- The booked hour, "HH:MM".
    start text not null,
    slot_end text not null,
    starts_at integer not null,
    state text not null check (state in ('pending', 'confirmed', 'refusing', 'refused', 'cancelled', 'checked_in', 'no_show')),
    channel text not null check (channel in ('online', 'phone', 'counter')),
    name text not null,
    phone text not null,
    id_card text not null,
    -- 正当事由 (seed 001 第三章三).
    reason text not null,
    -- 授权委托代理人, when an agent books for the applicant.
    agent_name text not null default '',
    agent_phone text not null default '',
    refusal_reason text not null default '',
    ticket_id integer references tickets (id),
    created_by integer references users (id),
    created_at integer not null,
    answered_at integer,
    updated_at integer not null
);
-- One active booking per ID-card number, matter and day (黄牛).
create unique index appointments_one_a_day on appointments (id_card, matter_id, service_date)
    where state in ('pending', 'confirmed', 'refusing');
create index appointments_day on appointments (center_id, service_date, start);
create index appointments_person on appointments (id_card, starts_at);
create index appointments_phone on appointments (phone, starts_at);
create index appointments_open on appointments (center_id, created_at) where state in ('pending', 'refusing');
create index appointments_ticket on appointments (ticket_id) where ticket_id is not null;

-- Every step of every booking: who, when, from and to. Never edited.
create table appointment_steps (
    id integer primary key,
    appointment_id integer not null references appointments (id),
    at integer not null,
    actor_id integer references users (id),
    actor text not null,
    action text not null,
    from_state text,
    to_state text not null,
    note text not null default ''
);
create index appointment_steps_of on appointment_steps (appointment_id, id);

create trigger appointment_steps_no_update before update on appointment_steps
begin
    select raise(abort, 'appointment_steps is append-only');
end;
create trigger appointment_steps_no_delete before delete on appointment_steps
begin
    select raise(abort, 'appointment_steps is append-only');
end;

-- Messages to citizens (SMS), sent by a job through the configured sender, with their status.
create table notifications (
    id integer primary key,
    center_id integer not null references centers (id),
    appointment_id integer references appointments (id),
    phone text not null,
    kind text not null,
    body text not null,
    state text not null check (state in ('pending', 'sent', 'failed')),
    attempts integer not null default 0,
    error text not null default '',
    created_at integer not null,
    sent_at integer
);
create index notifications_recent on notifications (center_id, id);

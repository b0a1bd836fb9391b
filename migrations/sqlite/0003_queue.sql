-- Queue (排队叫号), R4: tickets numbered per center, day and zone prefix; every state change
-- recorded; per-center calling rules.

-- The letter a zone's tickets start with (A023). Unique within a center.
alter table zones add column ticket_prefix text not null default '';

-- Zones a window calls from besides its own (潮汐窗口 take on busy zones).
create table window_zones (
    window_id integer not null references windows (id) on delete cascade,
    zone_id integer not null references zones (id) on delete cascade,
    primary key (window_id, zone_id)
);

-- How a center calls: rule, automatic no-show, and the wait it aims for.
create table queue_settings (
    center_id integer primary key references centers (id),
    -- 'fifo' | 'priority_first' | 'appointments_first'
    rule text not null default 'priority_first' check (rule in ('fifo', 'priority_first', 'appointments_first')),
    -- A ticket recalled more than this many times becomes a no-show (0: never automatically).
    auto_no_show_after integer not null default 3 check (auto_no_show_after between 0 and 20),
    -- Service level: share of waits (call − issue) within this many minutes.
    wait_target_minutes integer not null default 30 check (wait_target_minutes between 1 and 480)
);

-- The last number handed out per center, day and prefix: numbers restart every day and
-- are allocated with an atomic UPDATE … RETURNING, never max()+1.
create table ticket_counters (
    center_id integer not null references centers (id),
    service_date text not null,
    prefix text not null,
    last_no integer not null,
    primary key (center_id, service_date, prefix)
);

create table tickets (
    id integer primary key,
    center_id integer not null references centers (id),
    -- Civil date in Beijing the ticket belongs to, YYYY-MM-DD.
    service_date text not null,
    zone_id integer not null references zones (id),
    number text not null,
    -- elderly | disabled | pregnant | military | appointment, or null.
    priority text,
    appointment_at integer,
    -- waiting | called | serving | held | done | no_show | left
    state text not null check (state in ('waiting', 'called', 'serving', 'held', 'done', 'no_show', 'left')),
    -- The window calling or serving it; for a hold kept by a window, that window.
    window_id integer references windows (id),
    -- Transferred to, or to return to, this window only.
    target_window_id integer references windows (id),
    -- away (不持件) | with_docs (持件) | waiting (等待)
    hold_kind text,
    -- Place in line: the issue instant, kept across transfers (首问负责).
    queue_key integer not null,
    recalls integer not null default 0,
    issued_at integer not null,
    called_at integer,
    started_at integer,
    finished_at integer,
    -- Time on hold while being served, not counted against the clerk.
    paused_micros integer not null default 0,
    paused_since integer,
    served_by integer references users (id),
    -- Secret for the visitor's phone page (QR code).
    public_token text not null unique,
    unique (center_id, service_date, number)
);
create index tickets_line on tickets (center_id, service_date, state, zone_id, queue_key);
create index tickets_window on tickets (window_id, state);

-- Every state change of every ticket, with who and when (电子监察).
create table ticket_events (
    id integer primary key,
    ticket_id integer not null references tickets (id),
    at integer not null,
    actor text not null,
    action text not null,
    window_id integer references windows (id),
    detail text
);
create index ticket_events_ticket on ticket_events (ticket_id, id);

-- Home visits (上门服务, seed 001 第二章): for the elderly, the seriously ill, the disabled and
-- key enterprises. Answered the same day with the date, time, place and materials agreed and at
-- least two staff assigned; a refusal is approved by the hall manager.

create table home_visits (
    id integer primary key,
    -- The code the applicant keeps (with the phone number it looks up and cancels).
    code text not null unique,
    center_id integer not null references centers (id),
    -- What the applicant needs done, in their words (or a catalogue matter's name).
    matter text not null default '',
    applicant_kind text not null check (applicant_kind in ('elderly', 'sick', 'disabled', 'enterprise')),
    name text not null,
    phone text not null,
    -- ID-card number, or for an enterprise its unified social credit code.
    id_number text not null,
    address text not null,
    wanted_date text not null,
    reason text not null,
    state text not null check (state in ('pending', 'arranged', 'refusing', 'refused', 'cancelled', 'done')),
    -- What was agreed when it was arranged.
    visit_date text,
    visit_time text,
    place text not null default '',
    materials text not null default '',
    refusal_reason text not null default '',
    created_at integer not null,
    answered_at integer,
    updated_at integer not null
);
create index home_visits_open on home_visits (center_id, created_at) where state in ('pending', 'refusing');
create index home_visits_day on home_visits (center_id, visit_date);
create index home_visits_phone on home_visits (phone, created_at);

-- The staff who go (at least two, checked by the arranging use case).
create table home_visit_staff (
    visit_id integer not null references home_visits (id),
    user_id integer not null references users (id),
    primary key (visit_id, user_id)
);
create index home_visit_staff_user on home_visit_staff (user_id);

-- Every step of every home visit: who, when, from and to. Never edited.
create table home_visit_steps (
    id integer primary key,
    visit_id integer not null references home_visits (id),
    at integer not null,
    actor_id integer references users (id),
    actor text not null,
    action text not null,
    from_state text,
    to_state text not null,
    note text not null default ''
);
create index home_visit_steps_of on home_visit_steps (visit_id, id);

create trigger home_visit_steps_no_update before update on home_visit_steps
begin
    select raise(abort, 'home_visit_steps is append-only');
end;
create trigger home_visit_steps_no_delete before delete on home_visit_steps
begin
    select raise(abort, 'home_visit_steps is append-only');
end;

-- Messages about a home visit go through the same outbox.
alter table notifications add column home_visit_id integer references home_visits (id);

-- Cases (办件): 前台综合受理、后台分类审批、统一窗口出件 (SPEC R6).
-- Dates a person reads (受理日, 到期日) are YYYY-MM-DD text in Beijing time; instants are µs.

-- Per-center settings of the case flow.
create table case_settings (
    center_id integer primary key references centers (id),
    -- 首席代表 signs off the department's decisions before they are issued.
    chief_signoff integer not null default 0 check (chief_signoff in (0, 1)),
    -- Yellow warning (预警) once this share of the promised working days has passed.
    yellow_percent integer not null default 80 check (yellow_percent between 1 and 99)
);

-- Case numbers: year + center + sequence, handed out by one upsert per case.
create table case_counters (
    center_id integer not null references centers (id),
    year integer not null,
    last_no integer not null,
    primary key (center_id, year)
);

create table cases (
    id integer primary key,
    -- 办件编号, e.g. 2026-GX-ML-000123.
    number text not null unique,
    center_id integer not null references centers (id),
    -- The situation (办事情形) applied for.
    matter_id integer not null references matters (id),
    -- The matter's department, kept for supervision by department.
    department text not null default '',
    window_id integer references windows (id),
    -- The queue ticket the applicant was called with (the link from ticket to case).
    ticket_id integer references tickets (id),
    applicant_kind text not null check (applicant_kind in ('person', 'company')),
    applicant_name text not null,
    -- ID-card number (person) or unified social credit code (company).
    applicant_no text not null,
    applicant_phone text not null default '',
    -- 帮办代办: who acts for the applicant.
    agent_name text not null default '',
    agent_id_card text not null default '',
    state text not null check (state in ('received', 'correcting', 'accepted', 'suspended', 'signing',
        'decided', 'refused', 'issued')),
    kind text not null check (kind in ('immediate', 'promised', 'joint', 'reported')),
    -- The window held only 收件权: the department's staff decide acceptance.
    collect_only integer not null default 0 check (collect_only in (0, 1)),
    -- 容缺受理 and 告知承诺, and the reason of a 特事特办 fast track.
    tolerated integer not null default 0 check (tolerated in (0, 1)),
    commitment integer not null default 0 check (commitment in (0, 1)),
    fast_track text not null default '',
    -- The review points (受理审查要点) the clerk ticked, as a JSON array of their ids.
    review_json text not null default '[]',
    -- The last 一次性告知: every missing or wrong item, as a JSON array of texts.
    missing_json text not null default '[]',
    refusal_reason text not null default '',
    refusal_basis text not null default '',
    decision text not null default '' check (decision in ('', 'approved', 'rejected')),
    decision_note text not null default '',
    accepted_on text,
    -- The Beijing day of the decision, compared with due_on for the on-time rate.
    decided_on text,
    -- Promised and legal limits in working days, copied from the matter at acceptance.
    limit_days integer,
    legal_days integer,
    due_on text,
    warn_on text,
    warning text not null default '' check (warning in ('', 'yellow', 'red')),
    delivery text not null default '' check (delivery in ('', 'onsite', 'post')),
    tracking_no text not null default '',
    received_by integer references users (id),
    decided_by integer references users (id),
    created_at integer not null,
    updated_at integer not null,
    decided_at integer,
    closed_at integer
);
create index cases_center_state on cases (center_id, state, due_on);
create index cases_ticket on cases (ticket_id);
create index cases_center_created on cases (center_id, created_at);

-- The materials of a case, copied from the situation at intake.
create table case_materials (
    id integer primary key,
    case_id integer not null references cases (id),
    position integer not null,
    name text not null,
    form text not null check (form in ('original', 'copy', 'both')),
    copies integer not null,
    required integer not null check (required in (0, 1)),
    tolerable integer not null check (tolerable in (0, 1)),
    -- received; missing; tolerated (容缺: to be supplied by due_on); supplied later.
    state text not null check (state in ('received', 'missing', 'tolerated', 'supplied')),
    due_on text,
    supplied_at integer,
    unique (case_id, position)
);

-- Every step of every case, with who and when (电子监察). Never edited.
create table case_steps (
    id integer primary key,
    case_id integer not null references cases (id),
    at integer not null,
    actor_id integer references users (id),
    actor text not null,
    action text not null,
    from_state text,
    to_state text not null,
    note text not null default '',
    data_json text
);
create index case_steps_case on case_steps (case_id, id);

-- Periods that stop the clock (补正, 公示, 听证, 专家评审, 现场踏勘, 检验检测 …).
create table case_suspensions (
    id integer primary key,
    case_id integer not null references cases (id),
    reason text not null,
    start_on text not null,
    -- Open while null: the clock is stopped.
    end_on text,
    created_by integer references users (id),
    created_at integer not null
);
create index case_suspensions_case on case_suspensions (case_id);

-- 延期: requested by the approver, approved by the hall manager or chief representative.
create table case_extensions (
    id integer primary key,
    case_id integer not null references cases (id),
    days integer not null check (days >= 1),
    reason text not null,
    state text not null check (state in ('requested', 'approved', 'refused')),
    requested_by integer references users (id),
    requested_at integer not null,
    decided_by integer references users (id),
    decided_at integer
);
create index case_extensions_case on case_extensions (case_id);

-- 否定报备登记表: every refusal at intake, waiting for the leader's opinion.
create table case_refusals (
    id integer primary key,
    case_id integer not null unique references cases (id),
    center_id integer not null references centers (id),
    applicant text not null,
    phone text not null,
    matter text not null,
    reason text not null,
    basis text not null,
    clerk text not null,
    registered_at integer not null,
    opinion text not null default '',
    opinion_by integer references users (id),
    opinion_at integer
);
create index case_refusals_center on case_refusals (center_id, registered_at);

create trigger case_steps_no_update before update on case_steps
begin
    select raise(abort, 'case_steps is append-only');
end;
create trigger case_steps_no_delete before delete on case_steps
begin
    select raise(abort, 'case_steps is append-only');
end;

-- Cases, continued (SPEC R6.3, R6.5; seed 003 §(四)1(3)(4)): the co-departments of a 联办件, the
-- journey of a 上报件 to the upper level's center and back, and the fees computed after approval.

-- 联办件: each co-department's part, done in parallel with the lead department, with its own
-- step limit in working days from acceptance. The lead's decision waits for every part.
create table case_tasks (
    id integer primary key,
    case_id integer not null references cases (id),
    department text not null,
    limit_days integer not null check (limit_days between 1 and 365),
    due_on text not null,
    warn_on text not null,
    state text not null check (state in ('open', 'done')),
    opinion text not null default '',
    warning text not null default '' check (warning in ('', 'yellow', 'red')),
    done_by integer references users (id),
    done_at integer,
    done_on text,
    created_at integer not null,
    unique (case_id, department)
);
create index case_tasks_open on case_tasks (state, due_on);

-- 上报件: forwarded with its materials to the upper level's center (the applicant is not
-- asked again), which decides; the case returns to its own center for 出件.
alter table cases add column reported_to integer references centers (id);
alter table cases add column reported_at integer;
alter table cases add column returned_at integer;
create index cases_reported on cases (reported_to, state);

-- 收费: computed after the approval from the matter's 收费标准 and paid online; cash only from
-- an elderly applicant (seed 003 §(四)1(4)). The result is issued once it is paid.
create table case_fees (
    case_id integer primary key references cases (id),
    amount_fen integer not null check (amount_fen between 1 and 100000000),
    basis text not null,
    state text not null check (state in ('due', 'paid')),
    method text not null default '' check (method in ('', 'online', 'cash')),
    receipt text not null default '',
    created_at integer not null,
    paid_at integer,
    recorded_by integer references users (id)
);

-- Messages about a case (缴费、办结) go through the same outbox.
alter table notifications add column case_id integer references cases (id);

-- 电子监察 counts kept as cases change, so the supervision page reads a few rows per
-- department and matter instead of every case: the kind counts and, of the decided cases with
-- a due date, how many were decided on time. A refused case counts nowhere. Kept by triggers
-- in the transaction of every change; `overdue` is counted from the open cases' index.
create table case_rollups (
    center_id integer not null references centers (id),
    department text not null,
    matter_id integer not null references matters (id),
    immediate integer not null default 0,
    promised integer not null default 0,
    joint integer not null default 0,
    reported integer not null default 0,
    finished integer not null default 0,
    on_time integer not null default 0,
    primary key (center_id, department, matter_id)
);

insert into case_rollups (center_id, department, matter_id, immediate, promised, joint, reported, finished, on_time)
select center_id, department, matter_id,
    sum(case when kind = 'immediate' then 1 else 0 end),
    sum(case when kind = 'promised' then 1 else 0 end),
    sum(case when kind = 'joint' then 1 else 0 end),
    sum(case when kind = 'reported' then 1 else 0 end),
    sum(case when decided_at is not null and due_on is not null then 1 else 0 end),
    sum(case when decided_at is not null and due_on is not null and decided_on <= due_on then 1 else 0 end)
from cases where state <> 'refused' group by center_id, department, matter_id;

create trigger case_rollups_insert after insert on cases when new.state <> 'refused'
begin
    insert into case_rollups (center_id, department, matter_id, immediate, promised, joint, reported, finished, on_time)
    select new.center_id, new.department, new.matter_id,
        case when new.kind = 'immediate' then 1 else 0 end,
        case when new.kind = 'promised' then 1 else 0 end,
        case when new.kind = 'joint' then 1 else 0 end,
        case when new.kind = 'reported' then 1 else 0 end,
        case when new.decided_at is not null and new.due_on is not null then 1 else 0 end,
        case when new.decided_at is not null and new.due_on is not null and new.decided_on <= new.due_on then 1 else 0 end
    where true
    on conflict (center_id, department, matter_id) do update set
        immediate = immediate + excluded.immediate, promised = promised + excluded.promised,
        joint = joint + excluded.joint, reported = reported + excluded.reported,
        finished = finished + excluded.finished, on_time = on_time + excluded.on_time;
end;

create trigger case_rollups_update after update of state, kind, decided_at, decided_on, due_on on cases
when (old.state = 'refused') <> (new.state = 'refused') or old.kind <> new.kind
    or (old.decided_at is null) <> (new.decided_at is null)
    or old.decided_on is not new.decided_on or old.due_on is not new.due_on
begin
    insert into case_rollups (center_id, department, matter_id, immediate, promised, joint, reported, finished, on_time)
    select old.center_id, old.department, old.matter_id,
        -(case when old.kind = 'immediate' then 1 else 0 end),
        -(case when old.kind = 'promised' then 1 else 0 end),
        -(case when old.kind = 'joint' then 1 else 0 end),
        -(case when old.kind = 'reported' then 1 else 0 end),
        -(case when old.decided_at is not null and old.due_on is not null then 1 else 0 end),
        -(case when old.decided_at is not null and old.due_on is not null and old.decided_on <= old.due_on then 1 else 0 end)
    where old.state <> 'refused'
    on conflict (center_id, department, matter_id) do update set
        immediate = immediate + excluded.immediate, promised = promised + excluded.promised,
        joint = joint + excluded.joint, reported = reported + excluded.reported,
        finished = finished + excluded.finished, on_time = on_time + excluded.on_time;
    insert into case_rollups (center_id, department, matter_id, immediate, promised, joint, reported, finished, on_time)
    select new.center_id, new.department, new.matter_id,
        case when new.kind = 'immediate' then 1 else 0 end,
        case when new.kind = 'promised' then 1 else 0 end,
        case when new.kind = 'joint' then 1 else 0 end,
        case when new.kind = 'reported' then 1 else 0 end,
        case when new.decided_at is not null and new.due_on is not null then 1 else 0 end,
        case when new.decided_at is not null and new.due_on is not null and new.decided_on <= new.due_on then 1 else 0 end
    where new.state <> 'refused'
    on conflict (center_id, department, matter_id) do update set
        immediate = immediate + excluded.immediate, promised = promised + excluded.promised,
        joint = joint + excluded.joint, reported = reported + excluded.reported,
        finished = finished + excluded.finished, on_time = on_time + excluded.on_time;
end;

-- Durable background jobs (reminders, deadline warnings 预警, report rollups). A job is
-- enqueued in the transaction that causes it, so it exists exactly when its cause committed.
-- A runner claims due jobs (PostgreSQL: for update skip locked; SQLite: the one writer),
-- retries failures with backoff, and reclaims jobs whose runner died (stale locked_at).
create table jobs (
    id integer primary key,
    -- Which handler runs it, e.g. 'reminder.send'.
    kind text not null,
    -- The handler's input as JSON text.
    payload text not null,
    state text not null default 'pending' check (state in ('pending', 'running', 'done', 'failed')),
    -- Runs started so far (a claim counts one).
    attempts bigint not null default 0,
    max_attempts bigint not null check (max_attempts >= 1),
    -- Not before this instant (µs); moved on by each retry's backoff.
    run_at bigint not null,
    -- The runner that holds a running job, and since when.
    locked_by text,
    locked_at bigint,
    last_error text,
    created_at bigint not null,
    finished_at bigint
);

-- The runner's question: pending jobs due by now, in run_at order.
create index jobs_due on jobs (state, run_at);

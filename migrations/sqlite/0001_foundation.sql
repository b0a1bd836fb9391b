-- Foundation: centers, zones, windows, people, sessions, tokens, audit.
-- Instants are INTEGER microseconds since the Unix epoch (UTC); see ARCHITECTURE.md "Storage".
-- Flags are INTEGER 0/1 so the same row decodes on both engines.

-- 中心/站: a county 政务服务中心, township 便民服务中心 or village 便民服务站.
create table centers (
    id integer primary key,
    code text not null unique,
    name text not null unique,
    level text not null check (level in ('city', 'county', 'township', 'village')),
    parent_id integer references centers (id),
    region_code text not null,
    address text not null default '',
    phone text not null default '',
    created_at integer not null
);

-- 专区: a zone of a hall (不动产登记, 通用综合, 关爱专区 …).
create table zones (
    id integer primary key,
    center_id integer not null references centers (id),
    code text not null,
    name text not null,
    sort_order integer not null default 0,
    created_at integer not null,
    unique (center_id, code),
    unique (center_id, name)
);

-- 窗口: what the screen above the counter shows as `name`.
create table windows (
    id integer primary key,
    center_id integer not null references centers (id),
    zone_id integer references zones (id),
    code text not null,
    name text not null,
    kind text not null,
    tidal integer not null default 0 check (tidal in (0, 1)),
    active integer not null default 1 check (active in (0, 1)),
    acceptance_limit_minutes integer not null default 15 check (acceptance_limit_minutes between 1 and 480),
    created_at integer not null,
    unique (center_id, code),
    unique (center_id, name)
);

-- Special-window functions a window carries: its own, or 加挂 on a comprehensive window.
create table window_specials (
    window_id integer not null references windows (id) on delete cascade,
    special text not null,
    primary key (window_id, special)
);

create table users (
    id integer primary key,
    login text not null unique,
    display_name text not null,
    password_hash text not null,
    -- 'department' staff or 'purchased' (政府购买服务) clerks.
    employment text not null default 'department' check (employment in ('department', 'purchased')),
    active integer not null default 1 check (active in (0, 1)),
    failed_logins integer not null default 0,
    locked_until integer,
    created_at integer not null
);

create table user_roles (
    user_id integer not null references users (id) on delete cascade,
    role text not null check (role in ('system_admin', 'hall_manager', 'window_clerk', 'approver', 'chief_representative', 'leader')),
    primary key (user_id, role)
);

create table user_centers (
    user_id integer not null references users (id) on delete cascade,
    center_id integer not null references centers (id),
    primary key (user_id, center_id)
);

-- A/B 岗: one A and at least one B per window.
create table window_posts (
    window_id integer not null references windows (id) on delete cascade,
    user_id integer not null references users (id),
    post text not null check (post in ('A', 'B')),
    primary key (window_id, user_id)
);
create unique index window_posts_one_a on window_posts (window_id) where post = 'A';

create table sessions (
    token_hash text primary key,
    user_id integer not null references users (id) on delete cascade,
    created_at integer not null,
    expires_at integer not null
);
create index sessions_user on sessions (user_id);

create table api_tokens (
    id integer primary key,
    user_id integer not null references users (id) on delete cascade,
    name text not null,
    token_hash text not null unique,
    created_at integer not null,
    last_used_at integer,
    revoked_at integer
);

-- Append-only record of every administrative change.
create table audit_log (
    id integer primary key,
    at integer not null,
    actor_id integer references users (id),
    actor text not null,
    action text not null,
    entity text not null,
    entity_key text not null,
    center_id integer references centers (id),
    before_json text,
    after_json text
);
create index audit_log_center on audit_log (center_id, id);

create trigger audit_log_no_update before update on audit_log
begin
    select raise(abort, 'audit_log is append-only');
end;
create trigger audit_log_no_delete before delete on audit_log
begin
    select raise(abort, 'audit_log is append-only');
end;

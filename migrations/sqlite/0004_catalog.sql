-- Matter catalogue (R2): the tree of matters down to each 办事情形, their service guides,
-- 受理审查要点, the 延时错时/预约 lists, window rights and the 负面清单.
-- Instants are INTEGER microseconds; flags are INTEGER 0/1 (see ARCHITECTURE.md "Storage").

-- 事项类型: a code list kept as data (行政许可, 行政确认, … 公共服务).
create table matter_types (
    code text primary key,
    name text not null unique,
    sort_order integer not null
);

insert into matter_types (code, name, sort_order) values
    ('licence', '行政许可', 1),
    ('confirmation', '行政确认', 2),
    ('payment', '行政给付', 3),
    ('levy', '行政征收', 4),
    ('ruling', '行政裁决', 5),
    ('reward', '行政奖励', 6),
    ('filing', '行政备案', 7),
    ('other_power', '其他行政权力', 8),
    ('public_service', '公共服务', 9);

-- A node of the catalogue: a category (目录, levels 1…n) or a matter; a matter without
-- children is a specific 办事情形 with its own guide. `code` is the opaque 事项编号.
create table matters (
    id integer primary key,
    center_id integer not null references centers (id),
    parent_id integer references matters (id),
    code text not null unique,
    node text not null check (node in ('category', 'matter')),
    name text not null,
    sort_order integer not null default 0,
    -- Names from the level-1 category down to this node, as a JSON array.
    path_json text not null,
    type_code text references matter_types (code),
    department text not null default '',
    level text not null default '' check (level in ('', 'city', 'county', 'township', 'village')),
    kind text not null default '' check (kind in ('', 'immediate', 'promised', 'joint', 'reported')),
    legal_basis text not null default '',
    conditions text not null default '',
    process text not null default '',
    legal_limit integer,
    promised_limit integer,
    limit_unit text not null default 'working_days' check (limit_unit in ('working_days', 'days', 'hours')),
    special_procedures text not null default '',
    fees text not null default '',
    fee_basis text not null default '',
    notice_commitment integer not null default 0 check (notice_commitment in (0, 1)),
    consult_phone text not null default '',
    complaint_phone text not null default '',
    duty_phone text not null default '',
    place text not null default '',
    hours text not null default '',
    delivery text not null default '',
    notes text not null default '',
    -- 延时错时规定目录 / 自选目录 / 预约服务目录, or none (categories).
    list_kind text not null default 'none' check (list_kind in ('none', 'mandated', 'optional', 'booking')),
    list_category text not null default '',
    -- 负面清单: kept outside the hall, with the reason shown to the public.
    outside integer not null default 0 check (outside in (0, 1)),
    outside_reason text not null default '',
    created_at integer not null,
    updated_at integer not null
);

create index matters_parent on matters (parent_id, sort_order);
create index matters_center on matters (center_id, node);
create index matters_department on matters (center_id, department);

-- Bumped by every change to the catalogue, in the change's transaction: servers drop their
-- cached search answers when it moves (several servers may share one PostgreSQL database).
create table catalog_version (
    id integer primary key check (id = 1),
    version bigint not null
);
insert into catalog_version (id, version) values (1, 0);

-- 申请材料 of a matter.
create table matter_materials (
    id integer primary key,
    matter_id integer not null references matters (id) on delete cascade,
    position integer not null,
    name text not null,
    form text not null check (form in ('original', 'copy', 'both')),
    copies integer not null default 1 check (copies >= 0),
    required integer not null default 1 check (required in (0, 1)),
    -- 容缺: may be supplied after acceptance on the applicant's commitment.
    tolerable integer not null default 0 check (tolerable in (0, 1)),
    sample text not null default '',
    blank_form text not null default '',
    note text not null default '',
    unique (matter_id, position)
);

-- 受理审查要点: 形式审查要点 (form) and 内容审查要点 (content), in order.
create table matter_review_points (
    id integer primary key,
    matter_id integer not null references matters (id) on delete cascade,
    kind text not null check (kind in ('form', 'content')),
    position integer not null,
    text text not null,
    unique (matter_id, kind, position)
);

-- Windows that may take a matter: 受理权 (accept) or 收件权 (collect) delegated to them.
create table matter_windows (
    matter_id integer not null references matters (id) on delete cascade,
    window_id integer not null references windows (id),
    rights text not null check (rights in ('accept', 'collect')),
    primary key (matter_id, window_id)
);

-- Search: jieba tokens, pinyin and initials of each matter (rowid = matters.id).
create virtual table matter_fts using fts5 (tokens, tokenize = 'unicode61', prefix = '1 2 3');

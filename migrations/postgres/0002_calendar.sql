-- Service calendar (R3): each center's regular hours, and holiday years added after release.

-- A center's hours and season switch dates, as the calendar's `Hours` in JSON.
-- A center without a row uses seed 000 §2.5's defaults.
create table center_hours (
    center_id bigint primary key references centers (id),
    hours_json text not null,
    updated_at bigint not null
);

-- A year of statutory holidays and 调休 working days pasted from a State Council notice.
-- It overrides the year shipped in the binary, if any.
create table holiday_years (
    year integer primary key,
    notice_title text not null,
    source_toml text not null,
    imported_by text not null,
    imported_at bigint not null
);

-- Files of the catalogue: a material's 示范文本 (sample) and 空白表格 (blank form), kept in
-- the database so that a backup holds them and every server of a city serves them.
-- A material refers to its file by the address /files/{id}/{name}.
create table catalog_files (
    id integer primary key,
    center_id integer not null references centers (id),
    name text not null,
    content_type text not null,
    size integer not null check (size > 0),
    -- SHA-256 of the content, hex: the same file uploaded twice is kept once.
    sha256 text not null,
    data blob not null,
    uploaded_at integer not null,
    uploaded_by text not null,
    unique (center_id, sha256, name)
);

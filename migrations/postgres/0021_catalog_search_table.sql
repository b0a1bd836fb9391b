-- The catalogue search reads a narrow table of its own instead of the wide `matters` row.
-- GIN cannot answer from the index alone: a search's bitmap heap scan visits the heap row of
-- every match (for the count and for the ranking's name). On `matters` (the 办事指南 text
-- and the tsvector itself inline) the query 证 over 100,000 situations read 9,873 heap blocks.
-- A row here is the id, the lower-cased name the ranking compares and the search tokens as
-- text (about 210 bytes, where their tsvector took 485): about 3,600 blocks for 100,000.
--
-- The GIN index is over a document computed from the tokens: every prefix of every lexeme,
-- so that a query's word (matched as a prefix) is one exact entry — a prefix entry (`'w':*`)
-- made GIN read the posting list of every lexeme it covers into a bitmap, ~3 ms for three
-- common words — and, for lexemes that are a center's token (ζ<id>), the lexeme with a `#`
-- after it: a center is matched exactly (ζ1 is a prefix of ζ12), and no query word can hold
-- a `#` (the text-search parser splits there).
create function matter_search_document(tokens text) returns tsvector
    language sql immutable strict parallel safe
    as $$
        select array_to_tsvector(array(
            select left(l, n)
            from unnest(tsvector_to_array(to_tsvector('simple', tokens))) l,
                 generate_series(1, char_length(l)) n
            union
            select l || '#'
            from unnest(tsvector_to_array(to_tsvector('simple', tokens))) l
            where l like 'ζ%'))
    $$;

create table matter_search (
    id bigint primary key references matters (id) on delete cascade,
    name_lower text not null,
    tokens text not null
);
insert into matter_search (id, name_lower, tokens)
    select id, lower(name), array_to_string(tsvector_to_array(search_tsv), ' ') from matters
    where search_tsv <> ''::tsvector order by id;
-- Without the pending list, as 0010 did for the index it replaces.
create index matter_search_document on matter_search
    using gin (matter_search_document(tokens)) with (fastupdate = off);
drop index matters_search;
alter table matters drop column search_tsv;
analyze matter_search;

-- PostgreSQL's version turns off the search index's pending list (GIN fastupdate). FTS5
-- merges its segments by itself (automerge); merge what is there now.
insert into matter_fts (matter_fts) values ('optimize');

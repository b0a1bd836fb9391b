-- PostgreSQL's 0021 moves its search index into a narrow table of its own. SQLite's FTS5
-- table (matter_fts) already is one; this version keeps the two engines' numbers in step.
select 1;

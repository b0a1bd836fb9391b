-- PostgreSQL's 0011 makes the waiting-count triggers lock their rows in one order. SQLite
-- has one writer and no row locks; this version keeps the two engines' numbers in step.
select 1;

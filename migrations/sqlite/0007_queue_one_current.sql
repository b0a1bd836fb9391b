-- A window calls or serves one visitor at a time: at most one ticket per window is
-- 'called' or 'serving'. The window actions change "the ticket this window holds" with one
-- `update … where window_id = …`; this index is the guard that it is one ticket, and the
-- way that update finds it.
create unique index tickets_current_window on tickets (window_id)
    where state in ('called', 'serving');

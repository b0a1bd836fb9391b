-- The heads of line are ordered by (queue_key, id): put id in the indexes too, so PostgreSQL
-- reads the head straight from the index instead of sorting the zone's whole line
-- (SQLite's rowid made this implicit there).
drop index tickets_next_any;
create index tickets_next_any on tickets (center_id, service_date, zone_id, queue_key, id)
    where state = 'waiting' and target_window_id is null;
drop index tickets_next_priority;
create index tickets_next_priority on tickets (center_id, service_date, zone_id, queue_key, id)
    where state = 'waiting' and target_window_id is null and priority is not null;
drop index tickets_next_transferred;
create index tickets_next_transferred on tickets (target_window_id, queue_key, id)
    where state = 'waiting';

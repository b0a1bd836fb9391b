-- Call-next reads the head of each line through an index instead of sorting the line:
-- one partial index per kind of head (any, priority, appointment, transferred to a window).
create index tickets_next_any on tickets (center_id, service_date, zone_id, queue_key)
    where state = 'waiting' and target_window_id is null;
create index tickets_next_priority on tickets (center_id, service_date, zone_id, queue_key)
    where state = 'waiting' and target_window_id is null and priority is not null;
create index tickets_next_appointment on tickets (center_id, service_date, zone_id, appointment_at)
    where state = 'waiting' and target_window_id is null and appointment_at is not null;
create index tickets_next_transferred on tickets (target_window_id, queue_key)
    where state = 'waiting';

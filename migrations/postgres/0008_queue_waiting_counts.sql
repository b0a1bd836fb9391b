-- How many tickets wait in each zone on each day, kept by triggers in the transaction of
-- every change. A kiosk tells each new visitor how many are ahead, and the lobby display
-- shows the waiting per zone: counting the line on each ticket walked every waiting
-- ticket of the zone, which grew with the line. Statement-level triggers with transition
-- tables: one update per zone per statement, however many tickets it changed.
create table queue_waiting (
    zone_id bigint not null references zones (id) on delete cascade,
    service_date text not null,
    waiting bigint not null,
    primary key (zone_id, service_date)
);

insert into queue_waiting (zone_id, service_date, waiting)
    select zone_id, service_date, count(*) from tickets where state = 'waiting'
    group by zone_id, service_date;

create function tickets_waiting_count() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into queue_waiting (zone_id, service_date, waiting)
            select zone_id, service_date, count(*) from new_rows where state = 'waiting'
            group by zone_id, service_date
            on conflict (zone_id, service_date) do update set waiting = queue_waiting.waiting + excluded.waiting;
    elsif tg_op = 'UPDATE' then
        insert into queue_waiting (zone_id, service_date, waiting)
            select zone_id, service_date, sum(d) from (
                select zone_id, service_date, -1 as d from old_rows where state = 'waiting'
                union all
                select zone_id, service_date, 1 as d from new_rows where state = 'waiting'
            ) changes
            group by zone_id, service_date having sum(d) <> 0
            on conflict (zone_id, service_date) do update set waiting = queue_waiting.waiting + excluded.waiting;
    else
        update queue_waiting q set waiting = q.waiting - d.n
            from (select zone_id, service_date, count(*) as n from old_rows where state = 'waiting'
                  group by zone_id, service_date) d
            where q.zone_id = d.zone_id and q.service_date = d.service_date;
    end if;
    return null;
end $$;

create trigger tickets_waiting_issued after insert on tickets
    referencing new table as new_rows
    for each statement execute function tickets_waiting_count();
create trigger tickets_waiting_changed after update on tickets
    referencing old table as old_rows new table as new_rows
    for each statement execute function tickets_waiting_count();
create trigger tickets_waiting_deleted after delete on tickets
    referencing old table as old_rows
    for each statement execute function tickets_waiting_count();

-- Row locks in one order. Two transactions that change the waiting counts of the same zones
-- (two servers on one database, or two of a server's queue writers) lock the zones'
-- queue_waiting rows; taken in the order a hash aggregate happened to produce, one could
-- hold zone 1 and wait for zone 2 while the other held zone 2 and waited for zone 1, until
-- PostgreSQL's deadlock check (one second) broke one off. Every upsert now visits its rows
-- in (zone_id, service_date) order, so one waits for the other instead.
create or replace function tickets_waiting_count() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into queue_waiting (zone_id, service_date, waiting)
            select zone_id, service_date, count(*) from new_rows where state = 'waiting'
            group by zone_id, service_date
            order by zone_id, service_date
            on conflict (zone_id, service_date) do update set waiting = queue_waiting.waiting + excluded.waiting;
    elsif tg_op = 'UPDATE' then
        insert into queue_waiting (zone_id, service_date, waiting)
            select zone_id, service_date, sum(d) from (
                select zone_id, service_date, -1 as d from old_rows where state = 'waiting'
                union all
                select zone_id, service_date, 1 as d from new_rows where state = 'waiting'
            ) changes
            group by zone_id, service_date having sum(d) <> 0
            order by zone_id, service_date
            on conflict (zone_id, service_date) do update set waiting = queue_waiting.waiting + excluded.waiting;
    else
        perform 1 from queue_waiting q
            where (q.zone_id, q.service_date) in (select zone_id, service_date from old_rows where state = 'waiting')
            order by q.zone_id, q.service_date
            for update;
        update queue_waiting q set waiting = q.waiting - d.n
            from (select zone_id, service_date, count(*) as n from old_rows where state = 'waiting'
                  group by zone_id, service_date) d
            where q.zone_id = d.zone_id and q.service_date = d.service_date;
    end if;
    return null;
end $$;

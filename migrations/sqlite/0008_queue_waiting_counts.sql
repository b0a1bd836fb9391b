-- How many tickets wait in each zone on each day, kept by triggers in the transaction of
-- every change. A kiosk tells each new visitor how many are ahead, and the lobby display
-- shows the waiting per zone: counting the line on each ticket walked every waiting
-- ticket of the zone, which grew with the line.
create table queue_waiting (
    zone_id integer not null references zones (id) on delete cascade,
    service_date text not null,
    waiting integer not null,
    primary key (zone_id, service_date)
);

insert into queue_waiting (zone_id, service_date, waiting)
    select zone_id, service_date, count(*) from tickets where state = 'waiting'
    group by zone_id, service_date;

create trigger tickets_waiting_issued after insert on tickets when new.state = 'waiting'
begin
    insert into queue_waiting (zone_id, service_date, waiting) values (new.zone_id, new.service_date, 1)
        on conflict (zone_id, service_date) do update set waiting = waiting + 1;
end;

create trigger tickets_waiting_left after update of state, zone_id, service_date on tickets
    when old.state = 'waiting'
begin
    update queue_waiting set waiting = waiting - 1
        where zone_id = old.zone_id and service_date = old.service_date;
end;

create trigger tickets_waiting_joined after update of state, zone_id, service_date on tickets
    when new.state = 'waiting'
begin
    insert into queue_waiting (zone_id, service_date, waiting) values (new.zone_id, new.service_date, 1)
        on conflict (zone_id, service_date) do update set waiting = waiting + 1;
end;

create trigger tickets_waiting_deleted after delete on tickets when old.state = 'waiting'
begin
    update queue_waiting set waiting = waiting - 1
        where zone_id = old.zone_id and service_date = old.service_date;
end;

-- Failed sign-ins (issue 14), counted in one statement before the password is checked, so
-- parallel guesses cannot pass the limit. One row per login as typed and client address
-- (`client` is the address, an IPv6 address by its /64), and one per login over every
-- address (`client` = '*'). A login that has no account is counted like one that has, so the
-- answers do not tell which logins exist.
--
-- users.failed_logins and users.locked_until (0001) are no longer written; a lock is a row
-- here whose locked_until is in the future.

create table sign_in_attempts (
    login text not null,
    client text not null,
    -- Failures in a row (for '*': none further apart than the lockout time).
    failures integer not null default 0 check (failures >= 0),
    -- µs, the last failure counted.
    last_failed_at bigint not null,
    -- µs; sign-ins of this login from this client (or, for '*', from any) wait until then.
    locked_until bigint,
    primary key (login, client)
);

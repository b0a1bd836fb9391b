//! One integration-test binary: each module is an area; every storage test runs on SQLite
//! and on PostgreSQL (`YICHUANG_TEST_PG`, else a private cluster the binary starts itself: see `pg`).

mod helpers;
mod pg;

mod auth;
mod booking;
mod browser;
mod calendar;
mod cases;
mod catalog;
mod city;
mod cli;
mod crash;
mod disk;
mod edge;
mod events;
mod faults;
mod first_hour;
mod form_fuzz;
mod fuzz;
mod hall;
mod hardening;
mod jobs;
mod landing;
mod ops;
mod overruns;
mod queue;
mod schema;
mod search_index;
mod transaction;

//! Yichuang (一窗): the platform that runs a government service hall — one door, one window.
//!
//! `main.rs` only calls [`cli::run`]; [`app::App`] builds the HTTP service. Each domain area owns
//! a folder with its rules, SQL, routes and page structs; see ARCHITECTURE.md.

pub mod app;
pub mod audit;
pub mod audit_labels;
pub mod auth;
pub mod bench;
pub mod booking;
pub mod cache;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod extract;
pub mod hall;
pub mod identity;
pub mod ids;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod queue;
pub mod state;
pub mod timetable;
pub mod web;

//! The server's integration tests, in one binary so the whole stack links once: one module
//! per area, with what several of them share in `support` and `web`.

mod support;
mod web;

mod cli;
mod commands;
mod cron;
mod durability;
mod executions;
mod frontend;
mod hello;
mod python_sdk;
mod retention;
mod run_cache;
mod signals;
mod timers;
mod tls;
mod updates;
mod visibility;
mod web_api;
mod web_browser;

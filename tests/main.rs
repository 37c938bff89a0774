//! Integration and differential tests: the real `haproxyrs` binary on real sockets.
//! One test binary; each module is one area. `support` holds the shared harness.

mod support;

mod acl_config;
mod acl_runtime;
mod balance_seq;
mod cli;
mod config_invalid;
mod corpus;
mod daemon;
mod diff;
mod health_checks;
mod http_diff;
mod http_log;
mod http_maxconn;
mod http_modes;
mod http_retries;
mod http_rules;
mod http_tunnel;
mod http_tutorial;
mod log_counters;
mod log_format;
mod log_targets;
mod preprocess;
mod samples;
mod stats_page;
mod tcp_relay;
mod tcp_runtime;

//! The server end to end: real HTTP, real SQLite (and PostgreSQL shared by two servers), a
//! fake responder and a fake Graph API.

mod admin;
mod admin_browser;
mod api;
mod harness;
mod limits;
mod python_clients;
mod queue;
mod twilio;
mod two_servers;
mod whatsapp;

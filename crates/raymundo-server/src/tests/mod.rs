//! The server end to end: real HTTP, real SQLite, a fake responder and a fake Graph API.

mod admin;
mod admin_browser;
mod api;
mod harness;
mod python_clients;
mod twilio;
mod whatsapp;

//! SQLite and PostgreSQL backends for keycustody.
#![forbid(unsafe_code)]

//! PostgreSQL string quoting and splitting.

//! Pooled sessions by URI or `PGSQL_<NAME>` environment variable. Lands with the session issue.

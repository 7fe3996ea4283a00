//! The PQ v3 implementation of PG-API on tokio, with a blocking facade. Lands with the connection issue.

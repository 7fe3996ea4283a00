//! PG-API contracts: the traits (Database, Connection, Statement, Cursor, …) that pg-driver and pg-cluster implement. Lands with the connection issue.

//! PostgreSQL values, rows, arrays, composites and type I/O. Lands with the types and statements issue.

//! `pgapi`, the command-line tool. Lands with the command-line issue.

//! PostgreSQL installations, clusters and the throwaway test cluster. Lands with the cluster issue.

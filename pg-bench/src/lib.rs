//! Side-by-side benchmarks of the driver and its peers. Lands with the benchmark issue.

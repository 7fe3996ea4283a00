//! pg-bench runs at `--quick` scale and prints well-formed JSON lines. Timings are not
//! checked: the benchmark is not a test.

use std::process::Command;

#[test]
fn quick_run_prints_json_lines() {
    let output = Command::new(env!("CARGO_BIN_EXE_pg-bench"))
        .args([
            "--quick",
            "--json",
            "--reps",
            "1",
            "--warmup",
            "0",
            "--idle-wait",
            "0",
        ])
        .output()
        .expect("pg-bench runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pg-bench failed:\n{stderr}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let mut scenarios = std::collections::BTreeSet::new();
    for line in stdout.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect(line);
        let object = value.as_object().expect("an object per line");
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut expected = vec![
            "client_cpu_seconds",
            "median_seconds",
            "peak_rss_bytes",
            "scenario",
            "subject",
            "throughput",
            "unit",
        ];
        // Scenarios made of requests report their latencies too, but for pgbench, whose
        // clients, one a connection, do not queue for the pool as the tasks do: it has none.
        let pgbench = value["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("pgbench"));
        if value["scenario"] == "web" && !pgbench {
            expected.extend(["p50_latency_seconds", "p99_latency_seconds"]);
            for key in ["p50_latency_seconds", "p99_latency_seconds"] {
                assert!(value[key].as_f64().is_some_and(|s| s > 0.0), "{line}");
            }
        }
        expected.sort_unstable();
        assert_eq!(keys, expected, "{line}");
        assert!(
            value["median_seconds"].as_f64().is_some_and(|s| s > 0.0),
            "{line}"
        );
        assert!(
            value["throughput"].as_f64().is_some_and(|t| t > 0.0),
            "{line}"
        );
        assert!(
            ["rows/s", "queries/s", "requests/s", "bytes/s", "connects/s"]
                .contains(&value["unit"].as_str().unwrap())
        );
        assert!(value["client_cpu_seconds"].is_null() || value["client_cpu_seconds"].is_f64());
        assert!(value["peak_rss_bytes"].is_null() || value["peak_rss_bytes"].is_u64());
        scenarios.insert(value["scenario"].as_str().unwrap().to_owned());
    }
    // Every scenario reports (a dropped subject is a note on stderr, not a failure).
    assert_eq!(
        scenarios.into_iter().collect::<Vec<_>>(),
        [
            "big_values_16MiB",
            "big_values_1MiB",
            "concurrent",
            "connect",
            "copy_in",
            "copy_out",
            "cursor",
            "fetch",
            "insert",
            "roundtrip",
            "web"
        ],
        "{stderr}"
    );
}

//! The report: an aligned table per scenario with the ratios ours ÷ peer, or JSON lines.

use serde_json::json;

use crate::measure::Outcome;

/// The results of one scenario.
pub struct Report {
    /// The scenario's name (`roundtrip`, `fetch`, …).
    pub scenario: &'static str,
    /// What one run does.
    pub description: String,
    /// The unit of throughput: `rows/s`, `queries/s`, `requests/s`, `bytes/s` or `connects/s`.
    pub unit: &'static str,
    /// How many units one run handles.
    pub work: f64,
    /// Each subject's timed runs.
    pub outcomes: Vec<Outcome>,
    /// Subjects skipped or dropped, and why.
    pub notes: Vec<String>,
}

impl Report {
    /// Units per second at the median wall time.
    pub fn throughput(&self, outcome: &Outcome) -> f64 {
        self.work / outcome.median_seconds()
    }

    /// One JSON object per subject, its keys in the documented order.
    pub fn json_lines(&self) -> Vec<String> {
        self.outcomes
            .iter()
            .map(|o| {
                let fields = [
                    ("scenario", json!(self.scenario)),
                    ("subject", json!(o.name)),
                    ("median_seconds", json!(o.median_seconds())),
                    ("throughput", json!(self.throughput(o))),
                    ("unit", json!(self.unit)),
                    ("client_cpu_seconds", json!(o.median_cpu())),
                    ("peak_rss_bytes", json!(o.peak_rss())),
                ];
                // Only scenarios made of requests have latencies: the others' lines keep
                // their keys.
                let latency = [
                    ("p50_latency_seconds", o.median_p50()),
                    ("p99_latency_seconds", o.median_p99()),
                ];
                let latency = latency
                    .iter()
                    .filter_map(|(key, value)| value.map(|v| (*key, json!(v))));
                let body: Vec<String> = fields
                    .iter()
                    .cloned()
                    .chain(latency)
                    .map(|(key, value)| format!("{}: {value}", json!(key)))
                    .collect();
                format!("{{{}}}", body.join(", "))
            })
            .collect()
    }

    /// Whether any subject has request latencies (then the table shows them).
    fn has_latencies(&self) -> bool {
        self.outcomes.iter().any(|o| o.median_p50().is_some())
    }

    /// The throughput as the table shows it: bytes as MiB/s, other units with a k / M prefix.
    fn rate(&self, outcome: &Outcome) -> String {
        let rate = self.throughput(outcome);
        match self.unit {
            "bytes/s" => format!("{:.1} MiB/s", rate / (1024.0 * 1024.0)),
            unit => format!("{} {unit}", si(rate)),
        }
    }

    /// The table, the ratios of each of our subjects to each peer, and the notes.
    pub fn table(&self) -> String {
        let latencies = self.has_latencies();
        let mut header = vec![
            "subject",
            "median s",
            "spread",
            "throughput",
            "client CPU s",
            "CPU/wall",
            "peak RSS",
        ];
        if latencies {
            header.extend(["p50 ms", "p99 ms"]);
        }
        let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
        for o in &self.outcomes {
            let median = o.median_seconds();
            let mut row = vec![
                o.name.clone(),
                format!("{median:.3}"),
                spread(o),
                self.rate(o),
                o.median_cpu().map_or("—".into(), |c| format!("{c:.3}")),
                o.median_cpu()
                    .map_or("—".into(), |c| format!("{:.0}%", 100.0 * c / median)),
                o.peak_rss().map_or("—".into(), mib),
            ];
            if latencies {
                let ms = |v: Option<f64>| v.map_or("—".into(), |s| format!("{:.2}", s * 1e3));
                row.extend([ms(o.median_p50()), ms(o.median_p99())]);
            }
            rows.push(row);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = format!("{} — {}\n", self.scenario, self.description);
        for row in &rows {
            let mut line = String::from("  ");
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c == 0 {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str("  ");
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for ours in self.outcomes.iter().filter(|o| o.ours) {
            for peer in self.outcomes.iter().filter(|o| !o.ours) {
                let speed = self.throughput(ours) / self.throughput(peer);
                let ratio = |label: &str, a: Option<f64>, b: Option<f64>| match (a, b) {
                    (Some(a), Some(b)) if b > 0.0 => format!(", {label} {:.2}×", a / b),
                    _ => String::new(),
                };
                let cpu = ratio("client CPU", ours.median_cpu(), peer.median_cpu());
                let p50 = ratio("p50", ours.median_p50(), peer.median_p50());
                let p99 = ratio("p99", ours.median_p99(), peer.median_p99());
                out.push_str(&format!(
                    "  {} ÷ {}: throughput {speed:.2}×{cpu}{p50}{p99}\n",
                    ours.name, peer.name
                ));
            }
        }
        for note in &self.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
        out
    }
}

/// The range of the wall times around the median, ± half of (max − min) ÷ median.
fn spread(outcome: &Outcome) -> String {
    let times = outcome.samples.iter().map(|s| s.seconds);
    let (min, max) = times.fold((f64::INFINITY, 0.0f64), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    format!("±{:.0}%", 50.0 * (max - min) / outcome.median_seconds())
}

/// A rate with a k / M prefix.
fn si(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.1} k", value / 1e3)
    } else {
        format!("{value:.1}")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Sample;

    fn report() -> Report {
        let sample = |seconds, cpu| Sample {
            seconds,
            cpu_seconds: Some(cpu),
            peak_rss_bytes: None,
            ..Sample::default()
        };
        Report {
            scenario: "fetch",
            description: "1000 rows".into(),
            unit: "rows/s",
            work: 1000.0,
            outcomes: vec![
                Outcome {
                    name: "ours".into(),
                    ours: true,
                    samples: vec![sample(0.5, 0.25), sample(0.4, 0.2), sample(0.6, 0.3)],
                },
                Outcome {
                    name: "peer".into(),
                    ours: false,
                    samples: vec![sample(1.0, 1.0)],
                },
            ],
            notes: vec!["x skipped".into()],
        }
    }

    #[test]
    fn json_lines_have_every_field() {
        let lines = report().json_lines();
        let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["scenario"], "fetch");
        assert_eq!(first["median_seconds"], 0.5);
        assert_eq!(first["throughput"], 2000.0);
        assert_eq!(first["client_cpu_seconds"], 0.25);
        assert!(first["peak_rss_bytes"].is_null());
        assert!(lines[0].starts_with(r#"{"scenario": "fetch", "subject": "ours", "#));
    }

    #[test]
    fn latencies_only_where_measured() {
        let mut report = report();
        assert!(!report.table().contains("p99 ms"));
        assert!(!report.json_lines()[0].contains("latency"));
        for outcome in &mut report.outcomes {
            for sample in &mut outcome.samples {
                *sample = sample.with_latencies(vec![0.001, 0.002, 0.010]);
            }
        }
        let table = report.table();
        assert!(table.contains("p99 ms"), "{table}");
        assert!(table.contains("p50 1.00×, p99 1.00×"), "{table}");
        let first: serde_json::Value = serde_json::from_str(&report.json_lines()[0]).unwrap();
        assert_eq!(first["p50_latency_seconds"], 0.002);
        assert_eq!(first["p99_latency_seconds"], 0.010);
    }

    #[test]
    fn bytes_show_as_mib() {
        let mut report = report();
        report.unit = "bytes/s";
        report.work = 1024.0 * 1024.0 * 1000.0;
        assert!(
            report.table().contains("2000.0 MiB/s"),
            "{}",
            report.table()
        );
    }

    #[test]
    fn table_has_ratios_and_notes() {
        let table = report().table();
        assert!(
            table.contains("ours ÷ peer: throughput 2.00×, client CPU 0.25×"),
            "{table}"
        );
        assert!(table.contains("note: x skipped"));
        assert!(table.contains("2.0 k rows/s"));
    }
}

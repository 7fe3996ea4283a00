//! `pg-bench`: the driver and its peers side by side on one server, scenario by scenario.
//!
//! ```sh
//! cargo run --release -p pg-bench -- [--iri IRI] [--scenario NAME]… [--json] [--quick]
//! ```
//!
//! Without `--iri` it starts a throwaway cluster. Every subject of a scenario runs
//! `--warmup` untimed times, then `--reps` timed times, interleaved (A B C A B C …); the
//! report gives the medians. See BENCHMARKS.md for what each scenario does and a run's figures.

mod bench;
mod big_values;
mod concurrent;
mod connect;
mod copy;
mod cursor;
mod fetch;
mod idle;
mod insert;
mod measure;
mod peers;
mod pools;
mod report;
mod roundtrip;
mod web;

use std::process::ExitCode;

use clap::Parser;

use crate::bench::{Bench, Flavor, Scale};
use crate::measure::{Plan, Result};
use crate::report::Report;

/// A scenario: it runs every subject on the bench and reports (one report per part).
type Scenario = fn(&Bench) -> Result<Vec<Report>>;

/// A scenario of one part.
macro_rules! one {
    ($run:path) => {
        |bench| $run(bench).map(|report| vec![report])
    };
}

/// The scenarios, in the order they run.
const SCENARIOS: [(&str, Scenario); 10] = [
    ("roundtrip", one!(roundtrip::run)),
    ("fetch", one!(fetch::run)),
    ("insert", one!(insert::run)),
    ("copy_out", one!(copy::run_out)),
    ("copy_in", one!(copy::run_in)),
    ("concurrent", one!(concurrent::run)),
    ("cursor", one!(cursor::run)),
    ("web", one!(web::run)),
    ("big_values", big_values::run),
    ("connect", one!(connect::run)),
];

/// Side-by-side benchmarks of this project's driver and its peers.
#[derive(Parser, Debug)]
#[command(name = "pg-bench", version)]
struct Args {
    /// The server to use (pq:// or postgresql://); a throwaway cluster when absent.
    #[arg(long)]
    iri: Option<String>,
    /// Only these scenarios (repeat or separate with commas): roundtrip, fetch, insert,
    /// copy_out, copy_in, concurrent, cursor, web, big_values, connect.
    #[arg(long, value_delimiter = ',')]
    scenario: Vec<String>,
    /// Only the subjects whose names contain this (repeatable), e.g. for profiling one;
    /// `=NAME` for exactly that subject ("=deadpool-postgres", not its Clean twin).
    #[arg(long)]
    subject: Vec<String>,
    /// One JSON object per subject and line instead of the table.
    #[arg(long)]
    json: bool,
    /// A tiny scale that only checks everything runs.
    #[arg(long)]
    quick: bool,
    /// Timed runs of each subject.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Untimed runs of each subject first.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// How many seconds each run may wait for the machine to be idle (other processes' CPU use
    /// under 10%) before it starts; 0 starts at once.
    #[arg(long, default_value_t = 60.0)]
    idle_wait: f64,
    /// The tokio runtime the async subjects run on: `multi` (what `#[tokio::main]` makes,
    /// a worker per core) or `current` (one thread, as the blocking facades use).
    #[arg(long, value_enum, default_value_t = Flavor::Multi)]
    runtime: Flavor,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pg-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    for name in &args.scenario {
        if !SCENARIOS.iter().any(|(n, _)| n == name) {
            return Err(format!("no scenario {name:?}").into());
        }
    }
    let scale = if args.quick {
        Scale::quick()
    } else {
        Scale::full()
    };
    let plan = Plan {
        warmup: args.warmup,
        reps: args.reps.max(1),
        only: args.subject.clone(),
        idle_wait: std::time::Duration::from_secs_f64(args.idle_wait.max(0.0)),
    };
    let mut notes = Vec::new();
    let bench = Bench::start(
        args.iri.as_deref(),
        scale,
        plan.clone(),
        args.runtime,
        &mut notes,
    )?;
    let tools = |name: &str, path: &Option<std::path::PathBuf>| {
        path.as_ref().map(|p| format!("{name} {}", p.display()))
    };
    eprintln!(
        "pg-bench: server {} ({}); {:?} runtime; {} warm-up + {} timed runs per subject; peers: {}",
        bench.server.iri(),
        bench.server_version(),
        args.runtime,
        plan.warmup,
        plan.reps,
        [
            tools("pgbench", &bench.tools.pgbench),
            tools("psql", &bench.tools.psql),
            bench
                .tools
                .asyncpg
                .as_ref()
                .map(|a| { format!("asyncpg {}", a.version().unwrap_or_default()) }),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    );
    for note in &notes {
        eprintln!("note: {note}");
    }
    for (name, scenario) in SCENARIOS {
        if !args.scenario.is_empty() && !args.scenario.iter().any(|n| n == name) {
            continue;
        }
        eprintln!("pg-bench: {name}…");
        for report in scenario(&bench)? {
            if args.json {
                for line in report.json_lines() {
                    println!("{line}");
                }
                for note in &report.notes {
                    eprintln!("note: {}: {note}", report.scenario);
                }
            } else {
                println!("{}", report.table());
            }
        }
    }
    bench.clean_up()
}

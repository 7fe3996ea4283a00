//! `connect`: connections opened and closed one after the other, each logging in with a
//! SCRAM-SHA-256 password over TCP (no TLS), the way a program without a pool (a CLI, a
//! serverless function, a pool filling up) meets the server.
//!
//! Each subject parses its connection parameters once, untimed; the timed part is the TCP
//! connect, the startup and SCRAM exchange (PBKDF2's 4,096 rounds on the client), the server's
//! reports up to ReadyForQuery, and a clean close (Terminate). Our connector keeps the salted
//! password a server confirmed and skips PBKDF2 when it connects again (RFC 5802, 5.1), as a
//! pool or a program reconnecting does; `ours new connector` makes a connector per connect, so
//! every exchange runs PBKDF2, as the peers' do.

use sqlx::ConnectOptions;

use crate::bench::Bench;
use crate::measure::{Result, Subject, in_process, interleave};
use crate::report::Report;

/// Runs the scenario.
pub fn run(bench: &Bench) -> Result<Report> {
    let n = bench.scale.connects;
    let rt = &bench.rt;
    let uri = bench.login_uri();
    let mut notes = Vec::new();
    let mut subjects = Vec::new();

    let params = pg_driver::params::Keywords::parse(&uri)?.resolve()?;
    let connector = pg_driver::Connector::new(params.clone());
    // What the server asks for, as our driver saw it: the figures are SCRAM's only if it is.
    let probe = rt.block_on(connector.connect())?;
    let method = probe.auth_method();
    probe.close();
    if method != pg_driver::AuthMethod::ScramSha256 {
        notes.push(format!(
            "the server authenticated the login with {method:?}, not SCRAM-SHA-256"
        ));
    }
    subjects.push(Subject::ours("ours", move || {
        in_process(false, || {
            rt.block_on(async {
                for _ in 0..n {
                    connector.connect().await?.close();
                }
                Ok(())
            })
        })
    }));

    subjects.push(Subject::ours("ours new connector", move || {
        in_process(false, || {
            rt.block_on(async {
                for _ in 0..n {
                    let connector = pg_driver::Connector::new(params.clone());
                    connector.connect().await?.close();
                }
                Ok(())
            })
        })
    }));

    let config: tokio_postgres::Config = uri.parse()?;
    subjects.push(Subject::peer("tokio-postgres", move || {
        in_process(false, || {
            rt.block_on(async {
                for _ in 0..n {
                    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
                    let connection = tokio::spawn(connection);
                    // Dropping the client sends Terminate; the connection then ends.
                    drop(client);
                    connection.await??;
                }
                Ok(())
            })
        })
    }));

    let options: sqlx::postgres::PgConnectOptions = uri.parse()?;
    subjects.push(Subject::peer("sqlx", move || {
        in_process(false, || {
            rt.block_on(async {
                for _ in 0..n {
                    sqlx::Connection::close(options.connect().await?).await?;
                }
                Ok(())
            })
        })
    }));

    if let Some(asyncpg) = &bench.tools.asyncpg {
        let (uri, count) = (uri.clone(), n.to_string());
        subjects.push(Subject::peer("asyncpg", move || {
            asyncpg.run(&uri, "connect", &[&count], n, false)
        }));
    } else {
        notes.push("asyncpg skipped: python3 cannot import it".to_owned());
    }

    let outcomes = interleave(subjects, &bench.plan, &mut notes);
    Ok(Report {
        scenario: "connect",
        description: format!(
            "{n} connections opened and closed in turn, each a SCRAM-SHA-256 login over TCP \
             without TLS (ours Connector::connect, one connector throughout or a new one \
             each time; tokio-postgres Config::connect; sqlx PgConnection::connect_with; \
             asyncpg.connect)"
        ),
        unit: "connects/s",
        work: n as f64,
        outcomes,
        notes,
    })
}

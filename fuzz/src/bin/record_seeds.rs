//! Records the seed corpus from a real server: a throwaway cluster (pg-cluster's `Temporal`),
//! or the server `PGTEST_IRI` names.
//!
//! - `seeds/backend/`: for each operation of `pg_fuzz::ops`, the bytes the server sent while
//!   the driver ran it, through a recording relay: `<op>.startup` from the first byte
//!   (selector `0x80 | op`) and `<op>` from after the startup's ReadyForQuery. Each is
//!   replayed through the scripted server and must fail exactly the calls the live run did.
//!   Two hand-made startups (MD5, SCRAM) cover the password exchanges a trust server skips.
//! - `seeds/decode/`: each sample value's binary and text forms as the server sent them (and
//!   an `hstore` encoded here).
//! - `seeds/data_row/`: rows of the many-types query, eight columns at a time.
//! - `seeds/string/`: SQL written by the server (view definitions) and quoting corner cases.
//! - `seeds/params/`: IRIs, conninfo strings, environments and password files.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --features record --bin record_seeds`

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pg_driver::params::Host;
use pg_fuzz::ops::{OPS, TYPES_SQL};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

type Failure = Box<dyn std::error::Error>;

/// Sample values: a name for the seed file and an SQL expression.
const SAMPLES: &[(&str, &str)] = &[
    ("bool", "true"),
    ("int2", "(-3)::int2"),
    ("int4", "2147483647"),
    ("int8", "(-9223372036854775808)::int8"),
    ("float4", "'-Infinity'::float4"),
    ("float8", "1e-300::float8"),
    ("numeric", "'-12345.678900'::numeric"),
    ("numeric_big", "'1e200'::numeric + 0.000001"),
    ("numeric_nan", "'NaN'::numeric"),
    ("numeric_inf", "'Infinity'::numeric"),
    ("text", "'héllo wörld'::text"),
    ("char", "'x'::\"char\""),
    ("name", "'pg_class'::name"),
    ("bpchar", "'ab'::char(4)"),
    ("bytea", "'\\xdeadbeef00'::bytea"),
    ("date", "'2000-02-29'::date"),
    ("date_inf", "'-infinity'::date"),
    ("time", "'23:59:59.999999'::time"),
    ("timetz", "'12:34:56-05:30'::timetz"),
    ("timestamp", "'2001-02-03 04:05:06.789'::timestamp"),
    ("timestamp_bc", "'0044-03-15 12:00 BC'::timestamp"),
    ("timestamptz", "'2038-01-19 03:14:08+00'::timestamptz"),
    ("interval", "'1 year -2 mons 3 days 04:05:06.789'::interval"),
    ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"),
    ("json", "'{\"a\": [1, 2.5, null, \"x\"]}'::json"),
    ("jsonb", "'{\"a\": [1, 2.5, null, \"x\"]}'::jsonb"),
    ("xml", "'<a b=\"c\">d</a>'::xml"),
    ("oid", "42::oid"),
    ("regclass", "'pg_class'::regclass"),
    ("regtype", "'int4'::regtype"),
    ("inet4", "'192.168.0.1/24'::inet"),
    ("inet6", "'2001:db8::1'::inet"),
    ("cidr", "'10.0.0.0/8'::cidr"),
    ("macaddr", "'08:00:2b:01:02:03'::macaddr"),
    ("macaddr8", "'08:00:2b:01:02:03:04:05'::macaddr8"),
    ("bit", "B'1011'::bit(4)"),
    ("varbit", "B'1011001110'::varbit"),
    ("point", "'(1.5,-2)'::point"),
    ("lseg", "'[(0,0),(1,1)]'::lseg"),
    ("box", "'((0,0),(2,3))'::box"),
    ("path_open", "'[(0,0),(1,1),(2,0)]'::path"),
    ("path_closed", "'((0,0),(1,1),(2,0))'::path"),
    ("polygon", "'((0,0),(1,1),(2,0))'::polygon"),
    ("line", "'{1,2,3}'::line"),
    ("circle", "'<(1,2),3>'::circle"),
    ("money", "'12.34'::money"),
    ("tsvector", "'a fat cat'::tsvector"),
    ("pg_lsn", "'16/B374D848'::pg_lsn"),
    ("tid", "'(1,2)'::tid"),
    ("int2vector", "'1 2 3'::int2vector"),
    ("oidvector", "'1 2 3'::oidvector"),
    ("int4_array", "'{{1,2},{3,NULL}}'::int4[]"),
    ("int4_array_bounds", "'[2:3]={1,2}'::int4[]"),
    ("text_array", "ARRAY['a', 'b c', NULL, '\"']"),
    ("float8_array", "ARRAY[1.5, 'NaN', '-Infinity']::float8[]"),
    ("numeric_array", "ARRAY[1.5, -2, 'NaN']::numeric[]"),
    ("empty_array", "'{}'::int8[]"),
    ("bool_array3", "'{{{t,f}},{{f,t}}}'::bool[]"),
    ("int4range", "'[1,10)'::int4range"),
    ("int4range_empty", "'empty'::int4range"),
    ("numrange", "'(,5.5]'::numrange"),
    ("tstzrange", "tstzrange('2001-01-01', 'infinity')"),
    ("daterange", "'[2000-01-01,2000-12-31]'::daterange"),
    ("int8range_array", "ARRAY['[1,2)'::int8range, 'empty']"),
    ("int4multirange", "'{[1,3), [5,7)}'::int4multirange"),
    ("datemultirange", "'{}'::datemultirange"),
    ("record", "ROW(1, 'a', NULL, ARRAY[1, 2])"),
    ("record_nested", "ROW(ROW(1, ROW('x')), 2.5)"),
    ("record_array", "ARRAY[ROW(1, 'a'), ROW(2, NULL)]"),
    ("jsonpath", "'$.a[*] ? (@ > 1)'::jsonpath"),
    ("txid_snapshot", "txid_current_snapshot()"),
];

/// Strings for pg-string: quoting corner cases as the tests write them.
const STRINGS: &[(&str, &str)] = &[
    ("dollar", "select $$foobar$$, $tag$a $$ b$tag$, $1, a$$b"),
    ("escape", "E'\\\\\\'' || e'x\\n' || 'it''s' || somee'x'"),
    ("identifiers", "Public . \"My \"\"Table\"\"\""),
    (
        "statements",
        "select 1; select ';'; select \";\"; select $$;$$;",
    ),
    ("runaway", "select 'never closed; select 2"),
    ("comments", "-- it's a comment\nselect /* \"x */ 1"),
    ("unicode", "SELECT 'é', \"Å\", $_é$😀$_é$"),
];

/// Parameter texts: IRIs, conninfo strings, environments, password files.
const PARAMS: &[(&str, &str)] = &[
    (
        "pq_iri",
        "pq://user:p%40ss@[::1]:5433/db?[sslmode]=require&[connect_timeout]=10&search_path=a#public,app",
    ),
    (
        "postgresql_uri",
        "postgresql://u@h1:1,h2:2/db?target_session_attrs=read-write&application_name=x&options=-c%20a%3Db",
    ),
    ("unix_uri", "postgresql://u@%2Ftmp%2Fsock:5433/d%2Fb"),
    ("pq_unix", "pq://u@[unix:/tmp/sock]/db"),
    (
        "conninfo",
        "host=/tmp,db.example port=5432,5433 user='a b' password=x\\'y dbname=d sslmode=verify-full keepalives_idle=5",
    ),
    (
        "environment",
        "PGHOST=h\nPGPORT=5433\nPGUSER=u\nPGDATABASE=d\nPGSSLMODE=prefer\nPGCONNECT_TIMEOUT=3\nPGTZ=UTC\nPGOPTIONS=-c x=y",
    ),
    (
        "pgpass",
        "h:5432:db:user\n# comment\nlocalhost:*:*:user:secret\nh\\:x:5432:db:user:pa\\:ss\n*:*:*:*:fallback",
    ),
];

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes)?;
    Ok(())
}

/// Copies `from` to `to`, keeping a copy of what passed in `record`.
async fn relay(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    record: Option<Arc<Mutex<Vec<u8>>>>,
) {
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(record) = &record {
            record
                .lock()
                .expect("not poisoned")
                .extend_from_slice(&buf[..n]);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

async fn upstream(host: &Host) -> Result<Box<dyn Stream>, Failure> {
    Ok(match host.socket_path() {
        Some(path) => Box::new(UnixStream::connect(path).await?),
        None => {
            let Host::Tcp { host, port, .. } = host else {
                return Err("an unexpected host".into());
            };
            Box::new(TcpStream::connect((host.as_str(), *port)).await?)
        }
    })
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Runs operation `op` through a recording relay; the server's bytes and the failure count.
async fn record(temporal: &pg_cluster::Temporal, op: u8) -> Result<(Vec<u8>, usize), Failure> {
    let params = temporal.params().clone();
    let server = upstream(&params.hosts()[0]).await?;
    let (client, relay_end) = UnixStream::pair()?;
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let (server_read, server_write) = tokio::io::split(server);
    let (relay_read, relay_write) = relay_end.into_split();
    let up = tokio::spawn(relay(relay_read, server_write, None));
    let down = tokio::spawn(relay(server_read, relay_write, Some(recorded.clone())));
    let db = pg_driver::fuzzing::connect_over(client, params, None).await?;
    let failures = pg_fuzz::ops::run(&db, op).await;
    db.close();
    drop(db);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let _ = down.await;
        let _ = up.await;
    })
    .await;
    let bytes = recorded.lock().expect("not poisoned").clone();
    Ok((bytes, failures))
}

/// The ParameterStatus messages of the startup.
fn reported(script: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(header) = script.get(at..at + 5) {
        let end =
            at + 1 + i32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        match header[0] {
            b'S' => out.extend_from_slice(&script[at..end]),
            b'Z' => break,
            _ => {}
        }
        at = end;
    }
    out
}

/// Where the startup ends: just after the first ReadyForQuery.
fn after_startup(script: &[u8]) -> usize {
    let mut at = 0;
    while let Some(header) = script.get(at..at + 5) {
        let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        at += 1 + len;
        if header[0] == b'Z' {
            return at;
        }
    }
    script.len()
}

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A server's greeting after authentication: parameters, backend key, ReadyForQuery.
fn greeting() -> Vec<u8> {
    [
        message(b'R', &0i32.to_be_bytes()),
        message(b'S', b"server_version\x0016.4 (Debian 16.4-1)\0"),
        message(b'S', b"client_encoding\0UTF8\0"),
        message(b'S', b"integer_datetimes\0on\0"),
        message(b'K', &[0, 0, 0x30, 0x39, 1, 2, 3, 4]),
        message(b'Z', b"I"),
    ]
    .concat()
}

async fn backend_seeds(temporal: &pg_cluster::Temporal, dir: &Path) -> Result<(), Failure> {
    for (op, name) in OPS.iter().enumerate() {
        let op = op as u8;
        let (script, live) = record(temporal, op).await?;
        let startup_seed = [&[0x80 | op][..], &script].concat();
        let session_seed = [
            &[op][..],
            &reported(&script),
            &script[after_startup(&script)..],
        ]
        .concat();
        for (file, seed) in [
            (format!("{name}.startup"), &startup_seed),
            (name.to_string(), &session_seed),
        ] {
            let replayed = tokio::task::spawn_blocking({
                let seed = seed.clone();
                move || pg_fuzz::backend::replay(&seed)
            })
            .await?;
            println!(
                "backend/{file}: {} bytes, {live} failed calls live, {replayed:?} replayed",
                seed.len()
            );
            if replayed != Some(live) {
                return Err(format!("backend/{file} does not replay as it ran").into());
            }
            write(dir, &file, seed)?;
        }
    }
    // Password exchanges a trust server never shows (SCRAM fails at the server's proof: the
    // client nonce is random, which is still the parsing worth fuzzing).
    let md5 = [
        &[0x80][..],
        &message(b'R', &[0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef]),
        &greeting(),
        &message(b'Z', b"I"),
    ]
    .concat();
    write(dir, "md5.startup", &md5)?;
    let scram = [
        &[0x81][..],
        &message(b'R', b"\0\0\0\x0aSCRAM-SHA-256\0\0"),
        &message(
            b'R',
            b"\0\0\0\x0br=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        ),
        &message(
            b'R',
            b"\0\0\0\x0cv=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        ),
        &greeting(),
    ]
    .concat();
    write(dir, "scram.startup", &scram)?;
    Ok(())
}

async fn value_seeds(temporal: &pg_cluster::Temporal, root: &Path) -> Result<(), Failure> {
    let db = temporal.connect().await?;
    for (name, expr) in SAMPLES {
        let sql = format!("SELECT {expr}");
        let ps = db.prepare(&sql).await?;
        let column = &ps.columns().as_slice()[0];
        let oid = column.type_.oid().to_be_bytes();
        let rows = ps.call(()).await?.rows;
        let raw = rows[0].raw(0)?.unwrap_or_default().to_vec();
        let mode = u8::from(column.is_text());
        write(
            &root.join("decode"),
            name,
            &[&[mode][..], &oid, &raw].concat(),
        )?;
        let text = db.simple(&sql).await?[0].rows[0][0]
            .clone()
            .unwrap_or_default();
        write(
            &root.join("decode"),
            &format!("{name}.text"),
            &[&[1][..], &oid, text.as_bytes()].concat(),
        )?;
    }
    // hstore is an extension the throwaway cluster may lack: its encoding is written here.
    let hstore = pg_fuzz::types::type_for(pg_fuzz::types::HSTORE);
    let value =
        pg_types::Value::Hstore([("a".into(), Some("1".into())), ("b".into(), None)].into());
    let mut raw = bytes::BytesMut::new();
    pg_types::encode(&hstore, &value, &mut raw)?;
    let oid = pg_fuzz::types::HSTORE.to_be_bytes();
    write(
        &root.join("decode"),
        "hstore",
        &[&[0][..], &oid, &raw].concat(),
    )?;
    let ps = db.prepare(TYPES_SQL).await?;
    let row = ps.call(()).await?.rows.remove(0);
    let columns = ps.columns().as_slice();
    for (n, group) in (0..columns.len()).collect::<Vec<_>>().chunks(8).enumerate() {
        let mut seed = vec![group.len() as u8];
        for &i in group {
            seed.extend_from_slice(&columns[i].type_.oid().to_be_bytes());
            seed.push(u8::from(columns[i].is_text()));
        }
        seed.extend_from_slice(&(group.len() as i16).to_be_bytes());
        for &i in group {
            match row.raw(i)? {
                Some(raw) => {
                    seed.extend_from_slice(&(raw.len() as i32).to_be_bytes());
                    seed.extend_from_slice(raw);
                }
                None => seed.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        write(&root.join("data_row"), &format!("types{n}"), &seed)?;
    }
    // SQL the server itself wrote: a few view definitions of the information schema.
    let views = db
        .simple(
            "SELECT viewname, definition FROM pg_views WHERE schemaname = 'information_schema' \
             AND length(definition) < 2500 ORDER BY length(definition) DESC LIMIT 6",
        )
        .await?;
    for row in &views[0].rows {
        let (Some(name), Some(definition)) = (&row[0], &row[1]) else {
            continue;
        };
        write(
            &root.join("string"),
            &format!("view_{name}"),
            definition.as_bytes(),
        )?;
    }
    db.close();
    Ok(())
}

fn main() -> Result<(), Failure> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let temporal = pg_cluster::Temporal::get()?;
    pg_driver::set_process_message_hook(Some(Arc::new(|_| true)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        backend_seeds(temporal, &root.join("backend")).await?;
        value_seeds(temporal, &root).await
    })?;
    for (name, text) in STRINGS {
        write(&root.join("string"), name, text.as_bytes())?;
    }
    for (name, text) in PARAMS {
        write(&root.join("params"), name, text.as_bytes())?;
    }
    println!("seeds written to {}", root.display());
    Ok(())
}

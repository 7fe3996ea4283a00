//! The exchange against published vectors and, for many random inputs, against
//! postgres-protocol's `ScramSha256` (what the driver used before): the same client-final
//! message, and the same verdict on the server's final message.

use postgres_protocol::authentication::sasl as theirs;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;

/// No salted passwords kept: every exchange runs PBKDF2.
fn none() -> SaltedPasswords {
    SaltedPasswords::default()
}

#[test]
fn recorded_psql_exchange() {
    // postgres-protocol's recording of psql's exchange with a server (password "foobar").
    let client = ClientFirst::with_nonce(
        b"foobar",
        ChannelBinding::Unsupported,
        "9IZ2O01zb9IgiIZ1WJ/zgpJB".into(),
    );
    assert_eq!(client.message(), b"n,,n=,r=9IZ2O01zb9IgiIZ1WJ/zgpJB");
    let fin = client
        .answer(
            b"r=9IZ2O01zb9IgiIZ1WJ/zgpJBjx/oIRLs02gGSHcw1KEty3eY,s=fs3IXBy7U7+IvVjZ,i=4096",
            &none(),
        )
        .unwrap();
    assert_eq!(
        fin.message(),
        b"c=biws,r=9IZ2O01zb9IgiIZ1WJ/zgpJBjx/oIRLs02gGSHcw1KEty3eY,\
          p=AmNKosjJzS31NTlQYNs5BTeQjdHdk7lOflDo5re2an8="
    );
    fin.verify(b"v=U+ppxD5XUKtradnv8e2MkeupiA8FU87Sg8CXzXHDAzw=", &none())
        .unwrap();
    assert_eq!(
        fin.verify(b"v=U+ppxD5XUKtradnv8e2MkeupiA8FU87Sg8CXzXHDAzx=", &none()),
        Err(ScramError::Malformed(
            SERVER_FINAL,
            "the verifier is not base64"
        ))
    );
    assert_eq!(
        fin.verify(b"v=V+ppxD5XUKtradnv8e2MkeupiA8FU87Sg8CXzXHDAzw=", &none()),
        Err(ScramError::WrongSignature)
    );
}

#[test]
fn fresh_nonces_are_printable_and_differ() {
    let a = ClientFirst::new(b"pw", ChannelBinding::Unsupported);
    let b = ClientFirst::new(b"pw", ChannelBinding::Unrequested);
    assert_eq!(a.nonce.len(), 24);
    assert!(
        a.nonce
            .bytes()
            .all(|c| (0x21..=0x7e).contains(&c) && c != b',')
    );
    assert_ne!(a.nonce, b.nonce);
    assert!(b.message.starts_with("y,,n=,r="));
}

#[test]
fn server_first_messages_that_are_refused() {
    let first = || ClientFirst::with_nonce(b"pw", ChannelBinding::Unsupported, "abc".into());
    let cases: [(&[u8], ScramError); 12] = [
        (b"r=abcd,s=c2FsdA==,i=0", ScramError::IterationCount(0)),
        (
            b"r=abcd,s=c2FsdA==,i=100001",
            ScramError::IterationCount(100_001),
        ),
        (b"r=abd,s=c2FsdA==,i=1", ScramError::NonceMismatch),
        (b"r=,s=c2FsdA==,i=1", ScramError::NonceMismatch),
        (
            b"r=abcd,s=c2FsdA=,i=1",
            ScramError::Malformed(SERVER_FIRST, "the salt is not base64"),
        ),
        (
            b"r=abcd,s=c2FsdA==,i=99999999999",
            ScramError::Malformed(SERVER_FIRST, "the iteration count is too large"),
        ),
        (
            b"r=abcd,s=c2FsdA==,i=+1",
            ScramError::Malformed(SERVER_FIRST, "the iteration count is not a number"),
        ),
        (
            b"r=abcd,s=c2FsdA==,i=1,x=y",
            ScramError::Malformed(SERVER_FIRST, "more than r=, s= and i="),
        ),
        (
            b"m=ext,r=abcd,s=c2FsdA==,i=1",
            ScramError::Malformed(SERVER_FIRST, "no nonce (r=) first"),
        ),
        (
            b"r=abcd,i=1,s=c2FsdA==",
            ScramError::Malformed(SERVER_FIRST, "no salt (s=) second"),
        ),
        (
            b"r=abc d,s=c2FsdA==,i=1",
            ScramError::Malformed(SERVER_FIRST, "the nonce is not printable"),
        ),
        (
            b"r=abc\xff,s=c2FsdA==,i=1",
            ScramError::Malformed(SERVER_FIRST, "not UTF-8"),
        ),
    ];
    for (message, expected) in cases {
        let got = first().answer(message, &none()).map(drop);
        assert_eq!(got, Err(expected), "{}", String::from_utf8_lossy(message));
    }
    assert!(
        first().answer(b"r=abcd,s=,i=1", &none()).is_ok(),
        "an empty salt"
    );
}

#[test]
fn server_final_errors_are_reported_without_the_password() {
    let fin = ClientFirst::with_nonce(b"secret pw", ChannelBinding::Unsupported, "n".into())
        .answer(b"r=nn,s=c2FsdA==,i=2", &none())
        .unwrap();
    let e = fin.verify(b"e=invalid-proof", &none()).unwrap_err();
    assert_eq!(e, ScramError::Server("invalid-proof".into()));
    for text in [e.to_string(), format!("{fin:?}")] {
        assert!(!text.contains("secret"), "{text}");
    }
    let first = ClientFirst::with_nonce(b"secret pw", ChannelBinding::Unsupported, "n".into());
    assert!(!format!("{first:?}").contains("secret"));
    for message in [&b"e=a,b"[..], b"", b"x=abc", b"v="] {
        assert!(fin.verify(message, &none()).is_err());
    }
}

/// A password of random characters that exercise SASLprep (spaces mapped to a space,
/// characters mapped to nothing, NFKC), half the time with characters it prohibits (controls,
/// private use, unassigned) or whose bidirectional rules fail it; or random bytes (a password
/// in a single-byte server encoding, not UTF-8).
fn random_password(rng: &mut StdRng) -> Vec<u8> {
    const ALLOWED: &[char] = &[
        'a',
        'Z',
        '7',
        ' ',
        '~',
        ',',
        '=',
        'é',
        'ß',
        '\u{a0}',
        '\u{ad}',
        '\u{2002}',
        'ﬁ',
        'Ⅸ',
        '\u{301}',
        '\u{200b}',
        '\u{1f600}',
        'I',
        '\u{130}',
        '\u{fb01}',
        '\u{ff21}',
    ];
    const REFUSED: &[char] = &[
        '\u{7}', '\u{7f}', '\u{e000}', '\u{378}', '\u{2028}', 'א', 'ب', '\u{fffd}',
    ];
    let len = rng.random_range(0..=80usize);
    if rng.random_bool(0.15) {
        return (0..len).map(|_| rng.random::<u8>()).collect();
    }
    let refused = rng.random_bool(0.5);
    (0..len)
        .map(|_| match rng.random_range(0..ALLOWED.len() + 2) {
            i if i < ALLOWED.len() => ALLOWED[i],
            _ if refused => REFUSED[rng.random_range(0..REFUSED.len())],
            _ => 'x',
        })
        .collect::<String>()
        .into_bytes()
}

#[test]
fn passwords_are_saslprepped_when_they_can_be() {
    let final_message = |password: &str| {
        ClientFirst::with_nonce(password.as_bytes(), ChannelBinding::Unsupported, "n".into())
            .answer(b"r=nn,s=c2FsdA==,i=1", &none())
            .unwrap()
            .message
    };
    // A soft hyphen maps to nothing, a no-break space to a space, a ligature (NFKC) to
    // its letters.
    assert_eq!(final_message("pass\u{ad}word"), final_message("password"));
    assert_eq!(final_message("a\u{a0}b"), final_message("a b"));
    assert_eq!(final_message("\u{fb01}"), final_message("fi"));
    // A control character fails SASLprep: the password goes as it is.
    assert_ne!(final_message("a\u{7}"), final_message("a"));
}

fn random_printable(rng: &mut StdRng, len: usize) -> String {
    (0..len)
        .map(|_| match rng.random_range(0x21u8..=0x7e) {
            b',' => '~',
            c => c as char,
        })
        .collect()
}

/// A channel binding, for both implementations: none, unrequested, or random end-point data.
fn random_binding(rng: &mut StdRng) -> Option<Option<Vec<u8>>> {
    match rng.random_range(0..3) {
        0 => None,
        1 => Some(None),
        _ => {
            let len = [32, 48, 64][rng.random_range(0..3)];
            Some(Some((0..len).map(|_| rng.random()).collect()))
        }
    }
}

fn bindings(spec: &Option<Option<Vec<u8>>>) -> (ChannelBinding, theirs::ChannelBinding) {
    match spec {
        None => (
            ChannelBinding::Unsupported,
            theirs::ChannelBinding::unsupported(),
        ),
        Some(None) => (
            ChannelBinding::Unrequested,
            theirs::ChannelBinding::unrequested(),
        ),
        Some(Some(data)) => (
            ChannelBinding::TlsServerEndPoint(data.clone()),
            theirs::ChannelBinding::tls_server_end_point(data.clone()),
        ),
    }
}

/// One case's inputs.
struct Case {
    password: Vec<u8>,
    binding: Option<Option<Vec<u8>>>,
    salt: String,
    iterations: u32,
    server_nonce: String,
}

/// Both clients through the case to their client-final messages, which must be the same
/// (postgres-protocol picks the nonce, ours takes it).
fn both(case: &Case, what: &str) -> (ClientFinal, theirs::ScramSha256) {
    let (ours_binding, their_binding) = bindings(&case.binding);
    let mut them = theirs::ScramSha256::new(&case.password, their_binding);
    let their_first = std::str::from_utf8(them.message()).unwrap().to_owned();
    let nonce = their_first.split_once("n=,r=").unwrap().1.to_owned();
    let us = ClientFirst::with_nonce(&case.password, ours_binding, nonce.clone());
    assert_eq!(
        std::str::from_utf8(us.message()).unwrap(),
        their_first,
        "{what}"
    );
    let server_first = format!(
        "r={nonce}{},s={},i={}",
        case.server_nonce, case.salt, case.iterations
    );
    them.update(server_first.as_bytes()).unwrap();
    let us = us.answer(server_first.as_bytes(), &none()).unwrap();
    assert_eq!(
        std::str::from_utf8(us.message()).unwrap(),
        std::str::from_utf8(them.message()).unwrap(),
        "{what}"
    );
    (us, them)
}

#[test]
fn agrees_with_postgres_protocol() {
    let seed = rand::random::<u64>();
    let mut rng = StdRng::seed_from_u64(seed);
    for n in 0..300 {
        let what = format!("seed {seed}, case {n}");
        let salt: Vec<u8> = (0..rng.random_range(0..=40))
            .map(|_| rng.random())
            .collect();
        let case = Case {
            password: random_password(&mut rng),
            binding: random_binding(&mut rng),
            salt: BASE64.encode(salt),
            iterations: if n % 100 == 0 {
                4096
            } else {
                rng.random_range(1..=64)
            },
            server_nonce: {
                let len = rng.random_range(0..=32);
                random_printable(&mut rng, len)
            },
        };
        // The signature ours expects is the one theirs accepts; a forged or broken one is
        // refused by both. Theirs checks one final message per exchange, so each gets its own.
        let flipped = (rng.random_range(0..32), 1u8 << rng.random_range(0..8));
        let error = random_printable(&mut rng, 8).replace('=', "-");
        for kind in 0..6 {
            let (us, mut them) = both(&case, &what);
            let signature = us.server_signature;
            let server_final = match kind {
                0 => format!("v={}", BASE64.encode(signature)),
                1 => {
                    let mut forged = signature;
                    forged[flipped.0] ^= flipped.1;
                    format!("v={}", BASE64.encode(forged))
                }
                2 => format!("v={}", BASE64.encode(&signature[..31])),
                3 => format!("e={error}"),
                4 => format!("v={}x", BASE64.encode(signature)),
                _ => String::new(),
            };
            let theirs_ok = them.finish(server_final.as_bytes()).is_ok();
            let ours_ok = us.verify(server_final.as_bytes(), &none()).is_ok();
            assert_eq!(ours_ok, theirs_ok, "{what}: {server_final}");
            assert_eq!(ours_ok, kind == 0, "{what}: {server_final}");
        }
    }
}

/// The client's whole side of an exchange at PostgreSQL's 4,096 rounds, postgres-protocol's
/// against ours:
/// `cargo test --release -p pg-driver --lib scram::tests::timing -- --ignored --nocapture`.
#[test]
#[ignore = "a timing, not a test"]
fn timing() {
    let (password, n) = (b"a password of some length", 500);
    let server_first =
        |nonce: &str| format!("r={nonce}servernonce,s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096");
    let time = |exchange: &dyn Fn()| {
        let start = std::time::Instant::now();
        for _ in 0..n {
            exchange();
        }
        start.elapsed() / n
    };
    for _ in 0..3 {
        let theirs = time(&|| {
            let mut them =
                theirs::ScramSha256::new(password, theirs::ChannelBinding::unsupported());
            let nonce = std::str::from_utf8(them.message()).unwrap()[8..].to_owned();
            them.update(server_first(&nonce).as_bytes()).unwrap();
            std::hint::black_box(them.message());
        });
        let ours = time(&|| {
            let us = ClientFirst::new(password, ChannelBinding::Unsupported);
            let first = server_first(&us.nonce);
            std::hint::black_box(us.answer(first.as_bytes(), &none()).unwrap());
        });
        println!(
            "client-first to client-final, 4096 rounds: postgres-protocol {theirs:?}, ours {ours:?}"
        );
    }
}

/// One exchange through `kept` with a server whose salt, count and verifier are those of
/// `server_password` (the fake server's side of SCRAM); the outcome of the server's check of
/// the client's proof, and of the client's check of the server's signature.
fn exchange(
    password: &str,
    server_password: &str,
    salt: &[u8],
    iterations: u32,
    kept: &SaltedPasswords,
) -> (bool, Result<(), ScramError>) {
    let client = ClientFirst::new(password.as_bytes(), ChannelBinding::Unsupported);
    let server_first = format!(
        "r={}srv,s={},i={iterations}",
        client.nonce,
        BASE64.encode(salt)
    );
    let client_first_bare = client.message[3..].to_owned();
    let fin = client.answer(server_first.as_bytes(), kept).unwrap();
    // The server's side, from its own salted password.
    let salted = hi(
        &Pads::new(server_password.as_bytes()),
        &first_round(
            &HmacSha256::new_from_slice(server_password.as_bytes()).unwrap(),
            salt,
        ),
        iterations,
    );
    let keyed = HmacSha256::new_from_slice(&salted).unwrap();
    let without_proof = &fin.message[..fin.message.rfind(",p=").unwrap()];
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let client_key = mac(&keyed, b"Client Key");
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let signature = mac(
        &HmacSha256::new_from_slice(&stored_key).unwrap(),
        auth_message.as_bytes(),
    );
    let proof = BASE64
        .decode(&fin.message[fin.message.rfind(",p=").unwrap() + 3..])
        .unwrap();
    let recovered: Vec<u8> = proof.iter().zip(signature).map(|(p, s)| p ^ s).collect();
    let proof_ok = Sha256::digest(&recovered)[..] == stored_key[..];
    let server_key = mac(&keyed, b"Server Key");
    let server_signature = mac(
        &HmacSha256::new_from_slice(&server_key).unwrap(),
        auth_message.as_bytes(),
    );
    let server_final = format!("v={}", BASE64.encode(server_signature));
    (proof_ok, fin.verify(server_final.as_bytes(), kept))
}

#[test]
fn salted_passwords_are_kept_once_a_server_confirms_them() {
    let kept = SaltedPasswords::default();
    // A server that does not know the password: its proof check fails, and so does its
    // signature; nothing is kept.
    let (proof_ok, verified) = exchange("right", "other", b"salt one", 64, &kept);
    assert!(!proof_ok);
    assert_eq!(verified, Err(ScramError::WrongSignature));
    assert_eq!(kept.len(), 0);
    // Confirmed: kept, and the next exchange with the same salt and count uses it (and still
    // proves the password and checks the signature).
    assert_eq!(
        exchange("right", "right", b"salt one", 64, &kept),
        (true, Ok(()))
    );
    assert_eq!(kept.len(), 1);
    assert_eq!(
        exchange("right", "right", b"salt one", 64, &kept),
        (true, Ok(()))
    );
    assert_eq!(kept.len(), 1);
    // What is kept is what the exchange uses: a forged entry for this password, salt and
    // count makes the proof and the expected signature wrong.
    let forged = SaltedPasswords::default();
    forged.keep(Entry {
        first_round: first_round(&HmacSha256::new_from_slice(b"right").unwrap(), b"salt one"),
        iterations: 64,
        salted: [0; 32],
    });
    let (proof_ok, verified) = exchange("right", "right", b"salt one", 64, &forged);
    assert!(!proof_ok);
    assert_eq!(verified, Err(ScramError::WrongSignature));
    // Another salt, count or password is another entry, never the kept one.
    assert_eq!(
        exchange("right", "right", b"salt two", 64, &kept),
        (true, Ok(()))
    );
    assert_eq!(
        exchange("right", "right", b"salt one", 65, &kept),
        (true, Ok(()))
    );
    let (proof_ok, verified) = exchange("wrong", "right", b"salt one", 64, &kept);
    assert!(!proof_ok && verified.is_err());
    assert_eq!(
        exchange("new", "new", b"salt one", 64, &kept),
        (true, Ok(()))
    );
    assert_eq!(kept.len(), 4);
    // The least recently used go first.
    for i in 0..10 {
        let salt = format!("salt {i}");
        assert_eq!(
            exchange("right", "right", salt.as_bytes(), 2, &kept),
            (true, Ok(()))
        );
    }
    assert_eq!(kept.len(), 8);
    assert!(!format!("{kept:?}").contains("right"));
}

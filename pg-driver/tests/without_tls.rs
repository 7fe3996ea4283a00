//! A build without the `tls` feature (`cargo test -p pg-driver --no-default-features`): an
//! sslmode that demands encryption fails with a clear error before any byte goes out, and
//! `prefer` connects in the clear. With the feature on, this file is empty.
#![cfg(not(feature = "tls"))]

use std::time::Duration;

use pg_exceptions::InsecurityError;
use tokio::net::TcpListener;

/// A listener nobody should reach, and whether anyone did within a moment.
async fn reached(listener: &TcpListener) -> bool {
    tokio::time::timeout(Duration::from_millis(300), listener.accept())
        .await
        .is_ok()
}

#[tokio::test]
async fn demanding_encryption_fails_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    for mode in ["require", "verify-ca", "verify-full"] {
        let iri = format!("pq://someone@127.0.0.1:{port}/db?[sslmode]={mode}");
        let error = pg_driver::open(&iri).await.unwrap_err();
        assert!(error.is_a(&InsecurityError), "{mode}: {error}");
        let message = error.message();
        assert!(
            message.contains("`tls` feature") && message.contains(mode),
            "{mode}: {message}"
        );
        assert!(!reached(&listener).await, "{mode}: nothing is sent");
    }
}

#[tokio::test]
async fn prefer_connects_in_the_clear() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let iri = format!("pq://someone@127.0.0.1:{port}/db?[sslmode]=prefer&[connect_timeout]=2");
    let connecting = tokio::spawn(async move { pg_driver::open(&iri).await });
    let (mut stream, _) = listener.accept().await.unwrap();
    // The first bytes are a startup packet (protocol 3.0), not an SSLRequest.
    let mut head = [0u8; 8];
    tokio::io::AsyncReadExt::read_exact(&mut stream, &mut head)
        .await
        .unwrap();
    assert_eq!(&head[4..], &[0, 3, 0, 0], "a startup packet, in the clear");
    drop(stream);
    let error = connecting.await.unwrap().unwrap_err();
    assert!(!error.is_a(&InsecurityError), "{error}");
}

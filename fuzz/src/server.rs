//! A scripted server: it plays fuzzed bytes to the driver as a server would, a segment at a
//! time, each when the driver waits for one.
//!
//! The script is cut into segments after each message a real server then waits on the client
//! for: ReadyForQuery, CopyInResponse, and the authentication requests the client answers.
//! A segment is written each time the driver sends a message a server answers (the startup
//! packet, Query, Sync, Flush, a password or SASL response). Once the script is spent the
//! server closes its side, so a driver waiting for more sees the connection end, as it would
//! if a real server died. Bytes that do not frame as messages end the script as they are.
//!
//! A script need not match what the driver asks: when the driver sends nothing for
//! [`STALL`] while the server has more to say (it waits for an answer the script put
//! elsewhere), the server plays its next segment anyway. The harness runs on tokio's paused
//! clock, so a stall costs no real time and the order of events is the same on every run.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// How long the server waits for the driver before playing on.
pub const STALL: Duration = Duration::from_secs(1);

/// The tag and total length (tag included) of the message at `at`, if it frames.
fn frame(script: &[u8], at: usize) -> Option<(u8, usize)> {
    let header = script.get(at..at + 5)?;
    let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let len = usize::try_from(len).ok().filter(|&len| len >= 4)?;
    let total = len.checked_add(1)?;
    (at + total <= script.len()).then_some((header[0], total))
}

/// Whether a real server waits for the client after this message.
fn waits_after(tag: u8, message: &[u8]) -> bool {
    match tag {
        b'Z' | b'G' => true,
        // Authentication requests the client must answer: cleartext, MD5, GSS, SSPI, SASL.
        b'R' => matches!(
            message.get(5..9),
            Some([0, 0, 0, 3 | 5 | 7 | 8 | 9 | 10 | 11])
        ),
        _ => false,
    }
}

/// Cuts `script` into what the server sends each time the client waits for it.
pub fn segments(script: &[u8]) -> VecDeque<Vec<u8>> {
    let mut out = VecDeque::new();
    let (mut start, mut at) = (0, 0);
    while let Some((tag, total)) = frame(script, at) {
        let message = &script[at..at + total];
        at += total;
        if waits_after(tag, message) {
            out.push_back(script[start..at].to_vec());
            start = at;
        }
    }
    if start < script.len() {
        out.push_back(script[start..].to_vec());
    }
    out
}

/// Plays `script` on `end`. With `startup`, the first thing the client sends is a startup
/// packet (untagged); afterwards every message is tagged.
pub async fn serve(mut end: UnixStream, script: &[u8], startup: bool) {
    let mut segments = segments(script);
    let mut inbox: Vec<u8> = Vec::new();
    let mut expect_startup = startup;
    let mut closed = false;
    if segments.is_empty() {
        let _ = end.shutdown().await;
        closed = true;
    }
    loop {
        loop {
            let (taken, answers) = if expect_startup {
                let Some(len) = inbox.first_chunk::<4>().map(|b| i32::from_be_bytes(*b)) else {
                    break;
                };
                let len = usize::try_from(len).unwrap_or(0).max(4);
                if inbox.len() < len {
                    break;
                }
                expect_startup = false;
                (len, true)
            } else {
                let Some(header) = inbox.get(..5) else { break };
                let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
                let total = usize::try_from(len).unwrap_or(0).max(4) + 1;
                if inbox.len() < total {
                    break;
                }
                (total, matches!(header[0], b'Q' | b'S' | b'H' | b'p'))
            };
            inbox.drain(..taken);
            if answers && !closed {
                closed = play(&mut end, &mut segments).await;
            }
        }
        // Keep reading after the script is spent, so the driver's writes never block.
        let read = end.read_buf(&mut inbox);
        let read = if closed {
            Ok(read.await)
        } else {
            tokio::time::timeout(STALL, read).await
        };
        match read {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => closed = play(&mut end, &mut segments).await,
        }
    }
}

/// Writes the next segment; closes the server's side once none is left (returns whether).
async fn play(end: &mut UnixStream, segments: &mut VecDeque<Vec<u8>>) -> bool {
    if let Some(segment) = segments.pop_front() {
        let _ = end.write_all(&segment).await;
    }
    if segments.is_empty() {
        let _ = end.shutdown().await;
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn segments_end_where_the_server_waits() {
        let auth_ok = [b'R', 0, 0, 0, 8, 0, 0, 0, 0];
        let md5 = [b'R', 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4];
        let ready = [b'Z', 0, 0, 0, 5, b'I'];
        let script = [&md5[..], &auth_ok, &ready, &ready, &[1, 2]].concat();
        let cut: Vec<usize> = segments(&script).iter().map(Vec::len).collect();
        assert_eq!(cut, [13, 15, 6, 2]);
    }
}

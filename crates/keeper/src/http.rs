//! The metrics endpoint: a minimal HTTP/1.1 server on one thread (no HTTP
//! crate). `GET /metrics` answers the Prometheus text page; `GET /health`
//! and `GET /livez` answer 200 while the keeper is live and 503 once its
//! last cycle is older than allowed ([`Metrics::live`]); anything else 404.
//! One connection at a time, each bounded by a 2 s read timeout.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::metrics::Metrics;

/// The largest request head read (request line and headers).
const MAX_REQUEST: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Binds `addr` and serves `metrics` on a background thread; the bound address
/// (a port 0 is resolved) and the thread.
pub fn serve(addr: &str, metrics: Arc<Metrics>) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    let thread = std::thread::Builder::new().name("metrics-http".into()).spawn(move || {
        for stream in listener.incoming() {
            match stream {
                Ok(s) => {
                    if let Err(e) = answer(s, &metrics) {
                        tracing::debug!(error = %e, "metrics request");
                    }
                }
                Err(e) => tracing::debug!(error = %e, "metrics accept"),
            }
        }
    })?;
    Ok((bound, thread))
}

/// The request's method and path, from its first line.
fn request_target(head: &str) -> Option<(&str, &str)> {
    let mut parts = head.lines().next()?.split_whitespace();
    Some((parts.next()?, parts.next()?))
}

/// Status line, content type and body for a request.
fn route(method: &str, path: &str, metrics: &Metrics) -> (&'static str, &'static str, String) {
    const TEXT: &str = "text/plain; charset=utf-8";
    let path = path.split('?').next().unwrap_or(path);
    match (method, path) {
        ("GET", "/metrics") => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render()),
        ("GET", "/health" | "/livez") if metrics.live() => ("200 OK", TEXT, "ok\n".into()),
        ("GET", "/health" | "/livez") => (
            "503 Service Unavailable",
            TEXT,
            format!("stale: last cycle {} s ago\n", metrics.cycle_age().as_secs()),
        ),
        ("GET", _) => ("404 Not Found", TEXT, "not found: /metrics, /health, /livez\n".into()),
        _ => ("405 Method Not Allowed", TEXT, "GET only\n".into()),
    }
}

fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1_024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn answer(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(READ_TIMEOUT))?;
    let head = read_head(&mut stream)?;
    let (status, content_type, body) = match request_target(&head) {
        Some((method, path)) => route(method, path, metrics),
        None => ("400 Bad Request", "text/plain", "bad request\n".into()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

/// `GET path` from `addr`: the status code and the body (a test and probe helper).
pub fn get(addr: &SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(addr, READ_TIMEOUT)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let bad =
        || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not an HTTP response: {text:?}"));
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(bad)?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).ok_or_else(bad)?;
    Ok((code, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{scraped, Metric};

    #[test]
    fn serves_metrics_liveness_and_refuses_the_rest() {
        let metrics = Arc::new(Metrics::new(Duration::from_millis(200)));
        metrics.add(Metric::LiquidationsSent, 3);
        let (addr, _thread) = serve("127.0.0.1:0", Arc::clone(&metrics)).unwrap();
        let (code, body) = get(&addr, "/metrics").unwrap();
        assert_eq!(code, 200);
        assert_eq!(scraped(&body, "xmargin_keeper_liquidations_sent_total"), Some(3.0));
        assert_eq!(get(&addr, "/health").unwrap(), (200, "ok\n".into()));
        assert_eq!(get(&addr, "/livez").unwrap().0, 200);
        assert_eq!(get(&addr, "/nope").unwrap().0, 404);
        std::thread::sleep(Duration::from_millis(300));
        let (code, body) = get(&addr, "/health").unwrap();
        assert_eq!(code, 503);
        assert!(body.starts_with("stale: last cycle"), "{body}");
    }

    #[test]
    fn routes_by_method_and_path() {
        let m = Metrics::new(Duration::from_secs(60));
        assert_eq!(request_target("GET /metrics?x=1 HTTP/1.1\r\n"), Some(("GET", "/metrics?x=1")));
        assert_eq!(route("GET", "/metrics?x=1", &m).0, "200 OK");
        assert_eq!(route("POST", "/metrics", &m).0, "405 Method Not Allowed");
        assert_eq!(request_target(""), None);
    }
}

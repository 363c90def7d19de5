//! SIGTERM stops the `xmargin-keeper` binary with exit status 0 and says
//! what became of the in-flight work: against a fake JSON-RPC node that
//! answers every call with an error (the loop is between cycles: it stops
//! at once), and against one that never answers (a cycle is stuck in an RPC
//! call: it is abandoned after `--stop-grace-secs`). The first run logs JSON.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use solana_keypair::Keypair;

/// A JSON-RPC node on 127.0.0.1 that fails every call (`answer`) or never answers.
fn fake_node(answer: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            if answer {
                let _ = fail(stream);
            } else {
                held.push(stream); // read nothing, answer nothing
            }
        }
    });
    port
}

/// Reads one HTTP request and answers a JSON-RPC error for its id.
fn fail(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let reply = serde_json::json!({
        "jsonrpc": "2.0",
        "id": request.get("id").cloned().unwrap_or(serde_json::Value::Null),
        "error": { "code": -32000, "message": "fake node: unavailable" },
    })
    .to_string();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    )
}

/// The keeper against the node at `port`; its output lines on a channel.
fn keeper(port: u16, extra: &[&str]) -> (Child, Receiver<String>, std::path::PathBuf) {
    let key = std::env::temp_dir().join(format!("keeper-stop-{}-{port}.json", std::process::id()));
    let bytes: Vec<String> = Keypair::new().to_bytes().iter().map(u8::to_string).collect();
    std::fs::write(&key, format!("[{}]", bytes.join(","))).unwrap();
    let group = Keypair::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xmargin-keeper"))
        .args(["--rpc-url", &format!("http://127.0.0.1:{port}"), "--keypair", key.to_str().unwrap()])
        .args(["--group", &solana_keypair::Signer::pubkey(&group).to_string(), "--no-subscribe"])
        .args(["--poll-interval-secs", "30"])
        .args(extra)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env_remove("XMARGIN_KEEPER_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = channel();
    for out in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    (child, rx, key)
}

/// Lines until one contains `needle` (within `within`); all lines seen.
fn wait_for(rx: &Receiver<String>, needle: &str, within: Duration, seen: &mut Vec<String>) -> bool {
    let until = Instant::now() + within;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return true;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
}

/// Waits up to `within` for the exit; kills it and fails otherwise.
fn exit_within(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > until {
            child.kill().unwrap();
            panic!("the keeper did not exit within {within:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_between_cycles_exits_zero_at_once() {
    let port = fake_node(true);
    let (mut child, rx, key) = keeper(port, &["--log-format", "json"]);
    let mut seen = Vec::new();
    assert!(wait_for(&rx, "cycle failed", Duration::from_secs(30), &mut seen), "{seen:#?}");
    let json: serde_json::Value = serde_json::from_str(seen.last().unwrap()).expect("JSON log lines");
    assert_eq!(json["level"], "WARN");
    assert!(json["error"].as_str().unwrap().contains("fake node: unavailable"), "{json}");
    let sent = Instant::now();
    sigterm(&child);
    let status = exit_within(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{seen:#?}");
    assert!(sent.elapsed() < Duration::from_secs(3), "not the 30 s poll interval");
    assert!(
        wait_for(&rx, "stopped: the in-flight work finished", Duration::from_secs(2), &mut seen),
        "{seen:#?}"
    );
    std::fs::remove_file(key).unwrap();
}

#[test]
fn sigterm_during_a_stuck_call_abandons_it_after_the_grace() {
    let port = fake_node(false);
    let (mut child, rx, key) = keeper(port, &["--stop-grace-secs", "1"]);
    let mut seen = Vec::new();
    assert!(wait_for(&rx, "keeper starting", Duration::from_secs(30), &mut seen), "{seen:#?}");
    std::thread::sleep(Duration::from_millis(300)); // the cycle is now waiting on the node
    let sent = Instant::now();
    sigterm(&child);
    let status = exit_within(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    assert!(sent.elapsed() >= Duration::from_millis(900), "waited the grace");
    assert!(wait_for(&rx, "abandoned the in-flight cycle", Duration::from_secs(2), &mut seen), "{seen:#?}");
    assert!(seen.iter().any(|l| l.contains("stop requested")), "{seen:#?}");
    std::fs::remove_file(key).unwrap();
}

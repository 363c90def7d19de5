//! `programSubscribe` over the RPC's websocket (the blocking
//! `solana-pubsub-client`), one subscription per `getProgramAccounts`
//! filter, as an [`UpdateSource`] for [`crate::watched::WatchedChain`].
//!
//! Each subscription runs on its own thread: it connects, subscribes with
//! the filter under the chain's program id (base64 data, the chain's
//! commitment: [`PubsubSource::new`]), and forwards every notification as
//! an [`Event::Update`] (an account no longer owned by the program, or
//! without lamports, as a deletion) until the websocket ends, then reports
//! [`Event::Failed`]. A subscription is (re)started at most every
//! [`RESTART_BACKOFF`]; [`PubsubSource::subscribe`] waits up to
//! [`CONNECT_WAIT`] for it so the snapshot that follows misses nothing.
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::pubsub_client::PubsubClient;
use solana_rpc_client_api::response::{Response, RpcKeyedAccount};
use xmargin_client::accounts::ScanFilter;

use crate::rpc::program_accounts_config;
use crate::view::AccountUpdate;
use crate::watched::{Event, UpdateSource};

/// Least time between two starts of one filter's subscription.
pub const RESTART_BACKOFF: Duration = Duration::from_secs(30);
/// How long `subscribe` waits for the websocket to answer.
pub const CONNECT_WAIT: Duration = Duration::from_secs(5);

const CONNECTING: u8 = 0;
const RUNNING: u8 = 1;
const ENDED: u8 = 2;

struct Subscription {
    state: Arc<AtomicU8>,
    started: Instant,
}

pub struct PubsubSource {
    ws_url: String,
    program_id: Pubkey,
    commitment: CommitmentConfig,
    events: Sender<Event>,
    received: Receiver<Event>,
    subscriptions: HashMap<usize, Subscription>,
}

/// A URL the websocket URL cannot be derived from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadUrl(pub String);

impl std::fmt::Display for BadUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot derive a websocket URL from {:?}: give ws_url (--ws-url)", self.0)
    }
}

/// The websocket URL of an RPC at `http_url`, as the Solana CLI derives it:
/// `http` → `ws`, `https` → `wss`, and an explicit port plus one.
pub fn websocket_url(http_url: &str) -> Result<String, BadUrl> {
    let bad = || BadUrl(http_url.to_string());
    let (scheme, rest) = http_url.split_once("://").ok_or_else(bad)?;
    let ws_scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => "ws",
        "https" => "wss",
        _ => return Err(bad()),
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    // The port follows the last ':' after any bracketed IPv6 host.
    let host_end = authority.rfind(']').map_or(0, |at| at + 1);
    let authority = match authority[host_end..].rfind(':') {
        Some(at) => {
            let (host, port) = authority.split_at(host_end + at);
            let port: u16 = port[1..].parse().map_err(|_| bad())?;
            format!("{host}:{}", port.checked_add(1).ok_or_else(bad)?)
        }
        None => authority.to_string(),
    };
    if authority.is_empty() {
        return Err(bad());
    }
    Ok(format!("{ws_scheme}://{authority}{path}"))
}

/// A notification as an update: deleted when `program_id` no longer owns it.
pub fn update_of(n: &Response<RpcKeyedAccount>, program_id: &Pubkey) -> Option<AccountUpdate> {
    let key = Pubkey::from_str(&n.value.pubkey).ok()?;
    let account = &n.value.account;
    let owned = account.lamports > 0 && account.owner == program_id.to_string();
    let data = if owned { Some(account.data.decode()?) } else { None };
    Some(AccountUpdate { key, slot: n.context.slot, data })
}

impl PubsubSource {
    /// Subscriptions at `ws_url` to the accounts of `program_id` at
    /// `commitment` (the RPC chain's: [`crate::rpc::RpcChain::program_id`], `commitment`).
    pub fn new(ws_url: String, program_id: Pubkey, commitment: CommitmentConfig) -> PubsubSource {
        let (events, received) = channel();
        PubsubSource { ws_url, program_id, commitment, events, received, subscriptions: HashMap::new() }
    }

    fn start(&mut self, id: usize, filter: &ScanFilter) -> Arc<AtomicU8> {
        let state = Arc::new(AtomicU8::new(CONNECTING));
        let (url, events, thread_state) = (self.ws_url.clone(), self.events.clone(), Arc::clone(&state));
        let config = program_accounts_config(filter, self.commitment);
        let program_id = self.program_id;
        let spawned = std::thread::Builder::new().name(format!("subscribe-{id}")).spawn(move || {
            let reason = match PubsubClient::program_subscribe(url.as_str(), &program_id, Some(config)) {
                Ok((_subscription, receiver)) => {
                    thread_state.store(RUNNING, Ordering::SeqCst);
                    tracing::info!(filter = id, %url, "account subscription running");
                    for n in receiver.iter() {
                        if let Some(u) = update_of(&n, &program_id) {
                            if events.send(Event::Update(id, u)).is_err() {
                                return;
                            }
                        }
                    }
                    "websocket closed".to_string()
                }
                Err(e) => format!("programSubscribe at {url}: {e}"),
            };
            thread_state.store(ENDED, Ordering::SeqCst);
            let _ = events.send(Event::Failed(id, reason));
        });
        if spawned.is_err() {
            state.store(ENDED, Ordering::SeqCst);
        }
        self.subscriptions.insert(id, Subscription { state: Arc::clone(&state), started: Instant::now() });
        state
    }
}

impl UpdateSource for PubsubSource {
    fn subscribe(&mut self, id: usize, filter: &ScanFilter) -> Result<(), String> {
        if let Some(s) = self.subscriptions.get(&id) {
            match s.state.load(Ordering::SeqCst) {
                RUNNING => return Ok(()),
                CONNECTING => return Err("websocket still connecting".into()),
                _ if s.started.elapsed() < RESTART_BACKOFF => {
                    let wait = RESTART_BACKOFF.saturating_sub(s.started.elapsed()).as_secs();
                    return Err(format!("websocket ended; next try in {wait} s"));
                }
                _ => {}
            }
        }
        let state = self.start(id, filter);
        let deadline = Instant::now() + CONNECT_WAIT;
        while state.load(Ordering::SeqCst) == CONNECTING && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        match state.load(Ordering::SeqCst) {
            RUNNING => Ok(()),
            CONNECTING => Err(format!("websocket {} did not answer within {CONNECT_WAIT:?}", self.ws_url)),
            _ => Err(format!("websocket {} refused the subscription", self.ws_url)),
        }
    }

    fn drain(&mut self) -> Vec<Event> {
        self.received.try_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_account_decoder_client_types::{UiAccount, UiAccountData, UiAccountEncoding};
    use solana_rpc_client_api::response::RpcResponseContext;

    #[test]
    fn the_websocket_url_follows_the_solana_cli() {
        let ok = |s: &str| websocket_url(s).unwrap();
        assert_eq!(ok("http://127.0.0.1:8899"), "ws://127.0.0.1:8900");
        assert_eq!(ok("https://api.mainnet-beta.solana.com"), "wss://api.mainnet-beta.solana.com");
        assert_eq!(ok("https://rpc.example.com:443/abc?key=1"), "wss://rpc.example.com:444/abc?key=1");
        assert_eq!(ok("http://[::1]:8899/"), "ws://[::1]:8900/");
        assert_eq!(ok("http://[::1]/"), "ws://[::1]/");
        for bad in ["127.0.0.1:8899", "ftp://x", "http://x:65535", "http://x:port", "http://"] {
            assert!(websocket_url(bad).is_err(), "{bad}");
        }
        assert!(websocket_url("ftp://x").unwrap_err().to_string().contains("ws_url"));
    }

    /// `b64`: the data in base64 ("AQID" is [1, 2, 3]).
    fn notification(owner: Pubkey, lamports: u64, b64: &str) -> Response<RpcKeyedAccount> {
        Response {
            context: RpcResponseContext { slot: 77, api_version: None },
            value: RpcKeyedAccount {
                pubkey: Pubkey::new_from_array([9; 32]).to_string(),
                account: UiAccount {
                    lamports,
                    data: UiAccountData::Binary(b64.to_string(), UiAccountEncoding::Base64),
                    owner: owner.to_string(),
                    executable: false,
                    rent_epoch: 0,
                    space: None,
                },
            },
        }
    }

    #[test]
    fn notifications_become_updates_or_deletions() {
        let id = xmargin::ID;
        let u = update_of(&notification(id, 10, "AQID"), &id).unwrap();
        assert_eq!((u.key, u.slot, u.data), (Pubkey::new_from_array([9; 32]), 77, Some(vec![1, 2, 3])));
        assert_eq!(update_of(&notification(id, 0, ""), &id).unwrap().data, None, "closed");
        assert_eq!(
            update_of(&notification(Pubkey::default(), 5, "AQID"), &id).unwrap().data,
            None,
            "reassigned"
        );
        // Under another program id (--program-id), that program's accounts are the live ones.
        let other = Pubkey::new_unique();
        assert_eq!(update_of(&notification(other, 10, "AQID"), &other).unwrap().data, Some(vec![1, 2, 3]));
        assert_eq!(update_of(&notification(id, 10, "AQID"), &other).unwrap().data, None);
    }
}

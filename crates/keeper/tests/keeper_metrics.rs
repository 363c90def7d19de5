//! The metrics endpoint scraped over TCP while keeper cycles run on the
//! embedded SVM: one liquidatable account → one liquidation sent, the
//! counters and gauges moved as the scenario says, liveness 200 after a
//! cycle and 503 once the last cycle is too old.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use xmargin_keeper::http::{get, serve};
use xmargin_keeper::metrics::{scraped, Metrics};
use xmargin_keeper::runner::Runner;
use xmargin_keeper::stop::Stop;
use xmargin_keeper::svm::SvmChain;
use xmargin_keeper::KeeperConfig;
use xmargin_test_support::world::World;
use xmargin_test_support::Signer;

const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

fn value(page: &str, name: &str) -> f64 {
    scraped(page, name).unwrap_or_else(|| panic!("{name} missing from\n{page}"))
}

#[test]
fn metrics_move_as_a_cycle_liquidates_one_account() {
    let mut w = World::new();
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    w.deposit(&keeper, USDC, 100_000 * MICRO).expect_ok();
    let alice = w.user(2, [0, 10 * LAMPORTS, 0]);
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 1_150 * MICRO).expect_ok();
    let bob = w.user(3, [0, 10 * LAMPORTS, 0]);
    w.deposit(&bob, SOL, 10 * LAMPORTS).expect_ok();
    // SOL at $125: Alice (1,150 USDC borrowed) is below maintenance, Bob and the keeper are not.
    w.set_price(SOL, 12_500_000_000, 10_000_000);

    let metrics = Arc::new(Metrics::new(Duration::from_millis(1_500)));
    let (addr, _server) = serve("127.0.0.1:0", Arc::clone(&metrics)).unwrap();
    let (code, before) = get(&addr, "/metrics").unwrap();
    assert_eq!(code, 200);
    assert_eq!(value(&before, "xmargin_keeper_cycles_total"), 0.0);
    assert_eq!(value(&before, "xmargin_keeper_liquidations_sent_total"), 0.0);

    // A scraper hammers the endpoint while the cycles run: every answer is a full page.
    let done = Arc::new(AtomicBool::new(false));
    let scraper = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut scrapes = 0u32;
            loop {
                let (code, page) = get(&addr, "/metrics").unwrap();
                assert_eq!(code, 200);
                assert!(scraped(&page, "xmargin_keeper_last_cycle_unix_time").is_some(), "{page}");
                scrapes += 1;
                if done.load(Ordering::SeqCst) {
                    return scrapes;
                }
            }
        })
    };
    let runner = Runner {
        config: KeeperConfig {
            compute_unit_limit: 200_000,
            ..KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey())
        },
        metrics: Arc::clone(&metrics),
        stop: Stop::new(),
        poll_interval: Duration::ZERO,
        cycles: Some(1),
    };
    let first = runner.cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }).unwrap();
    assert_eq!((first.liquidatable, first.liquidations_sent, first.failures), (1, 1, 0));
    let (_, mid) = get(&addr, "/metrics").unwrap();
    let second = runner.cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }).unwrap();
    assert_eq!((second.liquidatable, second.liquidations_sent), (0, 0), "liquidated to LiquidationEnd 0");
    done.store(true, Ordering::SeqCst);
    assert!(scraper.join().unwrap() > 0);

    assert_eq!(value(&mid, "xmargin_keeper_cycles_total"), 1.0);
    assert_eq!(value(&mid, "xmargin_keeper_accounts_scanned"), 3.0);
    assert_eq!(value(&mid, "xmargin_keeper_liquidatable_accounts"), 1.0);
    assert_eq!(value(&mid, "xmargin_keeper_liquidations_sent_total"), 1.0);
    assert_eq!(value(&mid, "xmargin_keeper_transactions_sent_total"), 1.0);
    let (_, after) = get(&addr, "/metrics").unwrap();
    assert_eq!(value(&after, "xmargin_keeper_cycles_total"), 2.0);
    assert_eq!(value(&after, "xmargin_keeper_liquidatable_accounts"), 0.0, "a gauge: the last cycle");
    assert_eq!(value(&after, "xmargin_keeper_liquidations_sent_total"), 1.0, "a counter: still one");
    for zero in [
        "xmargin_keeper_liquidations_failed_total",
        "xmargin_keeper_transaction_failures_total",
        "xmargin_keeper_cycle_errors_total",
        "xmargin_keeper_bankruptcies_resolved_total",
    ] {
        assert_eq!(value(&after, zero), 0.0, "{zero}");
    }
    assert!(value(&after, "xmargin_keeper_last_cycle_duration_seconds") > 0.0);
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as f64;
    assert!((unix - value(&after, "xmargin_keeper_last_cycle_unix_time")).abs() < 60.0);

    assert_eq!(get(&addr, "/health").unwrap().0, 200);
    std::thread::sleep(Duration::from_millis(1_700));
    assert_eq!(get(&addr, "/livez").unwrap().0, 503, "no cycle within the allowed age");
    runner.cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }).unwrap();
    assert_eq!(get(&addr, "/health").unwrap().0, 200);
}

#[test]
fn a_failed_liquidation_is_counted() {
    let mut w = World::new();
    // The keeper's account is empty: it cannot take the debt over (its Init health would be negative).
    let keeper = w.user(1, [0, 0, 0]);
    let lender = w.user(3, [100_000 * MICRO, 0, 0]);
    w.deposit(&lender, USDC, 100_000 * MICRO).expect_ok();
    let alice = w.user(2, [0, 10 * LAMPORTS, 0]);
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 1_150 * MICRO).expect_ok();
    w.set_price(SOL, 12_500_000_000, 10_000_000);
    let metrics = Arc::new(Metrics::new(Duration::from_secs(60)));
    let (addr, _server) = serve("127.0.0.1:0", Arc::clone(&metrics)).unwrap();
    let runner = Runner {
        config: KeeperConfig::new(w.group.group, keeper.account, keeper.wallet.pubkey()),
        metrics,
        stop: Stop::new(),
        poll_interval: Duration::ZERO,
        cycles: Some(1),
    };
    let s = runner.cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }).unwrap();
    assert_eq!((s.liquidatable, s.liquidations_sent, s.liquidations_failed), (1, 0, 1), "{s:?}");
    let (_, page) = get(&addr, "/metrics").unwrap();
    assert_eq!(value(&page, "xmargin_keeper_liquidations_failed_total"), 1.0);
    assert_eq!(value(&page, "xmargin_keeper_transaction_failures_total"), 1.0);
}

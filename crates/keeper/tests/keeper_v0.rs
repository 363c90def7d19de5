//! The keeper sends v0 transactions with the group's lookup table, refuses
//! a transaction a cluster would drop (over 1,232 bytes or 64 accounts) and
//! reports program errors by name.
use anchor_lang::prelude::AccountMeta;
use xmargin_client::instructions as ixs;
use xmargin_client::lookup_table::group_addresses;
use xmargin_keeper::svm::SvmChain;
use xmargin_keeper::{run_cycle, Chain, KeeperConfig};
use xmargin_test_support::margin::banks;
use xmargin_test_support::markets::{markets, sol_perp_args};
use xmargin_test_support::world::World;
use xmargin_test_support::{Address, Signer};

const MICRO: u64 = 1_000_000;
/// $150 per 0.01 SOL contract, in quote native.
const PER_CONTRACT_150: u64 = 1_500_000;

/// The 10x SOL long of `keeper_markets.rs` at $140, liquidated by a cycle
/// whose transactions are v0 messages through the group's table.
#[test]
fn a_cycle_liquidates_through_the_lookup_table() {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    let keeper = w.user(1, [100_000 * MICRO, 0, 0]);
    let alice = w.user(10, [1_000 * MICRO, 0, 0]);
    let bob = w.user(11, [20_000 * MICRO, 0, 0]);
    w.deposit(&keeper, 0, 100_000 * MICRO).expect_ok();
    w.deposit(&alice, 0, 1_000 * MICRO).expect_ok();
    w.deposit(&bob, 0, 20_000 * MICRO).expect_ok();
    w.trade(0, &alice, &bob, 6_500, PER_CONTRACT_150).expect_ok();
    let g = w.group.group;
    let addresses = group_addresses(&g, &banks(&w.env, &g), &markets(&w.env, &g));
    let table = w.env.create_lookup_table(&addresses);
    w.env.lookup_table = Some(table);

    w.set_price(1, 14_000_000_000, 10_000_000);
    let sent_before = w.env.sent_sizes.len();
    let config = KeeperConfig::new(g, keeper.account, keeper.wallet.pubkey());
    let s = run_cycle(&mut SvmChain { env: &mut w.env, signer: &keeper.wallet }, &config).unwrap();
    assert_eq!((s.liquidations_sent, s.position_liquidations, s.failures), (1, 1, 0), "{s:?}");
    let sent = &w.env.sent_sizes[sent_before..];
    assert_eq!(sent.len(), 1, "one liquidation");
    assert!(sent[0].looked_up >= 6, "banks, oracles, market and group from the table: {:?}", sent[0]);
    assert!(w.position(&keeper, 0).base_contracts > 0, "the keeper took part of the position");
}

/// `compute_health` with 40 made-up health accounts: 1,466 bytes legacy, so
/// the chain refuses it unsent; with the accounts in a table it goes out and
/// the program's refusal comes back by name.
#[test]
fn oversize_transactions_are_refused_and_errors_named() {
    let mut w = World::new();
    let keeper = w.user(1, [0, 0, 0]);
    let fake: Vec<Address> = (0..40).map(|_| Address::new_unique()).collect();
    let metas = fake.iter().map(|k| AccountMeta::new_readonly(*k, false)).collect();
    let ix = ixs::compute_health(&w.group.group, &keeper.account, metas);
    let sent_before = w.env.sent_sizes.len();
    let err =
        SvmChain { env: &mut w.env, signer: &keeper.wallet }.send(std::slice::from_ref(&ix)).unwrap_err();
    assert!(err.0.contains("over the 1232-byte packet limit"), "{err}");
    assert!(err.0.contains("--lookup-table"), "says what to do: {err}");
    assert_eq!(w.env.sent_sizes.len(), sent_before, "nothing sent");

    let table = w.env.create_lookup_table(&fake);
    w.env.lookup_table = Some(table);
    let err = SvmChain { env: &mut w.env, signer: &keeper.wallet }.send(&[ix]).unwrap_err();
    assert!(err.0.contains("instruction 0: XmarginError::HealthAccountMismatch (6023): "), "{err}");
    assert!(!err.0.contains("Custom("), "{err}");
}

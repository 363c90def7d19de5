//! Every transaction the keeper and the CLI build, for the largest accounts,
//! fits on the wire with the group's address lookup table: at most 1,232
//! bytes and 64 locked accounts (`xmargin_client::transaction`), and the
//! legacy form of the large ones does not. LiteSVM checks neither limit, so
//! each size is measured here as a cluster would count it (the acting wallet
//! pays, as with the CLI's `--keypair` and the keeper's key, behind the
//! keeper's two compute-budget instructions), and each transaction is then
//! executed as a v0 message through the real lookup-table program.
//!
//! Also: every account an instruction passes is either in the group's table
//! list (`group_addresses`) or belongs to a user, so a new account added to
//! an instruction without the table list fails `the_table_lists_every_shared_account`.
use std::collections::BTreeSet;

use anchor_lang::prelude::{AccountMeta, Pubkey};
use solana_signer::Signer;
use xmargin::instructions::TradeArgs;
use xmargin::quote::{quote_message, quote_side, QuoteTerms};
use xmargin_client::instructions::{self as ixs};
use xmargin_client::lookup_table::{group_addresses, AddressLookupTableAccount};
use xmargin_client::market_instructions::{self as mixs};
use xmargin_client::transaction::{
    compute_budget_ixs, legacy_message, measure, v0_message, WireSize, ACCOUNT_LOCK_LIMIT, PACKET_DATA_SIZE,
};
use xmargin_test_support::bench::markets::{BigGroup, Trader, MARKETS};
use xmargin_test_support::margin::{bank_keys, banks, compute_health_ix};
use xmargin_test_support::markets::{health_accounts_full, markets};
use xmargin_test_support::pyth::PythPrice;
use xmargin_test_support::{Address, Instruction};

const MICRO: u64 = 1_000_000;

/// One transaction as a client builds it.
struct Case {
    name: String,
    /// The fee payer and first signer.
    payer: Pubkey,
    ixs: Vec<Instruction>,
}

struct Sizes {
    legacy: WireSize,
    v0: WireSize,
}

fn sizes(case: &Case, table: &AddressLookupTableAccount) -> Sizes {
    let mut ixs = compute_budget_ixs(400_000, 1_000);
    ixs.extend(case.ixs.iter().cloned());
    let blockhash = Default::default();
    Sizes {
        legacy: measure(&legacy_message(&case.payer, &ixs, blockhash)),
        v0: measure(&v0_message(&case.payer, &ixs, std::slice::from_ref(table), blockhash).unwrap()),
    }
}

/// The big group with its lookup table, and traders:
/// - `t16`: deposits in tokens 1..=15 and a USDC borrow (16 token positions);
/// - `a`, `b`: 16 token + 16 derivative positions each;
/// - `liqee`: 4 + 4 near its Init limit, `liqor4`: 4 + 4.
struct Fixture {
    big: BigGroup,
    table: AddressLookupTableAccount,
    addresses: Vec<Pubkey>,
    maker: Trader,
    t16: Trader,
    a: Trader,
    b: Trader,
    liqee: Trader,
    liqor4: Trader,
}

fn fixture() -> Fixture {
    let mut big = BigGroup::new();
    let maker = big.trader(&[(0, 10_000_000 * MICRO)]);
    let deposits: Vec<(u16, u64)> = (1..16).map(|t| (t, 100 * MICRO)).collect();
    let t16 = big.trader(&deposits);
    let (a, b) = (big.full_trader(&maker), big.full_trader(&maker));
    let four = [(0, 1_000 * MICRO), (1, 10 * MICRO), (2, 10 * MICRO), (3, 10 * MICRO)];
    let liqee = big.trader(&four);
    big.open_positions(&maker, &liqee, 4);
    big.trade(0, &liqee, &maker, 4_790);
    let liqor4 = big.trader(&[(0, 10_000 * MICRO), (1, 10 * MICRO), (2, 10 * MICRO), (3, 10 * MICRO)]);
    big.open_positions(&maker, &liqor4, 4);
    let g = big.group.group;
    let addresses = group_addresses(&g, &banks(&big.env, &g), &markets(&big.env, &g));
    let table = big.env.create_lookup_table(&addresses);
    assert_eq!(table.addresses, addresses, "the table holds the list, in order");
    Fixture { big, table, addresses, maker, t16, a, b, liqee, liqor4 }
}

impl Fixture {
    fn g(&self) -> Address {
        self.big.group.group
    }

    fn health(&self, t: &Trader, tokens: &[u16], mkts: &[u16]) -> Vec<AccountMeta> {
        health_accounts_full(&self.big.env, &self.g(), &t.account, tokens, mkts)
    }

    fn withdraw(&self, t: &Trader, token: u16, amount: u64) -> Case {
        let g = self.g();
        let ix = ixs::withdraw(
            &g,
            &t.account,
            &bank_keys(&self.big.env, &g, token),
            &t.tokens[usize::from(token)],
            &t.wallet.pubkey(),
            amount,
            self.health(t, &[token], &[]),
        );
        Case { name: String::new(), payer: t.wallet.pubkey(), ixs: vec![ix] }
    }

    fn trade(&self, m: u16, buyer: &Trader, seller: &Trader) -> Case {
        let ix = mixs::trade(
            &self.g(),
            &self.big.market_keys(m),
            &buyer.account,
            &buyer.wallet.pubkey(),
            &seller.account,
            &seller.wallet.pubkey(),
            TradeArgs { size: 1, price: 1_000_000 * (2 + u64::from(m)) },
            self.health(buyer, &[], &[m]),
            self.health(seller, &[], &[m]),
        );
        Case { name: String::new(), payer: buyer.wallet.pubkey(), ixs: vec![ix] }
    }

    /// The CLI's `take`: `taker` fills `maker`'s signed quote (maker sells 1 contract).
    fn take(&self, m: u16, maker: &Trader, taker: &Trader) -> Case {
        let g = self.g();
        let keys = self.big.market_keys(m);
        let slot = self.big.env.clock().slot;
        let terms = QuoteTerms {
            side: quote_side::MAKER_SELLS,
            size: 1,
            price: 1_000_000 * (2 + u64::from(m)),
            expiry_slot: slot + 150,
            nonce: 0,
        };
        let message = quote_message(&g, &keys.market, &maker.account, &terms);
        let signature: [u8; 64] = maker.wallet.sign_message(&message).into();
        let ixs = vec![
            mixs::ed25519_signature(&maker.wallet.pubkey(), &signature, &message),
            mixs::take_quote(
                &g,
                &keys,
                &maker.account,
                &taker.account,
                &taker.wallet.pubkey(),
                terms,
                self.health(taker, &[], &[m]),
                self.health(maker, &[], &[m]),
            ),
        ];
        Case { name: String::new(), payer: taker.wallet.pubkey(), ixs }
    }

    fn liquidate_token(&self, liqee: &Trader, liqor: &Trader, asset: u16, liab: u16) -> Case {
        let g = self.g();
        let b = |t| xmargin::pda::bank_address(&g, t).0;
        let ix = ixs::liquidate_token(
            &g,
            &liqee.account,
            &liqor.account,
            &liqor.wallet.pubkey(),
            &b(asset),
            &b(liab),
            u64::MAX,
            self.health(liqee, &[], &[]),
            self.health(liqor, &[asset, liab], &[]),
        );
        Case { name: String::new(), payer: liqor.wallet.pubkey(), ixs: vec![ix] }
    }

    fn liquidate_position(&self, liqee: &Trader, liqor: &Trader, m: u16, max: u64) -> Case {
        let g = self.g();
        let ix = mixs::liquidate_position(
            &g,
            &self.big.market_keys(m),
            &liqee.account,
            &liqor.account,
            &liqor.wallet.pubkey(),
            &bank_keys(&self.big.env, &g, 0),
            max,
            self.health(liqee, &[0], &[]),
            self.health(liqor, &[], &[m]),
        );
        Case { name: String::new(), payer: liqor.wallet.pubkey(), ixs: vec![ix] }
    }

    fn compute_health(&self, t: &Trader) -> Case {
        let ix = compute_health_ix(&self.big.env, &self.g(), &t.account);
        Case { name: String::new(), payer: t.wallet.pubkey(), ixs: vec![ix] }
    }

    /// Every other instruction the keeper or the CLI sends, on the big group.
    fn small_cases(&self) -> Vec<Case> {
        let (g, env) = (self.g(), &self.big.env);
        let (a, b) = (&self.a, &self.b);
        let usdc = bank_keys(env, &g, 0);
        let sol = bank_keys(env, &g, 1);
        let m0 = self.big.market_keys(0);
        let me = a.wallet.pubkey();
        let case = |name: &str, ix: Instruction| Case { name: name.into(), payer: me, ixs: vec![ix] };
        vec![
            case("deposit", ixs::deposit(&g, &a.account, &sol, &a.tokens[1], &me, 1)),
            case("repay", ixs::repay(&g, &a.account, &usdc, &a.tokens[0], &me, 1)),
            case("create_account", ixs::create_account(&g, &me, &me, 1)),
            case("set_delegate", ixs::set_delegate(&a.account, &me, &b.wallet.pubkey())),
            case("close_account", ixs::close_account(&a.account, &me, &me)),
            case("accrue_interest", ixs::accrue_interest(&g, &sol)),
            case("resolve_bankruptcy", ixs::resolve_bankruptcy(&g, &b.account, &usdc)),
            case(
                "resolve_bankruptcy (liquidator 16 + 16)",
                ixs::resolve_bankruptcy_with_liquidator(
                    &g,
                    &b.account,
                    &sol,
                    &usdc,
                    &a.account,
                    &me,
                    self.health(a, &[0, 1], &[]),
                ),
            ),
            case("update_funding", mixs::update_funding(&g, &m0)),
            case("sample_price", mixs::sample_price(&g, &m0)),
            case("settle_expired", mixs::settle_expired(&g, &m0, &b.account)),
            case("settle_pnl", mixs::settle_pnl(&g, &m0, &a.account, &b.account, &usdc.bank)),
            case("settle_dust", mixs::settle_dust(&g, &m0.market, &b.account, &usdc.bank)),
            case("set_pause", ixs::set_pause(&g, &me, 0)),
            case(
                "update_bank",
                ixs::update_bank(&g, &me, 1, xmargin::instructions::UpdateBankArgs::default()),
            ),
            case(
                "update_market",
                mixs::update_market(&g, &me, &m0.market, xmargin::instructions::UpdateMarketArgs::default()),
            ),
            case("withdraw_fees", ixs::withdraw_fees(&g, &me, &usdc, &a.tokens[0], 1)),
            case("close_market", mixs::close_market(&g, &me, &m0.market, &me)),
        ]
    }
}

fn named(name: &str, mut c: Case) -> Case {
    c.name = name.into();
    c
}

/// The large transactions: sizes with and without the table, each executed v0.
#[test]
fn the_largest_transactions_fit_with_the_table_and_not_without() {
    let mut f = fixture();
    // The 16-token account borrows near its Init limit (collateral 100 of
    // each of tokens 1..=15 at $2..$16 = $13,500, Init weight 0.8).
    let borrow = f.withdraw(&f.t16, 0, 10_500 * MICRO);
    let mut report = Vec::new();
    let mut run = |f: &mut Fixture,
                   case: Case,
                   signers: Vec<&xmargin_test_support::Keypair>,
                   legacy_fits: bool| {
        let s = sizes(&case, &f.table);
        println!(
            "{:<58} legacy {:>5} B {:>3} accounts | v0 {:>4} B {:>3} accounts ({} static + {} looked up)",
            case.name,
            s.legacy.bytes,
            s.legacy.accounts,
            s.v0.bytes,
            s.v0.accounts,
            s.v0.static_keys,
            s.v0.looked_up
        );
        assert!(s.v0.bytes <= PACKET_DATA_SIZE, "{}: v0 {:?}", case.name, s.v0);
        assert!(s.v0.accounts <= ACCOUNT_LOCK_LIMIT, "{}: v0 {:?}", case.name, s.v0);
        assert_eq!(s.legacy.accounts, s.v0.accounts, "the same accounts either way");
        assert_eq!(s.legacy.bytes <= PACKET_DATA_SIZE, legacy_fits, "{}: legacy {:?}", case.name, s.legacy);
        let table = f.table.clone();
        let out = f.big.env.send_with_table(&case.ixs, &signers, Some(&table));
        out.expect_ok();
        assert!(out.wire.looked_up > 0, "{}: sent as v0 through the table", case.name);
        report.push((case.name, s.legacy, s.v0));
    };
    let w16 = f.t16.wallet.insecure_clone();
    run(&mut f, named("withdraw (borrow), 16 token positions", borrow), vec![&w16], false);
    let c = f.compute_health(&f.t16);
    run(&mut f, named("compute_health, 16 token positions", c), vec![], false);
    let (wa, wb) = (f.a.wallet.insecure_clone(), f.b.wallet.insecure_clone());
    let c = f.withdraw(&f.a, 0, MICRO);
    run(&mut f, named("withdraw, 16 token + 16 derivative positions", c), vec![&wa], false);
    let c = f.compute_health(&f.a);
    run(&mut f, named("compute_health, 16 + 16", c), vec![], false);
    let c = f.trade(0, &f.b, &f.a);
    run(&mut f, named("trade, both sides 16 + 16", c), vec![&wa, &wb], false);
    let c = f.take(1, &f.a, &f.b);
    run(&mut f, named("take (Ed25519 + take_quote), both sides 16 + 16", c), vec![&wb], false);

    // Token 1 falls from $2 to $1.85: the 4 + 4 account is liquidatable (the
    // benchmark's scenario), and so, with every collateral token down 20 %,
    // is the 16-token borrower.
    let now = f.big.env.unix_time();
    let (oracle, spec) = f.big.oracles[1];
    f.big.env.set_pyth_price(&oracle, &PythPrice::new(spec.feed_hex, 185_000_000, 185_000, -8, now));
    let w4 = f.liqor4.wallet.insecure_clone();
    let c = f.liquidate_position(&f.liqee, &f.liqor4, 0, 100);
    run(&mut f, named("liquidate_position, liquidatee 4 + 4, liquidator 4 + 4", c), vec![&w4], true);
    let c = f.liquidate_position(&f.liqee, &f.a, 0, 100);
    run(&mut f, named("liquidate_position, liquidatee 4 + 4, liquidator 16 + 16", c), vec![&wa], false);
    for t in 2..16u16 {
        let (oracle, spec) = f.big.oracles[usize::from(t)];
        let p = spec.price * 8 / 10;
        f.big.env.set_pyth_price(&oracle, &PythPrice::new(spec.feed_hex, p, p as u64 / 1_000, -8, now));
    }
    let c = f.liquidate_token(&f.t16, &f.b, 15, 0);
    run(&mut f, named("liquidate_token, liquidatee 16, liquidator 16 + 16", c), vec![&wb], false);

    // The rest: small either way; measured, not sent (several need states
    // these accounts are not in: bankrupt, expired, settled, empty).
    for c in f.small_cases() {
        let s = sizes(&c, &f.table);
        println!(
            "{:<58} legacy {:>5} B {:>3} accounts | v0 {:>4} B",
            c.name, s.legacy.bytes, s.legacy.accounts, s.v0.bytes
        );
        for w in [s.v0, s.legacy] {
            if !c.name.contains("16 + 16") {
                assert!(w.bytes <= PACKET_DATA_SIZE && w.accounts <= ACCOUNT_LOCK_LIMIT, "{}: {w:?}", c.name);
            }
        }
        assert!(
            s.v0.bytes <= PACKET_DATA_SIZE && s.v0.accounts <= ACCOUNT_LOCK_LIMIT,
            "{}: {:?}",
            c.name,
            s.v0
        );
    }
    assert_eq!(report.len(), 9);
}

/// Every account an instruction passes, except signers and a user's own
/// (margin accounts, wallets, token accounts), is in the group's table list:
/// adding one to an instruction without adding it to
/// `xmargin_client::lookup_table::group_addresses` fails here. Listing
/// instructions (`create_group`, `add_bank`, `add_market`) create the
/// addresses the table then takes (`xmargin extend-lookup-table`) and are
/// left out.
#[test]
fn the_table_lists_every_shared_account() {
    let f = fixture();
    let listed: BTreeSet<Pubkey> = f.addresses.iter().copied().collect();
    let mut per_user = BTreeSet::new();
    for t in [&f.maker, &f.t16, &f.a, &f.b, &f.liqee, &f.liqor4] {
        per_user.insert(t.account);
        per_user.insert(t.wallet.pubkey());
        per_user.extend(t.tokens.iter().copied());
    }
    per_user.insert(xmargin::pda::margin_account_address(&f.g(), &f.a.wallet.pubkey(), 1).0);
    let mut cases = f.small_cases();
    cases.extend([
        f.withdraw(&f.t16, 0, 1),
        f.withdraw(&f.a, 0, 1),
        f.compute_health(&f.a),
        f.trade(0, &f.b, &f.a),
        f.take(MARKETS - 1, &f.a, &f.b),
        f.liquidate_token(&f.t16, &f.b, 15, 0),
        f.liquidate_position(&f.liqee, &f.a, 0, 1),
    ]);
    let mut checked = 0;
    for c in &cases {
        for ix in &c.ixs {
            for m in &ix.accounts {
                if m.is_signer || per_user.contains(&m.pubkey) {
                    continue;
                }
                assert!(
                    listed.contains(&m.pubkey),
                    "{} passes {} (writable: {}), neither a user's account nor in group_addresses",
                    if c.name.is_empty() { "an instruction" } else { &c.name },
                    m.pubkey,
                    m.is_writable
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked} shared accounts checked");
}

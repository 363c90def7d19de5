//! Every bad `trade`: its exact error, and both margin accounts and the
//! market unchanged; the boundary case next to each refusal accepted. The
//! market's accounting identity is checked after every instruction.
use anchor_lang::error::ErrorCode as AnchorErrorCode;
use solana_message::Message;
use solana_transaction::Transaction;
use xmargin::errors::XmarginError;
use xmargin::instructions::{AddMarketArgs, TradeArgs, UpdateMarketArgs};
use xmargin::state::pause;
use xmargin_client::instructions::BankKeys;
use xmargin_client::market_instructions as mixs;
use xmargin_test_support::fixtures::{
    default_bank_args, set_delegate_ix, setup_account, setup_bank, setup_group,
};
use xmargin_test_support::margin::set_pause_ix;
use xmargin_test_support::markets::{
    assert_market_conservation, health_accounts_full, perp_desk, sol_perp_args,
};
use xmargin_test_support::pyth::feeds;
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{AccountMeta, Address, Instruction, Keypair, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const PERP: u16 = 0;
const MICRO: u64 = 1_000_000;
const P150: u64 = 1_500_000;

/// A SOL perpetual (market 0) and Alice and Bob with 1,000 USDC deposited each.
fn desk() -> (World, User, User) {
    perp_desk(PERP)
}

/// Both margin accounts and the market.
fn keys(w: &World, a: &User, b: &User) -> Vec<Address> {
    vec![a.account, b.account, w.market_keys(PERP).market]
}

/// Sends `ix` signed by `signers`; it must fail with `code` and change
/// neither account nor the market.
#[track_caller]
fn refused(w: &mut World, ix: Instruction, signers: &[&Keypair], code: impl Into<u32>, a: &User, b: &User) {
    let watched = keys(w, a, b);
    w.env.send_err(&[ix], signers, code, &watched);
    assert_market_conservation(w, PERP, &[a, b]);
}

/// `buyer` buys `size` at `price` from `seller`, signed by both: refused with `code`.
#[track_caller]
fn refused_trade(w: &mut World, buyer: &User, seller: &User, size: u64, price: u64, code: impl Into<u32>) {
    let ix = w.trade_ix(PERP, buyer, seller, size, price);
    refused(w, ix, &[&buyer.wallet, &seller.wallet], code, buyer, seller);
}

#[track_caller]
fn traded(w: &mut World, buyer: &User, seller: &User, size: u64, price: u64) {
    w.trade(PERP, buyer, seller, size, price).expect_ok();
    assert_market_conservation(w, PERP, &[buyer, seller]);
}

/// The band is oracle · [0.95, 1.05] = 142.50 … 157.50 USDC/SOL, i.e.
/// 1,425,000 … 1,575,000 per contract. 0.15 and 0.05 are not binary
/// fractions: the program rounds both edges inward by less than one native
/// unit, so 1,425,001 and 1,574,999 are the extreme prices accepted.
#[test]
fn price_band() {
    let (mut w, alice, bob) = desk();
    for price in [1_424_999, 1_425_000, 1_575_000, 1_575_001] {
        refused_trade(&mut w, &alice, &bob, 1, price, XmarginError::PriceOutsideBand);
    }
    traded(&mut w, &alice, &bob, 1, 1_425_001);
    traded(&mut w, &alice, &bob, 1, 1_574_999);
    refused_trade(&mut w, &alice, &bob, 1, 0, XmarginError::ZeroAmount);
}

/// A loosened band waits for the group's delay: a trade at 160.50 (+7 %)
/// is refused until the 10 % band is in force.
#[test]
fn a_wider_band_applies_after_the_delay() {
    let (mut w, alice, bob) = desk();
    let mut risk = sol_perp_args(PERP).risk;
    risk.price_band_bps = 1_000;
    w.update_market(PERP, UpdateMarketArgs { risk: Some(risk), ..Default::default() }).expect_ok();
    refused_trade(&mut w, &alice, &bob, 1, 1_605_000, XmarginError::PriceOutsideBand);
    w.env.warp(3_599);
    w.refresh_prices();
    refused_trade(&mut w, &alice, &bob, 1, 1_605_000, XmarginError::PriceOutsideBand);
    w.env.warp(1);
    w.refresh_prices();
    traded(&mut w, &alice, &bob, 1, 1_605_000);
    assert_eq!(w.market(PERP).risk.price_band.get().to_bits(), sol_band(1_000), "applied by the trade");
}

fn sol_band(b: i64) -> i128 {
    xmargin_risk::Fixed::from_ratio(b, 10_000, xmargin_risk::Rounding::Floor).unwrap().to_bits()
}

/// The open-interest cap (lowered at once by `update_market`) refuses a
/// trade that grows open interest past it; trades that shrink it pass even
/// above a cap lowered below the open interest.
#[test]
fn open_interest_cap() {
    let (mut w, alice, bob) = desk();
    let cap = |w: &mut World, c: u64| {
        let mut risk = sol_perp_args(PERP).risk;
        risk.open_interest_cap = c;
        w.update_market(PERP, UpdateMarketArgs { risk: Some(risk), ..Default::default() }).expect_ok();
        assert_eq!(w.market(PERP).risk.open_interest_cap, c, "a lower cap applies at once");
    };
    cap(&mut w, 150);
    traded(&mut w, &alice, &bob, 100, P150);
    traded(&mut w, &alice, &bob, 50, P150);
    assert_eq!(w.market(PERP).open_interest, 150);
    refused_trade(&mut w, &alice, &bob, 1, P150, XmarginError::OpenInterestCapExceeded);
    // Bob buying from Alice reduces both positions: open interest falls.
    traded(&mut w, &bob, &alice, 10, P150);
    cap(&mut w, 100);
    traded(&mut w, &bob, &alice, 10, P150);
    assert_eq!(w.market(PERP).open_interest, 130);
    refused_trade(&mut w, &alice, &bob, 1, P150, XmarginError::OpenInterestCapExceeded);
}

/// Minimum size (a market with a 10-contract minimum) and the zero size.
#[test]
fn trade_size_too_small() {
    let (mut w, alice, bob) = desk();
    refused_trade(&mut w, &alice, &bob, 0, P150, XmarginError::TradeSizeTooSmall);
    w.add_market(AddMarketArgs { min_size: 10, ..sol_perp_args(1) }).expect_ok();
    let watched = [alice.account, bob.account, w.market_keys(1).market];
    let ix = w.trade_ix(1, &alice, &bob, 9, P150);
    w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::TradeSizeTooSmall, &watched);
    w.trade(1, &alice, &bob, 10, P150).expect_ok();
    assert_market_conservation(&w, 1, &[&alice, &bob]);
}

/// One account on both sides.
#[test]
fn self_trade() {
    let (mut w, alice, bob) = desk();
    let ix = w.trade_ix(PERP, &alice, &alice, 1, P150);
    refused(&mut w, ix, &[&alice.wallet], XmarginError::SelfTrade, &alice, &bob);
}

/// The trade with `buyer_auth` and `seller_auth` as the signing authorities.
fn trade_signed_by(
    w: &World,
    buyer: &User,
    buyer_auth: &Address,
    seller: &User,
    seller_auth: &Address,
) -> Instruction {
    let g = w.group.group;
    mixs::trade(
        &g,
        &w.market_keys(PERP),
        &buyer.account,
        buyer_auth,
        &seller.account,
        seller_auth,
        TradeArgs { size: 1, price: P150 },
        health_accounts_full(&w.env, &g, &buyer.account, &[], &[PERP]),
        health_accounts_full(&w.env, &g, &seller.account, &[], &[PERP]),
    )
}

/// The seller did not sign: with the seller's authority not marked as a
/// signer, Anchor refuses the account (AccountNotSigner, 3010); marked as a
/// signer but the signature missing, the runtime rejects the transaction
/// before the program runs (`SignatureFailure`). Either way nothing changes.
/// (`Env::send` signs only with keypairs it is given, so it cannot build the
/// second transaction: `Transaction::new_signed_with_payer` panics with
/// NotEnoughSigners. The test signs partially by hand.)
#[test]
fn an_unsigned_counterparty() {
    let (mut w, alice, bob) = desk();
    let mut ix = trade_signed_by(&w, &alice, &alice.wallet.pubkey(), &bob, &bob.wallet.pubkey());
    let meta = ix.accounts.iter_mut().find(|m| m.pubkey == bob.wallet.pubkey()).unwrap();
    *meta = AccountMeta::new_readonly(bob.wallet.pubkey(), false);
    refused(&mut w, ix, &[&alice.wallet], AnchorErrorCode::AccountNotSigner as u32, &alice, &bob);

    let ix = trade_signed_by(&w, &alice, &alice.wallet.pubkey(), &bob, &bob.wallet.pubkey());
    let watched = keys(&w, &alice, &bob);
    let before = w.env.snapshot(&watched);
    let payer = w.env.payer.insecure_clone();
    w.env.svm.expire_blockhash();
    let mut tx = Transaction::new_unsigned(Message::new(&[ix], Some(&payer.pubkey())));
    tx.partial_sign(&[&payer, &alice.wallet], w.env.svm.latest_blockhash());
    let err = w.env.svm.send_transaction(tx).expect_err("a missing signature is refused").err;
    assert_eq!(err, solana_transaction_error::TransactionError::SignatureFailure);
    assert_eq!(before, w.env.snapshot(&watched));
}

/// An authority that is neither owner nor delegate is refused on either
/// side; a delegate may trade for the account.
#[test]
fn owner_or_delegate_signs() {
    let (mut w, alice, bob) = desk();
    let eve = w.env.new_wallet(66);
    let (a, b, e) = (alice.wallet.pubkey(), bob.wallet.pubkey(), eve.pubkey());
    let ix = trade_signed_by(&w, &alice, &a, &bob, &e);
    refused(&mut w, ix, &[&alice.wallet, &eve], XmarginError::UnauthorizedOwner, &alice, &bob);
    let ix = trade_signed_by(&w, &alice, &e, &bob, &b);
    refused(&mut w, ix, &[&eve, &bob.wallet], XmarginError::UnauthorizedOwner, &alice, &bob);
    // Bob's owner makes Dave his delegate; Dave signs for Bob.
    let dave = w.env.new_wallet(67);
    w.env.send_ok(&[set_delegate_ix(&bob.account, &b, &dave.pubkey())], &[&bob.wallet]);
    let ix = trade_signed_by(&w, &alice, &a, &bob, &dave.pubkey());
    w.env.send_ok(&[ix], &[&alice.wallet, &dave]);
    assert_market_conservation(&w, PERP, &[&alice, &bob]);
    assert_eq!(w.position(&bob, PERP).base_contracts, -1);
}

/// The market's oracle must be fresh (60 s) and certain (conf ≤ 2 %); the
/// wrong oracle account is refused.
#[test]
fn stale_uncertain_or_wrong_oracle() {
    let (mut w, alice, bob) = desk();
    w.env.warp(61);
    refused_trade(&mut w, &alice, &bob, 1, P150, XmarginError::OracleStale);
    w.set_price(USDC, 100_000_000, 0); // only SOL is stale
    refused_trade(&mut w, &alice, &bob, 1, P150, XmarginError::OracleStale);
    w.set_price(SOL, 15_000_000_000, 301_000_000); // ± $3.01: 2.007 %
    refused_trade(&mut w, &alice, &bob, 1, P150, XmarginError::OracleConfidenceTooWide);
    w.set_price(SOL, 15_000_000_000, 10_000_000);
    let mut ix = w.trade_ix(PERP, &alice, &bob, 1, P150);
    ix.accounts[2].pubkey = w.banks[2].oracle; // the BTC oracle in the market's oracle slot
    refused(&mut w, ix, &[&alice.wallet, &bob.wallet], XmarginError::WrongOracle, &alice, &bob);
    traded(&mut w, &alice, &bob, 1, P150);
}

/// The trading pause refuses trades; unpaused, the same trade goes through.
#[test]
fn paused_trading() {
    let (mut w, alice, bob) = desk();
    let admin = w.admin.insecure_clone();
    let g = w.group.group;
    w.env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), pause::TRADING)], &[&admin]);
    refused_trade(&mut w, &alice, &bob, 1, P150, XmarginError::GroupPaused);
    // Other pauses do not stop trading.
    let others = pause::DEPOSITS | pause::WITHDRAWALS | pause::LIQUIDATIONS;
    w.env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), others)], &[&admin]);
    traded(&mut w, &alice, &bob, 1, P150);
    w.env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), 0)], &[&admin]);
    traded(&mut w, &alice, &bob, 1, P150);
}

/// A trade leaving Init < 0 from Init ≥ 0 is refused: Carol (10 USDC)
/// buying 1 SOL would need 15.01 + 0.10; 0.6 SOL (9.066) fits.
#[test]
fn trade_health_too_low() {
    let (mut w, _alice, bob) = desk();
    let carol = w.user(12, [10 * MICRO, 0, 0]);
    w.deposit(&carol, USDC, 10 * MICRO).expect_ok();
    refused_trade(&mut w, &carol, &bob, 100, P150, XmarginError::TradeHealthTooLow);
    // On the seller's side too.
    refused_trade(&mut w, &bob, &carol, 100, P150, XmarginError::TradeHealthTooLow);
    traded(&mut w, &carol, &bob, 60, P150);
}

/// The new position is valued at the oracle with its confidence, not at
/// the stable price: Dave buying 1 SOL at 150.00 needs 15.01 (10 % of
/// 150.10) + 0.10 (149.90 − 150) = 15.11 USDC. With 15.10 he is refused
/// (valued at a flat $150 he would need only 15.00); with 15.110001 he
/// trades, and his Init is 0.000001 less the fixed-point hair: 0.
#[test]
fn a_new_position_is_valued_at_the_oracle() {
    let (mut w, _alice, bob) = desk();
    let dave = w.user(13, [20 * MICRO, 0, 0]);
    w.deposit(&dave, USDC, 15_100_000).expect_ok();
    refused_trade(&mut w, &dave, &bob, 100, P150, XmarginError::TradeHealthTooLow);
    w.deposit(&dave, USDC, 10_001).expect_ok();
    traded(&mut w, &dave, &bob, 100, P150);
    let g = w.group.group;
    assert_eq!(xmargin_test_support::margin::health_view(&mut w.env, &g, &dave.account).init, 0);
}

/// The same when the stable price lags a fall: SOL drops to $120 while the
/// market's stable price stays at $150 (no funding crank). Carol (10 USDC)
/// buying 1 SOL at 120.00 must not be valued at 150 (a 30 USDC paper gain
/// counting 15 against a 15 requirement): her long is worth 119.90 and
/// requires 10 % of max(120.10, 150) = 15, so Init would be −5.10.
#[test]
fn a_lagging_stable_price_does_not_value_a_new_position() {
    let (mut w, _alice, bob) = desk();
    let carol = w.user(12, [10 * MICRO, 0, 0]);
    w.deposit(&carol, USDC, 10 * MICRO).expect_ok();
    w.set_price(SOL, 12_000_000_000, 10_000_000);
    refused_trade(&mut w, &carol, &bob, 100, 1_200_000, XmarginError::TradeHealthTooLow);
}

/// Health accounts not matching the positions are refused by name: too few
/// accounts, another market in the traded one's place, the wrong oracle
/// for a market, one account too many.
#[test]
fn health_accounts_must_list_the_market() {
    let (mut w, alice, bob) = desk();
    w.add_market(sol_perp_args(1)).expect_ok();
    let g = w.group.group;
    let mk = |w: &World, buyer_markets: &[u16], seller_markets: &[u16]| {
        mixs::trade(
            &g,
            &w.market_keys(PERP),
            &alice.account,
            &alice.wallet.pubkey(),
            &bob.account,
            &bob.wallet.pubkey(),
            TradeArgs { size: 1, price: P150 },
            health_accounts_full(&w.env, &g, &alice.account, &[], buyer_markets),
            health_accounts_full(&w.env, &g, &bob.account, &[], seller_markets),
        )
    };
    let signers = [&alice.wallet, &bob.wallet];
    let ix = mk(&w, &[PERP], &[]);
    refused(&mut w, ix, &signers, XmarginError::HealthAccountMismatch, &alice, &bob);
    let ix = mk(&w, &[1], &[PERP]);
    refused(&mut w, ix, &signers, XmarginError::HealthAccountMismatch, &alice, &bob);
    // The seller's market oracle replaced by the BTC oracle.
    let mut ix = mk(&w, &[PERP], &[PERP]);
    let last = ix.accounts.len() - 1;
    ix.accounts[last].pubkey = w.banks[2].oracle;
    refused(&mut w, ix, &signers, XmarginError::WrongOracle, &alice, &bob);
    // One account too many after the seller's list.
    let mut ix = mk(&w, &[PERP], &[PERP]);
    ix.accounts.push(AccountMeta::new_readonly(w.banks[2].oracle, false));
    refused(&mut w, ix, &signers, XmarginError::HealthAccountMismatch, &alice, &bob);
    let ix = mk(&w, &[PERP], &[PERP]);
    w.env.send_ok(&[ix], &signers);
}

/// Sixteen positions fill an account's derivative slots: a trade in a
/// seventeenth market is refused.
#[test]
fn too_many_derivative_positions() {
    let (mut w, alice, bob) = desk();
    for m in 1..=16u16 {
        w.add_market(sol_perp_args(m)).expect_ok();
    }
    for m in 0..16u16 {
        let out = w.trade(m, &alice, &bob, 1, P150);
        out.expect_ok();
        println!("market {m}: {} CU", out.compute_units);
    }
    let watched = [alice.account, bob.account, w.market_keys(16).market];
    let ix = w.trade_ix(16, &alice, &bob, 1, P150);
    w.env.send_err(&[ix], &[&alice.wallet, &bob.wallet], XmarginError::TooManyDerivativePositions, &watched);
}

/// A bankrupt account cannot open a position: any size lowers its negative
/// Init. (Alice's USDC debt is backed by nothing: she sold it to Bob for
/// SOL she no longer has.)
#[test]
fn a_bankrupt_account_cannot_trade() {
    let (mut w, alice, bob) = desk();
    let carol = w.user(12, [0, 10_000_000_000, 0]);
    w.deposit(&carol, SOL, 10_000_000_000).expect_ok();
    w.withdraw(&carol, USDC, 1_150 * MICRO).expect_ok();
    w.set_price(SOL, 5_000_000_000, 10_000_000);
    w.liquidate(&carol, &alice, SOL, USDC, u64::MAX).expect_ok();
    let bankrupt = xmargin::state::account_flags::BANKRUPT;
    assert_eq!(w.flags(&carol) & bankrupt, bankrupt);
    w.set_price(SOL, 15_000_000_000, 10_000_000);
    refused_trade(&mut w, &carol, &bob, 1, P150, XmarginError::TradeHealthTooLow);
    refused_trade(&mut w, &bob, &carol, 1, P150, XmarginError::TradeHealthTooLow);
}

/// A market or a margin account of another group is refused (WrongGroup).
#[test]
fn accounts_of_another_group() {
    let (mut w, alice, bob) = desk();
    // Olga's group lists SOL (token 0) and a SOL perpetual on it.
    let olga = w.env.new_wallet(67);
    let other = setup_group(&mut w.env, &olga);
    let spec = xmargin_test_support::world::SOL;
    let sol = setup_bank(&mut w.env, &other, &olga, spec, default_bank_args(0, feeds::SOL_USD));
    let sol_keys = BankKeys { bank: sol.bank, vault: sol.vault, oracle: sol.oracle };
    let ix = mixs::add_market(&other.group, &olga.pubkey(), &olga.pubkey(), &sol_keys, sol_perp_args(0));
    w.env.send_ok(&[ix], &[&olga]);
    let signers = [&alice.wallet, &bob.wallet];

    let mut ix = w.trade_ix(PERP, &alice, &bob, 1, P150);
    ix.accounts[1].pubkey = xmargin::pda::market_address(&other.group, 0).0;
    ix.accounts[2].pubkey = sol.oracle;
    refused(&mut w, ix, &signers, XmarginError::WrongGroup, &alice, &bob);

    // Alice's account in Olga's group as the buyer.
    let foreign = setup_account(&mut w.env, &other.group, &alice.wallet, 0);
    let mut ix = w.trade_ix(PERP, &alice, &bob, 1, P150);
    ix.accounts[3].pubkey = foreign;
    refused(&mut w, ix, &signers, XmarginError::WrongGroup, &alice, &bob);
}

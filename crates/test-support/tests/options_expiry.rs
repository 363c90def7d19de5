//! Expiry of European options (issue 13): `sample_price` in the last 30
//! minutes, the settlement price fixed by the first `settle_expired` as for
//! dated futures, each position paid its intrinsic value in USDC
//! (cash-settled, exercised automatically in the money) as realised PnL,
//! `settle_pnl` without a window afterwards, health valuing a settled series
//! without its (stale) risk array, and `close_market` once nobody holds a
//! slot. Every refusal names its error and changes nothing; quote value is
//! conserved to the unit after every instruction.
//!
//! Units: µUSDC; a contract is 0.01 SOL, so $1 of SOL price is 10,000 per
//! contract: $151.50 is 1,515,000 per contract and a $148 strike 1,480,000.
use xmargin::errors::XmarginError;
use xmargin::events::{MarketSettled, PositionSettled};
use xmargin::state::market_status;
use xmargin_client::market_instructions as mixs;
use xmargin_test_support::margin::{health_view, withdraw_ix};
use xmargin_test_support::market_checks::{event, events, sol_price, PnlLedger};
use xmargin_test_support::markets::{assert_market_conservation, sol_perp_args};
use xmargin_test_support::options::{sol_call_args, sol_put_args};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Address, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const CALL: u16 = 0;
const PUT: u16 = 1;
const MICRO: u64 = 1_000_000;
const CONF: u64 = 10_000_000;
/// The options expire two hours after listing; samples count from 30 min before.
const LIFE: i64 = 7_200;
const WINDOW: i64 = 1_800;
/// Call struck at $148, put at $149 (quote native per 0.01 SOL contract).
const CALL_STRIKE: u64 = 1_480_000;
const PUT_STRIKE: u64 = 1_490_000;
/// Model values per contract at $150, σ 60 %, two hours out (the arrays'
/// values rounded up to a whole µUSDC, inside the 5 % band): the call
/// 20,414 (2.0414 USDC per SOL), the put 1,816.
const CALL_PRICE: u64 = 20_414;
const PUT_PRICE: u64 = 1_816;

/// The call desk (Alice and Carol long, Bob short) and the put desk (Dave
/// long, Erin short) on separate accounts, so each market's ledger sees
/// every quote movement of its accounts.
struct Desk {
    w: World,
    alice: User,
    bob: User,
    carol: User,
    dave: User,
    erin: User,
    expiry: i64,
    calls: PnlLedger,
    puts: PnlLedger,
}

impl Desk {
    /// Quote value conserved in both markets (every slot, settled or not,
    /// plus what `settle_pnl` moved into tokens), open interest and slot
    /// counts right, and every vault covering its claims.
    #[track_caller]
    fn check(&self) {
        self.calls.assert_conserved(&self.w);
        self.puts.assert_conserved(&self.w);
        assert_market_conservation(&self.w, CALL, &[&self.alice, &self.bob, &self.carol]);
        assert_market_conservation(&self.w, PUT, &[&self.dave, &self.erin]);
        self.w.assert_all_vaults();
    }

    /// Accounts a refused instruction must leave untouched.
    fn watched(&self) -> Vec<Address> {
        let mut keys: Vec<Address> =
            [&self.alice, &self.bob, &self.carol, &self.dave, &self.erin].iter().map(|u| u.account).collect();
        keys.extend([self.w.market_keys(CALL).market, self.w.market_keys(PUT).market]);
        keys.extend([self.w.banks[0].bank, self.w.banks[0].vault]);
        keys
    }
}

/// A $148 call (market 0) and a $149 put (market 1) on SOL at $150,
/// expiring in two hours; five users with 1,000 USDC each. Alice buys 100
/// calls and Carol 30 from Bob, Dave buys 50 puts from Erin, all at the
/// model value.
fn desk() -> Desk {
    let mut w = World::new();
    let expiry = w.env.unix_time() + LIFE;
    w.add_option_market(sol_call_args(CALL, CALL_STRIKE, expiry)).expect_ok();
    w.add_option_market(sol_put_args(PUT, PUT_STRIKE, expiry)).expect_ok();
    for m in [CALL, PUT] {
        w.update_risk_array(m).expect_ok();
    }
    let mut user = |seed: u8| {
        let u = w.user(seed, [1_000 * MICRO, 0, 0]);
        w.deposit(&u, USDC, 1_000 * MICRO).expect_ok();
        u
    };
    let (alice, bob, carol, dave, erin) = (user(10), user(11), user(12), user(13), user(14));
    let calls = PnlLedger::new(&w, CALL, &[&alice, &bob, &carol]);
    let puts = PnlLedger::new(&w, PUT, &[&dave, &erin]);
    // The constants are the arrays' model values (rounded up), inside the band.
    for (m, price) in [(CALL, CALL_PRICE), (PUT, PUT_PRICE)] {
        let market = w.market(m);
        let size = i64::try_from(market.contract_size).unwrap();
        let value = market.risk_array.value.get().checked_mul_int(size).unwrap();
        assert_eq!(value.to_i64(xmargin_risk::Rounding::Ceil).unwrap(), price as i64, "market {m}");
    }
    w.trade(CALL, &alice, &bob, 100, CALL_PRICE).expect_ok();
    w.trade(CALL, &carol, &bob, 30, CALL_PRICE).expect_ok();
    w.trade(PUT, &dave, &erin, 50, PUT_PRICE).expect_ok();
    let d = Desk { w, alice, bob, carol, dave, erin, expiry, calls, puts };
    d.check();
    assert_eq!((d.w.market(CALL).open_interest, d.w.market(PUT).open_interest), (130, 50));
    d
}

/// Moves the clock to `t` and publishes SOL at `price` (expo −8), the rest refreshed.
fn at(w: &mut World, t: i64, price: i64) {
    let now = w.env.unix_time();
    w.env.warp(t - now);
    w.refresh_prices();
    w.set_price(SOL, price, CONF);
}

/// A refused `withdraw` of `amount` USDC by `user`, the `keys` unchanged.
#[track_caller]
fn refused_withdraw(w: &mut World, keys: &[Address], user: &User, amount: u64, code: XmarginError) {
    let g = w.group.group;
    let ix = withdraw_ix(&w.env, &g, &user.account, USDC, &user.tokens[0], &user.wallet.pubkey(), amount);
    w.env.send_err(&[ix], &[&user.wallet], code, keys);
}

/// The issue's worked example: an in-the-money call and an out-of-the-money
/// put settled on the samples' time-weighted mean, paid their intrinsic
/// value, the PnL moved into USDC and both markets closed.
///
/// ```text
/// samples (each the seconds since the previous, at most 300):
///   E − 1500 $150.00, E − 1200 $150.00, E − 900 $153.00, E − 600 $153.00,
///   E − 300 $151.50, E $151.50         → mean $151.50 = 1,515,000 per contract
/// call K $148 = 1,480,000: intrinsic 1,515,000 − 1,480,000 = 35,000 per contract
///   Alice  +100 bought at 20,414:  100 · 35,000 − 2,041,400 = +1,458,600
///   Carol   +30 bought at 20,414:   30 · 35,000 −   612,420 =   +437,580
///   Bob    −130 sold at 20,414:  −130 · 35,000 + 2,653,820 = −1,896,180  (Σ = 0)
/// put K $149 = 1,490,000: intrinsic max(1,490,000 − 1,515,000, 0) = 0
///   Dave    +50 bought at 1,816:    50 · 0 − 90,800 = −90,800
///   Erin    −50 sold at 1,816:     −50 · 0 + 90,800 = +90,800
/// settle_pnl: Bob → Alice 1,458,600, Bob → Carol 437,580, Dave → Erin 90,800;
/// every slot frees and both markets close.
/// ```
#[test]
fn an_itm_call_and_an_otm_put_settle_at_intrinsic_value() {
    let mut d = desk();
    let e = d.expiry;
    let g = d.w.group.group;
    let (call, put) = (d.w.market_keys(CALL), d.w.market_keys(PUT));
    let admin = d.w.admin.insecure_clone();
    let close = |m: &Address| mixs::close_market(&g, &admin.pubkey(), m, &admin.pubkey());

    // Before expiry: no settlement, no PnL settlement of model values, no close.
    at(&mut d.w, e - WINDOW - 1, 15_000_000_000);
    let keys = d.watched();
    let ix = mixs::sample_price(&g, &call);
    d.w.env.send_err(&[ix], &[], XmarginError::SampleOutsideWindow, &keys);
    let ix = mixs::settle_expired(&g, &call, &d.alice.account);
    d.w.env.send_err(&[ix], &[], XmarginError::MarketNotSettled, &keys);
    let ix = mixs::settle_pnl(&g, &put, &d.erin.account, &d.dave.account, &d.w.banks[0].bank);
    d.w.env.send_err(&[ix], &[], XmarginError::WrongMarketKind, &keys);
    d.w.env.send_err(&[close(&call.market)], &[&admin], XmarginError::MarketNotSettled, &keys);
    d.check();

    for (before, price) in [
        (1_500, 15_000_000_000),
        (1_200, 15_000_000_000),
        (900, 15_300_000_000),
        (600, 15_300_000_000),
        (300, 15_150_000_000),
        (0, 15_150_000_000),
    ] {
        at(&mut d.w, e - before, price);
        d.w.sample_price(CALL).expect_ok();
        d.w.sample_price(PUT).expect_ok();
    }
    assert_eq!((d.w.market(CALL).sample_count, d.w.market(CALL).sample_secs), (6, 1_800));
    // At expiry the series stops trading.
    let keys = d.watched();
    let ix = d.w.trade_ix(CALL, &d.alice, &d.bob, 1, CALL_PRICE);
    d.w.env.send_err(&[ix], &[&d.alice.wallet, &d.bob.wallet], XmarginError::MarketExpired, &keys);

    // Expired, not settled: no sample, no revaluation, no PnL settlement; the
    // array (two hours old) blocks Bob's withdrawal like a stale oracle.
    at(&mut d.w, e + 1, 15_150_000_000);
    d.w.env.send_err(&[mixs::sample_price(&g, &call)], &[], XmarginError::SampleOutsideWindow, &keys);
    d.w.env.send_err(&[mixs::update_risk_array(&g, &call)], &[], XmarginError::MarketExpired, &keys);
    let ix = mixs::settle_pnl(&g, &call, &d.alice.account, &d.bob.account, &d.w.banks[0].bank);
    d.w.env.send_err(&[ix], &[], XmarginError::WrongMarketKind, &keys);
    refused_withdraw(&mut d.w, &keys, &d.bob, MICRO, XmarginError::RiskArrayStale);

    // The first settle_expired fixes the price on the samples and pays Alice.
    let out = d.w.settle_expired(CALL, &d.alice);
    // Measured: 4,063 CU (the price from six samples, one position), 3,187 for the next ones.
    assert!(out.expect_ok() < 10_000);
    let settled: MarketSettled = event(&out);
    assert!(!settled.fallback && !settled.timed_out && settled.sample_count == 6);
    let m = d.w.market(CALL);
    assert_eq!(m.status, market_status::SETTLED);
    assert_eq!(m.settlement_price.get(), sol_price(15_150_000_000));
    let paid: PositionSettled = event(&out);
    assert_eq!((paid.base_contracts, paid.realized, paid.open_interest), (100, 1_458_600, 30));
    let a = d.w.position(&d.alice, CALL);
    assert_eq!((a.base_contracts, a.quote_cost, a.realized_pnl), (0, 0, 1_458_600));
    d.check();

    // Health after settlement reads no array: Bob's unsettled short is worth
    // its intrinsic value, −1,896,180 at full weight in every type (USDC at $1).
    let hb = health_view(&mut d.w.env, &g, &d.bob.account);
    assert_eq!((hb.init, hb.maint, hb.liquidation_end), (998_103_820, 998_103_820, 998_103_820));
    // Carol's unsettled profit of 437,580 counts 50 % in Init, 75 % and 90 % (floored).
    let hc = health_view(&mut d.w.env, &g, &d.carol.account);
    assert_eq!(hc.init, 1_000_218_790);
    assert!((1_000_328_184..=1_000_328_185).contains(&hc.liquidation_end), "{hc:?}");
    assert!((1_000_393_821..=1_000_393_822).contains(&hc.maint), "{hc:?}");
    d.w.withdraw(&d.bob, USDC, MICRO).expect_ok();
    d.calls.deposits[1] = d.calls.deposits[1].checked_sub(xmargin_risk::Fixed::from_u64(MICRO)).unwrap();
    d.check();

    // Settling Alice again: only realised PnL is left.
    let keys = d.watched();
    let ix = mixs::settle_expired(&g, &call, &d.alice.account);
    d.w.env.send_err(&[ix], &[], XmarginError::PositionAlreadySettled, &keys);
    // Nor does an account without a position in the series settle anything.
    let ix = mixs::settle_expired(&g, &call, &d.dave.account);
    d.w.env.send_err(&[ix], &[], XmarginError::NoPosition, &keys);
    // Settled: no sample, no trade.
    d.w.env.send_err(&[mixs::sample_price(&g, &call)], &[], XmarginError::MarketExpired, &keys);
    let ix = d.w.trade_ix(CALL, &d.alice, &d.bob, 1, CALL_PRICE);
    d.w.env.send_err(&[ix], &[&d.alice.wallet, &d.bob.wallet], XmarginError::MarketExpired, &keys);

    for (user, realized, oi) in [(&d.carol, 437_580, 0), (&d.bob, -1_896_180, 0)] {
        let out = d.w.settle_expired(CALL, user);
        assert!(out.expect_ok() < 10_000);
        assert!(events::<MarketSettled>(&out).is_empty(), "the price is fixed once");
        assert_eq!((event::<PositionSettled>(&out).realized, d.w.market(CALL).open_interest), (realized, oi));
        assert_eq!(d.w.position(user, CALL).realized_pnl, realized);
        d.check();
    }

    // The put, out of the money: the long loses its premium, the short keeps it.
    let out = d.w.settle_expired(PUT, &d.erin);
    out.expect_ok();
    assert_eq!(d.w.market(PUT).settlement_price.get(), sol_price(15_150_000_000));
    assert_eq!(event::<PositionSettled>(&out).realized, 90_800);
    d.check();
    d.w.settle_expired(PUT, &d.dave).expect_ok();
    assert_eq!(d.w.position(&d.dave, PUT).realized_pnl, -90_800);
    d.check();
    let keys = d.watched();
    d.w.env.send_err(&[close(&put.market)], &[&admin], XmarginError::MarketNotEmpty, &keys);

    // settle_pnl after settlement: no window, slots free.
    assert_eq!(d.calls.settle(&mut d.w, &d.alice, &d.bob), 1_458_600);
    d.check();
    assert_eq!(d.calls.settle(&mut d.w, &d.carol, &d.bob), 437_580);
    d.check();
    assert_eq!(d.puts.settle(&mut d.w, &d.erin, &d.dave), 90_800);
    d.check();
    for u in [&d.alice, &d.bob, &d.carol] {
        assert_eq!(d.w.position(u, CALL).in_use, 0);
    }
    assert_eq!((d.w.market(CALL).position_count, d.w.market(PUT).position_count), (0, 0));
    let bal = |d: &Desk, u: &User| xmargin_test_support::market_checks::quote_balance(&d.w, u);
    assert_eq!(bal(&d, &d.alice), xmargin_risk::Fixed::from_u64(1_001_458_600));
    assert_eq!(bal(&d, &d.bob), xmargin_risk::Fixed::from_u64(1_000_000_000 - 1_896_180 - MICRO));
    assert_eq!(bal(&d, &d.dave), xmargin_risk::Fixed::from_u64(999_909_200));

    // Empty and settled: both close, the rent to the admin.
    for m in [call.market, put.market] {
        let rent = d.w.env.account(&m).unwrap().lamports;
        let before = d.w.env.account(&admin.pubkey()).unwrap().lamports;
        d.w.env.send_ok(&[close(&m)], &[&admin]);
        assert!(d.w.env.account(&m).is_none_or(|a| a.lamports == 0));
        assert_eq!(d.w.env.account(&admin.pubkey()).unwrap().lamports, before + rent);
    }
}

/// A series whose only positions were closed before expiry still settles:
/// with too few samples (none) the price is the first fresh oracle price
/// published after expiry, and the first `settle_expired` on any slot fixes
/// it even though that slot holds only realised PnL; a second call is
/// refused. An in-the-money put pays the short's loss to the long.
///
/// ```text
/// put K $149 = 1,490,000 per contract, contracts of 0.01 SOL
///   Frank buys 10 from Gina at 1,816, sells them back at 1,815:
///     Frank 10 · 1,815 − 18,160 = −10, Gina +10 (closed before expiry)
///   Hank buys 20 from Ivy at 1,816 (cost 36,320)
/// expiry: no samples; the oracle published after expiry says $140.00
///   = 1,400,000 per contract; intrinsic 1,490,000 − 1,400,000 = 90,000
///   Hank  20 · 90,000 − 36,320 = +1,763,680, Ivy −1,763,680
/// settle_pnl: Frank → Gina 10, Ivy → Hank 1,763,680 (Ivy's position
/// settled by settle_pnl itself at the same value); the market closes.
/// ```
#[test]
fn a_series_closed_before_expiry_settles_on_the_first_price_after_it() {
    let mut w = World::new();
    let expiry = w.env.unix_time() + LIFE;
    w.add_option_market(sol_put_args(0, PUT_STRIKE, expiry)).expect_ok();
    w.add_market(sol_perp_args(1)).expect_ok();
    w.update_risk_array(0).expect_ok();
    let mut user = |seed: u8| {
        let u = w.user(seed, [1_000 * MICRO, 0, 0]);
        w.deposit(&u, USDC, 1_000 * MICRO).expect_ok();
        u
    };
    let (frank, gina, hank, ivy) = (user(20), user(21), user(22), user(23));
    let all = [&frank, &gina, &hank, &ivy];
    let mut ledger = PnlLedger::new(&w, 0, &all);
    let check = |w: &World, ledger: &PnlLedger| {
        ledger.assert_conserved(w);
        assert_market_conservation(w, 0, &all);
        w.assert_all_vaults();
    };
    w.trade(0, &frank, &gina, 10, PUT_PRICE).expect_ok();
    w.trade(0, &gina, &frank, 10, PUT_PRICE - 1).expect_ok();
    w.trade(0, &hank, &ivy, 20, PUT_PRICE).expect_ok();
    check(&w, &ledger);
    let f = w.position(&frank, 0);
    assert_eq!((f.base_contracts, f.quote_cost, f.realized_pnl), (0, 0, -10));
    // Before settlement an option's realised PnL waits too (no PnL settlement of option markets).
    let g = w.group.group;
    let (put, perp) = (w.market_keys(0), w.market_keys(1));
    let mut keys: Vec<Address> = all.iter().map(|u| u.account).collect();
    keys.extend([put.market, perp.market, w.banks[0].bank]);
    let ix = mixs::settle_pnl(&g, &put, &gina.account, &frank.account, &w.banks[0].bank);
    w.env.send_err(&[ix], &[], XmarginError::WrongMarketKind, &keys);

    // Perpetuals neither sample nor settle at expiry.
    at(&mut w, expiry - 60, 14_000_000_000);
    w.env.send_err(&[mixs::sample_price(&g, &perp)], &[], XmarginError::WrongMarketKind, &keys);
    let ix = mixs::settle_expired(&g, &perp, &frank.account);
    w.env.send_err(&[ix], &[], XmarginError::WrongMarketKind, &keys);

    // Expired, the oracle fresh but published before expiry: no price yet.
    let now = w.env.unix_time();
    w.env.warp(expiry + 5 - now);
    let ix = mixs::settle_expired(&g, &put, &frank.account);
    w.env.send_err(&[ix], &[], XmarginError::MarketNotSettled, &keys);
    w.refresh_prices();
    let out = w.settle_expired(0, &frank);
    out.expect_ok();
    let settled: MarketSettled = event(&out);
    assert!(settled.fallback && !settled.timed_out && settled.sample_count == 0);
    assert!(events::<PositionSettled>(&out).is_empty(), "Frank's slot held realised PnL only");
    assert_eq!(w.market(0).settlement_price.get(), sol_price(14_000_000_000));
    check(&w, &ledger);
    // Now settled: Frank again, and Gina, have nothing left to settle.
    for u in [&frank, &gina] {
        let ix = mixs::settle_expired(&g, &put, &u.account);
        w.env.send_err(&[ix], &[], XmarginError::PositionAlreadySettled, &keys);
    }
    w.settle_expired(0, &hank).expect_ok();
    assert_eq!(w.position(&hank, 0).realized_pnl, 1_763_680);
    check(&w, &ledger);
    assert_eq!(ledger.settle(&mut w, &gina, &frank), 10);
    check(&w, &ledger);
    // Ivy's own settle_expired never ran: settle_pnl settles her position
    // first at the same intrinsic value, then moves the whole loss.
    assert_eq!(w.position(&ivy, 0).base_contracts, -20);
    assert_eq!(ledger.settle(&mut w, &hank, &ivy), 1_763_680);
    check(&w, &ledger);
    assert_eq!((w.position(&ivy, 0).in_use, w.market(0).open_interest), (0, 0));
    let ix = mixs::settle_expired(&g, &put, &ivy.account);
    w.env.send_err(&[ix], &[], XmarginError::NoPosition, &keys);
    let admin = w.admin.insecure_clone();
    w.env.send_ok(&[mixs::close_market(&g, &admin.pubkey(), &put.market, &admin.pubkey())], &[&admin]);
    assert!(w.env.account(&put.market).is_none_or(|a| a.lamports == 0));
}

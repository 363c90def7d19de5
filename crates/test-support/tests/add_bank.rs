//! add_bank: the bank it writes, its vault, and every refusal.
// Pyth mantissas are written `dollars_fraction` (e.g. 150_00000000 = $150 at expo −8).
#![allow(clippy::inconsistent_digit_grouping)]
use anchor_lang::error::ErrorCode as AnchorErrorCode;
use xmargin::errors::XmarginError;
use xmargin::state::{Bank, Group};
use xmargin_risk::Fixed;
use xmargin_test_support::fixtures::{
    add_bank_ix, default_bank_args, setup_bank, setup_group, BankSpec, GroupFixture,
};
use xmargin_test_support::pyth::{feeds, receiver_program};
use xmargin_test_support::{Address, Env, Keypair, PythPrice, Signer};

const SOL: BankSpec =
    BankSpec { decimals: 9, feed_hex: feeds::SOL_USD, price: 150_00000000, conf: 10_000_000, exponent: -8 };

struct World {
    env: Env,
    admin: Keypair,
    group: GroupFixture,
}

fn world() -> World {
    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let group = setup_group(&mut env, &admin);
    World { env, admin, group }
}

/// A fresh SOL mint and oracle, and the add_bank instruction for token index 0.
fn sol_listing(w: &mut World, price: PythPrice) -> (xmargin_test_support::Instruction, Address, Address) {
    let mint = w.env.create_mint(9);
    let oracle = Address::new_unique();
    w.env.set_pyth_price(&oracle, &price);
    let ix = add_bank_ix(
        &w.env,
        &w.group.group,
        &w.admin.pubkey(),
        &mint,
        &oracle,
        default_bank_args(0, feeds::SOL_USD),
    );
    (ix, mint, oracle)
}

fn sol_price(w: &World) -> PythPrice {
    PythPrice::new(feeds::SOL_USD, SOL.price, SOL.conf, SOL.exponent, w.env.unix_time())
}

#[test]
fn add_bank_writes_bank_vault_and_counts() {
    let mut w = world();
    let mint = w.env.create_mint(9);
    let oracle = Address::new_unique();
    let p = sol_price(&w);
    w.env.set_pyth_price(&oracle, &p);
    let args = default_bank_args(0, feeds::SOL_USD);
    let out = w.env.send_ok(
        &[add_bank_ix(&w.env, &w.group.group, &w.admin.pubkey(), &mint, &oracle, args)],
        &[&w.admin],
    );
    println!("add_bank CU = {}", out.compute_units);

    let (bank_key, bump) = xmargin::pda::bank_address(&w.group.group, 0);
    let (vault_key, vault_bump) = xmargin::pda::bank_vault_address(&bank_key);
    let bank: Bank = w.env.zero_copy(&bank_key);
    assert_eq!((bank.group, bank.mint, bank.vault, bank.oracle), (w.group.group, mint, vault_key, oracle));
    assert_eq!(bank.feed_id, p.feed_id);
    assert_eq!((bank.token_index, bank.mint_decimals, bank.bump, bank.vault_bump), (0, 9, bump, vault_bump));
    assert_eq!(bank.deposit_index.get(), Fixed::ONE);
    assert_eq!(bank.borrow_index.get(), Fixed::ONE);
    assert!(bank.deposit_shares.get().is_zero() && bank.borrow_shares.get().is_zero());
    assert_eq!(bank.last_accrual_ts, w.env.unix_time());
    // 0.8 and 1.2 are inexact in binary: stored rounded down.
    assert_eq!(
        bank.risk.init_asset_weight.get(),
        Fixed::from_ratio(8, 10, xmargin_risk::Rounding::Floor).unwrap()
    );
    assert_eq!(
        bank.risk.maint_liab_weight.get(),
        Fixed::from_ratio(11, 10, xmargin_risk::Rounding::Floor).unwrap()
    );
    assert_eq!(bank.max_oracle_age_secs, 60);
    assert_eq!(bank.conf_multiplier.get(), Fixed::ONE);
    assert_eq!(bank.pending_activation_ts, 0);
    // $150 per SOL = 150 · 10^6 µUSDC / 10^9 lamports = 0.15 µUSDC per lamport.
    let stable = bank.stable_price.get();
    let expected = Fixed::from_ratio(15, 100, xmargin_risk::Rounding::Floor).unwrap();
    assert!((stable.to_bits() - expected.to_bits()).abs() <= 1, "stable {stable} vs 0.15");

    let vault = w.env.account(&vault_key).unwrap();
    assert_eq!(&vault.data[0..32], mint.as_ref());
    assert_eq!(&vault.data[32..64], w.group.group.as_ref(), "vault authority is the group PDA");
    let group: Group = w.env.zero_copy(&w.group.group);
    assert_eq!(group.bank_count, 1);

    // The next bank takes index 1.
    setup_bank(&mut w.env, &w.group, &w.admin, SOL, default_bank_args(1, feeds::SOL_USD));
    assert_eq!(w.env.zero_copy::<Group>(&w.group.group).bank_count, 2);
}

#[test]
fn only_the_admin_lists_banks() {
    let mut w = world();
    let p = sol_price(&w);
    let (mut ix, _, _) = sol_listing(&mut w, p);
    let intruder = w.env.new_wallet(9);
    ix.accounts[1].pubkey = intruder.pubkey();
    let watched = [w.group.group, ix.accounts[4].pubkey];
    w.env.send_err(&[ix], &[&intruder], XmarginError::UnauthorizedAdmin, &watched);
}

#[test]
fn token_index_must_be_the_next_one() {
    let mut w = world();
    let mint = w.env.create_mint(9);
    let oracle = Address::new_unique();
    let p = sol_price(&w);
    w.env.set_pyth_price(&oracle, &p);
    let ix = add_bank_ix(
        &w.env,
        &w.group.group,
        &w.admin.pubkey(),
        &mint,
        &oracle,
        default_bank_args(3, feeds::SOL_USD),
    );
    let watched = [w.group.group, ix.accounts[4].pubkey];
    let f = w.env.send_err(&[ix], &[&w.admin], XmarginError::WrongBankIndex, &watched);
    assert!(f.logs.iter().any(|l| l.contains("Left: 3")), "{f}");
}

#[test]
fn weights_interest_and_oracle_settings_are_bounded() {
    let mut w = world();
    let mint = w.env.create_mint(9);
    let oracle = Address::new_unique();
    let p = sol_price(&w);
    w.env.set_pyth_price(&oracle, &p);
    let base = default_bank_args(0, feeds::SOL_USD);
    let mut cases: Vec<(xmargin::instructions::AddBankArgs, XmarginError)> = Vec::new();

    let mut a = base;
    a.risk.init_asset_weight_bps = 9_500; // init above maint
    cases.push((a, XmarginError::InvalidWeights));
    let mut a = base;
    a.risk.maint_asset_weight_bps = 10_001; // asset weight above 1
    cases.push((a, XmarginError::InvalidWeights));
    let mut a = base;
    a.risk.init_liab_weight_bps = 60_000; // above 5x
    cases.push((a, XmarginError::InvalidWeights));
    let mut a = base;
    a.interest.optimal_util_bps = 10_000; // kink at 100 %
    cases.push((a, XmarginError::InvalidInterestConfig));
    let mut a = base;
    a.interest.max_rate_bps = 500; // below the optimal rate
    cases.push((a, XmarginError::InvalidInterestConfig));
    let mut a = base;
    a.interest.liquidation_fee_bps = 3_000;
    cases.push((a, XmarginError::InvalidInterestConfig));
    let mut a = base;
    a.oracle.max_oracle_age_secs = 0;
    cases.push((a, XmarginError::InvalidOracleConfig));
    let mut a = base;
    a.oracle.max_conf_ratio_bps = 5_000;
    cases.push((a, XmarginError::InvalidOracleConfig));

    for (args, expected) in cases {
        let ix = add_bank_ix(&w.env, &w.group.group, &w.admin.pubkey(), &mint, &oracle, args);
        let watched = [w.group.group, ix.accounts[4].pubkey];
        w.env.send_err(&[ix], &[&w.admin], expected, &watched);
    }
}

#[test]
fn oracle_identity_and_quality_are_checked() {
    let mut w = world();
    let now = w.env.unix_time();
    let good = sol_price(&w);
    type WriteOracle = Box<dyn Fn(&mut Env, &Address)>;
    let mut cases: Vec<(WriteOracle, u32)> = Vec::new();
    // Not owned by the Pyth receiver.
    let data = good.account_data();
    cases.push((
        Box::new(move |env, o| env.set_account_data(o, &env.payer.pubkey(), data.clone())),
        XmarginError::OracleWrongOwner.into(),
    ));
    // Owned by the receiver but not a PriceUpdateV2.
    cases.push((
        Box::new(|env, o| env.set_account_data(o, &receiver_program(), vec![1u8; 134])),
        XmarginError::OracleNotPriceUpdate.into(),
    ));
    // Partially verified.
    let mut partial = good;
    partial.partial_signatures = Some(3);
    cases.push((
        Box::new(move |env, o| env.set_pyth_price(o, &partial)),
        XmarginError::OracleNotFullyVerified.into(),
    ));
    // Another feed (BTC's) than the listing's.
    let btc = PythPrice::new(feeds::BTC_USD, 100_000_00000000, 50_00000000, -8, now);
    cases.push((Box::new(move |env, o| env.set_pyth_price(o, &btc)), XmarginError::OracleWrongFeed.into()));
    // 61 s old with a 60 s max age.
    let stale = PythPrice::new(feeds::SOL_USD, SOL.price, SOL.conf, SOL.exponent, now - 61);
    cases.push((Box::new(move |env, o| env.set_pyth_price(o, &stale)), XmarginError::OracleStale.into()));
    // conf $3.01 on $150 = 2.007 % > 2 %.
    let wide = PythPrice::new(feeds::SOL_USD, SOL.price, 3_01000000, SOL.exponent, now);
    cases.push((
        Box::new(move |env, o| env.set_pyth_price(o, &wide)),
        XmarginError::OracleConfidenceTooWide.into(),
    ));
    // Negative price.
    let negative = PythPrice::new(feeds::SOL_USD, -1, 0, SOL.exponent, now);
    cases.push((
        Box::new(move |env, o| env.set_pyth_price(o, &negative)),
        XmarginError::OracleNonPositivePrice.into(),
    ));

    for (write_oracle, expected) in cases {
        let mint = w.env.create_mint(9);
        let oracle = Address::new_unique();
        write_oracle(&mut w.env, &oracle);
        let ix = add_bank_ix(
            &w.env,
            &w.group.group,
            &w.admin.pubkey(),
            &mint,
            &oracle,
            default_bank_args(0, feeds::SOL_USD),
        );
        let watched = [w.group.group, ix.accounts[4].pubkey, ix.accounts[5].pubkey];
        w.env.send_err(&[ix], &[&w.admin], expected, &watched);
    }

    // At the bounds is accepted: exactly 60 s old, conf $2.99 = 1.993 % (exactly 2 % is
    // refused: 0.02 has no exact binary form and the bound is rounded down, against the user).
    let edge = PythPrice::new(feeds::SOL_USD, SOL.price, 2_99000000, SOL.exponent, now - 60);
    let (ix, _, _) = sol_listing(&mut w, edge);
    w.env.send_ok(&[ix], &[&w.admin]);
}

#[test]
fn mint_and_token_program_are_checked() {
    let mut w = world();
    let p = sol_price(&w);
    let (mut ix, _, _) = sol_listing(&mut w, p);
    let not_a_mint = w.env.new_wallet(5).pubkey();
    ix.accounts[3].pubkey = not_a_mint;
    ix.accounts[9].pubkey = xmargin::pda::bank_mint_marker_address(&w.group.group, &not_a_mint).0;
    let watched = [w.group.group, ix.accounts[4].pubkey];
    w.env.send_err(&[ix.clone()], &[&w.admin], XmarginError::UnsupportedTokenProgram, &watched);

    let (mut ix, _, _) = sol_listing(&mut w, p);
    ix.accounts[7].pubkey = w.env.program_id;
    w.env.send_err(&[ix], &[&w.admin], AnchorErrorCode::ConstraintAddress, &watched);
}

/// A group lists each mint once (issue 10, item 10): a second bank for the
/// same mint is refused by name and changes nothing, even at the next index.
#[test]
fn a_mint_is_listed_once() {
    let mut w = world();
    let p = sol_price(&w);
    let (ix, mint, oracle) = sol_listing(&mut w, p);
    w.env.send_ok(&[ix], &[&w.admin]);
    let marker = xmargin::pda::bank_mint_marker_address(&w.group.group, &mint).0;
    assert_eq!(w.env.account(&marker).expect("marker").data, 0u16.to_le_bytes(), "holds the token index");
    let again = add_bank_ix(
        &w.env,
        &w.group.group,
        &w.admin.pubkey(),
        &mint,
        &oracle,
        default_bank_args(1, feeds::SOL_USD),
    );
    let next_bank = xmargin::pda::bank_address(&w.group.group, 1).0;
    let watched = [w.group.group, marker, next_bank];
    w.env.send_err(&[again], &[&w.admin], XmarginError::DuplicateMint, &watched);
    assert!(w.env.account(&next_bank).is_none(), "no second bank");
    // Another mint takes index 1.
    let (mut other, _, _) = sol_listing(&mut w, p);
    let other_mint = other.accounts[3].pubkey;
    other = add_bank_ix(
        &w.env,
        &w.group.group,
        &w.admin.pubkey(),
        &other_mint,
        &other.accounts[6].pubkey,
        default_bank_args(1, feeds::SOL_USD),
    );
    w.env.send_ok(&[other], &[&w.admin]);
}

/// Lamports sent to the marker's address before listing do not block it
/// (a plain `create_account` would fail: a cheap denial of service).
#[test]
fn a_pre_funded_marker_address_does_not_block_listing() {
    let mut w = world();
    let p = sol_price(&w);
    let (ix, mint, _) = sol_listing(&mut w, p);
    let marker = xmargin::pda::bank_mint_marker_address(&w.group.group, &mint).0;
    let system = Address::default();
    w.env.set_account_data(&marker, &system, Vec::new());
    w.env.send_ok(&[ix], &[&w.admin]);
    assert_eq!(w.env.account(&marker).expect("marker").owner, w.env.program_id);
}

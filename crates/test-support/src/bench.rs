//! The fixed scenario behind the compute-unit table (see `bin/cu_bench.rs`).
//! Each row is one instruction sent alone, so its CU is what a wallet or keeper
//! would pay for it. Rows are added as instructions land.
use solana_signer::Signer;

use crate::env::Env;
use crate::fixtures::{
    add_bank_ix, close_account_ix, create_account_ix, create_group_ix, default_bank_args, default_group_args,
    pda, set_delegate_ix,
};
use crate::pyth::{feeds, PythPrice};
use crate::Address;

/// One measured instruction.
#[derive(Clone, Debug)]
pub struct Row {
    pub instruction: &'static str,
    pub scenario: String,
    pub compute_units: u64,
    /// Ceiling from DESIGN.md, where one applies.
    pub budget: Option<u64>,
    /// Whether exceeding `budget` fails the benchmark (and so `scripts/test`).
    /// Targets not met yet are reported, not enforced, and tracked in the issues.
    pub enforced: bool,
}

/// DESIGN.md: any single instruction, even with 16 token + 16 derivative positions.
pub const MAX_INSTRUCTION_CU: u64 = 200_000;

pub fn run_scenario() -> Vec<Row> {
    let mut env = Env::new();
    let mut rows = Vec::new();
    let admin = env.new_wallet(1);
    let quote_mint = env.create_mint(6);
    let ix = create_group_ix(&env, &admin.pubkey(), &quote_mint, default_group_args(&admin.pubkey()));
    let cu = env.send_ok(&[ix], &[&admin]).compute_units;
    rows.push(Row {
        instruction: "create_group",
        scenario: "group PDA + insurance vault token account".into(),
        compute_units: cu,
        budget: Some(MAX_INSTRUCTION_CU),
        enforced: true,
    });

    let group = pda(&[xmargin::state::GROUP_SEED, admin.pubkey().as_ref(), &0u32.to_le_bytes()]).0;
    let sol_mint = env.create_mint(9);
    let oracle = Address::new_unique();
    let now = env.unix_time();
    env.set_pyth_price(&oracle, &PythPrice::new(feeds::SOL_USD, 150_0000_0000, 1000_0000, -8, now));
    let ix =
        add_bank_ix(&env, &group, &admin.pubkey(), &sol_mint, &oracle, default_bank_args(0, feeds::SOL_USD));
    let cu = env.send_ok(&[ix], &[&admin]).compute_units;
    rows.push(Row {
        instruction: "add_bank",
        scenario: "bank PDA + vault token account + oracle read".into(),
        compute_units: cu,
        budget: Some(MAX_INSTRUCTION_CU),
        enforced: true,
    });

    let alice = env.new_wallet(2);
    let mut measure = |env: &mut Env, instruction: &'static str, scenario: &str, ix, signer| {
        let cu = env.send_ok(&[ix], &[signer]).compute_units;
        rows.push(Row {
            instruction,
            scenario: scenario.into(),
            compute_units: cu,
            budget: Some(MAX_INSTRUCTION_CU),
            enforced: true,
        });
    };
    let ix = create_account_ix(&env, &group, &alice.pubkey(), 0);
    let account = ix.accounts[3].pubkey;
    measure(&mut env, "create_account", "margin account PDA (1,384 bytes)", ix, &alice);
    let ix = set_delegate_ix(&account, &alice.pubkey(), &admin.pubkey());
    measure(&mut env, "set_delegate", "set a delegate", ix, &alice);
    let ix = close_account_ix(&account, &alice.pubkey(), &alice.pubkey());
    measure(&mut env, "close_account", "empty account, rent back", ix, &alice);
    rows.extend(collateral_rows());
    rows.extend(bankruptcy_rows());
    rows.extend(safety::safety_rows());
    rows.extend(markets::market_rows());
    rows
}

#[path = "bench_safety.rs"]
mod safety;

#[path = "bench_markets.rs"]
pub mod markets;

#[path = "bench_options.rs"]
pub mod options;

#[path = "bench_portfolio.rs"]
pub mod portfolio;

#[path = "bench_ratios.rs"]
pub mod ratios;

/// A borrower wiped out by a crash: full liquidation, then the insurance fund pays the rest.
fn bankruptcy_rows() -> Vec<Row> {
    use crate::margin::{liquidate_token_ix, resolve_bankruptcy_ix};
    let mut w = crate::world::World::new();
    let alice = w.user(10, [0, 10_000_000_000, 0]);
    let bob = w.user(11, [50_000_000_000, 0, 0]);
    w.deposit(&bob, 0, 50_000_000_000).expect_ok();
    w.deposit(&alice, 1, 10_000_000_000).expect_ok();
    w.withdraw(&alice, 0, 1_150_000_000).expect_ok();
    w.set_price(1, 5_000_000_000, 10_000_000);
    let ix = liquidate_token_ix(
        &w.env,
        &w.group.group,
        &alice.account,
        &bob.account,
        &bob.wallet.pubkey(),
        1,
        0,
        u64::MAX,
    );
    let liquidate = w.env.send_ok(&[ix], &[&bob.wallet]).compute_units;
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 1_000_000_000);
    let ix = resolve_bankruptcy_ix(&w.env, &w.group.group, &alice.account, 0);
    let resolve = w.env.send_ok(&[ix], &[]).compute_units;
    vec![
        Row {
            instruction: "liquidate_token",
            scenario: "all collateral of a 2-position account (leaves it bankrupt)".into(),
            compute_units: liquidate,
            budget: Some(LIQUIDATE_TOKEN_CU),
            enforced: true,
        },
        Row {
            instruction: "resolve_bankruptcy",
            scenario: "insurance fund pays quote-token debt".into(),
            compute_units: resolve,
            budget: Some(MAX_INSTRUCTION_CU),
            enforced: true,
        },
        Row {
            instruction: "resolve_bankruptcy",
            scenario: "a liquidator takes a SOL debt for fund USDC (liquidator: 1 → 2 positions)".into(),
            compute_units: insured_bankruptcy_cu(),
            budget: Some(MAX_INSTRUCTION_CU),
            enforced: true,
        },
    ]
}

/// A SOL borrower wiped out by SOL tripling; a liquidator takes the debt over for insurance USDC.
fn insured_bankruptcy_cu() -> u64 {
    use crate::margin::resolve_bankruptcy_with_liquidator_ix;
    let crate::scenarios::SolDebtBankruptcy { mut w, alice, carol, .. } =
        crate::scenarios::sol_debt_bankruptcy();
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 10_000_000_000);
    let g = w.group.group;
    let ix = resolve_bankruptcy_with_liquidator_ix(
        &w.env,
        &g,
        &alice.account,
        1,
        &carol.account,
        &carol.wallet.pubkey(),
    );
    w.env.send_ok(&[ix], &[&carol.wallet]).compute_units
}

/// DESIGN.md: liquidate_token on an account with 4 token positions.
pub const LIQUIDATE_TOKEN_CU: u64 = 40_000;

/// DESIGN.md: health check cost per token position.
pub const TOKEN_POSITION_CU: u64 = 1_500;

/// Gives every bank borrows and a day of interest, so deposit and borrow
/// indices are not exactly 1 (as on a live market) and the health check pays
/// for the real `shares × index` products; prices are then re-published.
fn realistic_indices(
    env: &mut Env,
    group: &Address,
    mints: &[Address],
    oracles: &[(Address, crate::fixtures::BankSpec)],
) {
    use crate::margin::{accrue_interest_ix, deposit_ix, withdraw_ix};
    let supplier = env.new_wallet(3);
    let supplier_account = crate::fixtures::setup_account(env, group, &supplier, 0);
    let borrower = env.new_wallet(4);
    let borrower_account = crate::fixtures::setup_account(env, group, &borrower, 0);
    let collateral = env.funded_token_account(&mints[0], &borrower.pubkey(), 100_000_000_000);
    let ix =
        deposit_ix(env, group, &borrower_account, 0, &collateral, &borrower.pubkey(), 100_000_000_000, false);
    env.send_ok(&[ix], &[&borrower]);
    for (i, mint) in mints.iter().enumerate().skip(1) {
        let supply = env.funded_token_account(mint, &supplier.pubkey(), 1_000_000_000);
        let ix = deposit_ix(
            env,
            group,
            &supplier_account,
            i as u16,
            &supply,
            &supplier.pubkey(),
            1_000_000_000,
            false,
        );
        env.send_ok(&[ix], &[&supplier]);
        let to = env.funded_token_account(mint, &borrower.pubkey(), 0);
        let ix = withdraw_ix(env, group, &borrower_account, i as u16, &to, &borrower.pubkey(), 400_000_000);
        env.send_ok(&[ix], &[&borrower]);
    }
    env.warp(86_400);
    let now = env.unix_time();
    for (oracle, spec) in oracles {
        env.set_pyth_price(oracle, &PythPrice::new(spec.feed_hex, spec.price, spec.conf, spec.exponent, now));
    }
    for i in 1..mints.len() as u16 {
        let ix = accrue_interest_ix(env, group, i);
        env.send_ok(&[ix], &[]);
    }
}

/// Deposit, withdraw/borrow with 1, 4, 8 and 16 token positions, repay,
/// accrue_interest and compute_health, on a group with 16 banks.
fn collateral_rows() -> Vec<Row> {
    use crate::fixtures::{setup_account, setup_bank, setup_group, BankSpec};
    use crate::margin::{accrue_interest_ix, compute_health_ix, deposit_ix, withdraw_ix};

    let mut env = Env::new();
    let admin = env.new_wallet(1);
    let group = setup_group(&mut env, &admin);
    let g = group.group;
    let mut mints = Vec::new();
    let mut oracles = Vec::new();
    for i in 0..16u16 {
        // Token i: 6 decimals, $1 + i, ± 0.1 %; feed ids are made up (any 32 bytes).
        let feed: &'static str =
            Box::leak(format!("{:064x}", 0xfeed_0000u64 + u64::from(i)).into_boxed_str());
        let price = 100_000_000 * (1 + i64::from(i));
        let spec = BankSpec { decimals: 6, feed_hex: feed, price, conf: price as u64 / 1_000, exponent: -8 };
        let bank = setup_bank(&mut env, &group, &admin, spec, default_bank_args(i, feed));
        mints.push(bank.mint);
        oracles.push((bank.oracle, spec));
    }
    let lender = env.new_wallet(2);
    let lender_account = setup_account(&mut env, &g, &lender, 0);
    let lender_usdc = env.funded_token_account(&mints[0], &lender.pubkey(), 1_000_000_000_000);
    let ix =
        deposit_ix(&env, &g, &lender_account, 0, &lender_usdc, &lender.pubkey(), 1_000_000_000_000, false);
    let deposit_cu = env.send_ok(&[ix], &[&lender]).compute_units;
    realistic_indices(&mut env, &g, &mints, &oracles);

    let mut rows = vec![Row {
        instruction: "deposit",
        scenario: "first deposit into a bank (opens a position)".into(),
        compute_units: deposit_cu,
        budget: Some(MAX_INSTRUCTION_CU),
        enforced: true,
    }];
    // A withdrawal from a deposit with nothing owed: no health check at all.
    let ix = withdraw_ix(&env, &g, &lender_account, 0, &lender_usdc, &lender.pubkey(), 1_000_000);
    rows.push(Row {
        instruction: "withdraw",
        scenario: "from a deposit, no liabilities (no health check)".into(),
        compute_units: env.send_ok(&[ix], &[&lender]).compute_units,
        budget: Some(MAX_INSTRUCTION_CU),
        enforced: true,
    });
    let mut per_n = Vec::new();
    let mut liqee = None;
    for (seed, n) in [(10u8, 2usize), (11, 4), (12, 8), (13, 16)] {
        let user = env.new_wallet(seed);
        let account = setup_account(&mut env, &g, &user, 0);
        let mut wallets = Vec::new();
        for (i, mint) in mints.iter().enumerate().take(n) {
            let t = env.funded_token_account(mint, &user.pubkey(), 10_000_000_000);
            if i > 0 {
                let ix = deposit_ix(&env, &g, &account, i as u16, &t, &user.pubkey(), 1_000_000_000, false);
                env.send_ok(&[ix], &[&user]);
            }
            wallets.push(t);
        }
        // n − 1 collateral deposits, then a borrow of token 0 opens the n-th position;
        // the health check values all n.
        let ix = withdraw_ix(&env, &g, &account, 0, &wallets[0], &user.pubkey(), 100_000_000);
        let cu = env.send_ok(&[ix], &[&user]).compute_units;
        per_n.push((n, cu));
        if n == 4 {
            // Borrow close to the limit, for the liquidation row below.
            let ix = withdraw_ix(&env, &g, &account, 0, &wallets[0], &user.pubkey(), 5_800_000_000);
            env.send_ok(&[ix], &[&user]);
            liqee = Some(account);
        }
        rows.push(Row {
            instruction: "withdraw",
            scenario: format!("borrow, {n} token positions in the health check"),
            compute_units: cu,
            budget: Some(MAX_INSTRUCTION_CU),
            enforced: true,
        });
        if n == 16 {
            let ix = compute_health_ix(&env, &g, &account);
            let cu = env.send_ok(&[ix], &[]).compute_units;
            rows.push(Row {
                instruction: "compute_health",
                scenario: "16 token positions".into(),
                compute_units: cu,
                budget: Some(MAX_INSTRUCTION_CU),
                enforced: true,
            });
            let ix = deposit_ix(&env, &g, &account, 0, &wallets[0], &user.pubkey(), 50_000_000, true);
            let cu = env.send_ok(&[ix], &[&user]).compute_units;
            rows.push(Row {
                instruction: "repay",
                scenario: "partial repay (no oracle needed)".into(),
                compute_units: cu,
                budget: Some(MAX_INSTRUCTION_CU),
                enforced: true,
            });
        }
    }
    let (first, last) = (per_n[0], per_n[per_n.len() - 1]);
    let per_position = (last.1 - first.1) / (last.0 - first.0) as u64;
    rows.push(Row {
        instruction: "withdraw",
        scenario: format!("per extra token position ({}→{} positions)", first.0, last.0),
        compute_units: per_position,
        budget: Some(TOKEN_POSITION_CU),
        enforced: true,
    });
    // Admin: tighten a bank's caps (applies at once), pause and unpause.
    use crate::margin::{set_pause_ix, update_bank_ix};
    let mut risk = default_bank_args(1, feeds::SOL_USD).risk;
    risk.deposit_cap = 1_000_000_000_000;
    let args = xmargin::instructions::UpdateBankArgs { risk: Some(risk), ..Default::default() };
    let cu = env.send_ok(&[update_bank_ix(&g, &admin.pubkey(), 1, args)], &[&admin]).compute_units;
    rows.push(Row {
        instruction: "update_bank",
        scenario: "tighten the risk parameters".into(),
        compute_units: cu,
        budget: Some(MAX_INSTRUCTION_CU),
        enforced: true,
    });
    let cu = env
        .send_ok(&[set_pause_ix(&g, &admin.pubkey(), xmargin::state::pause::ALL)], &[&admin])
        .compute_units;
    env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), 0)], &[&admin]);
    rows.push(Row {
        instruction: "set_pause",
        scenario: "pause everything".into(),
        compute_units: cu,
        budget: Some(MAX_INSTRUCTION_CU),
        enforced: true,
    });
    // liquidate_token on the 4-position account after its collateral falls 20 %.
    let liqee = liqee.expect("4-position account");
    let now = env.unix_time();
    for i in 1..4u16 {
        let oracle = env.zero_copy::<xmargin::state::Bank>(&xmargin::pda::bank_address(&g, i).0).oracle;
        let mut p =
            crate::pyth::PythPrice::new(&format!("{:064x}", 0xfeed_0000u64 + u64::from(i)), 0, 0, -8, now);
        p.price = 100_000_000 * (1 + i64::from(i)) * 8 / 10;
        p.conf = p.price as u64 / 1_000;
        p.ema_price = p.price;
        env.set_pyth_price(&oracle, &p);
    }
    let ix = crate::margin::liquidate_token_ix(
        &env,
        &g,
        &liqee,
        &lender_account,
        &lender.pubkey(),
        3,
        0,
        u64::MAX,
    );
    let cu = env.send_ok(&[ix], &[&lender]).compute_units;
    rows.push(Row {
        instruction: "liquidate_token",
        scenario: "liquidatee with 4 token positions, liquidator with 1 → 2".into(),
        compute_units: cu,
        budget: Some(LIQUIDATE_TOKEN_CU),
        enforced: true,
    });
    env.warp(86_400);
    let now = env.unix_time();
    let oracle = env.zero_copy::<xmargin::state::Bank>(&xmargin::pda::bank_address(&g, 0).0).oracle;
    let data = env.account(&oracle).expect("oracle").data;
    let mut p =
        crate::pyth::PythPrice::new(&format!("{:064x}", 0xfeed_0000u64), 100_000_000, 100_000, -8, now);
    p.feed_id.copy_from_slice(&data[41..73]);
    env.set_pyth_price(&oracle, &p);
    let cu = env.send_ok(&[accrue_interest_ix(&env, &g, 0)], &[]).compute_units;
    rows.push(Row {
        instruction: "accrue_interest",
        scenario: "one day, borrowed bank, stable price update".into(),
        compute_units: cu,
        budget: Some(MAX_INSTRUCTION_CU),
        enforced: true,
    });
    rows
}

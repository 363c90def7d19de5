//! The demo: a market on the embedded SVM, printed step by step. Liquidation
//! and the keeper join it with issue 5.
use xmargin_test_support::margin::health_view;
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{program_so_path, Signer, TxOutcome};

/// The third act, options and portfolio margin (issue 13).
#[path = "demo_options.rs"]
pub(crate) mod demo_options;

const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;
const NAMES: [&str; 3] = ["USDC", "SOL", "BTC"];
const DECIMALS: [u32; 3] = [6, 9, 8];

pub(crate) fn ui(token: usize, native: i128) -> String {
    let scale = 10i128.pow(DECIMALS[token]);
    let sign = if native < 0 { "-" } else { "" };
    let n = native.abs();
    format!("{sign}{}.{:0width$}", n / scale, n % scale, width = DECIMALS[token] as usize)
}

pub(crate) fn usdc(micro: i64) -> String {
    format!("{:>12}", ui(0, i128::from(micro)))
}

pub(crate) fn step(label: &str, out: &TxOutcome) -> Result<(), String> {
    match &out.result {
        Ok(()) => {
            println!("  {label:<58} {:>7} CU", out.compute_units);
            Ok(())
        }
        Err(f) => Err(format!("{label}: {f}")),
    }
}

pub(crate) fn show_health(w: &mut World, who: &str, user: &User) {
    let v = health_view(&mut w.env, &w.group.group, &user.account);
    let band = ["Healthy", "Margin call", "Liquidatable"][v.band as usize];
    println!(
        "  {who:<6} health (USDC)  init {}  maint {}  liq-end {}  → {band}",
        usdc(v.init),
        usdc(v.maint),
        usdc(v.liquidation_end)
    );
}

fn keeper_cycle(
    w: &mut World,
    keeper: &User,
    config: &xmargin_keeper::KeeperConfig,
) -> Result<xmargin_keeper::CycleSummary, String> {
    let mut chain = xmargin_keeper::svm::SvmChain { env: &mut w.env, signer: &keeper.wallet };
    let summary = xmargin_keeper::run_cycle(&mut chain, config).map_err(|e| e.to_string())?;
    println!(
        "  keeper: scanned {} accounts: {} liquidatable, {} liquidation(s) sent, {} failure(s)",
        summary.accounts, summary.liquidatable, summary.liquidations_sent, summary.failures
    );
    Ok(summary)
}

fn show_balances(w: &World, users: &[(&str, &User)]) {
    let bal = |u: &User, t: u16| {
        xmargin_test_support::margin::native_balance(&w.env, &w.group.group, &u.account, t)
            .to_i64(xmargin_risk::Rounding::Floor)
            .unwrap_or_default()
    };
    for (name, u) in users {
        println!("  {name} now: {} SOL, {} USDC", ui(1, i128::from(bal(u, 1))), ui(0, i128::from(bal(u, 0))));
    }
}

pub fn run() -> Result<(), String> {
    println!("xmargin demo — embedded SVM (LiteSVM) running {}", program_so_path().display());
    let mut w = World::new();
    println!("\n1. A group with three banks on Pyth feeds (program {})", w.env.program_id);
    println!("  group {}   insurance vault {}", w.group.group, w.group.insurance_vault);
    for (i, b) in w.banks.iter().enumerate() {
        let s = w.specs[i];
        println!(
            "  bank {i} {:<4} price ${:<10} oracle {}",
            NAMES[i],
            ui(0, i128::from(s.price) / 100),
            b.oracle
        );
    }

    println!("\n2. Users fund their margin accounts");
    let alice = w.user(10, [0, 10 * LAMPORTS, 0]);
    let bob = w.user(11, [50_000 * MICRO, 0, 0]);
    let carol = w.user(12, [0, 10 * LAMPORTS, 0]);
    let out = w.deposit(&bob, 0, 50_000 * MICRO);
    step("bob deposits 50,000 USDC (lender)", &out)?;
    let out = w.deposit(&alice, 1, 10 * LAMPORTS);
    step("alice deposits 10 SOL", &out)?;
    let out = w.deposit(&carol, 1, 10 * LAMPORTS);
    step("carol deposits 10 SOL", &out)?;
    show_health(&mut w, "alice", &alice);

    println!("\n3. Alice and Carol borrow USDC against their SOL (Init health must stay ≥ 0)");
    let out = w.withdraw(&alice, 0, 1_150 * MICRO);
    step("alice borrows 1,150 USDC", &out)?;
    let out = w.withdraw(&carol, 0, 1_000 * MICRO);
    step("carol borrows 1,000 USDC", &out)?;
    show_health(&mut w, "alice", &alice);
    let out = w.withdraw(&alice, 0, 100 * MICRO);
    match &out.result {
        Err(f) => {
            println!("  alice tries 100 USDC more: refused ({})", f.anchor_error_name().unwrap_or_default())
        }
        Ok(()) => return Err("an over-limit borrow went through".into()),
    }

    println!("\n4. SOL falls; Alice's health falls with it");
    for price in [140u32, 130, 125, 120] {
        w.set_price(1, i64::from(price) * 100_000_000, 10_000_000);
        println!("  SOL at ${price}");
        show_health(&mut w, "alice", &alice);
    }

    println!("\n5. The keeper bot (run by Bob, with Bob's account as liquidator) does one cycle");
    println!("  alice's 10 SOL are worth 1,200 USDC against 1,150 owed: solvent by 50, so the bonus");
    println!("  is capped at 50 / 1,150 = 4.35 % and she is left owing nothing");
    let before_sol = w.env.token_balance(&w.banks[1].vault);
    let config = xmargin_keeper::KeeperConfig {
        compute_unit_limit: 200_000,
        ..xmargin_keeper::KeeperConfig::new(w.group.group, bob.account, bob.wallet.pubkey())
    };
    let summary = keeper_cycle(&mut w, &bob, &config)?;
    if summary.liquidations_sent != 1 {
        return Err(format!("expected the keeper to liquidate alice: {summary:?}"));
    }
    show_balances(&w, &[("alice", &alice), ("bob", &bob)]);
    if !w.env.zero_copy::<xmargin::state::MarginAccount>(&alice.account).is_empty() {
        return Err("a solvent account was left with debt or collateral".into());
    }
    show_health(&mut w, "bob", &bob);
    assert_eq!(before_sol, w.env.token_balance(&w.banks[1].vault), "liquidation moves balances, not tokens");

    println!("\n6. SOL gaps to $90 before any keeper runs: Carol's 900 USDC of SOL cannot cover her 1,000");
    w.set_price(1, 9_000_000_000, 10_000_000);
    show_health(&mut w, "carol", &carol);
    let summary = keeper_cycle(&mut w, &bob, &config)?;
    if summary.liquidations_sent != 1 {
        return Err(format!("expected the keeper to liquidate carol: {summary:?}"));
    }
    println!("  insolvent, she pays the full 10 % bonus: all her SOL for 900 / 1.1 = 818.18 USDC of debt");
    show_balances(&w, &[("carol", &carol)]);

    println!(
        "\n7. Carol has debt and nothing left: on its next cycle the keeper has the insurance fund pay it"
    );
    let insurance = w.group.insurance_vault;
    w.env.mint_to(&w.group.quote_mint, &insurance, 1_000 * MICRO);
    println!("  insurance fund holds {} USDC", ui(0, i128::from(w.env.token_balance(&insurance))));
    let summary = keeper_cycle(&mut w, &bob, &config)?;
    println!("  {} bankrupt account(s), {} resolution(s) sent", summary.bankrupt, summary.bankruptcies_sent);
    println!(
        "  insurance fund now {} USDC; carol's account is empty: {}",
        ui(0, i128::from(w.env.token_balance(&insurance))),
        w.env.zero_copy::<xmargin::state::MarginAccount>(&carol.account).is_empty()
    );

    println!("\n8. The vaults hold exactly what depositors are owed, net of loans");
    w.assert_all_vaults();
    for (i, b) in w.banks.iter().enumerate() {
        println!("  {:<4} vault {}", NAMES[i], ui(i, i128::from(w.env.token_balance(&b.vault))));
    }
    println!(
        "  alice's wallet now holds {} USDC (signer {})",
        ui(0, i128::from(w.env.token_balance(&alice.tokens[0]))),
        alice.wallet.pubkey()
    );
    crate::demo_markets::run(&mut w, &bob)?;
    demo_options::run(&mut w, &bob, crate::demo_markets::PERP).map(|_| ())
}

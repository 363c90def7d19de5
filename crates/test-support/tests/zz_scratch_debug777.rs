//! SCRATCH (not to commit): inspect seed 777's violation.
use xmargin_test_support::random_ops::checks::{check_state, Ledger};
use xmargin_test_support::random_ops::market::{to_f64, Market, TOKENS};
use xmargin_test_support::random_ops::{generate, reach, Op};

fn dump(m: &mut Market, label: &str) {
    println!("==== {label} t={}", m.env.unix_time());
    for t in 0..TOKENS {
        let b = m.bank(t);
        let r = m.reading(t);
        println!(
            "  t{t}: price {} conf {} pub {} usable {} fee {} unit_price {:.6} stable {:.6} dep_idx {:.6} bor_idx {:.6}",
            r.price, r.conf, r.publish_time, m.price_usable(t), to_f64(b.liquidation_fee.get()), m.unit_price(t),
            to_f64(b.stable_price.get()), to_f64(b.deposit_index.get()), to_f64(b.borrow_index.get())
        );
    }
    for (u, user) in m.users.iter().enumerate() {
        let acc = m.margin(&user.account);
        let pos: Vec<String> = acc.active_tokens().map(|p| format!("t{}:{:.1}", p.token_index, m.native(&user.account, p.token_index as usize))).collect();
        if pos.is_empty() { continue; }
        println!("  user{u} flags {:#04b} {:?} net {:.0} debt {:.0}", acc.flags, pos, m.net_value(&user.account), m.debt_value(&user.account));
    }
}

#[test]
#[ignore]
fn scratch777() {
    let stop: usize = std::env::var("STOP").ok().and_then(|v| v.parse().ok()).unwrap_or(11647);
    let from: usize = std::env::var("FROM").ok().and_then(|v| v.parse().ok()).unwrap_or(stop);
    let ops = generate(777, stop + 1);
    let mut m = Market::new(777);
    let mut ledger = Ledger::new(&m);
    for (step, op) in ops.iter().enumerate() {
        if step >= from { dump(&mut m, &format!("before step {step}: {op}")); analyse(&m, std::env::var("USER_IX").ok().and_then(|v| v.parse().ok()).unwrap_or(5)); }
        if std::env::var("CRANK").is_ok() && step == 11646 {
            for t in 0..TOKENS { let ix = xmargin_test_support::margin::accrue_interest_ix(&m.env, &m.group.group, t as u16); m.env.send_ok(&[ix], &[]); }
        }
        let sent = m.execute(*op);
        if step >= from {
            for s in &sent {
                println!("  sent {}: ok={} {:?}", s.label, s.accepted(), s.violations);
                for l in &s.outcome.logs { if l.contains("Program data") || l.contains("Error") || l.contains("Program log") { println!("     {l}"); } }
            }
        }
        let v = check_state(&m, &mut ledger, &sent);
        assert!(v.is_empty() || step >= from, "{v:?}");
        let _ = reach::looks_liquidatable;
    }
    dump(&mut m, "after");
    let liq = m.liquidator.account;
    let acc = m.margin(&liq);
    let pos: Vec<String> = acc.active_tokens().map(|p| format!("t{}:{:.1} (${:.0})", p.token_index, m.native(&liq, p.token_index as usize), m.native(&liq, p.token_index as usize) * m.unit_price(p.token_index as usize) / 1e6)).collect();
    println!("liquidator {:?} view {:?}", pos, m.health_view(&liq, true).map(|h| (h.init, h.maint)));
}

fn analyse(m: &Market, user: usize) {
    let pa: u16 = std::env::var("ASSET").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let pl: u16 = std::env::var("LIAB").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    use xmargin::health::{value_token, HealthContext, PriceRules};
    use xmargin_risk::health::{HealthCache, MarginMode};
    use xmargin_risk::liquidation::{equity_bonus, oracle_values};
    let now = m.env.unix_time();
    let acc = m.margin(&m.users[user].account);
    let ctx = HealthContext { group: m.group.group, quote_decimals: 6, now, rules: PriceRules::liquidation(pa, pl) };
    let mut infos = Vec::new();
    let (mut true_a, mut true_d) = (0.0, 0.0);
    for p in acc.active_tokens() {
        let t = p.token_index as usize;
        let mut bank = m.bank(t);
        let stored = to_f64(bank.native_balance(p.shares.get()).unwrap());
        let projected = to_f64(xmargin::health::position_balance(&bank, p.shares.get(), now).unwrap());
        let r = m.reading(t);
        let info = value_token(&ctx, &bank, &r, p.shares.get()).ok().flatten();
        let mut accrued_bank = bank;
        if t == pa as usize || t == pl as usize { bank.accrue(now).unwrap(); }
        accrued_bank.accrue(now).unwrap();
        let accrued = to_f64(accrued_bank.native_balance(p.shares.get()).unwrap());
        let v = accrued * m.unit_price(t);
        if v >= 0.0 { true_a += v } else { true_d -= v }
        let info = if t == pa as usize || t == pl as usize { value_token(&ctx, &bank, &r, p.shares.get()).unwrap() } else { info };
        println!("   user{user} t{t}: stored {stored:.1} projected {projected:.1} accrued {accrued:.1}  max_rate {:.3} last_accrual {} info {:?}",
            to_f64(bank.max_rate.get()), m.bank(t).last_accrual_ts,
            info.as_ref().map(|i| (to_f64(i.balance), to_f64(i.prices.oracle))));
        if let Some(i) = info { infos.push(i); }
    }
    let cache = HealthCache::new(infos, Vec::new(), MarginMode::Linear).unwrap();
    let (a, d) = oracle_values(&cache).unwrap();
    let fee = to_f64(m.bank(pa as usize).liquidation_fee.get()) + to_f64(m.bank(pl as usize).liquidation_fee.get());
    let bonus_cfg = xmargin_risk::liquidation::liquidation_bonus(m.bank(pa as usize).liquidation_fee.get(), m.bank(pl as usize).liquidation_fee.get()).unwrap();
    let sized = xmargin_risk::liquidation::max_token_liquidation(&cache, pa, pl, bonus_cfg, xmargin_risk::Fixed::MAX, false);
    println!("   sized {:?}", sized.map(|s| (s.liab_repaid.to_string(), s.asset_received.to_string(), s.rate.to_string())));
    for t in cache.tokens() { println!("   cache t{} balance {} oracle {}", t.token_index, t.balance, t.prices.oracle); }
    let b = equity_bonus(&cache, xmargin_risk::Fixed::from_bits((fee * (1u128 << 48) as f64) as i128)).ok();
    println!("   program view: assets {:.0} debts {:.0} equity {:.0} bonus {:?} (configured {fee:.4}); all banks accrued, at oracle: assets {true_a:.0} debts {true_d:.0} equity {:.0}",
        to_f64(a), to_f64(d), to_f64(a) - to_f64(d), b.map(to_f64), true_a - true_d);
}

//! `xmargin show ACCOUNT`: one margin account as the keeper values it
//! (`PriceRules::CONSERVATIVE`, the templates of `xmargin_keeper::rank`):
//! Init, Maint and LiquidationEnd health, the band, each position with its
//! value, the most that can be withdrawn and borrowed of every bank's token
//! (`HealthCache::max_withdraw` / `max_borrow`, Init health), and each held
//! token's liquidation price (`HealthCache::liquidation_price`: the oracle
//! price at which Maint health reaches 0, every other price fixed). A
//! portfolio-mode account is valued in portfolio mode, as the program does,
//! and shows each underlying's book (`crate::show_portfolio`).
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use xmargin::state::{account_flags, Group, MarginAccount};
use xmargin_client::health::{BankEntry, MarketEntry};
use xmargin_keeper::snapshot::reading_of;
use xmargin_keeper::Snapshot;
use xmargin_risk::health::{HealthCache, MarginMode, TokenInfo};
use xmargin_risk::{Fixed, HealthType, Rounding};

use crate::amount::ui;
use crate::margin_mode::mode_name;
use crate::option_commands::{option_info, option_json, OptionInfo};
use crate::rpc::{Cluster, Ctx};
use crate::show_portfolio::{self, books, BookView};

/// One token of the group, held or not.
#[derive(Clone, Debug)]
pub struct TokenRow {
    pub token_index: u16,
    pub mint: Pubkey,
    pub decimals: u8,
    /// Native balance (deposit > 0, borrow < 0); 0 when not held.
    pub balance: Fixed,
    pub held: bool,
    /// Quote native at the oracle price, and the Maint-weighted contribution.
    pub value: Fixed,
    pub maint_contribution: Fixed,
    /// Quote native per native unit (`None`: no usable price).
    pub oracle_price: Option<Fixed>,
    pub max_withdraw: Option<Fixed>,
    pub max_borrow: Option<Fixed>,
    /// Held tokens: the price that liquidates (`Ok(None)`: none does).
    pub liquidation_price: Option<Result<Option<Fixed>, String>>,
}

#[derive(Clone, Debug)]
pub struct DerivativeRow {
    pub market_index: u16,
    pub contracts: i64,
    pub notional: Fixed,
    pub maint_pnl: Fixed,
    pub maint_requirement: Fixed,
    /// Option markets: terms, model value and the risk array's age.
    pub option: Option<OptionInfo>,
}

#[derive(Clone, Debug)]
pub struct AccountView {
    pub address: Pubkey,
    pub account: MarginAccount,
    pub quote_decimals: u8,
    pub init: Fixed,
    pub maint: Fixed,
    pub liq_end: Fixed,
    pub band: &'static str,
    pub tokens: Vec<TokenRow>,
    pub derivatives: Vec<DerivativeRow>,
    /// Portfolio mode: every underlying's book (`None`: valued linearly).
    pub books: Option<Vec<BookView>>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The account's group, banks, markets and oracles, and the account alone
/// (the group's other accounts are not read).
pub fn load<C: Cluster>(ctx: &mut Ctx<C>, address: &Pubkey) -> Result<(Snapshot, MarginAccount), String> {
    let account = ctx.account(address)?;
    let group = account.group;
    let g: Group = ctx.group(&group)?;
    let now = ctx.chain.unix_time().map_err(err)?;
    let banks: BTreeMap<u16, BankEntry> = ctx.banks(&group)?;
    let markets: BTreeMap<u16, MarketEntry> = ctx.markets(&group)?;
    let mut oracles: Vec<(Pubkey, [u8; 32])> =
        banks.values().map(|b| (b.bank.oracle, b.bank.feed_id)).collect();
    oracles.extend(markets.values().map(|m| (m.market.oracle, m.market.feed_id)));
    let keys: Vec<Pubkey> = oracles.iter().map(|(o, _)| *o).collect();
    let fetched = ctx.chain.accounts(&keys).map_err(err)?;
    let readings = oracles
        .iter()
        .zip(&fetched)
        .filter_map(|((o, feed), f)| reading_of(f.as_ref(), feed).map(|r| (*o, r)))
        .collect();
    let quote_token = banks.values().find(|b| b.bank.mint == g.quote_mint).map(|b| b.bank.token_index);
    let accounts = vec![(*address, account)];
    Ok((
        Snapshot::new(
            group,
            now,
            g.quote_decimals,
            banks,
            markets,
            readings,
            accounts,
            quote_token,
            g.risk_grid_at(now),
        ),
        account,
    ))
}

/// The account's positions valued from the snapshot's templates (as
/// `xmargin_keeper::rank::account_health` does), in the account's margin mode.
pub fn account_cache(snap: &Snapshot, account: &MarginAccount) -> Result<HealthCache, String> {
    let mut tokens = Vec::new();
    for p in account.active_tokens() {
        let bank = &snap.banks.get(&p.token_index).ok_or(format!("no bank {}", p.token_index))?.bank;
        let template = snap.templates.get(&p.token_index).ok_or(format!("no bank {}", p.token_index))?;
        let balance = xmargin::health::position_balance(bank, p.shares.get(), snap.now).map_err(err)?;
        let unit = match balance.is_negative() {
            true => template.liab.ok_or(format!("token {}: the debt cannot be priced", p.token_index))?,
            false => match template.asset {
                Some(unit) => unit,
                None => continue, // an unusable price values a deposit at zero
            },
        };
        tokens.push(unit.with_balance(balance));
    }
    let mut derivatives = Vec::new();
    for p in account.active_derivatives() {
        let market =
            &snap.markets.get(&p.market_index).ok_or(format!("no market {}", p.market_index))?.market;
        let template = snap.market_templates.get(&p.market_index).ok_or("no market template")?;
        derivatives.push(
            template
                .value(&snap.context(), market, p)
                .ok_or(format!("market {}: the position cannot be valued", p.market_index))?,
        );
    }
    if account.is_portfolio_mode() {
        return xmargin_keeper::rank::portfolio_cache(snap, account, tokens, derivatives)
            .ok_or_else(|| "the portfolio-mode account cannot be valued".to_string());
    }
    HealthCache::new(tokens, derivatives, MarginMode::Linear).map_err(|e| format!("{e:?}"))
}

/// The band's name (crates/risk `HealthBand`, and the keeper's bankrupt and
/// being-liquidated rules of `rank.rs`).
pub fn band(account: &MarginAccount, init: Fixed, maint: Fixed, liq_end: Fixed) -> &'static str {
    let being_liquidated = account.has_flag(account_flags::BEING_LIQUIDATED);
    if account.is_bankrupt() {
        "bankrupt"
    } else if account.has_liabilities()
        && (maint.is_negative() || (being_liquidated && liq_end.is_negative()))
    {
        "liquidatable"
    } else if init.is_negative() {
        "margin call"
    } else {
        "healthy"
    }
}

/// `cache` with a zero balance of `unit`'s token added when not held.
fn with_token(cache: &HealthCache, unit: Option<TokenInfo>) -> Option<HealthCache> {
    let unit = unit?;
    if cache.token(unit.token_index).is_ok() {
        return Some(cache.clone());
    }
    if !matches!(cache.mode(), MarginMode::Linear) {
        return None; // a rebuilt portfolio cache would lose its stored risk arrays
    }
    let mut tokens = cache.tokens().to_vec();
    tokens.push(unit.with_balance(Fixed::ZERO));
    HealthCache::new(tokens, cache.derivatives().to_vec(), cache.mode().clone()).ok()
}

fn token_row(snap: &Snapshot, cache: &HealthCache, entry: &BankEntry) -> TokenRow {
    let i = entry.bank.token_index;
    let template = snap.templates.get(&i);
    let held = cache.token(i).ok().copied();
    let limits = with_token(cache, held.or_else(|| template.and_then(|t| t.liab.or(t.asset))));
    let of = |f: &dyn Fn(&TokenInfo) -> xmargin_risk::RiskResult<Fixed>| {
        held.as_ref().map_or(Fixed::ZERO, |t| f(t).unwrap_or(Fixed::ZERO))
    };
    // One search in portfolio mode.
    let (max_withdraw, max_borrow) = limits.as_ref().and_then(|c| c.withdraw_limits(i).ok()).unzip();
    TokenRow {
        token_index: i,
        mint: entry.bank.mint,
        decimals: entry.bank.mint_decimals,
        balance: held.map_or(Fixed::ZERO, |t| t.balance),
        held: held.is_some(),
        value: of(&|t| t.balance.checked_mul_floor(t.prices.oracle)),
        maint_contribution: of(&|t| t.contribution(HealthType::Maint)),
        oracle_price: held.or_else(|| template.and_then(|t| t.asset.or(t.liab))).map(|t| t.prices.oracle),
        max_withdraw,
        max_borrow,
        liquidation_price: held.map(|_| cache.liquidation_price(i).map_err(|e| format!("{e:?}"))),
    }
}

fn derivative_rows(cache: &HealthCache) -> Vec<DerivativeRow> {
    let zero = |r: xmargin_risk::RiskResult<Fixed>| r.unwrap_or(Fixed::ZERO);
    cache
        .derivatives()
        .iter()
        .map(|d| DerivativeRow {
            market_index: d.market_index,
            contracts: 0,
            notional: zero(d.notional()),
            maint_pnl: zero(d.pnl(HealthType::Maint)),
            maint_requirement: zero(d.requirement(HealthType::Maint)),
            option: None,
        })
        .collect()
}

pub fn view(snap: &Snapshot, address: &Pubkey, account: &MarginAccount) -> Result<AccountView, String> {
    let cache = account_cache(snap, account)?;
    let health = |ht| cache.health(ht).map_err(|e| format!("{ht:?} health: {e:?}"));
    let (init, maint, liq_end) =
        (health(HealthType::Init)?, health(HealthType::Maint)?, health(HealthType::LiquidationEnd)?);
    let mut derivatives = derivative_rows(&cache);
    for row in &mut derivatives {
        row.contracts = account.derivative_position(row.market_index).map_or(0, |p| p.base_contracts);
        let market = snap.markets.get(&row.market_index).map(|e| &e.market);
        row.option = market.filter(|m| m.is_option()).map(|m| option_info(snap, m));
    }
    Ok(AccountView {
        address: *address,
        account: *account,
        quote_decimals: snap.quote_decimals,
        init,
        maint,
        liq_end,
        band: band(account, init, maint, liq_end),
        tokens: snap.banks.values().map(|b| token_row(snap, &cache, b)).collect(),
        derivatives,
        books: books(&cache)?,
    })
}

/// Quote native as quote UI units (floor).
pub fn quote(v: &AccountView, x: Fixed) -> String {
    ui(x.to_i128(Rounding::Floor).unwrap_or(i128::MIN), v.quote_decimals)
}

/// Native units of a token as its UI units (floor).
fn tokens(row: &TokenRow, x: Fixed) -> String {
    ui(x.to_i128(Rounding::Floor).unwrap_or(i128::MIN), row.decimals)
}

/// A price in quote native per native unit as quote UI units per whole
/// token (display: an `f64`).
pub fn ui_price(p: Fixed, token_decimals: u8, quote_decimals: u8) -> f64 {
    crate::show::approx(p) * 10f64.powi(i32::from(token_decimals) - i32::from(quote_decimals))
}

fn liquidation_text(v: &AccountView, row: &TokenRow) -> (Value, String) {
    match &row.liquidation_price {
        None => (Value::Null, "-".into()),
        Some(Ok(None)) => (json!({ "price": Value::Null }), "none".into()),
        Some(Ok(Some(p))) => {
            let price = ui_price(*p, row.decimals, v.quote_decimals);
            (json!({ "price": price, "raw_bits": p.to_bits().to_string() }), format!("{price:.4}"))
        }
        Some(Err(e)) => (json!({ "error": e }), format!("error: {e}")),
    }
}

pub fn to_json(v: &AccountView) -> Value {
    let tokens: Vec<Value> = v
        .tokens
        .iter()
        .map(|r| {
            json!({
                "token_index": r.token_index,
                "mint": r.mint.to_string(),
                "decimals": r.decimals,
                "held": r.held,
                "balance": tokens(r, r.balance),
                "value": quote(v, r.value),
                "maint_contribution": quote(v, r.maint_contribution),
                "oracle_price": r.oracle_price.map(|p| ui_price(p, r.decimals, v.quote_decimals)),
                "max_withdraw": r.max_withdraw.map(|x| tokens(r, x)),
                "max_borrow": r.max_borrow.map(|x| tokens(r, x)),
                "liquidation_price": liquidation_text(v, r).0,
            })
        })
        .collect();
    let derivatives: Vec<Value> = v
        .derivatives
        .iter()
        .map(|d| {
            json!({
                "market_index": d.market_index,
                "contracts": d.contracts,
                "notional": quote(v, d.notional),
                "maint_pnl": quote(v, d.maint_pnl),
                "maint_requirement": quote(v, d.maint_requirement),
                "option": d.option.as_ref().map(|o| option_json(o, v.quote_decimals)),
            })
        })
        .collect();
    json!({
        "account": v.address.to_string(),
        "group": v.account.group.to_string(),
        "owner": v.account.owner.to_string(),
        "health": { "init": quote(v, v.init), "maint": quote(v, v.maint), "liquidation_end": quote(v, v.liq_end) },
        "band": v.band,
        "margin_mode": mode_name(v.account.flags),
        "portfolio": v.books.as_ref().map(|b| show_portfolio::to_json(b, v.quote_decimals)),
        "tokens": tokens,
        "derivatives": derivatives,
    })
}

pub fn print_text(v: &AccountView) {
    println!("margin account {}   owner {}   group {}", v.address, v.account.owner, v.account.group);
    println!(
        "health (quote units): init {}  maint {}  liquidation-end {}  → {}",
        quote(v, v.init),
        quote(v, v.maint),
        quote(v, v.liq_end),
        v.band
    );
    println!("margin mode: {}", mode_name(v.account.flags));
    println!(
        "\n{:>5}  {:>22}  {:>16}  {:>16}  {:>14}  {:>22}  {:>22}  {:>14}",
        "token", "balance", "value", "maint contrib.", "price", "max withdraw", "max borrow", "liq. price"
    );
    for r in &v.tokens {
        let opt = |x: Option<Fixed>| x.map_or("-".to_string(), |x| tokens(r, x));
        let price = r
            .oracle_price
            .map_or("-".into(), |p| format!("{:.4}", ui_price(p, r.decimals, v.quote_decimals)));
        println!(
            "{:>5}  {:>22}  {:>16}  {:>16}  {price:>14}  {:>22}  {:>22}  {:>14}",
            r.token_index,
            if r.held { tokens(r, r.balance) } else { "-".into() },
            quote(v, r.value),
            quote(v, r.maint_contribution),
            opt(r.max_withdraw),
            opt(r.max_borrow),
            liquidation_text(v, r).1,
        );
    }
    if !v.derivatives.is_empty() {
        println!(
            "\n{:>4}  {:>12}  {:>16}  {:>16}  {:>16}",
            "mkt", "contracts", "notional", "maint PnL", "maint req."
        );
        for d in &v.derivatives {
            println!(
                "{:>4}  {:>12}  {:>16}  {:>16}  {:>16}",
                d.market_index,
                d.contracts,
                quote(v, d.notional),
                quote(v, d.maint_pnl),
                quote(v, d.maint_requirement)
            );
        }
        print_options(v);
    }
    if let Some(books) = &v.books {
        show_portfolio::print_text(books, v.quote_decimals);
    }
}

/// Option positions: terms, the array's model value and how old it is.
fn print_options(v: &AccountView) {
    let options: Vec<(&DerivativeRow, &OptionInfo)> =
        v.derivatives.iter().filter_map(|d| d.option.as_ref().map(|o| (d, o))).collect();
    if options.is_empty() {
        return;
    }
    println!(
        "\n{:>4}  {:>4}  {:>12}  {:>12}  {:>14}  {:>10}  {:>12}  risk array",
        "mkt", "kind", "contracts", "strike", "model value", "expiry", "array age"
    );
    for (d, o) in options {
        let age = o.array_age_secs.map_or("-".to_string(), |a| format!("{a} s"));
        println!(
            "{:>4}  {:>4}  {:>12}  {:>12}  {:>14}  {:>10}  {age:>12}  {}",
            d.market_index,
            if o.is_call { "call" } else { "put" },
            d.contracts,
            ui(i128::from(o.strike_per_contract), v.quote_decimals),
            ui(o.model_value, v.quote_decimals),
            crate::option_series::yymmdd(o.expiry_ts),
            o.array_status
        );
    }
}

pub fn show<C: Cluster>(ctx: &mut Ctx<C>, address: &Pubkey) -> Result<(), String> {
    let (snap, account) = load(ctx, address)?;
    let v = view(&snap, address, &account)?;
    match ctx.out.is_json() {
        true => ctx.out.set_document(to_json(&v)),
        false => print_text(&v),
    }
    Ok(())
}

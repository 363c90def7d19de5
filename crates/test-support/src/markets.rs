//! Derivative markets in the test world: listing a SOL perpetual and dated
//! futures, the health accounts of accounts with derivative positions, and
//! every market instruction as a `World` method.
use std::collections::BTreeMap;

use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use solana_signer::Signer;
use xmargin::instructions::{AddMarketArgs, MarketFundingArgs, MarketRiskArgs, TradeArgs, UpdateMarketArgs};
use xmargin::state::{market_kind, MarginAccount, Market};
use xmargin_client::health::{health_metas_with_markets, MarketEntry};
use xmargin_client::market_instructions::{self as mixs, MarketKeys};

use crate::env::Env;
use crate::margin::{bank_keys, banks};
use crate::outcome::TxOutcome;
use crate::world::{User, World};

/// Lamports per contract of the test SOL markets: 0.01 SOL.
pub const SOL_CONTRACT: u64 = 10_000_000;

/// A SOL perpetual (index `market_index`, underlying token 1): 0.01 SOL
/// contracts; Init 10 %, LiquidationEnd 7.5 %, Maint 5 %; positive PnL at
/// 50 / 75 / 90 %, at most 100 USDC in Init; band 5 %; settle 20 % a day;
/// fees 1 % + 0.5 %; funding premium capped at 10 % a day, one-hour TWAP,
/// a trade of 100 contracts (1 SOL) or more sets the mark premium outright.
pub fn sol_perp_args(market_index: u16) -> AddMarketArgs {
    AddMarketArgs {
        market_index,
        kind: market_kind::PERPETUAL,
        name: *b"SOL-PERP\0\0\0\0\0\0\0\0",
        contract_size: SOL_CONTRACT,
        min_size: 1,
        expiry_ts: 0,
        risk: MarketRiskArgs {
            init_rate_bps: 1_000,
            maint_rate_bps: 500,
            liq_end_rate_bps: 750,
            pnl_init_weight_bps: 5_000,
            pnl_liq_end_weight_bps: 7_500,
            pnl_maint_weight_bps: 9_000,
            price_band_bps: 500,
            settle_fraction_bps: 2_000,
            init_pnl_cap: 100_000_000,
            open_interest_cap: 1_000_000_000,
            size_premium_ppm: 0,
        },
        funding: MarketFundingArgs {
            max_funding_premium_bps: 1_000,
            twap_window_secs: 3_600,
            mark_depth: 100,
        },
        liquidation_fee_bps: 100,
        insurance_fee_bps: 50,
        min_samples: 0,
    }
}

/// A world with a SOL perpetual (market `market_index`) and Alice and Bob
/// (wallet seeds 10 and 11) with 1,000 USDC deposited each.
pub fn perp_desk(market_index: u16) -> (World, User, User) {
    const USDC: u16 = 0;
    const THOUSAND_USDC: u64 = 1_000_000_000;
    let mut w = World::new();
    w.add_market(sol_perp_args(market_index)).expect_ok();
    let alice = w.user(10, [THOUSAND_USDC, 0, 0]);
    let bob = w.user(11, [THOUSAND_USDC, 0, 0]);
    w.deposit(&alice, USDC, THOUSAND_USDC).expect_ok();
    w.deposit(&bob, USDC, THOUSAND_USDC).expect_ok();
    (w, alice, bob)
}

/// A SOL dated future expiring at `expiry_ts`, otherwise as [`sol_perp_args`]
/// (settlement needs 5 samples).
pub fn sol_future_args(market_index: u16, expiry_ts: i64) -> AddMarketArgs {
    AddMarketArgs {
        kind: market_kind::FUTURE,
        name: *b"SOL-FUT\0\0\0\0\0\0\0\0\0",
        expiry_ts,
        min_samples: 5,
        ..sol_perp_args(market_index)
    }
}

/// Every market of `group` the VM holds (indices 0.. until one is missing).
pub fn markets(env: &Env, group: &Address) -> BTreeMap<u16, MarketEntry> {
    let mut out = BTreeMap::new();
    for m in 0u16.. {
        let address = xmargin::pda::market_address(group, m).0;
        let Some(acc) = env.account(&address) else { break };
        let market = xmargin_client::accounts::decode::<Market>(&acc.data).expect("market account");
        out.insert(m, MarketEntry { address, market });
    }
    out
}

/// The health accounts of `account` with `tokens` and `markets` opened.
pub fn health_accounts_full(
    env: &Env,
    group: &Address,
    account: &Address,
    tokens: &[u16],
    opening_markets: &[u16],
) -> Vec<AccountMeta> {
    let acc: MarginAccount = env.zero_copy(account);
    health_metas_with_markets(&acc, tokens, opening_markets, &banks(env, group), &markets(env, group))
        .expect("banks and markets of the account's positions")
}

impl World {
    /// Market keys of `market_index`.
    pub fn market_keys(&self, market_index: u16) -> MarketKeys {
        let address = xmargin::pda::market_address(&self.group.group, market_index).0;
        let market: Market = self.env.zero_copy(&address);
        MarketKeys { market: address, oracle: market.oracle }
    }

    pub fn market(&self, market_index: u16) -> Market {
        self.env.zero_copy(&xmargin::pda::market_address(&self.group.group, market_index).0)
    }

    /// Lists a market on the SOL bank (token 1); returns the outcome.
    pub fn add_market(&mut self, args: AddMarketArgs) -> TxOutcome {
        let admin = self.admin.insecure_clone();
        let underlying = bank_keys(&self.env, &self.group.group, 1);
        let ix = mixs::add_market(&self.group.group, &admin.pubkey(), &admin.pubkey(), &underlying, args);
        self.env.send(&[ix], &[&admin])
    }

    pub fn update_market(&mut self, market_index: u16, args: UpdateMarketArgs) -> TxOutcome {
        let admin = self.admin.insecure_clone();
        let market = self.market_keys(market_index).market;
        let ix = mixs::update_market(&self.group.group, &admin.pubkey(), &market, args);
        self.env.send(&[ix], &[&admin])
    }

    /// The block-trade instruction: `buyer` buys `size` contracts at `price` per contract.
    pub fn trade_ix(
        &self,
        market_index: u16,
        buyer: &User,
        seller: &User,
        size: u64,
        price: u64,
    ) -> Instruction {
        let g = self.group.group;
        mixs::trade(
            &g,
            &self.market_keys(market_index),
            &buyer.account,
            &buyer.wallet.pubkey(),
            &seller.account,
            &seller.wallet.pubkey(),
            TradeArgs { size, price },
            health_accounts_full(&self.env, &g, &buyer.account, &[], &[market_index]),
            health_accounts_full(&self.env, &g, &seller.account, &[], &[market_index]),
        )
    }

    /// A block trade signed by both sides.
    pub fn trade(
        &mut self,
        market_index: u16,
        buyer: &User,
        seller: &User,
        size: u64,
        price: u64,
    ) -> TxOutcome {
        let ix = self.trade_ix(market_index, buyer, seller, size, price);
        let out = self.env.send(&[ix], &[&buyer.wallet, &seller.wallet]);
        self.assert_all_vaults();
        out
    }

    pub fn update_funding(&mut self, market_index: u16) -> TxOutcome {
        let ix = mixs::update_funding(&self.group.group, &self.market_keys(market_index));
        self.env.send(&[ix], &[])
    }

    pub fn settle_pnl(&mut self, market_index: u16, winner: &User, loser: &User) -> TxOutcome {
        let quote_bank = self.banks[0].bank;
        let ix = mixs::settle_pnl(
            &self.group.group,
            &self.market_keys(market_index),
            &winner.account,
            &loser.account,
            &quote_bank,
        );
        let out = self.env.send(&[ix], &[]);
        self.assert_all_vaults();
        out
    }

    /// `settle_dust`: the protocol collects its funding rounding from `user`'s realised loss.
    pub fn settle_dust(&mut self, market_index: u16, user: &User) -> TxOutcome {
        let market = self.market_keys(market_index).market;
        let ix = mixs::settle_dust(&self.group.group, &market, &user.account, &self.banks[0].bank);
        let out = self.env.send(&[ix], &[]);
        self.assert_all_vaults();
        out
    }

    pub fn sample_price(&mut self, market_index: u16) -> TxOutcome {
        let ix = mixs::sample_price(&self.group.group, &self.market_keys(market_index));
        self.env.send(&[ix], &[])
    }

    pub fn settle_expired(&mut self, market_index: u16, user: &User) -> TxOutcome {
        let ix = mixs::settle_expired(&self.group.group, &self.market_keys(market_index), &user.account);
        self.env.send(&[ix], &[])
    }

    /// `liqor` takes over up to `max_contracts` of `liqee`'s position in `market_index`.
    pub fn liquidate_position_ix(
        &self,
        market_index: u16,
        liqee: &User,
        liqor: &User,
        max_contracts: u64,
    ) -> Instruction {
        let g = self.group.group;
        mixs::liquidate_position(
            &g,
            &self.market_keys(market_index),
            &liqee.account,
            &liqor.account,
            &liqor.wallet.pubkey(),
            &bank_keys(&self.env, &g, 0),
            max_contracts,
            health_accounts_full(&self.env, &g, &liqee.account, &[0], &[]),
            health_accounts_full(&self.env, &g, &liqor.account, &[], &[market_index]),
        )
    }

    pub fn liquidate_position(
        &mut self,
        market_index: u16,
        liqee: &User,
        liqor: &User,
        max_contracts: u64,
    ) -> TxOutcome {
        let ix = self.liquidate_position_ix(market_index, liqee, liqor, max_contracts);
        let out = self.env.send(&[ix], &[&liqor.wallet]);
        self.assert_all_vaults();
        out
    }

    /// A user's derivative position in `market_index` (default when none).
    pub fn position(&self, user: &User, market_index: u16) -> xmargin::state::DerivativePosition {
        let acc: MarginAccount = self.env.zero_copy(&user.account);
        acc.derivative_position(market_index).copied().unwrap_or_default()
    }
}

/// Asserts the accounting identities of market `market_index` over `users`,
/// which must be every account with a position slot in it:
///
/// ```text
/// Σ (realized_pnl − quote_cost)              every fill moves it by −delta·price,
///   + Σ −base · (cum_funding − snapshot)     funding not settled yet (exact),
///   + Σ base · settlement value per contract settled (future: price, option: intrinsic),
///   + funding_dust                           the protocol's roundings (≥ 0)
///   = 0                                       exactly, in fixed point
/// ```
///
/// A fill changes `realized − cost` by `−delta · price` on one side and
/// `+delta · price` on the other; funding settlement moves the exact pending
/// amount into `realized_pnl` (floored) and the remainder into the dust;
/// `settle_pnl` moves the same amount out of one `realized_pnl` and into the
/// other (and the same amount of quote tokens the other way); expiry turns
/// `contracts · settlement value per contract − cost` (whole units) into
/// `realized_pnl`. Also: open interest is Σ longs (= Σ shorts while the
/// market trades) and `position_count` is the number of slots. Losses
/// socialised by the bankruptcy path leave this identity by design.
#[track_caller]
pub fn assert_market_conservation(world: &World, market_index: u16, users: &[&User]) {
    use xmargin::instructions::settle_expired::settlement_value_per_contract;
    use xmargin::state::market_status;
    use xmargin_risk::Fixed;
    let market = world.market(market_index);
    let settled = market.status == market_status::SETTLED;
    let (mut total, mut longs, mut shorts, mut slots) = (Fixed::ZERO, 0u64, 0u64, 0u64);
    for user in users {
        let acc: MarginAccount = world.env.zero_copy(&user.account);
        let Some(p) = acc.derivative_position(market_index) else { continue };
        slots += 1;
        let base = p.base_contracts;
        let claim = Fixed::from_i64(p.realized_pnl).checked_sub(Fixed::from_i64(p.quote_cost)).unwrap();
        let mut pending = Fixed::ZERO;
        if market.is_perpetual() {
            let moved = market.cum_funding.get().checked_sub(p.funding_snapshot.get()).unwrap();
            pending = moved.checked_mul_int(base).unwrap().checked_neg().unwrap();
        }
        let mut expiry = Fixed::ZERO;
        if settled {
            let per_contract = settlement_value_per_contract(&market).expect("settlement price");
            expiry = Fixed::from_i64(per_contract).checked_mul_int(base).unwrap();
        }
        total = total.checked_add(claim).unwrap().checked_add(pending).unwrap().checked_add(expiry).unwrap();
        longs += base.max(0).unsigned_abs();
        shorts += base.min(0).unsigned_abs();
    }
    let dust = market.funding_dust.get();
    assert!(!dust.is_negative(), "market {market_index}: negative dust {dust}");
    assert_eq!(
        total.checked_add(dust).unwrap(),
        Fixed::ZERO,
        "market {market_index}: Σ(realized − cost) + pending funding + settled value = {total}, dust {dust}"
    );
    assert_eq!(market.open_interest, longs, "market {market_index}: open interest ≠ Σ longs");
    if !settled {
        assert_eq!(longs, shorts, "market {market_index}: Σ longs ≠ Σ shorts");
    }
    assert_eq!(market.position_count, slots, "market {market_index}: position_count ≠ slots");
}

/// The events of type `T` a transaction emitted (`Program data:` logs).
pub fn events<T: anchor_lang::Event>(logs: &[String]) -> Vec<T> {
    use anchor_lang::__private::base64::{engine::general_purpose::STANDARD, Engine};
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b| STANDARD.decode(b).ok())
        .filter(|d| d.starts_with(T::DISCRIMINATOR))
        .map(|d| T::deserialize(&mut &d[T::DISCRIMINATOR.len()..]).expect("event data"))
        .collect()
}

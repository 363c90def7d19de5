//! European option markets in the test world: a SOL call and put as the
//! tests list them, and `add_option_market`, `set_volatility` and
//! `update_risk_array` as `World` methods.
use solana_signer::Signer;
use xmargin::instructions::{AddOptionMarketArgs, ShortOptionArgs, UpdateRiskGridArgs, VolatilityArgs};
use xmargin::state::Group;
use xmargin_client::market_instructions as mixs;

use crate::margin::bank_keys;
use crate::markets::{sol_future_args, sol_perp_args, SOL_CONTRACT};
use crate::outcome::TxOutcome;
use crate::world::{User, World};

/// 30 days.
pub const THIRTY_DAYS: i64 = 30 * 86_400;
/// $165 strike on 0.01 SOL contracts: 1.65 USDC per contract.
pub const STRIKE_165: u64 = 1_650_000;

/// A SOL call (index `market_index`, underlying token 1) struck at `strike`
/// quote native per 0.01 SOL contract, expiring at `expiry_ts`: σ 60 %
/// (bounds 10 % … 200 %, at most 25 % of itself per update), short options
/// at Derive's rates (Init `max(15 % − OTM %, 13 %)`, LiquidationEnd 11 %,
/// Maint 9 %), longs at the perpetual's rates (Init 10 %, LiqEnd 7.5 %,
/// Maint 5 % of `S·|Δ|`), band 5 % around the model value, fees 1 % + 0.5 %;
/// settlement needs 5 samples (as [`crate::markets::sol_future_args`]).
pub fn sol_call_args(market_index: u16, strike: u64, expiry_ts: i64) -> AddOptionMarketArgs {
    let perp = sol_perp_args(market_index);
    AddOptionMarketArgs {
        market_index,
        name: *b"SOL-CALL\0\0\0\0\0\0\0\0",
        is_call: 1,
        strike,
        expiry_ts,
        contract_size: SOL_CONTRACT,
        min_size: 1,
        risk: perp.risk,
        short: ShortOptionArgs::default(),
        volatility: VolatilityArgs {
            volatility_bps: 6_000,
            min_volatility_bps: 1_000,
            max_volatility_bps: 20_000,
            max_change_bps: 2_500,
        },
        liquidation_fee_bps: perp.liquidation_fee_bps,
        insurance_fee_bps: perp.insurance_fee_bps,
        min_samples: sol_future_args(market_index, expiry_ts).min_samples,
    }
}

/// The put of [`sol_call_args`].
pub fn sol_put_args(market_index: u16, strike: u64, expiry_ts: i64) -> AddOptionMarketArgs {
    AddOptionMarketArgs {
        name: *b"SOL-PUT\0\0\0\0\0\0\0\0\0",
        is_call: 0,
        ..sol_call_args(market_index, strike, expiry_ts)
    }
}

impl World {
    /// Lists an option market on the SOL bank (token 1).
    pub fn add_option_market(&mut self, args: AddOptionMarketArgs) -> TxOutcome {
        let admin = self.admin.insecure_clone();
        let underlying = bank_keys(&self.env, &self.group.group, 1);
        let ix =
            mixs::add_option_market(&self.group.group, &admin.pubkey(), &admin.pubkey(), &underlying, args);
        self.env.send(&[ix], &[&admin])
    }

    /// `set_volatility` signed by the admin.
    pub fn set_volatility(&mut self, market_index: u16, volatility_bps: u32) -> TxOutcome {
        let admin = self.admin.insecure_clone();
        let market = self.market_keys(market_index).market;
        let ix = mixs::set_volatility(&self.group.group, &admin.pubkey(), &market, volatility_bps);
        self.env.send(&[ix], &[&admin])
    }

    /// `update_risk_grid` signed by the admin.
    pub fn update_risk_grid(&mut self, args: UpdateRiskGridArgs) -> TxOutcome {
        let admin = self.admin.insecure_clone();
        let ix = mixs::update_risk_grid(&self.group.group, &admin.pubkey(), args);
        self.env.send(&[ix], &[&admin])
    }

    /// The group account (its stored grid: `risk_grid`, `pending_risk_grid`).
    pub fn group_account(&self) -> Group {
        self.env.zero_copy(&self.group.group)
    }

    pub fn update_risk_array(&mut self, market_index: u16) -> TxOutcome {
        let ix = mixs::update_risk_array(&self.group.group, &self.market_keys(market_index));
        self.env.send(&[ix], &[])
    }
}

/// A world with a 30-day SOL call struck at $165 (market `market_index`),
/// its risk array computed, and Alice and Bob (wallet seeds 10 and 11) with
/// 1,000 USDC deposited each.
pub fn option_desk(market_index: u16) -> (World, User, User) {
    let mut w = World::new();
    let expiry = w.env.unix_time() + THIRTY_DAYS;
    w.add_option_market(sol_call_args(market_index, STRIKE_165, expiry)).expect_ok();
    w.update_risk_array(market_index).expect_ok();
    let alice = w.user(10, [1_000_000_000, 0, 0]);
    let bob = w.user(11, [1_000_000_000, 0, 0]);
    w.deposit(&alice, 0, 1_000_000_000).expect_ok();
    w.deposit(&bob, 0, 1_000_000_000).expect_ok();
    (w, alice, bob)
}

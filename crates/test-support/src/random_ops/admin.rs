//! Admin operations of a run: `update_bank` with changes drawn within bounds.
use xmargin::instructions::{BankInterestArgs, BankOracleArgs, BankRiskArgs, UpdateBankArgs};
use xmargin_risk::Rounding;

use super::exec::{part, Class, Sent};
use super::market::Market;
use super::ops::{BankChange, Bps};
use crate::margin::update_bank_ix;
use crate::Signer;

impl Market {
    /// Applies `change` to the bank's last accepted parameters and sends it.
    pub fn update_bank(&mut self, token: usize, change: BankChange) -> Sent {
        let mut args = self.params[token];
        let mut update = UpdateBankArgs::default();
        match change {
            BankChange::Weights { delta_bps } => {
                if token == 0 {
                    return self.send_update(token, change, update); // the quote token stays at weight 1
                }
                update.risk = Some(shifted_weights(args.risk, delta_bps));
            }
            BankChange::LiquidationFee { fee_bps } => {
                update.interest = Some(BankInterestArgs { liquidation_fee_bps: fee_bps, ..args.interest })
            }
            BankChange::Oracle { max_age_secs, max_conf_bps, conf_multiplier_centi } => {
                update.oracle = Some(BankOracleArgs {
                    max_oracle_age_secs: max_age_secs,
                    max_conf_ratio_bps: max_conf_bps,
                    conf_multiplier_centi,
                    ..args.oracle
                })
            }
            BankChange::Interest { optimal_rate_bps, max_rate_bps, protocol_fee_bps } => {
                update.interest = Some(BankInterestArgs {
                    zero_util_rate_bps: args.interest.zero_util_rate_bps.min(optimal_rate_bps),
                    optimal_rate_bps,
                    max_rate_bps,
                    protocol_fee_bps,
                    ..args.interest
                })
            }
            BankChange::Caps { deposit_cap_bps, borrow_limit_bps } => {
                let (deposits, borrows) = self.bank(token).native_totals().expect("bank totals");
                // A share of the current total; none on an empty side (a cap of 0 blocks everything).
                let cap = |total: xmargin_risk::Fixed, bps: Bps| match total.to_u64(Rounding::Ceil) {
                    Ok(total) if bps != 0 && total != 0 => part(total, bps),
                    _ => u64::MAX,
                };
                update.risk = Some(BankRiskArgs {
                    deposit_cap: cap(deposits, deposit_cap_bps),
                    borrow_limit: cap(borrows, borrow_limit_bps),
                    ..args.risk
                });
            }
        }
        args.risk = update.risk.unwrap_or(args.risk);
        args.oracle = update.oracle.unwrap_or(args.oracle);
        args.interest = update.interest.unwrap_or(args.interest);
        let sent = self.send_update(token, change, update);
        if sent.accepted() {
            self.params[token] = args;
        }
        sent
    }

    fn send_update(&mut self, token: usize, change: BankChange, update: UpdateBankArgs) -> Sent {
        let ix = update_bank_ix(&self.group.group, &self.admin.pubkey(), token as u16, update);
        let admin = self.admin.insecure_clone();
        self.send(&format!("update bank t{token}: {change:?}"), Class::UpdateBank { token }, &[ix], &[&admin])
    }
}

/// Bounds of the maint weights `update_bank` moves between (bps): wide enough
/// to tighten and loosen, narrow enough that every asset/liability pair stays
/// liquidatable at the largest liquidation fees the run sets.
const MAINT_ASSET_BPS: (i32, i32) = (6_000, 9_200);
const MAINT_LIAB_BPS: (i32, i32) = (10_800, 13_000);
/// Distance of the liquidation-end and init weights from the maint weight (bps).
const LIQ_END_STEP_BPS: i32 = 300;
const INIT_STEP_BPS: i32 = 600;

/// Weights shifted by `delta_bps` (asset up, liability down), ordered and in bounds.
fn shifted_weights(risk: BankRiskArgs, delta_bps: i32) -> BankRiskArgs {
    let asset = (risk.maint_asset_weight_bps as i32 + delta_bps).clamp(MAINT_ASSET_BPS.0, MAINT_ASSET_BPS.1);
    let liab = (risk.maint_liab_weight_bps as i32 - delta_bps).clamp(MAINT_LIAB_BPS.0, MAINT_LIAB_BPS.1);
    BankRiskArgs {
        maint_asset_weight_bps: asset as u32,
        liq_end_asset_weight_bps: (asset - LIQ_END_STEP_BPS) as u32,
        init_asset_weight_bps: (asset - INIT_STEP_BPS) as u32,
        maint_liab_weight_bps: liab as u32,
        liq_end_liab_weight_bps: (liab + LIQ_END_STEP_BPS) as u32,
        init_liab_weight_bps: (liab + INIT_STEP_BPS) as u32,
        ..risk
    }
}

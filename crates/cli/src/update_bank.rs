//! `update-bank`: the program's `update_bank` takes whole groups of
//! parameters (risk, oracle rules, interest curve with the liquidation fee),
//! so the CLI fills the fields not given from the bank's current target
//! (its pending change if one waits, else what is in force), read back in
//! the units of the flags. Only the given fields change: a field whose
//! stored value is not a whole number of those units is refused rather than
//! rounded (the admin then gives it explicitly).
use std::fmt;

use xmargin::instructions::{BankInterestArgs, BankOracleArgs, BankRiskArgs, UpdateBankArgs};
use xmargin::state::{Bank, BankRiskParams, BankSafetyParams};
use xmargin_risk::{Fixed, Rounding};

use crate::cli::UpdateBankFlags;

const BPS: i64 = 10_000;
const CENTI: i64 = 100;
const BPS_HOURS: i64 = 10_000 * 3_600;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateBankError {
    /// No field flag was given.
    NothingToChange { token_index: u16 },
    /// The bank's current `group` does not read back as whole flag units.
    NotWholeUnits { token_index: u16, group: &'static str },
}

impl fmt::Display for UpdateBankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateBankError::NothingToChange { token_index } => {
                write!(f, "update-bank {token_index}: no field given (see xmargin update-bank --help)")
            }
            UpdateBankError::NotWholeUnits { token_index, group } => write!(
                f,
                "update-bank {token_index}: bank's current {group} parameters are not whole flag units; give every {group} flag"
            ),
        }
    }
}

/// `v · scale` to the nearest whole number.
fn units(v: Fixed, scale: i64) -> u32 {
    v.checked_mul_int(scale)
        .and_then(|x| x.checked_add(Fixed::HALF))
        .and_then(|x| x.to_u64(Rounding::Floor))
        .map_or(u32::MAX, |x| u32::try_from(x).unwrap_or(u32::MAX))
}

fn risk_target(bank: &Bank) -> BankRiskParams {
    if bank.pending_activation_ts != 0 {
        bank.pending_risk
    } else {
        bank.risk
    }
}

fn safety_target(bank: &Bank) -> BankSafetyParams {
    if bank.pending_safety.activation_ts != 0 {
        BankSafetyParams { activation_ts: 0, ..bank.pending_safety }
    } else {
        bank.safety_params()
    }
}

fn current_risk(bank: &Bank) -> Result<BankRiskArgs, UpdateBankError> {
    let r = risk_target(bank);
    let args = BankRiskArgs {
        init_asset_weight_bps: units(r.init_asset_weight.get(), BPS),
        maint_asset_weight_bps: units(r.maint_asset_weight.get(), BPS),
        liq_end_asset_weight_bps: units(r.liq_end_asset_weight.get(), BPS),
        init_liab_weight_bps: units(r.init_liab_weight.get(), BPS),
        maint_liab_weight_bps: units(r.maint_liab_weight.get(), BPS),
        liq_end_liab_weight_bps: units(r.liq_end_liab_weight.get(), BPS),
        deposit_cap: r.deposit_cap,
        borrow_limit: r.borrow_limit,
        deposit_weight_scale_start: r.deposit_weight_scale_start,
        borrow_weight_scale_start: r.borrow_weight_scale_start,
    };
    match args.to_params() {
        Ok(back) if back == r => Ok(args),
        _ => Err(UpdateBankError::NotWholeUnits { token_index: bank.token_index, group: "risk" }),
    }
}

fn current_oracle(bank: &Bank) -> Result<BankOracleArgs, UpdateBankError> {
    let s = safety_target(bank);
    let args = BankOracleArgs {
        max_oracle_age_secs: s.max_oracle_age_secs,
        max_conf_ratio_bps: units(s.max_conf_ratio.get(), BPS),
        conf_multiplier_centi: units(s.conf_multiplier.get(), CENTI),
        stable_price_growth_bps_per_hour: units(s.stable_price_growth_per_sec.get(), BPS_HOURS),
    };
    let mut back = s;
    match args.write_to(&mut back) {
        Ok(()) if back == s => Ok(args),
        _ => Err(UpdateBankError::NotWholeUnits { token_index: bank.token_index, group: "oracle" }),
    }
}

fn current_interest(bank: &Bank) -> Result<BankInterestArgs, UpdateBankError> {
    let s = safety_target(bank);
    let args = BankInterestArgs {
        zero_util_rate_bps: units(bank.zero_util_rate.get(), BPS),
        optimal_util_bps: units(bank.optimal_util.get(), BPS),
        optimal_rate_bps: units(bank.optimal_rate.get(), BPS),
        max_rate_bps: units(bank.max_rate.get(), BPS),
        protocol_fee_bps: units(bank.protocol_fee_rate.get(), BPS),
        liquidation_fee_bps: units(s.liquidation_fee.get(), BPS),
    };
    let (mut copy, mut back) = (*bank, s);
    let same = |c: &Bank| {
        (c.zero_util_rate, c.optimal_util, c.optimal_rate, c.max_rate, c.protocol_fee_rate)
            == (
                bank.zero_util_rate,
                bank.optimal_util,
                bank.optimal_rate,
                bank.max_rate,
                bank.protocol_fee_rate,
            )
    };
    match args.apply(&mut copy, &mut back) {
        Ok(()) if back == s && same(&copy) => Ok(args),
        _ => Err(UpdateBankError::NotWholeUnits { token_index: bank.token_index, group: "interest" }),
    }
}

/// Every risk flag given: no need to read the bank's.
fn full_risk(f: &UpdateBankFlags) -> Option<BankRiskArgs> {
    Some(BankRiskArgs {
        init_asset_weight_bps: f.init_asset_weight_bps?,
        maint_asset_weight_bps: f.maint_asset_weight_bps?,
        liq_end_asset_weight_bps: f.liq_end_asset_weight_bps?,
        init_liab_weight_bps: f.init_liab_weight_bps?,
        maint_liab_weight_bps: f.maint_liab_weight_bps?,
        liq_end_liab_weight_bps: f.liq_end_liab_weight_bps?,
        deposit_cap: f.deposit_cap?,
        borrow_limit: f.borrow_limit?,
        deposit_weight_scale_start: f.deposit_weight_scale_start?,
        borrow_weight_scale_start: f.borrow_weight_scale_start?,
    })
}

fn full_oracle(f: &UpdateBankFlags) -> Option<BankOracleArgs> {
    Some(BankOracleArgs {
        max_oracle_age_secs: f.max_oracle_age_secs?,
        max_conf_ratio_bps: f.max_conf_ratio_bps?,
        conf_multiplier_centi: f.conf_multiplier_centi?,
        stable_price_growth_bps_per_hour: f.stable_price_growth_bps_per_hour?,
    })
}

fn full_interest(f: &UpdateBankFlags) -> Option<BankInterestArgs> {
    Some(BankInterestArgs {
        zero_util_rate_bps: f.zero_util_rate_bps?,
        optimal_util_bps: f.optimal_util_bps?,
        optimal_rate_bps: f.optimal_rate_bps?,
        max_rate_bps: f.max_rate_bps?,
        protocol_fee_bps: f.protocol_fee_bps?,
        liquidation_fee_bps: f.liquidation_fee_bps?,
    })
}

fn set<T>(field: &mut T, flag: Option<T>) {
    if let Some(v) = flag {
        *field = v;
    }
}

fn risk(bank: &Bank, f: &UpdateBankFlags) -> Result<Option<BankRiskArgs>, UpdateBankError> {
    let given = [f.init_asset_weight_bps, f.maint_asset_weight_bps, f.liq_end_asset_weight_bps]
        .iter()
        .chain(&[f.init_liab_weight_bps, f.maint_liab_weight_bps, f.liq_end_liab_weight_bps])
        .any(Option::is_some)
        || [f.deposit_cap, f.borrow_limit, f.deposit_weight_scale_start, f.borrow_weight_scale_start]
            .iter()
            .any(Option::is_some);
    if !given {
        return Ok(None);
    }
    let mut a = current_risk(bank).or_else(|e| full_risk(f).ok_or(e))?;
    set(&mut a.init_asset_weight_bps, f.init_asset_weight_bps);
    set(&mut a.maint_asset_weight_bps, f.maint_asset_weight_bps);
    set(&mut a.liq_end_asset_weight_bps, f.liq_end_asset_weight_bps);
    set(&mut a.init_liab_weight_bps, f.init_liab_weight_bps);
    set(&mut a.maint_liab_weight_bps, f.maint_liab_weight_bps);
    set(&mut a.liq_end_liab_weight_bps, f.liq_end_liab_weight_bps);
    set(&mut a.deposit_cap, f.deposit_cap);
    set(&mut a.borrow_limit, f.borrow_limit);
    set(&mut a.deposit_weight_scale_start, f.deposit_weight_scale_start);
    set(&mut a.borrow_weight_scale_start, f.borrow_weight_scale_start);
    Ok(Some(a))
}

fn oracle(bank: &Bank, f: &UpdateBankFlags) -> Result<Option<BankOracleArgs>, UpdateBankError> {
    let flags = [
        f.max_oracle_age_secs,
        f.max_conf_ratio_bps,
        f.conf_multiplier_centi,
        f.stable_price_growth_bps_per_hour,
    ];
    if flags.iter().all(Option::is_none) {
        return Ok(None);
    }
    let mut a = current_oracle(bank).or_else(|e| full_oracle(f).ok_or(e))?;
    set(&mut a.max_oracle_age_secs, f.max_oracle_age_secs);
    set(&mut a.max_conf_ratio_bps, f.max_conf_ratio_bps);
    set(&mut a.conf_multiplier_centi, f.conf_multiplier_centi);
    set(&mut a.stable_price_growth_bps_per_hour, f.stable_price_growth_bps_per_hour);
    Ok(Some(a))
}

fn interest(bank: &Bank, f: &UpdateBankFlags) -> Result<Option<BankInterestArgs>, UpdateBankError> {
    let flags = [
        f.zero_util_rate_bps,
        f.optimal_util_bps,
        f.optimal_rate_bps,
        f.max_rate_bps,
        f.protocol_fee_bps,
        f.liquidation_fee_bps,
    ];
    if flags.iter().all(Option::is_none) {
        return Ok(None);
    }
    let mut a = current_interest(bank).or_else(|e| full_interest(f).ok_or(e))?;
    set(&mut a.zero_util_rate_bps, f.zero_util_rate_bps);
    set(&mut a.optimal_util_bps, f.optimal_util_bps);
    set(&mut a.optimal_rate_bps, f.optimal_rate_bps);
    set(&mut a.max_rate_bps, f.max_rate_bps);
    set(&mut a.protocol_fee_bps, f.protocol_fee_bps);
    set(&mut a.liquidation_fee_bps, f.liquidation_fee_bps);
    Ok(Some(a))
}

/// The `update_bank` arguments that change the given fields of `bank` and
/// nothing else.
pub fn update_args(bank: &Bank, flags: &UpdateBankFlags) -> Result<UpdateBankArgs, UpdateBankError> {
    let args = UpdateBankArgs {
        risk: risk(bank, flags)?,
        oracle: oracle(bank, flags)?,
        interest: interest(bank, flags)?,
    };
    if args.risk.is_none() && args.oracle.is_none() && args.interest.is_none() {
        return Err(UpdateBankError::NothingToChange { token_index: bank.token_index });
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmargin_test_support::fixtures::default_bank_args;
    use xmargin_test_support::world::World;

    /// A listed bank read back: each group's current values are the
    /// listing's, so a flag changes its field and leaves the rest.
    #[test]
    fn only_the_given_fields_change() {
        let w = World::new();
        let bank: Bank = w.env.zero_copy(&w.banks[1].bank);
        let listed = default_bank_args(1, xmargin_test_support::world::SOL.feed_hex);
        let flags = UpdateBankFlags { init_asset_weight_bps: Some(7_000), ..Default::default() };
        let args = update_args(&bank, &flags).unwrap();
        let risk = args.risk.unwrap();
        assert_eq!(risk.init_asset_weight_bps, 7_000);
        assert_eq!(
            (risk.maint_asset_weight_bps, risk.deposit_cap, risk.init_liab_weight_bps),
            (listed.risk.maint_asset_weight_bps, listed.risk.deposit_cap, listed.risk.init_liab_weight_bps)
        );
        assert!(args.oracle.is_none() && args.interest.is_none(), "untouched groups are not sent");

        let flags = UpdateBankFlags {
            liquidation_fee_bps: Some(300),
            max_oracle_age_secs: Some(30),
            ..Default::default()
        };
        let args = update_args(&bank, &flags).unwrap();
        let (oracle, interest) = (args.oracle.unwrap(), args.interest.unwrap());
        assert_eq!(oracle.max_oracle_age_secs, 30);
        assert_eq!(oracle.stable_price_growth_bps_per_hour, listed.oracle.stable_price_growth_bps_per_hour);
        assert_eq!(oracle.conf_multiplier_centi, listed.oracle.conf_multiplier_centi);
        assert_eq!(oracle.max_conf_ratio_bps, listed.oracle.max_conf_ratio_bps);
        assert_eq!(interest.liquidation_fee_bps, 300);
        assert_eq!(
            (interest.optimal_util_bps, interest.max_rate_bps, interest.protocol_fee_bps),
            (
                listed.interest.optimal_util_bps,
                listed.interest.max_rate_bps,
                listed.interest.protocol_fee_bps
            )
        );
        assert!(args.risk.is_none());
    }

    #[test]
    fn no_field_or_a_value_off_the_grid_is_refused() {
        let w = World::new();
        let mut bank: Bank = w.env.zero_copy(&w.banks[1].bank);
        let none = update_args(&bank, &UpdateBankFlags::default()).unwrap_err();
        assert_eq!(none, UpdateBankError::NothingToChange { token_index: 1 });
        bank.risk.maint_asset_weight = Fixed::from_ratio(1, 3, Rounding::Floor).unwrap().into();
        let flags = UpdateBankFlags { deposit_cap: Some(1), ..Default::default() };
        let e = update_args(&bank, &flags).unwrap_err();
        assert_eq!(e, UpdateBankError::NotWholeUnits { token_index: 1, group: "risk" });
        assert!(e.to_string().contains("give every risk flag"));
        let all = UpdateBankFlags {
            init_asset_weight_bps: Some(8_000),
            maint_asset_weight_bps: Some(9_000),
            liq_end_asset_weight_bps: Some(8_500),
            init_liab_weight_bps: Some(12_000),
            maint_liab_weight_bps: Some(11_000),
            liq_end_liab_weight_bps: Some(11_500),
            deposit_cap: Some(1),
            borrow_limit: Some(1),
            deposit_weight_scale_start: Some(0),
            borrow_weight_scale_start: Some(0),
            ..Default::default()
        };
        assert_eq!(update_args(&bank, &all).unwrap().risk.unwrap().maint_asset_weight_bps, 9_000);
    }
}

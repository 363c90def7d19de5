//! Oracle price conversion and **the one place where price bias is decided**.
//!
//! # Units
//! Every price in the engine is *quote native units per native unit* of the
//! token or underlying. SOL at $150.12345678 (Pyth mantissa 15012345678,
//! expo −8), SOL with 9 decimals, USDC quote with 6 decimals:
//! `150.12345678 · 10^6 / 10^9 = 0.15012345678` micro-USDC per lamport.
//! A native balance times such a price is a value in quote native units with
//! no further scaling. The powers of ten are divided out once per oracle read
//! ([`OraclePrice::from_pyth`]); health math then only multiplies.
//!
//! # Bias rules (all of them)
//! With `k` the bank's/market's confidence multiplier ([`PriceBias`]):
//!
//! | health type     | asset price                         | liability price                     |
//! |-----------------|-------------------------------------|-------------------------------------|
//! | Maint           | `price − k·conf`                    | `price + k·conf`                    |
//! | LiquidationEnd  | same as Maint                       | same as Maint                       |
//! | Init            | `min(price − k·conf, stable)`       | `max(price + k·conf, stable)`       |
//!
//! Asset prices never go below zero. Init additionally uses the slow stable
//! price so that a sudden (possibly manipulated) oracle spike cannot be
//! borrowed against (the 2022 Mango exploit); LiquidationEnd deliberately
//! uses spot so that liquidators act on the current market.
//! Rounding: the oracle price is kept as a floor/ceil pair and confidence is
//! rounded up, so the asset price is ≤ the true biased price and the
//! liability price ≥ it.

use crate::error::{RiskError, RiskResult};
use crate::fixed::{Fixed, Rounding, FRAC_BITS};
use crate::health::HealthType;

/// Largest power of ten representable in `u128` (10^38).
const MAX_POW10: u32 = 38;

/// `value · 10^exp10` as a `Fixed`, rounded as asked. One `u128` division
/// when `exp10 < 0`, none otherwise.
pub fn scale_pow10(value: u64, exp10: i32, rounding: Rounding) -> RiskResult<Fixed> {
    let (floor, inexact) = scale_pow10_floor(value, exp10)?;
    if inexact && rounding == Rounding::Ceil {
        floor.checked_add(Fixed::DELTA)
    } else {
        Ok(floor)
    }
}

/// `floor(value · 10^exp10)` and whether it was inexact (one division).
fn scale_pow10_floor(value: u64, exp10: i32) -> RiskResult<(Fixed, bool)> {
    if exp10 >= 0 {
        let e = u32::try_from(exp10).map_err(|_| RiskError::Overflow)?;
        let p = 10u128.checked_pow(e).ok_or(RiskError::Overflow)?;
        let v = u128::from(value).checked_mul(p).ok_or(RiskError::Overflow)?;
        let v = i128::try_from(v).map_err(|_| RiskError::Overflow)?;
        return Ok((Fixed::checked_from_i128(v)?, false));
    }
    let n = exp10.unsigned_abs();
    let num = u128::from(value) << FRAC_BITS; // < 2^112
    if n > MAX_POW10 {
        return Ok((Fixed::ZERO, value != 0)); // 10^39 > 2^129 > num
    }
    if n <= MAX_POW10_SHORT_DIVISION {
        return Ok(short_division_pow10(value, 10u64.pow(n)));
    }
    let d = 10u128.pow(n);
    let q = num / d;
    Ok((Fixed::from_bits(q as i128), q * d != num)) // q < 2^112
}

/// Largest `n` with `10^n < 2^48`: `(r << 16) / 10^n` then fits a `u64`.
const MAX_POW10_SHORT_DIVISION: u32 = 14;

/// `floor(value · 2^48 / d)` for `d < 2^48` by long division in base 2^16
/// with native `u64` divisions (a `u128` division is a slow software loop on
/// SBF; this runs once per oracle per health check). Also says if inexact.
fn short_division_pow10(value: u64, d: u64) -> (Fixed, bool) {
    let int = value / d;
    let mut rem = value % d;
    let mut frac: u64 = 0;
    for _ in 0..FRAC_BITS / 16 {
        let x = rem << 16; // rem < d < 2^48
        frac = (frac << 16) | (x / d);
        rem = x % d;
    }
    (Fixed::from_bits(((int as i128) << FRAC_BITS) | frac as i128), rem != 0)
}

/// An oracle reading converted to native units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OraclePrice {
    /// Price rounded down (quote native per native unit).
    pub lo: Fixed,
    /// Price rounded up (`lo` or `lo + 1 ulp`).
    pub hi: Fixed,
    /// Confidence interval half-width, rounded up.
    pub conf: Fixed,
}

impl OraclePrice {
    /// Converts a Pyth reading `(price, conf, expo)` of a token with
    /// `token_decimals` against a quote token with `quote_decimals`.
    /// Errors with [`RiskError::InvalidPrice`] if `price ≤ 0` or the scaled
    /// price rounds to zero.
    pub fn from_pyth(
        price: i64,
        conf: u64,
        expo: i32,
        token_decimals: u8,
        quote_decimals: u8,
    ) -> RiskResult<OraclePrice> {
        if price <= 0 {
            return Err(RiskError::InvalidPrice);
        }
        let e = expo
            .checked_add(i32::from(quote_decimals))
            .and_then(|e| e.checked_sub(i32::from(token_decimals)))
            .ok_or(RiskError::InvalidPrice)?;
        let (lo, inexact) = scale_pow10_floor(price.unsigned_abs(), e)?;
        let hi = if inexact { lo.checked_add(Fixed::DELTA)? } else { lo };
        if !lo.is_positive() {
            return Err(RiskError::InvalidPrice);
        }
        let conf = scale_pow10(conf, e, Rounding::Ceil)?;
        Ok(OraclePrice { lo, hi, conf })
    }

    /// An exact price with zero confidence (tests, quote token, settlement).
    pub fn exact(price: Fixed) -> OraclePrice {
        OraclePrice { lo: price, hi: price, conf: Fixed::ZERO }
    }
}

/// The confidence check of an oracle reading, on its integer mantissas (both
/// carry the same exponent): `conf / price ≤ max_ratio`, decided exactly as
/// `conf · 2^48 ≤ max_ratio_raw · price` with no scaling and no rounding. It
/// runs once per position on every health check, before any conversion; a
/// non-positive price or a negative ratio never passes.
pub fn pyth_conf_within(price: i64, conf: u64, max_ratio: Fixed) -> bool {
    if price <= 0 || max_ratio.is_negative() {
        return false;
    }
    let ratio = max_ratio.to_bits() as u128;
    if ratio >> 64 != 0 {
        // Ratios of 2^16 or more (never configured): the slow exact form.
        let lhs = u128::from(conf) << FRAC_BITS; // < 2^112
        return ratio.checked_mul(price as u128).is_none_or(|rhs| lhs <= rhs);
    }
    let (ratio, price) = (ratio as u64, price as u64);
    if ratio >> FRAC_BITS == 0 && price >> 40 == 0 && conf >> 40 == 0 {
        // Usual case (ratio < 1, 40-bit mantissas): split the ratio at 2^24, so
        // `conf·2^48 ≤ ratio·price` ⇔ `conf·2^24 ≤ hi·price + ⌊lo·price / 2^24⌋`
        // (the left side is an integer), every product below 2^64.
        let (hi, lo) = (ratio >> 24, ratio & 0xff_ffff);
        let (rhs, overflow) = (hi * price).overflowing_add((lo * price) >> 24);
        return overflow || conf << 24 <= rhs;
    }
    // Native 64-bit limbs: a u128 multiply is a software routine on SBF.
    let (rhs_hi, rhs_lo) = crate::fixed::wide::mul_u64_wide(ratio, price);
    let (lhs_hi, lhs_lo) = (conf >> (64 - FRAC_BITS), conf << FRAC_BITS);
    (lhs_hi, lhs_lo) <= (rhs_hi, rhs_lo)
}

/// Per-bank / per-market price bias parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceBias {
    /// `k`: how many confidence half-widths to move the price against the
    /// user (0 disables the confidence bias). Must be ≥ 0.
    pub conf_multiplier: Fixed,
}

/// The prices a token (or an underlying) is valued at, per health type and
/// side. Built once per oracle read; everything else reads from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BiasedPrices {
    /// Unbiased oracle price (floor); used for exchange rates (liquidation
    /// transfers) and as the reference spot in portfolio scenarios.
    pub oracle: Fixed,
    /// `max(oracle − k·conf, 0)`.
    pub spot_asset: Fixed,
    /// `oracle + k·conf`.
    pub spot_liab: Fixed,
    /// `min(spot_asset, stable)`.
    pub init_asset: Fixed,
    /// `max(spot_liab, stable)`.
    pub init_liab: Fixed,
}

impl BiasedPrices {
    /// Applies the bias rules (module docs) to an oracle reading and the
    /// bank's/market's stable price. Pass `stable = oracle.lo` when there is
    /// no stable price yet.
    pub fn new(oracle: &OraclePrice, stable: Fixed, bias: PriceBias) -> RiskResult<BiasedPrices> {
        if bias.conf_multiplier.is_negative() || stable.is_negative() {
            return Err(RiskError::InvalidParameter);
        }
        let widen = Self::widen(oracle, bias)?;
        let spot_asset = Self::spot_asset(oracle, widen)?;
        let spot_liab = Self::spot_liab(oracle, widen)?;
        Ok(BiasedPrices {
            oracle: oracle.lo,
            spot_asset,
            spot_liab,
            init_asset: spot_asset.min(stable),
            init_liab: spot_liab.max(stable),
        })
    }

    /// `k · conf`, rounded up (a wider band is against the user).
    fn widen(oracle: &OraclePrice, bias: PriceBias) -> RiskResult<Fixed> {
        bias.conf_multiplier.checked_mul_ceil(oracle.conf)
    }

    fn spot_asset(oracle: &OraclePrice, widen: Fixed) -> RiskResult<Fixed> {
        Ok(oracle.lo.checked_sub(widen)?.positive_part())
    }

    fn spot_liab(oracle: &OraclePrice, widen: Fixed) -> RiskResult<Fixed> {
        oracle.hi.checked_add(widen)
    }

    /// The Init price of one side alone — exactly `new(..).asset(Init)` or
    /// `new(..).liab(Init)` — for hot paths that need nothing else.
    pub fn init_price(
        oracle: &OraclePrice,
        stable: Fixed,
        bias: PriceBias,
        asset: bool,
    ) -> RiskResult<Fixed> {
        if bias.conf_multiplier.is_negative() || stable.is_negative() {
            return Err(RiskError::InvalidParameter);
        }
        let widen = Self::widen(oracle, bias)?;
        if asset {
            Ok(Self::spot_asset(oracle, widen)?.min(stable))
        } else {
            Ok(Self::spot_liab(oracle, widen)?.max(stable))
        }
    }

    /// Same price everywhere (tests, the quote token).
    pub fn flat(price: Fixed) -> BiasedPrices {
        BiasedPrices {
            oracle: price,
            spot_asset: price,
            spot_liab: price,
            init_asset: price,
            init_liab: price,
        }
    }

    /// Price at which a positive balance is valued for `ht`.
    pub fn asset(&self, ht: HealthType) -> Fixed {
        match ht {
            HealthType::Init => self.init_asset,
            HealthType::Maint | HealthType::LiquidationEnd => self.spot_asset,
        }
    }

    /// Price at which a negative balance is valued for `ht`.
    pub fn liab(&self, ht: HealthType) -> Fixed {
        match ht {
            HealthType::Init => self.init_liab,
            HealthType::Maint | HealthType::LiquidationEnd => self.spot_liab,
        }
    }

    /// Conservative price for an exposure that gains when the price rises
    /// (`rising = true`: long spot/perp/call, short put) or falls.
    pub fn for_exposure(&self, ht: HealthType, rising: bool) -> Fixed {
        if rising {
            self.asset(ht)
        } else {
            self.liab(ht)
        }
    }
}

/// Longest interval one stable-price update credits: however long since the
/// last update (no crank, or a stale oracle), one update moves the stable
/// price by at most this many seconds' worth of growth, so it never snaps to
/// spot after a quiet spell.
pub const MAX_STABLE_PRICE_STEP_SECS: u64 = 3_600;

/// Moves a stable price toward the oracle by at most
/// `prev · max_move_per_sec · min(dt, MAX_STABLE_PRICE_STEP_SECS)` (relative),
/// so that it follows real moves over hours but cannot be dragged by a short
/// spike. `dt` in seconds.
pub fn update_stable_price(
    prev: Fixed,
    oracle: Fixed,
    dt: u64,
    max_move_per_sec: Fixed,
) -> RiskResult<Fixed> {
    if prev.is_zero() {
        return Ok(oracle);
    }
    let dt = dt.min(MAX_STABLE_PRICE_STEP_SECS);
    let frac = max_move_per_sec.checked_mul(Fixed::from_u64(dt), Rounding::Floor)?;
    let step = prev.checked_mul_floor(frac)?;
    if oracle > prev {
        Ok(oracle.min(prev.checked_add(step)?))
    } else {
        Ok(oracle.max(prev.checked_sub(step)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    /// Tolerance for one floor/ceil pair on a converted price.
    const ONE_ULP: i128 = 1;

    #[test]
    fn sol_price_per_lamport_in_micro_usdc() {
        // 15012345678 · 10^(−8 + 6 − 9) = 15012345678 · 10^−11 = 0.15012345678
        let p = OraclePrice::from_pyth(15_012_345_678, 10_000_000, -8, 9, 6).unwrap();
        let exact = fx("0.15012345678");
        assert!((p.lo.to_bits() - exact.to_bits()).abs() <= ONE_ULP);
        assert_eq!(p.hi.to_bits() - p.lo.to_bits(), 1); // inexact in binary
                                                        // conf $0.10 → 0.0001 micro-USDC per lamport (rounded up).
        assert!((p.conf.to_bits() - fx("0.0001").to_bits()).abs() <= ONE_ULP);
        assert!(p.conf >= fx("0.0001").checked_sub(Fixed::DELTA).unwrap());
    }

    #[test]
    fn init_price_is_the_init_side_of_biased_prices() {
        let bias = PriceBias { conf_multiplier: fx("1.5") };
        for (lo, conf, stable) in
            [("0.15", "0.0001", "0.14"), ("0.15", "0.0001", "0.16"), ("1", "2", "0.5"), ("3", "0", "3")]
        {
            let oracle =
                OraclePrice { lo: fx(lo), hi: fx(lo).checked_add(Fixed::DELTA).unwrap(), conf: fx(conf) };
            let all = BiasedPrices::new(&oracle, fx(stable), bias).unwrap();
            assert_eq!(
                BiasedPrices::init_price(&oracle, fx(stable), bias, true).unwrap(),
                all.asset(HealthType::Init)
            );
            assert_eq!(
                BiasedPrices::init_price(&oracle, fx(stable), bias, false).unwrap(),
                all.liab(HealthType::Init)
            );
        }
    }

    #[test]
    fn short_division_matches_u128_division() {
        for value in [0u64, 1, 7, 99_999_999, 15_012_345_678, u64::MAX / 3, u64::MAX] {
            for n in 0..=MAX_POW10_SHORT_DIVISION {
                let d = 10u64.pow(n);
                let num = u128::from(value) << FRAC_BITS;
                let (q, inexact) = short_division_pow10(value, d);
                assert_eq!(q.to_bits() as u128, num / u128::from(d), "{value} / 10^{n}");
                assert_eq!(inexact, !num.is_multiple_of(u128::from(d)), "{value} / 10^{n}");
            }
        }
    }

    #[test]
    fn positive_exponent_and_errors() {
        // A token with 0 decimals priced 5 · 10^2 = $500 against 6-decimal quote
        // → 500 · 10^6 = 5e8 quote native per unit, exact.
        let p = OraclePrice::from_pyth(5, 0, 2, 0, 6).unwrap();
        assert_eq!(p.lo, Fixed::from_u64(500_000_000));
        assert_eq!(p.lo, p.hi);
        assert_eq!(OraclePrice::from_pyth(0, 0, -8, 9, 6), Err(RiskError::InvalidPrice));
        assert_eq!(OraclePrice::from_pyth(-1, 0, -8, 9, 6), Err(RiskError::InvalidPrice));
        // 1 · 10^−60 rounds to zero → invalid.
        assert_eq!(OraclePrice::from_pyth(1, 0, -60, 0, 0), Err(RiskError::InvalidPrice));
    }

    #[test]
    fn bias_table() {
        // price 150, conf 0.10, k = 1, stable 140:
        // spot asset 149.90, spot liab 150.10, init asset min(149.9,140) = 140,
        // init liab max(150.1, 140) = 150.1.
        let o = OraclePrice { lo: fx("150"), hi: fx("150"), conf: fx("0.1") };
        let b = BiasedPrices::new(&o, fx("140"), PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
        assert_eq!(b.asset(HealthType::Maint), fx("150").checked_sub(fx("0.1")).unwrap());
        assert_eq!(b.liab(HealthType::LiquidationEnd), fx("150").checked_add(fx("0.1")).unwrap());
        assert_eq!(b.asset(HealthType::Init), fx("140"));
        assert_eq!(b.liab(HealthType::Init), b.spot_liab);
        // stable 160 above spot: init liability uses 160.
        let b = BiasedPrices::new(&o, fx("160"), PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
        assert_eq!(b.liab(HealthType::Init), fx("160"));
        assert_eq!(b.asset(HealthType::Init), b.spot_asset);
        // Huge confidence clamps the asset price at 0.
        let wide = OraclePrice { conf: fx("200"), ..o };
        let b = BiasedPrices::new(&wide, fx("150"), PriceBias { conf_multiplier: Fixed::ONE }).unwrap();
        assert_eq!(b.spot_asset, Fixed::ZERO);
    }

    #[test]
    fn conf_ratio_check() {
        // conf 1 on price 64 (same exponent): ratio exactly 1/64 = 0.015625 (exact in binary).
        assert!(pyth_conf_within(64, 1, fx("0.015625")));
        assert!(!pyth_conf_within(64, 1, fx("0.015")));
        // $150 ± 3.00 is exactly 2 %, but the stored 2 % (bps → I80F48) is rounded down,
        // so 3.00 fails and 2.99999999 passes: the boundary errs toward refusing a price.
        let two_percent = Fixed::from_ratio(200, 10_000, Rounding::Floor).unwrap();
        assert!(!pyth_conf_within(15_000_000_000, 300_000_000, two_percent), "0.02 is stored rounded down");
        assert!(pyth_conf_within(15_000_000_000, 299_999_999, two_percent));
        assert!(pyth_conf_within(15_000_000_000, 0, Fixed::ZERO));
        assert!(!pyth_conf_within(0, 0, two_percent), "a zero price never passes");
        assert!(!pyth_conf_within(-5, 0, two_percent));
        assert!(pyth_conf_within(i64::MAX, u64::MAX, Fixed::MAX), "no overflow at the extremes");
    }

    proptest::proptest! {
        /// Every path of `pyth_conf_within` decides exactly `conf·2^48 ≤ ratio·price`.
        #[test]
        fn conf_check_is_exact(price in 1i64..i64::MAX, conf: u64, ratio in 0i128..(1i128 << 70), small: bool) {
            let (price, conf) = if small { (price >> 24, conf >> 24) } else { (price, conf) };
            let ratio = if small { ratio >> 24 } else { ratio };
            let exact = (ratio as u128).checked_mul(price as u128).is_none_or(|r| (u128::from(conf) << 48) <= r);
            proptest::prop_assert_eq!(pyth_conf_within(price, conf, Fixed::from_bits(ratio)), exact || price <= 0);
        }
    }

    #[test]
    fn stable_price_moves_at_bounded_speed() {
        // prev 100, oracle 200, 0.01%/s for 100 s → at most +1% = 101.
        let s = update_stable_price(fx("100"), fx("200"), 100, fx("0.0001")).unwrap();
        assert!((s.to_f64() - 101.0).abs() < 1e-9);
        // Small move is followed exactly.
        let s = update_stable_price(fx("100"), fx("100.5"), 100, fx("0.0001")).unwrap();
        assert_eq!(s, fx("100.5"));
        let s = update_stable_price(fx("100"), fx("50"), 100, fx("0.0001")).unwrap();
        assert!((s.to_f64() - 99.0).abs() < 1e-9);
    }

    #[test]
    fn stable_price_step_is_capped_after_a_quiet_spell() {
        // 1 %/hour; 10 hours without an update and the oracle doubled: one
        // update moves one hour's worth (+1 % = 101), not ten (110), and
        // certainly not to spot (200).
        let per_sec = fx("0.01").checked_div(fx("3600"), Rounding::Floor).unwrap();
        let s = update_stable_price(fx("100"), fx("200"), 36_000, per_sec).unwrap();
        assert!((s.to_f64() - 101.0).abs() < 1e-6, "{s}");
        // A year without a crank changes nothing about the cap.
        let s = update_stable_price(fx("100"), fx("1"), 31_536_000, per_sec).unwrap();
        assert!((s.to_f64() - 99.0).abs() < 1e-6, "{s}");
    }
}

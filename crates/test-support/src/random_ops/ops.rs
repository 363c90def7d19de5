//! The operations of the random suite and how they are drawn.
//!
//! An [`Op`] names users and tokens by index and amounts as fractions (basis
//! points) of what the state holds when it runs, never as absolute numbers
//! computed from an earlier state: removing a step while shrinking keeps every
//! other step meaningful (valid, or refused for a reason the suite checks).
use std::fmt;

use super::rng::Rng;

/// A fraction in basis points (10,000 = all of it; more = over-asking).
pub type Bps = u32;

/// All of an amount.
pub const ALL: Bps = 10_000;

/// One step of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `bps` of the user's wallet balance.
    Deposit {
        user: u8,
        token: u8,
        bps: Bps,
    },
    /// `bps` of the user's deposit (within it: never a borrow). Operations on
    /// positions (withdraw, repay, liquidate, resolve) read `token` as "the
    /// token-th position of the right sign", falling back to the token itself.
    Withdraw {
        user: u8,
        token: u8,
        bps: Bps,
    },
    /// The whole deposit plus `bps` of the estimated Init headroom (> 10,000 asks too much).
    Borrow {
        user: u8,
        token: u8,
        bps: Bps,
    },
    /// `bps` of the debt (capped by the wallet; > 10,000 over-repays).
    Repay {
        user: u8,
        token: u8,
        bps: Bps,
    },
    SetDelegate {
        user: u8,
    },
    RemoveDelegate {
        user: u8,
    },
    /// The user's delegate deposits `bps` of its own wallet balance.
    DelegateDeposit {
        user: u8,
        token: u8,
        bps: Bps,
    },
    /// The delegate withdraws `bps` of the deposit, to the owner's wallet or (refused) its own.
    DelegateWithdraw {
        user: u8,
        token: u8,
        bps: Bps,
        to_owner: bool,
    },
    /// The liquidator takes `bps` of the debt in `liab` (0 = no limit) for `asset`.
    Liquidate {
        user: u8,
        asset: u8,
        liab: u8,
        bps: Bps,
    },
    ResolveBankruptcy {
        user: u8,
        token: u8,
        with_liquidator: bool,
    },
    /// A keeper pass: every liquidatable account gets the first accepted liquidation or resolution.
    Keeper,
    AccrueInterest {
        token: u8,
    },
    SetPause {
        flags: u8,
    },
    UpdateBank {
        token: u8,
        change: BankChange,
    },
    /// Publishes a new price, `move_bps` away from the current one, now.
    Price {
        token: u8,
        move_bps: i32,
    },
    /// Publishes the current price with a confidence of `conf_bps` of it.
    WideConfidence {
        token: u8,
        conf_bps: u32,
    },
    /// Moves the clock; prices of tokens in `stale_mask` are not re-published.
    Warp {
        secs: u32,
        stale_mask: u8,
    },
    /// Moves `bps` of the admin's quote tokens into the insurance fund.
    FundInsurance {
        bps: Bps,
    },
    ComputeHealth {
        user: u8,
    },
}

/// A bank-parameter change, applied to the last accepted parameters of the bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankChange {
    /// Maint asset weight up by `delta_bps` and maint liability weight down (loosening
    /// when positive), the other weights following at fixed distances; clamped to bounds.
    Weights {
        delta_bps: i32,
    },
    LiquidationFee {
        fee_bps: u32,
    },
    Oracle {
        max_age_secs: u32,
        max_conf_bps: u32,
        conf_multiplier_centi: u32,
    },
    Interest {
        optimal_rate_bps: u32,
        max_rate_bps: u32,
        protocol_fee_bps: u32,
    },
    /// Caps at `bps` of the bank's current totals (0 = no cap).
    Caps {
        deposit_cap_bps: Bps,
        borrow_limit_bps: Bps,
    },
}

/// How many of each thing the drawing picks from.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub users: usize,
    pub tokens: usize,
}

/// Relative frequencies of the kinds of [`Op`] (in [`Op::draw`] order).
const WEIGHTS: [u32; 19] = [14, 7, 14, 8, 3, 1, 3, 3, 7, 3, 5, 3, 2, 2, 14, 2, 8, 2, 2];

impl Op {
    /// Draws one operation.
    pub fn draw(rng: &mut Rng, shape: Shape) -> Op {
        let user = rng.index(shape.users);
        let token = rng.index(shape.tokens);
        match rng.weighted(&WEIGHTS) {
            0 => Op::Deposit { user, token, bps: fraction(rng) },
            1 => Op::Withdraw { user, token, bps: fraction(rng) },
            2 => Op::Borrow { user, token, bps: borrow_fraction(rng) },
            3 => Op::Repay { user, token, bps: rng.range(1_000, 12_000) as Bps },
            4 => Op::SetDelegate { user },
            5 => Op::RemoveDelegate { user },
            6 => Op::DelegateDeposit { user, token, bps: fraction(rng) },
            7 => Op::DelegateWithdraw { user, token, bps: fraction(rng), to_owner: rng.chance(80) },
            8 => Op::Liquidate {
                user,
                asset: rng.index(shape.tokens),
                liab: rng.index(shape.tokens),
                bps: if rng.chance(50) { 0 } else { rng.range(100, ALL as i64) as Bps },
            },
            9 => Op::ResolveBankruptcy { user, token, with_liquidator: rng.chance(70) },
            10 => Op::Keeper,
            11 => Op::AccrueInterest { token },
            12 => Op::SetPause { flags: if rng.chance(70) { 0 } else { rng.index(16) } },
            13 => Op::UpdateBank { token, change: BankChange::draw(rng) },
            14 => Op::Price { token, move_bps: price_move(rng, token) },
            15 => Op::WideConfidence { token, conf_bps: rng.range(250, 1_500) as u32 },
            16 => Op::Warp { secs: warp_secs(rng), stale_mask: stale_mask(rng, shape.tokens) },
            17 => Op::FundInsurance { bps: rng.range(1, 500) as Bps },
            _ => Op::ComputeHealth { user },
        }
    }
}

/// Mostly partial amounts, sometimes all of it, sometimes a sliver.
fn fraction(rng: &mut Rng) -> Bps {
    match rng.below(10) {
        0 => ALL,
        1 => rng.range(1, 10) as Bps,
        _ => rng.range(100, ALL as i64) as Bps,
    }
}

/// Mostly close to the whole headroom (leverage is what liquidations need),
/// sometimes beyond it (refused), sometimes small.
fn borrow_fraction(rng: &mut Rng) -> Bps {
    match rng.below(10) {
        0..=5 => rng.range(8_500, 10_000) as Bps,
        6..=7 => rng.range(10_000, 13_000) as Bps,
        _ => rng.range(100, 8_500) as Bps,
    }
}

/// Small walks; crashes of 30–70 % and rallies; the quote token barely moves.
fn price_move(rng: &mut Rng, token: u8) -> i32 {
    if token == 0 {
        return rng.range(-100, 100) as i32;
    }
    match rng.below(20) {
        0..=2 => -rng.range(3_000, 7_000) as i32,
        3..=4 => rng.range(1_000, 10_000) as i32,
        _ => rng.range(-400, 400) as i32,
    }
}

/// Seconds to months, mostly short.
fn warp_secs(rng: &mut Rng) -> u32 {
    const HOUR: i64 = 3_600;
    const DAY: i64 = 24 * HOUR;
    match rng.below(20) {
        0..=9 => rng.range(1, 59),
        10..=14 => rng.range(60, HOUR),
        15..=17 => rng.range(HOUR, DAY),
        18 => rng.range(DAY, 30 * DAY),
        _ => rng.range(30 * DAY, 120 * DAY),
    }
    .try_into()
    .expect("positive")
}

/// Usually every price is re-published; sometimes one token's is left to go stale.
fn stale_mask(rng: &mut Rng, tokens: usize) -> u8 {
    if rng.chance(80) {
        0
    } else {
        1 << rng.index(tokens)
    }
}

impl BankChange {
    fn draw(rng: &mut Rng) -> BankChange {
        match rng.below(5) {
            0 => BankChange::Weights { delta_bps: rng.range(-800, 800) as i32 },
            1 => BankChange::LiquidationFee { fee_bps: rng.range(0, 750) as u32 },
            2 => BankChange::Oracle {
                max_age_secs: [30, 60, 120, 600][rng.index(4) as usize],
                max_conf_bps: [100, 200, 500][rng.index(3) as usize],
                conf_multiplier_centi: [50, 100, 200][rng.index(3) as usize],
            },
            3 => {
                let optimal = rng.range(200, 3_000) as u32;
                BankChange::Interest {
                    optimal_rate_bps: optimal,
                    max_rate_bps: optimal + rng.range(0, 40_000) as u32,
                    protocol_fee_bps: rng.range(0, 3_000) as u32,
                }
            }
            _ => BankChange::Caps {
                deposit_cap_bps: if rng.chance(50) { 0 } else { rng.range(10_000, 30_000) as Bps },
                borrow_limit_bps: if rng.chance(50) { 0 } else { rng.range(10_000, 30_000) as Bps },
            },
        }
    }
}

impl Op {
    /// The variant's name, for per-kind statistics.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Deposit { .. } => "deposit",
            Op::Withdraw { .. } => "withdraw",
            Op::Borrow { .. } => "borrow",
            Op::Repay { .. } => "repay",
            Op::SetDelegate { .. } => "set_delegate",
            Op::RemoveDelegate { .. } => "remove_delegate",
            Op::DelegateDeposit { .. } => "delegate_deposit",
            Op::DelegateWithdraw { .. } => "delegate_withdraw",
            Op::Liquidate { .. } => "liquidate",
            Op::ResolveBankruptcy { .. } => "resolve_bankruptcy",
            Op::Keeper => "keeper",
            Op::AccrueInterest { .. } => "accrue_interest",
            Op::SetPause { .. } => "set_pause",
            Op::UpdateBank { .. } => "update_bank",
            Op::Price { .. } => "price",
            Op::WideConfidence { .. } => "wide_confidence",
            Op::Warp { .. } => "warp",
            Op::FundInsurance { .. } => "fund_insurance",
            Op::ComputeHealth { .. } => "compute_health",
        }
    }
}

fn pct(bps: Bps) -> String {
    format!("{}.{:02}%", bps / 100, bps % 100)
}

/// Readable form. "pick n" is the n-th (cyclically) position of the right
/// sign the user holds when the step runs, or token n if it holds none; "tN" is token N.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Deposit { user, token, bps } => {
                write!(f, "user{user} deposits {} of wallet t{token}", pct(bps))
            }
            Op::Withdraw { user, token, bps } => {
                write!(f, "user{user} withdraws {} of deposit pick {token}", pct(bps))
            }
            Op::Borrow { user, token, bps } => {
                write!(f, "user{user} borrows t{token}: deposit + {} of headroom", pct(bps))
            }
            Op::Repay { user, token, bps } => {
                write!(f, "user{user} repays {} of debt pick {token}", pct(bps))
            }
            Op::SetDelegate { user } => write!(f, "user{user} sets a delegate"),
            Op::RemoveDelegate { user } => write!(f, "user{user} removes the delegate"),
            Op::DelegateDeposit { user, token, bps } => {
                write!(f, "delegate of user{user} deposits {} of its t{token}", pct(bps))
            }
            Op::DelegateWithdraw { user, token, bps, to_owner } => {
                let to = if to_owner { "owner" } else { "itself" };
                write!(f, "delegate of user{user} withdraws {} of deposit pick {token} to {to}", pct(bps))
            }
            Op::Liquidate { user, asset, liab, bps } => {
                let max = if bps == 0 { "all".to_string() } else { pct(bps) };
                write!(f, "liquidate user{user}: asset pick {asset}, liab pick {liab}, max {max}")
            }
            Op::ResolveBankruptcy { user, token, with_liquidator } => {
                let how = if with_liquidator { "with liquidator" } else { "without liquidator" };
                write!(f, "resolve bankruptcy user{user} debt pick {token} {how}")
            }
            Op::Keeper => write!(f, "keeper pass"),
            Op::AccrueInterest { token } => write!(f, "accrue interest t{token}"),
            Op::SetPause { flags } => write!(f, "set pause flags {flags:#06b}"),
            Op::UpdateBank { token, change } => write!(f, "update bank t{token}: {change:?}"),
            Op::Price { token, move_bps } => {
                let sign = if move_bps < 0 { "-" } else { "+" };
                write!(f, "price t{token} {sign}{}", pct(move_bps.unsigned_abs()))
            }
            Op::WideConfidence { token, conf_bps } => write!(f, "price t{token} with conf {}", pct(conf_bps)),
            Op::Warp { secs, stale_mask } => write!(f, "warp {secs} s (stale mask {stale_mask:#06b})"),
            Op::FundInsurance { bps } => write!(f, "fund insurance with {} of admin's quote", pct(bps)),
            Op::ComputeHealth { user } => write!(f, "compute_health user{user}"),
        }
    }
}

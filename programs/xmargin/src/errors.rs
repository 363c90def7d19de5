//! Every way an instruction can refuse its input. Each variant is a stable
//! Anchor error code (6000 + position): append new variants, never reorder.
use anchor_lang::prelude::*;

#[error_code]
pub enum XmarginError {
    #[msg("the signer is not the group admin")]
    UnauthorizedAdmin,
    #[msg("account is not an initialized SPL Token mint")]
    InvalidMint,
    #[msg("account is owned by a token program this group does not support (only SPL Token)")]
    UnsupportedTokenProgram,
    #[msg("the risk-loosening delay exceeds the maximum (30 days)")]
    LoosenDelayTooLong,
    #[msg("the insurance vault address is not the group's insurance vault PDA")]
    WrongInsuranceVault,
    #[msg("account is not an initialized, unfrozen SPL Token account")]
    InvalidTokenAccount,
    #[msg("arithmetic overflow")]
    MathOverflow,
    #[msg("bank weights out of order or out of bounds: need 0 <= init <= liq-end <= maint asset <= 1 <= maint <= liq-end <= init liab <= 5")]
    InvalidWeights,
    #[msg("oracle settings out of bounds (max age 1..=3600 s, max conf 0.01%..=10%, k <= 10, stable growth > 0)")]
    InvalidOracleConfig,
    #[msg("interest settings out of bounds (0 <= r0 <= r* <= rmax <= 1000%, 0 < u* < 100%, fee <= 100%, liquidation fee <= 25%)")]
    InvalidInterestConfig,
    #[msg("bank index must equal the group's bank count")]
    WrongBankIndex,
    #[msg("the group has the maximum number of banks")]
    TooManyBanks,
    #[msg("oracle account is not owned by the Pyth receiver program")]
    OracleWrongOwner,
    #[msg("oracle account is not a Pyth PriceUpdateV2")]
    OracleNotPriceUpdate,
    #[msg("oracle price update is only partially verified")]
    OracleNotFullyVerified,
    #[msg("oracle account carries another feed than the bank's")]
    OracleWrongFeed,
    #[msg("oracle price is older than the bank's max age (age, max in seconds)")]
    OracleStale,
    #[msg("oracle confidence interval is too wide relative to the price (conf, price)")]
    OracleConfidenceTooWide,
    #[msg("oracle price is zero or negative")]
    OracleNonPositivePrice,
    #[msg("oracle account is not the bank's oracle")]
    WrongOracle,
    #[msg("the signer is not the margin account's owner")]
    UnauthorizedOwner,
    #[msg("the margin account still holds positions")]
    AccountNotEmpty,
    #[msg("the owner cannot be its own delegate")]
    DelegateIsOwner,
    #[msg("health accounts do not match the account's positions (expected, got)")]
    HealthAccountMismatch,
    #[msg("account belongs to another group")]
    WrongGroup,
    #[msg("vault is not the bank's vault")]
    WrongVault,
    #[msg("token account holds another mint than the bank's")]
    WrongMint,
    #[msg("amount must be greater than zero")]
    ZeroAmount,
    #[msg("the group has paused this kind of instruction")]
    GroupPaused,
    #[msg("the account has no debt in this bank to repay")]
    NoDebtToRepay,
    #[msg("all token position slots of the account are in use")]
    TooManyPositions,
    #[msg("deposit would take the bank over its deposit cap (total after, cap)")]
    DepositCapExceeded,
    #[msg("a delegate may withdraw only to the owner's token accounts")]
    DelegateWithdrawToOther,
    #[msg("borrow would take the bank over its borrow limit (total after, limit)")]
    BorrowLimitExceeded,
    #[msg("the vault does not hold enough tokens (requested, available)")]
    InsufficientVaultLiquidity,
    #[msg("the action would leave Init health below zero (health after in quote native, 0)")]
    HealthTooLow,
    #[msg("the token account is not owned by the signer")]
    TokenAccountOwnerMismatch,
    #[msg("unknown pause flag bits (flags, allowed mask)")]
    InvalidPauseFlags,
    #[msg("an account cannot liquidate itself")]
    SelfLiquidation,
    #[msg("asset and liability banks must differ")]
    SameAssetAndLiability,
    #[msg("the account is not liquidatable: Maint health >= 0 and no liquidation in progress, or nothing left to take (health, 0)")]
    NotLiquidatable,
    #[msg("this asset/liability pair cannot improve the account's health (no such positions, or the bonus outweighs the liability weight)")]
    LiquidationNotImproving,
    #[msg("the liquidator would end below Init health zero (health after, 0)")]
    LiquidatorHealthTooLow,
    #[msg("the account is bankrupt: only resolve_bankruptcy applies")]
    AccountBankrupt,
    #[msg("the account is not bankrupt: it still holds assets, or owes nothing in this bank")]
    NotBankrupt,
    #[msg("the insurance fund holds tokens: a debt in another token than the quote token needs a liquidator to take it over for them (liqor accounts)")]
    InsuranceNeedsLiquidator,
    #[msg("quote bank is not the bank of the group's quote mint, or is the liability bank")]
    WrongQuoteBank,
    #[msg("more than the bank's collected fees (requested, available)")]
    FeesExceeded,
    #[msg("the group already has a bank for this mint")]
    DuplicateMint,
    #[msg("market parameters out of bounds (see add_market: rates, weights, band, fees, sizes, expiry)")]
    InvalidMarketConfig,
    #[msg("market index must equal the group's market count")]
    WrongMarketIndex,
    #[msg("the group has the maximum number of markets")]
    TooManyMarkets,
    #[msg("market account is not this position's or instruction's market")]
    WrongMarket,
    #[msg("all derivative position slots of the account are in use")]
    TooManyDerivativePositions,
    #[msg("trade size below the market's minimum (size, minimum)")]
    TradeSizeTooSmall,
    #[msg(
        "trade price outside the market's band around the oracle (price, band low, band high per contract)"
    )]
    PriceOutsideBand,
    #[msg("trade would take open interest over the market's cap (after, cap)")]
    OpenInterestCapExceeded,
    #[msg("both sides of a trade are the same margin account")]
    SelfTrade,
    #[msg("the market has expired: no trading")]
    MarketExpired,
    #[msg("the market has not expired or has no settlement price yet")]
    MarketNotSettled,
    #[msg("this instruction does not apply to this kind of market")]
    WrongMarketKind,
    #[msg("a trade must leave Init health >= 0 or raise it (health before, after)")]
    TradeHealthTooLow,
    #[msg("funding is updated at most once an hour (now, next due)")]
    FundingNotDue,
    #[msg("both accounts of a PnL settlement must differ and have profit and loss respectively (winner pnl, loser pnl)")]
    NoPnlToSettle,
    #[msg("the oracle is too far from the stable price to settle PnL (oracle, stable)")]
    OracleFarFromStable,
    #[msg("a price sample is only taken in the 30 minutes before expiry, once per second")]
    SampleOutsideWindow,
    #[msg("the market still has open interest")]
    MarketNotEmpty,
    #[msg("the quote's expiry slot has passed (expiry, current slot)")]
    QuoteExpired,
    #[msg("the quote's nonce was already filled or is below the account's window")]
    QuoteNonceUsed,
    #[msg(
        "no valid Ed25519 signature of the quote by the maker's owner or delegate precedes this instruction"
    )]
    QuoteSignatureInvalid,
    #[msg("the account has no position in this market")]
    NoPosition,
    #[msg("the bank's deposit index is so large that this deposit would mint shares worth less than it (amount, claim)")]
    DepositLostToRounding,
    #[msg("the size premium exceeds 1 per square root of a contract (ppm, max ppm)")]
    SizePremiumTooLarge,
    #[msg("an option is a call (1) or a put (0) (given)")]
    InvalidOptionKind,
    #[msg("the strike must lie within 1/10 and 10 times the oracle price at listing (strike, oracle, quote native per contract)")]
    InvalidOptionStrike,
    #[msg("an option expires after the 30-minute settlement window and within 366 days (expiry, now)")]
    InvalidOptionExpiry,
    #[msg("volatility settings out of bounds: 0 < min <= volatility <= max <= 500 %, 0 < max change <= 100 % (volatility, max in bps; all four logged)")]
    InvalidVolatilityConfig,
    #[msg("volatility outside the market's bounds (new, the bound it crosses, in bps)")]
    VolatilityOutOfBounds,
    #[msg("volatility change larger than one update may make (new, in force, in bps; the bound is logged)")]
    VolatilityChangeTooLarge,
    #[msg("this instruction applies to option markets only (market kind)")]
    NotOptionMarket,
    #[msg("the option market's risk array is too old or predates a volatility change: update_risk_array first (age, max age in seconds)")]
    RiskArrayStale,
    #[msg("the oracle moved too far since the risk array was computed: update_risk_array first (move, max move in bps)")]
    RiskArrayDrifted,
    #[msg("the risk array was never computed or on another scenario grid: update_risk_array first (grid id, expected)")]
    RiskArrayOtherGrid,
    #[msg("the position in this expired market is already settled: only realised PnL is left, which settle_pnl moves (market index, realised PnL)")]
    PositionAlreadySettled,
    #[msg("the account is already in this margin mode (mode: 0 linear, 1 portfolio)")]
    MarginModeUnchanged,
    #[msg("the account would not be healthy in the new margin mode (Init health in it, quote native; mode: 0 linear, 1 portfolio)")]
    MarginModeUnhealthy,
    #[msg("unknown margin mode (given; 0 linear, 1 portfolio)")]
    InvalidMarginMode,
    #[msg("a scenario grid has 1..=10 price shocks and 1..=4 vol shocks (price count, vol count)")]
    RiskGridShockCount,
    #[msg("the scenario grid has more scenarios than update_risk_array can compute in 200,000 CU (decay + price x vol + 8 extended, max 27)")]
    RiskGridTooLarge,
    #[msg("a grid shock is out of range: price and vol shocks within +-5,000 bps (shock, the bound it crosses, bps)")]
    RiskGridShockOutOfRange,
    #[msg("grid shocks must be strictly increasing (shock, the one before it, bps)")]
    RiskGridShocksNotIncreasing,
    #[msg("the grid's largest price shock is too small (largest |shock|, min, bps)")]
    RiskGridRangeTooNarrow,
    #[msg("portfolio loss scales must satisfy 1x <= Maint <= LiquidationEnd <= Init <= 5x (scale, the bound it crosses, bps)")]
    RiskGridScaleOutOfBounds,
    #[msg("portfolio contingencies must satisfy 0.1 % <= Maint <= LiquidationEnd <= Init <= 10 % (floor, the bound it crosses, bps)")]
    RiskGridFloorOutOfBounds,
    #[msg("risk-array max age out of bounds: 60 ..= 3,600 s (given, the bound it crosses)")]
    RiskArrayMaxAgeOutOfBounds,
    #[msg("risk-array max drift out of bounds: 50 ..= 1,000 bps (given, the bound it crosses)")]
    RiskArrayMaxDriftOutOfBounds,
}

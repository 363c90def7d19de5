//! The xmargin keeper. Every cycle it loads the group's banks, markets,
//! oracles and margin accounts ([`Snapshot`]) and:
//! 1. cranks the markets ([`cranks`]): `update_funding` of perpetuals when due,
//!    `sample_price` of dated futures and options in their last 30 minutes,
//!    `settle_expired` of every position in an expired future or option, and
//!    `update_risk_array` of option markets before their arrays go stale;
//! 2. values each account with the program's own code ([`rank`]), most
//!    endangered first, and liquidates the liquidatable ones — a derivative
//!    position first (`liquidate_position`), else the best asset for the
//!    largest debt (`liquidate_token`) — and resolves bankruptcies
//!    ([`liquidate`]);
//! 3. settles PnL ([`settle`]): `settle_pnl` pairing winners with losers in
//!    every market, for settled futures and options and positions with
//!    realised PnL (an option market only once settled),
//!    and `settle_dust` for a closed position's last units of loss.
//!
//! The snapshot is refreshed (markets and touched accounts) between phases.
//! It talks to the chain through the [`Chain`] trait: an RPC node in
//! production ([`rpc::RpcChain`], the `xmargin-keeper` binary), the embedded
//! SVM ([`svm::SvmChain`]) in tests and the demo.
pub mod broadcast;
pub mod budget;
pub mod chain;
#[cfg(feature = "rpc")]
pub mod config;
#[cfg(feature = "rpc")]
pub mod config_env;
pub mod cranks;
pub mod http;
pub mod liquidate;
pub mod metrics;
pub mod rank;
pub mod risk_arrays;
#[cfg(feature = "rpc")]
pub mod rpc;
#[cfg(feature = "rpc")]
pub mod rpc_send;
pub mod runner;
pub mod settle;
pub mod snapshot;
pub mod stop;
#[cfg(feature = "rpc")]
pub mod subscribe;
#[cfg(feature = "svm")]
pub mod svm;
pub mod synthetic;
pub mod view;
pub mod watched;

pub use chain::{Chain, ChainError, Sent};
pub use rank::{rank_accounts, AccountHealth, BankTemplates, Liquidation, MarketTemplates};
pub use snapshot::Snapshot;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;

/// Default of [`KeeperConfig::risk_array_refresh_percent`]: half the
/// program's bounds (an array refreshed every 5 minutes or after a 1 % move).
pub const DEFAULT_RISK_ARRAY_REFRESH_PERCENT: u8 = 50;

/// What the keeper is told to do.
#[derive(Clone, Debug)]
pub struct KeeperConfig {
    pub group: Pubkey,
    /// The keeper's own margin account (the liquidator), and its signer.
    pub liqor_account: Pubkey,
    pub liqor_authority: Pubkey,
    /// Skip liquidations whose bonus is worth less than this (quote native).
    pub min_profit: u64,
    /// Log what would be sent; send nothing.
    pub dry_run: bool,
    /// Compute-unit limit and priority fee (micro-lamports per CU) per
    /// transaction, unless the chain chooses them ([`Chain::budget`]: the
    /// RPC chain from simulation and recent fees, by its policy).
    pub compute_unit_limit: u32,
    pub priority_fee_micro_lamports: u64,
    /// Crank a perpetual's funding once this long has passed since its last
    /// update (the program applies at most one hour per update).
    pub funding_interval_secs: u64,
    /// Least time between two settlement samples of a dated future or option.
    pub sample_interval_secs: u64,
    /// Smallest PnL settlement worth a transaction (quote native; 0: any).
    pub min_settle_pnl: u64,
    /// Refresh an option market's risk array once it is this share (%) of
    /// the program's maximum age or drift old ([`risk_arrays`]).
    pub risk_array_refresh_percent: u8,
}

impl KeeperConfig {
    /// The defaults of the binary: no minimum profit, 400,000 CU at 1,000
    /// micro-lamports, funding hourly, a sample a minute, any PnL settled.
    pub fn new(group: Pubkey, liqor_account: Pubkey, liqor_authority: Pubkey) -> KeeperConfig {
        KeeperConfig {
            group,
            liqor_account,
            liqor_authority,
            min_profit: 0,
            dry_run: false,
            compute_unit_limit: 400_000,
            priority_fee_micro_lamports: 1_000,
            funding_interval_secs: 3_600,
            sample_interval_secs: 60,
            min_settle_pnl: 0,
            risk_array_refresh_percent: DEFAULT_RISK_ARRAY_REFRESH_PERCENT,
        }
    }
}

/// One cycle's outcome, also logged as one summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CycleSummary {
    pub accounts: usize,
    pub markets: usize,
    pub liquidatable: usize,
    pub bankrupt: usize,
    /// Liquidations sent: token and position (`position_liquidations` of them).
    pub liquidations_sent: usize,
    pub position_liquidations: usize,
    /// Liquidations (token and position) that did not land.
    pub liquidations_failed: usize,
    pub bankruptcies_sent: usize,
    pub funding_updates: usize,
    pub price_samples: usize,
    pub expiries_settled: usize,
    /// `update_risk_array` of option markets.
    pub risk_array_updates: usize,
    pub pnl_settlements: usize,
    /// `settle_dust`: funding rounding collected from closed positions.
    pub dust_settlements: usize,
    /// Transactions that landed, and those that did not (any kind).
    pub transactions_sent: usize,
    pub failures: usize,
    pub skipped_unprofitable: usize,
    /// Accounts that could not be valued (a debt or position without a usable price).
    pub skipped_stale: usize,
}

impl CycleSummary {
    /// Adds the counts of `other` (running totals); `accounts` and `markets` are replaced.
    pub fn add(&mut self, other: &CycleSummary) {
        self.accounts = other.accounts;
        self.markets = other.markets;
        self.liquidatable += other.liquidatable;
        self.bankrupt += other.bankrupt;
        self.liquidations_sent += other.liquidations_sent;
        self.position_liquidations += other.position_liquidations;
        self.liquidations_failed += other.liquidations_failed;
        self.transactions_sent += other.transactions_sent;
        self.bankruptcies_sent += other.bankruptcies_sent;
        self.funding_updates += other.funding_updates;
        self.price_samples += other.price_samples;
        self.expiries_settled += other.expiries_settled;
        self.risk_array_updates += other.risk_array_updates;
        self.pnl_settlements += other.pnl_settlements;
        self.dust_settlements += other.dust_settlements;
        self.failures += other.failures;
        self.skipped_unprofitable += other.skipped_unprofitable;
        self.skipped_stale += other.skipped_stale;
    }
}

pub use xmargin_client::transaction::compute_budget_ixs;

/// Sends the keeper's transactions (one instruction each, after the compute
/// budget the chain chooses), honouring the dry run and a stop request and
/// counting failures.
pub struct Sender<'a> {
    chain: &'a mut dyn Chain,
    config: &'a KeeperConfig,
    pub summary: CycleSummary,
}

impl<'a> Sender<'a> {
    pub fn new(chain: &'a mut dyn Chain, config: &'a KeeperConfig) -> Self {
        Sender { chain, config, summary: CycleSummary::default() }
    }

    pub fn config(&self) -> &KeeperConfig {
        self.config
    }

    pub fn chain(&mut self) -> &mut dyn Chain {
        self.chain
    }

    /// Sends `ix` (a `kind` of instruction about `subject`); `true` if it
    /// landed. A dry run logs it and returns `false`; a failure is counted.
    pub fn send(&mut self, kind: &str, subject: &Pubkey, ix: Instruction) -> bool {
        if self.config.dry_run {
            tracing::info!(%subject, kind, "dry run: would send");
            return false;
        }
        if self.chain.stopping() {
            tracing::info!(%subject, kind, "stopping: not sent");
            return false;
        }
        match self.budgeted(ix).and_then(|tx| self.chain.send(&tx)) {
            Ok(sent) => {
                self.summary.transactions_sent += 1;
                let (bytes, accounts) = sent.wire.map_or((None, None), |w| (Some(w.bytes), Some(w.accounts)));
                tracing::info!(%subject, kind, signature = %sent.signature, cu = sent.compute_units, bytes, accounts, "sent");
                true
            }
            Err(e) => {
                self.summary.failures += 1;
                if kind.starts_with("liquidate_") {
                    self.summary.liquidations_failed += 1;
                }
                tracing::warn!(%subject, kind, error = %e, "failed");
                false
            }
        }
    }

    /// `ix` after the compute-budget instructions the chain chooses for it.
    fn budgeted(&mut self, ix: Instruction) -> Result<Vec<Instruction>, ChainError> {
        let fixed = budget::Budget {
            compute_unit_limit: self.config.compute_unit_limit,
            micro_lamports: self.config.priority_fee_micro_lamports,
        };
        let b = self.chain.budget(std::slice::from_ref(&ix), fixed)?;
        let mut tx = compute_budget_ixs(b.compute_unit_limit, b.micro_lamports);
        tx.push(ix);
        Ok(tx)
    }
}

/// One keeper cycle over `chain`.
pub fn run_cycle(chain: &mut dyn Chain, config: &KeeperConfig) -> Result<CycleSummary, ChainError> {
    chain.refresh_lookup_table()?;
    let mut snap = Snapshot::load(chain, &config.group)?;
    let mut sender = Sender::new(chain, config);
    sender.summary.accounts = snap.accounts.len();
    sender.summary.markets = snap.markets.len();

    let touched = cranks::run(&mut sender, &snap);
    if touched.any {
        snap.refresh(sender.chain(), &touched.accounts)?;
    }
    let touched = liquidate::run(&mut sender, &snap);
    if touched.any {
        snap.refresh(sender.chain(), &touched.accounts)?;
    }
    settle::run(&mut sender, &snap);

    let summary = sender.summary;
    tracing::info!(
        accounts = summary.accounts,
        markets = summary.markets,
        liquidatable = summary.liquidatable,
        bankrupt = summary.bankrupt,
        liquidations = summary.liquidations_sent,
        liquidations_failed = summary.liquidations_failed,
        positions = summary.position_liquidations,
        bankruptcies = summary.bankruptcies_sent,
        funding = summary.funding_updates,
        samples = summary.price_samples,
        expiries = summary.expiries_settled,
        risk_arrays = summary.risk_array_updates,
        settlements = summary.pnl_settlements,
        dust = summary.dust_settlements,
        failures = summary.failures,
        stale = summary.skipped_stale,
        "cycle"
    );
    Ok(summary)
}

/// What a phase changed: whether anything landed, and the margin accounts it wrote.
#[derive(Clone, Debug, Default)]
pub struct Touched {
    pub any: bool,
    pub accounts: Vec<Pubkey>,
}

//! Checks for the funding, PnL-settlement and expiry tests: oracle prices in
//! the program's units, events decoded from the logs, and a ledger proving
//! that a market's PnL is conserved to the native unit.
use solana_address::Address;
use xmargin::events::PnlSettled;
use xmargin::instructions::settle_expired::settlement_value_per_contract;
use xmargin::state::{market_status, MarginAccount};
use xmargin_risk::price::OraclePrice;
use xmargin_risk::Fixed;

use crate::margin::native_balance;
use crate::outcome::TxOutcome;
use crate::world::{User, World};

/// The quote token's index in the test world.
const QUOTE: u16 = 0;

/// The `lo` price the program reads from a SOL oracle at `price` (expo −8),
/// in quote native (µUSDC) per lamport: `price · 10^-11`, rounded down to 2^-48.
pub fn sol_price(price: i64) -> Fixed {
    OraclePrice::from_pyth(price, 0, -8, 9, 6).expect("positive price").lo
}

/// Every event of type `T` the transaction emitted (`markets::events` on its logs).
pub fn events<T: anchor_lang::Event>(out: &TxOutcome) -> Vec<T> {
    crate::markets::events(&out.logs)
}

/// The one event of type `T` the transaction emitted.
#[track_caller]
pub fn event<T: anchor_lang::Event>(out: &TxOutcome) -> T {
    let mut all = events::<T>(out);
    assert_eq!(all.len(), 1, "expected exactly one {} event", std::any::type_name::<T>());
    all.remove(0)
}

/// The signed quote-native balance of a user in the quote bank.
pub fn quote_balance(w: &World, user: &User) -> Fixed {
    native_balance(&w.env, &w.group.group, &user.account, QUOTE)
}

/// Tracks what `settle_pnl` moved into each account's quote balance, to
/// assert conservation of one market's PnL after every instruction:
///
/// ```text
/// Σ_accounts (realized_pnl − quote_cost + unsettled funding (exact) + settled
///             + contracts · settlement value per contract [settled: future price, option intrinsic])
///     + market.funding_dust = 0        exactly, in Fixed
/// ```
///
/// (Open contracts sum to zero over the accounts, so their value at one
/// price cancels: it is needed only once `settle_expired` has turned some
/// positions into PnL and not yet the others.)
/// A fill changes `realized − cost` by `−delta · price` on each side (zero
/// in sum); funding settlement and expiry move the fractions they floor into
/// `funding_dust`; `settle_pnl` moves `amount` from the winner's PnL into
/// its `settled` and the other way for the loser. Each account's quote
/// balance is also checked against its deposit plus `settled`.
pub struct PnlLedger {
    pub market_index: u16,
    pub accounts: Vec<Address>,
    /// Quote native each account held before any settlement (its deposit).
    pub deposits: Vec<Fixed>,
    /// Net quote native `settle_pnl` credited to each account.
    pub settled: Vec<i64>,
}

impl PnlLedger {
    /// A ledger over `users` (every account trading in the market), taking
    /// their current quote balances as their deposits.
    pub fn new(w: &World, market_index: u16, users: &[&User]) -> Self {
        PnlLedger {
            market_index,
            accounts: users.iter().map(|u| u.account).collect(),
            deposits: users.iter().map(|u| quote_balance(w, u)).collect(),
            settled: vec![0; users.len()],
        }
    }

    fn index_of(&self, account: &Address) -> usize {
        self.accounts.iter().position(|a| a == account).expect("account in the ledger")
    }

    /// Records a successful `settle_pnl` from its event; returns the amount.
    #[track_caller]
    pub fn record(&mut self, out: &TxOutcome) -> u64 {
        out.expect_ok();
        let e: PnlSettled = event(out);
        let amount = i64::try_from(e.amount).expect("amount fits i64");
        let (w, l) = (self.index_of(&e.winner), self.index_of(&e.loser));
        self.settled[w] += amount;
        self.settled[l] -= amount;
        e.amount
    }

    /// `settle_pnl` between `winner` and `loser`; asserts success, records
    /// and checks the ledger; returns the amount moved.
    #[track_caller]
    pub fn settle(&mut self, w: &mut World, winner: &User, loser: &User) -> u64 {
        let out = w.settle_pnl(self.market_index, winner, loser);
        let amount = self.record(&out);
        self.assert_conserved(w);
        amount
    }

    /// Σ over the accounts of `realized − cost + exact unsettled funding +
    /// settled (+ value at settlement)`, plus the market's dust (type docs):
    /// must be zero.
    pub fn total(&self, w: &World) -> Fixed {
        let market = w.market(self.market_index);
        let cum = market.cum_funding.get();
        let settlement = if market.status == market_status::SETTLED {
            settlement_value_per_contract(&market).expect("settlement price")
        } else {
            0
        };
        let mut total = market.funding_dust.get();
        for (a, settled) in self.accounts.iter().zip(&self.settled) {
            let acc: MarginAccount = w.env.zero_copy(a);
            let Some(p) = acc.derivative_position(self.market_index) else {
                total = total.checked_add(Fixed::from_i64(*settled)).unwrap();
                continue;
            };
            let unsettled = if market.is_perpetual() {
                cum.checked_sub(p.funding_snapshot.get()).unwrap().checked_mul_int(-p.base_contracts).unwrap()
            } else {
                Fixed::ZERO
            };
            let claim =
                Fixed::from_i64(p.realized_pnl - p.quote_cost + settled + p.base_contracts * settlement);
            total = total.checked_add(claim).unwrap().checked_add(unsettled).unwrap();
        }
        total
    }

    /// Conservation (module docs) and each account's quote balance = its
    /// deposit + what it was settled (exact while the quote bank's indices
    /// are 1; within one native unit once interest moved them).
    #[track_caller]
    pub fn assert_conserved(&self, w: &World) {
        assert_eq!(self.total(w), Fixed::ZERO, "market {} PnL not conserved", self.market_index);
        for ((a, deposit), settled) in self.accounts.iter().zip(&self.deposits).zip(&self.settled) {
            let balance = native_balance(&w.env, &w.group.group, a, QUOTE);
            let expected = deposit.checked_add(Fixed::from_i64(*settled)).unwrap();
            let gap = balance.checked_sub(expected).unwrap().checked_abs().unwrap();
            assert!(gap < Fixed::ONE, "{a}: quote balance {balance} ≠ deposit {deposit} + settled {settled}");
        }
    }
}

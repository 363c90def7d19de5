//! Splitting the remaining accounts into one margin account's health accounts.
//!
//! ```text
//! [bank(t1) … bank(tn), oracle(t1) … oracle(tn),      token positions, slot order
//!  market(d1) … market(dm),                           derivative positions, slot order
//!  oracle(x1) … oracle(xk)]                           market oracles not listed yet
//! ```
//!
//! A market's oracle is looked up among the token oracles first; the oracles
//! no token position brings follow the markets, each once, in the order the
//! markets first need them. An account with positions in five SOL markets
//! and a SOL deposit lists the SOL oracle once.
use anchor_lang::prelude::*;

use crate::errors::XmarginError;
use crate::state::{MarginAccount, Market};

/// One account's health accounts, split by role.
pub struct HealthAccounts<'a, 'info> {
    pub banks: &'a [AccountInfo<'info>],
    pub token_oracles: &'a [AccountInfo<'info>],
    pub markets: &'a [AccountInfo<'info>],
    /// Index of each market's oracle in `token_oracles ++ extra_oracles`.
    pub market_oracle: [u8; crate::state::MAX_DERIVATIVE_POSITIONS],
    pub extra_oracles: &'a [AccountInfo<'info>],
}

impl<'a, 'info> HealthAccounts<'a, 'info> {
    /// Total accounts consumed.
    pub fn len(&self) -> usize {
        self.banks.len() + self.token_oracles.len() + self.markets.len() + self.extra_oracles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oracle of the `i`-th market.
    pub fn oracle_of_market(&self, i: usize) -> &'a AccountInfo<'info> {
        let k = usize::from(self.market_oracle[i]);
        if k < self.token_oracles.len() {
            &self.token_oracles[k]
        } else {
            &self.extra_oracles[k - self.token_oracles.len()]
        }
    }
}

/// Reads a market account's data after the owner and discriminator checks.
pub fn load_market<'b>(info: &'b AccountInfo) -> Result<core::cell::Ref<'b, Market>> {
    if info.owner != &crate::ID {
        return Err(error!(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram)
            .with_pubkeys((*info.owner, crate::ID)));
    }
    let data = info.try_borrow_data()?;
    if data.len() < 8 + Market::SIZE || data[..8] != *<Market as anchor_lang::Discriminator>::DISCRIMINATOR {
        return err!(anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch);
    }
    Ok(core::cell::Ref::map(data, |d| bytemuck::from_bytes::<Market>(&d[8..8 + Market::SIZE])))
}

/// Takes `account`'s health accounts from the start of `accounts`. With
/// `exact`, `accounts` must hold nothing else.
pub fn split_health_accounts<'a, 'info>(
    account: &MarginAccount,
    accounts: &'a [AccountInfo<'info>],
    exact: bool,
) -> Result<HealthAccounts<'a, 'info>> {
    let n = account.active_tokens().count();
    let m = account.active_derivatives().count();
    let fixed = 2 * n + m;
    if accounts.len() < fixed {
        return Err(error!(XmarginError::HealthAccountMismatch).with_values((fixed, accounts.len())));
    }
    let (banks, rest) = accounts.split_at(n);
    let (token_oracles, rest) = rest.split_at(n);
    let (markets, rest) = rest.split_at(m);
    let mut market_oracle = [0u8; crate::state::MAX_DERIVATIVE_POSITIONS];
    let mut extras = 0usize;
    for (i, (position, info)) in account.active_derivatives().zip(markets).enumerate() {
        let oracle = {
            let market = load_market(info)?;
            if market.market_index != position.market_index {
                return Err(error!(XmarginError::HealthAccountMismatch)
                    .with_values((position.market_index, market.market_index)));
            }
            market.oracle
        };
        let found = token_oracles.iter().chain(rest[..extras].iter()).position(|o| o.key == &oracle);
        let k = match found {
            Some(k) => k,
            None => {
                let next = rest.get(extras).ok_or_else(|| {
                    error!(XmarginError::HealthAccountMismatch)
                        .with_values((fixed + extras + 1, accounts.len()))
                })?;
                if next.key != &oracle {
                    return Err(error!(XmarginError::WrongOracle).with_pubkeys((*next.key, oracle)));
                }
                extras += 1;
                n + extras - 1
            }
        };
        market_oracle[i] = k as u8;
    }
    if exact && rest.len() != extras {
        return Err(error!(XmarginError::HealthAccountMismatch).with_values((fixed + extras, accounts.len())));
    }
    Ok(HealthAccounts { banks, token_oracles, markets, market_oracle, extra_oracles: &rest[..extras] })
}

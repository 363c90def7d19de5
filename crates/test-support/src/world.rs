//! A ready market for tests, the benchmark and the demo: a group with USDC
//! (token 0, the quote), SOL (token 1) and BTC (token 2) banks on Pyth feeds,
//! and users with funded wallets and a margin account each.
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::env::Env;
use crate::fixtures::{
    default_bank_args, setup_account, setup_bank, setup_bank_for_mint, setup_group, BankFixture, BankSpec,
    GroupFixture,
};
use crate::margin::{deposit_ix, health_accounts, liquidate_token_ix, resolve_bankruptcy_ix, withdraw_ix};
use crate::outcome::TxOutcome;
use crate::pyth::{feeds, PythPrice};

/// $1.00, no confidence interval (expo −8).
pub const USDC: BankSpec =
    BankSpec { decimals: 6, feed_hex: feeds::USDC_USD, price: 100_000_000, conf: 0, exponent: -8 };
/// $150.00 ± $0.10.
pub const SOL: BankSpec =
    BankSpec { decimals: 9, feed_hex: feeds::SOL_USD, price: 15_000_000_000, conf: 10_000_000, exponent: -8 };
/// $100,000 ± $50.
pub const BTC: BankSpec = BankSpec {
    decimals: 8,
    feed_hex: feeds::BTC_USD,
    price: 10_000_000_000_000,
    conf: 5_000_000_000,
    exponent: -8,
};

/// Native units the vault may hold above its claims: rounding always favours
/// the vault, by at most a unit or two per operation.
pub const VAULT_SLACK: u64 = 16;

pub struct User {
    pub wallet: Keypair,
    pub account: Address,
    /// Token accounts for USDC, SOL, BTC (by token index).
    pub tokens: [Address; 3],
}

pub struct World {
    pub env: Env,
    pub admin: Keypair,
    pub group: GroupFixture,
    /// USDC, SOL, BTC banks (by token index).
    pub banks: [BankFixture; 3],
    pub specs: [BankSpec; 3],
    /// Every margin account opened through [`World::user`]: the vault
    /// invariant is checked over them after each deposit, withdraw and repay.
    pub accounts: Vec<Address>,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// USDC with all weights 1; SOL and BTC with `default_bank_args`.
    pub fn new() -> Self {
        let mut env = Env::new();
        let admin = env.new_wallet(1);
        let group = setup_group(&mut env, &admin);
        let mut usdc_args = default_bank_args(0, USDC.feed_hex);
        usdc_args.risk.init_asset_weight_bps = 10_000;
        usdc_args.risk.liq_end_asset_weight_bps = 10_000;
        usdc_args.risk.maint_asset_weight_bps = 10_000;
        usdc_args.risk.maint_liab_weight_bps = 10_000;
        usdc_args.risk.liq_end_liab_weight_bps = 10_000;
        usdc_args.risk.init_liab_weight_bps = 10_000;
        // The USDC bank lists the group's quote mint: the insurance fund's token.
        let usdc = setup_bank_for_mint(&mut env, &group, &admin, USDC, usdc_args, group.quote_mint);
        let sol = setup_bank(&mut env, &group, &admin, SOL, default_bank_args(1, SOL.feed_hex));
        let btc = setup_bank(&mut env, &group, &admin, BTC, default_bank_args(2, BTC.feed_hex));
        World { env, admin, group, banks: [usdc, sol, btc], specs: [USDC, SOL, BTC], accounts: Vec::new() }
    }

    /// A user (wallet from `seed`) with a margin account and token accounts
    /// holding `funds` native units of USDC, SOL and BTC.
    pub fn user(&mut self, seed: u8, funds: [u64; 3]) -> User {
        self.user_seeded(u64::from(seed), funds)
    }

    /// [`World::user`] for many users: the wallet key is derived from a `u64` seed.
    pub fn user_seeded(&mut self, seed: u64, funds: [u64; 3]) -> User {
        let wallet = self.env.new_wallet_seeded(seed);
        let account = setup_account(&mut self.env, &self.group.group, &wallet, 0);
        let tokens =
            [0, 1, 2].map(|i| self.env.funded_token_account(&self.banks[i].mint, &wallet.pubkey(), funds[i]));
        self.accounts.push(account);
        User { wallet, account, tokens }
    }

    /// Publishes a new oracle price (mantissa at expo −8) for a token, now.
    pub fn set_price(&mut self, token_index: u16, price: i64, conf: u64) {
        let spec = self.specs[token_index as usize];
        let now = self.env.unix_time();
        let p = PythPrice::new(spec.feed_hex, price, conf, spec.exponent, now);
        self.env.set_pyth_price(&self.banks[token_index as usize].oracle, &p);
    }

    /// Re-publishes every listed price at the current time (after a warp).
    pub fn refresh_prices(&mut self) {
        for i in 0..3u16 {
            let data = self.env.account(&self.banks[i as usize].oracle).expect("oracle").data;
            let price = i64::from_le_bytes(data[73..81].try_into().expect("price"));
            let conf = u64::from_le_bytes(data[81..89].try_into().expect("conf"));
            self.set_price(i, price, conf);
        }
    }

    pub fn deposit(&mut self, user: &User, token_index: u16, amount: u64) -> TxOutcome {
        self.pay_in(user, token_index, amount, false)
    }

    pub fn repay(&mut self, user: &User, token_index: u16, amount: u64) -> TxOutcome {
        self.pay_in(user, token_index, amount, true)
    }

    fn pay_in(&mut self, user: &User, token_index: u16, amount: u64, repay: bool) -> TxOutcome {
        let ix = self.pay_in_ix(user, token_index, amount, repay);
        self.send_checked(ix, user)
    }

    fn pay_in_ix(
        &self,
        user: &User,
        token_index: u16,
        amount: u64,
        repay: bool,
    ) -> solana_instruction::Instruction {
        let token_account = user.tokens[token_index as usize];
        let (group, authority) = (self.group.group, user.wallet.pubkey());
        deposit_ix(&self.env, &group, &user.account, token_index, &token_account, &authority, amount, repay)
    }

    /// A deposit (or with `repay`, a repay) passing the account's health
    /// accounts, so that it clears `BEING_LIQUIDATED` when the account is back
    /// at LiquidationEnd ≥ 0.
    pub fn pay_in_with_health(
        &mut self,
        user: &User,
        token_index: u16,
        amount: u64,
        repay: bool,
    ) -> TxOutcome {
        let mut ix = self.pay_in_ix(user, token_index, amount, repay);
        ix.accounts.extend(health_accounts(&self.env, &self.group.group, &user.account, Some(token_index)));
        self.send_checked(ix, user)
    }

    /// `liqor` liquidates up to `max` native of `liqee`'s debt in `liab` for its `asset`.
    pub fn liquidate(&mut self, liqee: &User, liqor: &User, asset: u16, liab: u16, max: u64) -> TxOutcome {
        let ix = liquidate_token_ix(
            &self.env,
            &self.group.group,
            &liqee.account,
            &liqor.account,
            &liqor.wallet.pubkey(),
            asset,
            liab,
            max,
        );
        self.send_checked(ix, liqor)
    }

    /// `resolve_bankruptcy` of `user`'s debt in `token_index`, sent by nobody in particular.
    pub fn resolve(&mut self, user: &User, token_index: u16) -> TxOutcome {
        let ix = resolve_bankruptcy_ix(&self.env, &self.group.group, &user.account, token_index);
        let out = self.env.send(&[ix], &[]);
        self.assert_all_vaults();
        out
    }

    /// The account's flags (see `xmargin::state::account_flags`).
    pub fn flags(&self, user: &User) -> u8 {
        self.env.zero_copy::<xmargin::state::MarginAccount>(&user.account).flags
    }

    pub fn withdraw(&mut self, user: &User, token_index: u16, amount: u64) -> TxOutcome {
        let ix = withdraw_ix(
            &self.env,
            &self.group.group,
            &user.account,
            token_index,
            &user.tokens[token_index as usize],
            &user.wallet.pubkey(),
            amount,
        );
        self.send_checked(ix, user)
    }

    /// Sends as `user`, then asserts the vault invariant (whether or not the transaction succeeded).
    fn send_checked(&mut self, ix: solana_instruction::Instruction, user: &User) -> TxOutcome {
        let out = self.env.send(&[ix], &[&user.wallet]);
        self.assert_all_vaults();
        out
    }

    /// Asserts the vault invariant of every bank over every account of the world.
    pub fn assert_all_vaults(&self) {
        for t in 0..3 {
            crate::margin::assert_vault_invariant(
                &self.env,
                &self.group.group,
                t,
                &self.accounts,
                VAULT_SLACK,
            );
        }
    }

    /// Asserts the vault invariant of every bank over these users' accounts
    /// (when they are the only ones holding positions).
    pub fn assert_vaults(&self, users: &[&User]) {
        let accounts: Vec<Address> = users.iter().map(|u| u.account).collect();
        for t in 0..3 {
            crate::margin::assert_vault_invariant(&self.env, &self.group.group, t, &accounts, VAULT_SLACK);
        }
    }
}

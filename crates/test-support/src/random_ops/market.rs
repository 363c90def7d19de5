//! The market a random run plays on: a group with four banks of different
//! decimals, weights and fees, users with funded wallets and a delegate each,
//! a well-collateralised liquidator, and an admin holding insurance money.
//! Plus the reads every step needs (banks, accounts, prices, off-chain health).
use anchor_lang::AnchorDeserialize;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use xmargin::instructions::{AddBankArgs, HealthView};
use xmargin::oracle::{parse_price_update, PythReading};
use xmargin::state::{Bank, Group, MarginAccount};

use super::rng::Rng;
use crate::env::Env;
use crate::fixtures::{
    default_bank_args, setup_account, setup_bank, setup_bank_for_mint, setup_group, BankFixture, BankSpec,
    GroupFixture,
};
use crate::margin::{accrue_interest_ix, compute_health_ix, deposit_ix};
use crate::pyth::{feeds, PythPrice};
use crate::{Instruction, TxFailure};

/// Users trading in a run.
pub const USERS: usize = 8;
/// Banks listed: USDC (quote), SOL, BTC, ETH.
pub const TOKENS: usize = 4;
/// Pyth exponent of every test feed.
const EXPONENT: i32 = -8;
/// Quote tokens the admin holds to fund the insurance vault.
const ADMIN_QUOTE: u64 = 10_000_000 * 1_000_000;
/// The insurance fund a run starts with, in half of the seeds (10,000 USDC).
const INITIAL_INSURANCE: u64 = 10_000 * 1_000_000;
/// Prices stay within this factor of their listing price, either way.
const PRICE_RANGE: i128 = 1_000;
/// Mixed into the run's seed for the set-up's own draws.
const SETUP_SALT: u64 = 0x5e70_5e70;
/// Wallet seeds: users (and their delegates, one above) and the liquidator.
const USER_SEED: u64 = 100;
const LIQUIDATOR_SEED: u64 = 90;

/// One listed token: its mint, first price and what a user's wallet starts with.
struct TokenDef {
    spec: BankSpec,
    /// A user's typical starting balance, whole tokens.
    wallet_tokens: u64,
    /// The liquidator's deposit, whole tokens.
    liquidator_tokens: u64,
}

const DEFS: [TokenDef; TOKENS] = [
    TokenDef {
        spec: BankSpec {
            decimals: 6,
            feed_hex: feeds::USDC_USD,
            price: 100_000_000,
            conf: 0,
            exponent: EXPONENT,
        },
        wallet_tokens: 20_000,
        liquidator_tokens: 50_000_000,
    },
    TokenDef {
        spec: BankSpec {
            decimals: 9,
            feed_hex: feeds::SOL_USD,
            price: 15_000_000_000,
            conf: 10_000_000,
            exponent: EXPONENT,
        },
        wallet_tokens: 150,
        liquidator_tokens: 300_000,
    },
    TokenDef {
        spec: BankSpec {
            decimals: 8,
            feed_hex: feeds::BTC_USD,
            price: 10_000_000_000_000,
            conf: 5_000_000_000,
            exponent: EXPONENT,
        },
        wallet_tokens: 1,
        liquidator_tokens: 500,
    },
    TokenDef {
        spec: BankSpec {
            decimals: 5,
            feed_hex: feeds::ETH_USD,
            price: 300_000_000_000,
            conf: 150_000_000,
            exponent: EXPONENT,
        },
        wallet_tokens: 8,
        liquidator_tokens: 20_000,
    },
];

/// Listing parameters per token: the quote token at weight 1 without a
/// liquidation fee, SOL with the defaults, BTC safer, ETH riskier and dearer.
pub fn listing_args(token: usize) -> AddBankArgs {
    let mut a = default_bank_args(token as u16, DEFS[token].spec.feed_hex);
    let r = &mut a.risk;
    match token {
        0 => {
            (r.init_asset_weight_bps, r.liq_end_asset_weight_bps, r.maint_asset_weight_bps) =
                (10_000, 10_000, 10_000);
            (r.maint_liab_weight_bps, r.liq_end_liab_weight_bps, r.init_liab_weight_bps) =
                (10_000, 10_000, 10_000);
            a.interest.liquidation_fee_bps = 0;
        }
        2 => {
            (r.init_asset_weight_bps, r.liq_end_asset_weight_bps, r.maint_asset_weight_bps) =
                (8_500, 8_800, 9_200);
            (r.maint_liab_weight_bps, r.liq_end_liab_weight_bps, r.init_liab_weight_bps) =
                (10_800, 11_200, 11_500);
            a.interest.liquidation_fee_bps = 300;
        }
        3 => {
            (r.init_asset_weight_bps, r.liq_end_asset_weight_bps, r.maint_asset_weight_bps) =
                (7_000, 7_500, 8_000);
            (r.maint_liab_weight_bps, r.liq_end_liab_weight_bps, r.init_liab_weight_bps) =
                (12_000, 12_500, 13_000);
            a.interest.liquidation_fee_bps = 750;
            a.interest.protocol_fee_bps = 2_000;
            a.oracle.max_oracle_age_secs = 120;
        }
        _ => {}
    }
    a
}

/// Someone holding tokens: a wallet and one token account per bank (by token index).
pub struct Holder {
    pub wallet: Keypair,
    pub tokens: Vec<Address>,
}

/// A user: a margin account, its owner's wallet, and a delegate it may appoint.
pub struct User {
    pub owner: Holder,
    pub account: Address,
    pub delegate: Holder,
}

pub struct Market {
    pub env: Env,
    pub admin: Keypair,
    /// The admin's quote token account: the source of insurance funding.
    pub admin_quote: Address,
    pub group: GroupFixture,
    pub banks: Vec<BankFixture>,
    /// The last accepted parameters of each bank (what `update_bank` changes).
    pub params: Vec<AddBankArgs>,
    pub users: Vec<User>,
    /// The liquidator: a margin account with deposits in every bank.
    pub liquidator: User,
}

impl Market {
    /// Lists the banks and opens and funds every account. Wallet sizes vary with `seed`.
    pub fn new(seed: u64) -> Market {
        let mut rng = Rng::new(seed ^ SETUP_SALT);
        let mut env = Env::new();
        let admin = env.new_wallet(1);
        let group = setup_group(&mut env, &admin);
        let mut banks = Vec::new();
        for (t, def) in DEFS.iter().enumerate() {
            let args = listing_args(t);
            banks.push(if t == 0 {
                setup_bank_for_mint(&mut env, &group, &admin, def.spec, args, group.quote_mint)
            } else {
                setup_bank(&mut env, &group, &admin, def.spec, args)
            });
        }
        let admin_quote = env.funded_token_account(&group.quote_mint, &admin.pubkey(), ADMIN_QUOTE);
        let mut opener = Opener { env: &mut env, group: &group, banks: &banks };
        let users: Vec<User> = (0..USERS)
            .map(|u| opener.user(USER_SEED + 2 * u as u64, [rng.range(1, 20) as u64, 10]))
            .collect();
        let liquidator = opener.liquidator();
        let params = (0..TOKENS).map(listing_args).collect();
        let mut m = Market { env, admin, admin_quote, group, banks, params, users, liquidator };
        if rng.chance(50) {
            m.fund_insurance(INITIAL_INSURANCE).expect_ok();
        }
        m
    }

    /// Moves `amount` of the admin's quote tokens into the insurance vault (a plain SPL transfer).
    pub fn fund_insurance(&mut self, amount: u64) -> crate::TxOutcome {
        let ix = spl_transfer(&self.admin_quote, &self.group.insurance_vault, &self.admin.pubkey(), amount);
        let admin = self.admin.insecure_clone();
        self.env.send(&[ix], &[&admin])
    }

    // ---- reads -------------------------------------------------------------

    pub fn bank(&self, token: usize) -> Bank {
        self.env.zero_copy(&self.banks[token].bank)
    }

    pub fn group_state(&self) -> Group {
        self.env.zero_copy(&self.group.group)
    }

    pub fn margin(&self, account: &Address) -> MarginAccount {
        self.env.zero_copy(account)
    }

    /// Every margin account of the run: the users', then the liquidator's.
    pub fn accounts(&self) -> Vec<Address> {
        self.users.iter().map(|u| u.account).chain([self.liquidator.account]).collect()
    }

    /// Every token account of `token`'s mint the run created, vaults included.
    pub fn token_accounts(&self, token: usize) -> Vec<Address> {
        let holders = self.users.iter().chain([&self.liquidator]).flat_map(|u| [&u.owner, &u.delegate]);
        let mut out: Vec<Address> = holders.filter_map(|h| h.tokens.get(token).copied()).collect();
        out.push(self.banks[token].vault);
        if token == 0 {
            out.extend([self.admin_quote, self.group.insurance_vault]);
        }
        out.sort();
        out.dedup();
        out
    }

    pub fn balance(&self, token_account: &Address) -> u64 {
        self.env.token_balance(token_account)
    }

    /// Supply of `token`'s mint (SPL Mint layout: u64 at offset 36).
    pub fn supply(&self, token: usize) -> u64 {
        let data = self.env.account(&self.banks[token].mint).expect("mint").data;
        u64::from_le_bytes(data[36..44].try_into().expect("mint layout"))
    }

    /// The oracle reading of `token` as the program reads it.
    pub fn reading(&self, token: usize) -> PythReading {
        let bank = self.bank(token);
        let data = self.env.account(&self.banks[token].oracle).expect("oracle").data;
        parse_price_update(&data, &bank.feed_id).expect("test oracle decodes")
    }

    /// Publishes a price for `token` (mantissa and conf at expo −8) at `publish_time`.
    pub fn publish(&mut self, token: usize, price: i64, conf: u64, publish_time: i64) {
        let p = PythPrice::new(DEFS[token].spec.feed_hex, price, conf, EXPONENT, publish_time);
        self.env.set_pyth_price(&self.banks[token].oracle, &p);
    }

    /// `price` kept within a factor [`PRICE_RANGE`] of the listing price: a
    /// walk of a hundred thousand steps must not end in prices no market has.
    pub fn clamp_price(token: usize, price: i128) -> i64 {
        let listed = i128::from(DEFS[token].spec.price);
        price.clamp(listed / PRICE_RANGE, listed * PRICE_RANGE) as i64
    }

    /// The confidence the feed normally publishes at `price` (its listing conf/price ratio).
    pub fn normal_conf(token: usize, price: i64) -> u64 {
        let spec = DEFS[token].spec;
        (i128::from(price) * i128::from(spec.conf) / i128::from(spec.price)) as u64
    }

    /// Whether `token`'s price is fresh and certain enough for the bank to use it.
    pub fn price_usable(&self, token: usize) -> bool {
        let (bank, r) = (self.bank(token), self.reading(token));
        let fresh =
            self.env.unix_time().saturating_sub(r.publish_time) <= i64::from(bank.max_oracle_age_secs);
        fresh
            && r.to_oracle_price(
                bank.mint_decimals,
                self.group_state().quote_decimals,
                bank.max_conf_ratio.get(),
            )
            .is_ok()
    }

    /// Quote native per native unit of `token` at the oracle price (for sizing and solvency).
    pub fn unit_price(&self, token: usize) -> f64 {
        let r = self.reading(token);
        let shift = i32::from(self.group_state().quote_decimals) - i32::from(DEFS[token].spec.decimals);
        r.price as f64 * 10f64.powi(r.exponent + shift)
    }

    /// Signed native balance of `account` in `token`, as a float (deposits floor, debts ceil).
    pub fn native(&self, account: &Address, token: usize) -> f64 {
        let acc = self.margin(account);
        acc.token_position(token as u16)
            .map(|p| to_f64(self.bank(token).native_balance(p.shares.get()).expect("balance")))
            .unwrap_or(0.0)
    }

    /// The same as the bank would book it if accrued now
    /// ([`Bank::native_balance_at`]): a bank nobody cranked for a month owes
    /// a month more interest than its stored index shows.
    pub fn native_now(&self, account: &Address, token: usize) -> f64 {
        let (acc, now) = (self.margin(account), self.env.unix_time());
        acc.token_position(token as u16)
            .map(|p| to_f64(self.bank(token).native_balance_at(p.shares.get(), now).expect("balance")))
            .unwrap_or(0.0)
    }

    /// Whether every position of `account` has a usable price.
    pub fn prices_usable_for(&self, account: &Address) -> bool {
        self.margin(account).active_tokens().all(|p| self.price_usable(usize::from(p.token_index)))
    }

    /// `compute_health` of `account`, simulated (nothing committed); with
    /// `accrue_first`, after accruing every bank in the same transaction.
    /// `None` when the program refuses to value it (a liability's price is unusable).
    pub fn health_view(&mut self, account: &Address, accrue_first: bool) -> Option<HealthView> {
        let mut ixs: Vec<Instruction> = Vec::new();
        if accrue_first {
            ixs.extend((0..TOKENS).map(|t| accrue_interest_ix(&self.env, &self.group.group, t as u16)));
        }
        ixs.push(compute_health_ix(&self.env, &self.group.group, account));
        let data = self.simulate(&ixs).ok()?;
        AnchorDeserialize::deserialize(&mut data.as_slice()).ok()
    }

    /// Simulates `ixs` signed by the payer (and the liquidator where it must
    /// sign); returns the return data. Nothing is committed.
    pub fn simulate(&mut self, ixs: &[Instruction]) -> Result<Vec<u8>, TxFailure> {
        self.env.svm.expire_blockhash(); // never the signature of a transaction already sent
        let liqor = &self.liquidator.owner.wallet;
        let needs_liqor =
            ixs.iter().flat_map(|ix| &ix.accounts).any(|a| a.is_signer && a.pubkey == liqor.pubkey());
        let mut signers = vec![&self.env.payer];
        if needs_liqor {
            signers.push(liqor);
        }
        let blockhash = self.env.svm.latest_blockhash();
        let tx = Transaction::new_signed_with_payer(ixs, Some(&self.env.payer.pubkey()), &signers, blockhash);
        match self.env.svm.simulate_transaction(tx) {
            Ok(info) => Ok(info.meta.return_data.data),
            Err(failed) => Err(TxFailure {
                err: failed.err,
                compute_units: failed.meta.compute_units_consumed,
                logs: failed.meta.logs,
            }),
        }
    }

    /// A float estimate of Init or Maint health (oracle price widened by the
    /// confidence and, for Init, the worse of it and the stable price; the
    /// bank's weights in force): for sizing borrows and for deciding which
    /// accounts deserve an exact check.
    pub fn approx_health(&self, account: &Address, maint: bool) -> f64 {
        let now = self.env.unix_time();
        let acc = self.margin(account);
        acc.active_tokens()
            .map(|p| {
                let t = usize::from(p.token_index);
                let (bank, r) = (self.bank(t), self.reading(t));
                let w = bank.risk_params(now).weights();
                let n = self.native(account, t);
                let conf = r.conf as f64 / r.price as f64 * to_f64(bank.conf_multiplier.get());
                let (weight, bias) = match (n >= 0.0, maint) {
                    (true, true) => (w.maint_asset, 1.0 - conf),
                    (true, false) => (w.init_asset, 1.0 - conf),
                    (false, true) => (w.maint_liab, 1.0 + conf),
                    (false, false) => (w.init_liab, 1.0 + conf),
                };
                let oracle = self.unit_price(t) * bias;
                let stable = to_f64(bank.stable_price.get());
                let price = match (maint, n >= 0.0) {
                    (true, _) => oracle,
                    (false, true) => oracle.min(stable),
                    (false, false) => oracle.max(stable),
                };
                n * price * to_f64(weight)
            })
            .sum()
    }

    /// Value of `account`'s debts at oracle price (quote native, positive).
    pub fn debt_value(&self, account: &Address) -> f64 {
        let acc = self.margin(account);
        acc.active_tokens()
            .map(|p| usize::from(p.token_index))
            .map(|t| (-self.native(account, t)).max(0.0) * self.unit_price(t))
            .sum()
    }

    /// [`Market::debt_value`] with every bank accrued to now ([`Market::native_now`]).
    pub fn debt_value_now(&self, account: &Address) -> f64 {
        let acc = self.margin(account);
        acc.active_tokens()
            .map(|p| usize::from(p.token_index))
            .map(|t| (-self.native_now(account, t)).max(0.0) * self.unit_price(t))
            .sum()
    }
}

/// A fixed-point value as a float, for sizing and reports only.
pub use crate::margin::approx_f64 as to_f64;

/// Opens and funds accounts during set-up.
struct Opener<'a> {
    env: &'a mut Env,
    group: &'a GroupFixture,
    banks: &'a [BankFixture],
}

impl Opener<'_> {
    fn holder(&mut self, seed: u64, whole: impl Fn(usize) -> u64) -> Holder {
        let wallet = self.env.new_wallet_seeded(seed);
        let tokens = (0..TOKENS)
            .map(|t| {
                let amount = whole(t) * 10u64.pow(u32::from(DEFS[t].spec.decimals));
                self.env.funded_token_account(&self.banks[t].mint, &wallet.pubkey(), amount)
            })
            .collect();
        Holder { wallet, tokens }
    }

    /// A user whose wallet holds `scale[0] / scale[1]` times the typical balances;
    /// its delegate holds a tenth of that.
    fn user(&mut self, seed: u64, scale: [u64; 2]) -> User {
        let owner = self.holder(seed, |t| (DEFS[t].wallet_tokens * scale[0]).div_ceil(scale[1]));
        let account = setup_account(self.env, &self.group.group, &owner.wallet, 0);
        let delegate = self.holder(seed + 1, |t| (DEFS[t].wallet_tokens * scale[0]).div_ceil(10 * scale[1]));
        User { owner, account, delegate }
    }

    /// The liquidator deposits its whole wallet: it can take over any debt the users reach.
    fn liquidator(&mut self) -> User {
        let owner = self.holder(LIQUIDATOR_SEED, |t| DEFS[t].liquidator_tokens);
        let account = setup_account(self.env, &self.group.group, &owner.wallet, 0);
        for t in 0..TOKENS {
            let amount = self.env.token_balance(&owner.tokens[t]);
            let (group, authority) = (self.group.group, owner.wallet.pubkey());
            let ix =
                deposit_ix(self.env, &group, &account, t as u16, &owner.tokens[t], &authority, amount, false);
            self.env.send_ok(&[ix], &[&owner.wallet]);
        }
        let delegate = Holder { wallet: owner.wallet.insecure_clone(), tokens: Vec::new() };
        User { owner, account, delegate }
    }
}

/// SPL Token `Transfer` (instruction 3) of `amount` from `source`, signed by `owner`.
pub fn spl_transfer(source: &Address, destination: &Address, owner: &Address, amount: u64) -> Instruction {
    let mut data = vec![3u8];
    data.extend_from_slice(&amount.to_le_bytes());
    Instruction {
        program_id: xmargin::token::TOKEN_PROGRAM_ID,
        accounts: vec![
            crate::AccountMeta::new(*source, false),
            crate::AccountMeta::new(*destination, false),
            crate::AccountMeta::new_readonly(*owner, true),
        ],
        data,
    }
}

//! Running one [`Op`] against the market: amounts resolved from the state at
//! that moment, instructions built with the harness's builders, and a record
//! of each transaction ([`Sent`]) with what the checks need from before it.
use solana_account::Account;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;
use xmargin::state::{account_flags, Bank};

use super::checks::{check_sent, Violation};
use super::market::{spl_transfer, to_f64, Market, User, TOKENS};
use super::ops::{Bps, Op, ALL};
use super::reach;
use crate::margin::{
    accrue_interest_ix, compute_health_ix, deposit_ix, health_accounts, liquidate_token_ix,
    resolve_bankruptcy_ix, resolve_bankruptcy_with_liquidator_ix, set_pause_ix, withdraw_ix,
};
use crate::{Instruction, TxOutcome};

/// What an accepted transaction must satisfy besides the global invariants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Deposit {
        account: Address,
    },
    Repay {
        account: Address,
    },
    /// Risk-increasing: Init ≥ 0 after, when the account has liabilities.
    Withdraw {
        account: Address,
    },
    Liquidation {
        liqee: Address,
    },
    Bankruptcy {
        liqee: Address,
        with_liquidator: bool,
    },
    UpdateBank {
        token: usize,
    },
    FundInsurance {
        amount: u64,
    },
    Other,
}

/// The state before a transaction that its checks compare against.
#[derive(Clone, Debug)]
pub struct Before {
    pub pause_flags: u8,
    /// Every account the transaction names (the fee payer aside).
    pub watched: Vec<Address>,
    pub accounts: Vec<Option<Account>>,
    /// For a liquidation: the liquidatee's net value ([`Market::net_value`]) and
    /// debt value at oracle prices ([`Market::debt_value_now`]), in quote native.
    pub liqee_net_value: Option<(f64, f64)>,
    /// For `update_bank`: the bank before.
    pub bank: Option<Bank>,
}

/// One transaction a step sent.
#[derive(Clone, Debug)]
pub struct Sent {
    pub label: String,
    pub class: Class,
    pub before: Before,
    pub outcome: TxOutcome,
    /// The accounts a refused transaction changed (read right after it).
    pub changed: Vec<Address>,
    /// What [`check_sent`] found, right after it landed.
    pub violations: Vec<Violation>,
}

impl Sent {
    pub fn accepted(&self) -> bool {
        self.outcome.result.is_ok()
    }
}

/// Borrow sizing divides the estimated headroom by this (the estimate ignores
/// pending interest and rounding), so that 100 % of it is usually accepted.
const BORROW_SIZING_MARGIN: f64 = 1.01;

/// Which side of an account's positions an operation looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Deposit,
    Debt,
}

/// `bps` of `amount`, rounded down.
pub fn part(amount: u64, bps: Bps) -> u64 {
    (u128::from(amount) * u128::from(bps) / u128::from(ALL)).min(u128::from(u64::MAX)) as u64
}

impl Market {
    /// Runs one operation; returns the transactions it sent (none for price and clock moves).
    pub fn execute(&mut self, op: Op) -> Vec<Sent> {
        match op {
            Op::Deposit { user, token, bps } => vec![self.deposit(user, token, bps, false)],
            Op::DelegateDeposit { user, token, bps } => vec![self.deposit(user, token, bps, true)],
            Op::Withdraw { user, token, bps } => {
                let token = self.held(user, token, Side::Deposit);
                let deposit = self.native(&self.user(user).account, token.into()).max(0.0) as u64;
                vec![self.withdraw(user, token, part(deposit, bps), None)]
            }
            Op::DelegateWithdraw { user, token, bps, to_owner } => {
                let token = self.held(user, token, Side::Deposit);
                let deposit = self.native(&self.user(user).account, token.into()).max(0.0) as u64;
                vec![self.withdraw(user, token, part(deposit, bps), Some(to_owner))]
            }
            Op::Borrow { user, token, bps } => vec![self.borrow(user, token, bps)],
            Op::Repay { user, token, bps } => vec![self.repay(user, self.held(user, token, Side::Debt), bps)],
            Op::SetDelegate { user } => vec![self.set_delegate(user, true)],
            Op::RemoveDelegate { user } => vec![self.set_delegate(user, false)],
            Op::Liquidate { user, asset, liab, bps } => {
                let (asset, liab) =
                    (self.held(user, asset, Side::Deposit), self.held(user, liab, Side::Debt));
                vec![self.liquidate(user, asset, liab, bps)]
            }
            Op::ResolveBankruptcy { user, token, with_liquidator } => {
                let token = self.held(user, token, Side::Debt);
                let liqee = self.user(user).account;
                let ixs = self.resolve_ixs(&liqee, token.into(), with_liquidator);
                let liqor = self.liquidator.owner.wallet.insecure_clone();
                let class = Class::Bankruptcy { liqee, with_liquidator };
                vec![self.send(&op.to_string(), class, &ixs, &[&liqor])]
            }
            Op::Keeper => self.keeper_pass(),
            Op::AccrueInterest { token } => {
                let ix = accrue_interest_ix(&self.env, &self.group.group, token.into());
                vec![self.send(&op.to_string(), Class::Other, &[ix], &[])]
            }
            Op::SetPause { flags } => {
                let ix = set_pause_ix(&self.group.group, &self.admin.pubkey(), flags);
                let admin = self.admin.insecure_clone();
                vec![self.send(&op.to_string(), Class::Other, &[ix], &[&admin])]
            }
            Op::UpdateBank { token, change } => vec![self.update_bank(token.into(), change)],
            Op::Price { token, move_bps } => {
                let (t, now) = (usize::from(token), self.env.unix_time());
                let old = self.reading(t).price;
                let new = Market::clamp_price(t, i128::from(old) * i128::from(10_000 + move_bps) / 10_000);
                self.publish(t, new, Market::normal_conf(t, new), now);
                Vec::new()
            }
            Op::WideConfidence { token, conf_bps } => {
                let (t, now) = (usize::from(token), self.env.unix_time());
                let price = self.reading(t).price;
                self.publish(t, price, part(price as u64, conf_bps), now);
                Vec::new()
            }
            Op::Warp { secs, stale_mask } => {
                self.env.warp(i64::from(secs));
                self.republish(stale_mask);
                Vec::new()
            }
            Op::FundInsurance { bps } => {
                let amount = part(self.balance(&self.admin_quote), bps);
                let ix = spl_transfer(
                    &self.admin_quote,
                    &self.group.insurance_vault,
                    &self.admin.pubkey(),
                    amount,
                );
                let admin = self.admin.insecure_clone();
                vec![self.send(&op.to_string(), Class::FundInsurance { amount }, &[ix], &[&admin])]
            }
            Op::ComputeHealth { user } => {
                let ix = compute_health_ix(&self.env, &self.group.group, &self.user(user).account);
                vec![self.send(&op.to_string(), Class::Other, &[ix], &[])]
            }
        }
    }

    pub fn user(&self, user: u8) -> &User {
        &self.users[usize::from(user) % self.users.len()]
    }

    /// The `pick`-th (cyclically) token the user holds on `side`, or `pick`
    /// itself when it holds none: operations on positions mostly hit one,
    /// and a list still replays the same after shrinking.
    fn held(&self, user: u8, pick: u8, side: Side) -> u8 {
        let acc = self.margin(&self.user(user).account);
        let tokens: Vec<u8> = acc
            .active_tokens()
            .filter(|p| match side {
                Side::Deposit => p.shares.get().is_positive(),
                Side::Debt => p.shares.get().is_negative(),
            })
            .map(|p| p.token_index as u8)
            .collect();
        if tokens.is_empty() {
            pick
        } else {
            tokens[usize::from(pick) % tokens.len()]
        }
    }

    /// Re-publishes every price at the current time with its normal confidence
    /// (a wide one lasts until then), except those of the tokens in `stale_mask`.
    fn republish(&mut self, stale_mask: u8) {
        let now = self.env.unix_time();
        for t in (0..TOKENS).filter(|t| stale_mask & (1 << t) == 0) {
            let price = self.reading(t).price;
            self.publish(t, price, Market::normal_conf(t, price), now);
        }
    }

    /// Sends `ixs` signed by `signers` and records the state the checks need from before.
    pub fn send(&mut self, label: &str, class: Class, ixs: &[Instruction], signers: &[&Keypair]) -> Sent {
        let payer = self.env.payer.pubkey();
        let mut watched: Vec<Address> =
            ixs.iter().flat_map(|ix| ix.accounts.iter().map(|m| m.pubkey)).filter(|k| *k != payer).collect();
        watched.sort();
        watched.dedup();
        let before = Before {
            pause_flags: self.group_state().pause_flags,
            accounts: self.env.snapshot(&watched),
            watched,
            liqee_net_value: match class {
                Class::Liquidation { liqee } => Some((self.net_value(&liqee), self.debt_value_now(&liqee))),
                _ => None,
            },
            bank: match class {
                Class::UpdateBank { token } => Some(self.bank(token)),
                _ => None,
            },
        };
        let outcome = self.env.send(ixs, signers);
        let changed = if outcome.result.is_err() {
            let after = self.env.snapshot(&before.watched);
            let pairs = before.watched.iter().zip(&before.accounts).zip(&after);
            pairs.filter(|((_, b), a)| b != a).map(|((k, _), _)| *k).collect()
        } else {
            Vec::new()
        };
        let mut sent =
            Sent { label: label.to_string(), class, before, outcome, changed, violations: Vec::new() };
        sent.violations = check_sent(self, &sent);
        sent
    }

    /// Assets minus liabilities at oracle prices, conservatively for the account
    /// (assets at price − k·conf, liabilities at price + k·conf, k ≥ 1), in quote
    /// native, with every bank accrued to now: what the account is worth, not
    /// what stale indices say (seed 777 found a liquidatee "worth" +3,395 USDC
    /// at its stored indices that owed 100 USDC more than it held). A price
    /// the program cannot use counts as a liquidation counts it: an asset
    /// zero, a debt at least its stable price (the program knows no more).
    pub fn net_value(&self, account: &Address) -> f64 {
        let acc = self.margin(account);
        acc.active_tokens()
            .map(|p| {
                let t = usize::from(p.token_index);
                let (bank, r) = (self.bank(t), self.reading(t));
                let k = to_f64(bank.conf_multiplier.get()).max(1.0);
                let conf = k * r.conf as f64 / r.price as f64;
                let n = self.native_now(account, t);
                let price = self.unit_price(t) * if n >= 0.0 { 1.0 - conf } else { 1.0 + conf };
                match (self.price_usable(t), n >= 0.0) {
                    (true, _) => n * price,
                    (false, true) => 0.0,
                    (false, false) => n * price.max(to_f64(bank.stable_price.get())),
                }
            })
            .sum()
    }

    fn deposit(&mut self, user: u8, token: u8, bps: Bps, by_delegate: bool) -> Sent {
        let u = self.user(user);
        let holder = if by_delegate { &u.delegate } else { &u.owner };
        let (t, account, source, signer) = (
            usize::from(token),
            u.account,
            holder.tokens[usize::from(token)],
            holder.wallet.insecure_clone(),
        );
        let amount = part(self.balance(&source), bps);
        let ix = self.pay_in_ix(&account, t, &source, &signer.pubkey(), amount, false);
        let label =
            format!("deposit {amount} t{t} into user{user}{}", if by_delegate { " by delegate" } else { "" });
        self.send(&label, Class::Deposit { account }, &[ix], &[&signer])
    }

    /// Withdraws `amount` to the owner's wallet, or with `delegate = Some(to_owner)`
    /// as the delegate to the owner's wallet or (refused) to its own.
    fn withdraw(&mut self, user: u8, token: u8, amount: u64, delegate: Option<bool>) -> Sent {
        let u = self.user(user);
        let t = usize::from(token);
        let signer = (if delegate.is_some() { &u.delegate.wallet } else { &u.owner.wallet }).insecure_clone();
        let dest = if delegate == Some(false) { u.delegate.tokens[t] } else { u.owner.tokens[t] };
        let account = u.account;
        let ix =
            withdraw_ix(&self.env, &self.group.group, &account, t as u16, &dest, &signer.pubkey(), amount);
        let label = format!(
            "withdraw {amount} t{t} from user{user}{}",
            if delegate.is_some() { " by delegate" } else { "" }
        );
        self.send(&label, Class::Withdraw { account }, &[ix], &[&signer])
    }

    /// The deposit plus `bps` of the Init headroom left once the deposit is
    /// gone (its collateral value no longer counts), estimated off-chain.
    fn borrow(&mut self, user: u8, token: u8, bps: Bps) -> Sent {
        let (t, account) = (usize::from(token), self.user(user).account);
        let risk = self.bank(t).risk;
        let price = self.unit_price(t).max(f64::MIN_POSITIVE);
        let deposit = self.native(&account, t).max(0.0);
        let headroom =
            self.approx_health(&account, false) - deposit * price * to_f64(risk.init_asset_weight.get());
        let in_token =
            headroom.max(0.0) / (price * to_f64(risk.init_liab_weight.get()) * BORROW_SIZING_MARGIN);
        let amount = (deposit + in_token * f64::from(bps) / f64::from(ALL)).min(u64::MAX as f64) as u64;
        self.withdraw(user, token, amount, None)
    }

    /// `bps` of the debt, at most what the owner's wallet holds.
    fn repay(&mut self, user: u8, token: u8, bps: Bps) -> Sent {
        let u = self.user(user);
        let t = usize::from(token);
        let (account, source, signer) = (u.account, u.owner.tokens[t], u.owner.wallet.insecure_clone());
        let shares =
            self.margin(&account).token_position(t as u16).map(|p| p.shares.get()).unwrap_or_default();
        let debt = self.bank(t).native_debt(shares).unwrap_or(0);
        let amount = part(debt, bps).min(self.balance(&source));
        let ix = self.pay_in_ix(&account, t, &source, &signer.pubkey(), amount, true);
        self.send(&format!("repay {amount} t{t} of user{user}"), Class::Repay { account }, &[ix], &[&signer])
    }

    /// A deposit or repay; for an account being liquidated with its health
    /// accounts, so that it can show the account recovered (and clear the flag).
    fn pay_in_ix(
        &self,
        account: &Address,
        token: usize,
        source: &Address,
        authority: &Address,
        amount: u64,
        repay: bool,
    ) -> Instruction {
        let g = self.group.group;
        let mut ix = deposit_ix(&self.env, &g, account, token as u16, source, authority, amount, repay);
        if self.margin(account).has_flag(account_flags::BEING_LIQUIDATED) {
            ix.accounts.extend(health_accounts(&self.env, &g, account, Some(token as u16)));
        }
        ix
    }

    fn set_delegate(&mut self, user: u8, set: bool) -> Sent {
        let u = self.user(user);
        let delegate = if set { u.delegate.wallet.pubkey() } else { Address::default() };
        let (account, owner) = (u.account, u.owner.wallet.insecure_clone());
        let ix = crate::fixtures::set_delegate_ix(&account, &owner.pubkey(), &delegate);
        let label = format!("user{user} {} delegate", if set { "sets" } else { "removes" });
        self.send(&label, Class::Other, &[ix], &[&owner])
    }

    fn liquidate(&mut self, user: u8, asset: u8, liab: u8, bps: Bps) -> Sent {
        let liqee = self.user(user).account;
        let debt = (-self.native(&liqee, liab.into())).max(0.0) as u64;
        let max = if bps == 0 { u64::MAX } else { part(debt, bps).max(1) };
        let ix = self.liquidate_ix(&liqee, asset.into(), liab.into(), max);
        let liqor = self.liquidator.owner.wallet.insecure_clone();
        let label = format!("liquidate user{user} t{asset}/t{liab} max {max}");
        self.send(&label, Class::Liquidation { liqee }, &[ix], &[&liqor])
    }

    pub fn liquidate_ix(&self, liqee: &Address, asset: usize, liab: usize, max: u64) -> Instruction {
        let (liqor, authority) = (self.liquidator.account, self.liquidator.owner.wallet.pubkey());
        liquidate_token_ix(
            &self.env,
            &self.group.group,
            liqee,
            &liqor,
            &authority,
            asset as u16,
            liab as u16,
            max,
        )
    }

    pub fn resolve_ixs(&self, liqee: &Address, token: usize, with_liquidator: bool) -> Vec<Instruction> {
        let g = self.group.group;
        vec![if with_liquidator {
            let (liqor, authority) = (self.liquidator.account, self.liquidator.owner.wallet.pubkey());
            resolve_bankruptcy_with_liquidator_ix(&self.env, &g, liqee, token as u16, &liqor, &authority)
        } else {
            resolve_bankruptcy_ix(&self.env, &g, liqee, token as u16)
        }]
    }

    /// For every user with debt that looks liquidatable, sends the candidates of
    /// [`reach::candidates`] in order until one is accepted.
    fn keeper_pass(&mut self) -> Vec<Sent> {
        let mut sent = Vec::new();
        let liqor = self.liquidator.owner.wallet.insecure_clone();
        for u in 0..self.users.len() {
            let liqee = self.users[u].account;
            if !reach::looks_liquidatable(self, &liqee) {
                continue;
            }
            for candidate in reach::candidates(self, &liqee) {
                let s = self.send(
                    &format!("keeper: {}", candidate.label),
                    candidate.class,
                    &candidate.ixs,
                    &[&liqor],
                );
                let done = s.accepted();
                sent.push(s);
                if done {
                    break;
                }
            }
        }
        sent
    }
}

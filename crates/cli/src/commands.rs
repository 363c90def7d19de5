//! Runs the admin, user, view and lookup-table commands on a [`Cluster`]
//! (market commands: [`crate::markets`]).
use anchor_lang::prelude::Pubkey;
use xmargin::instructions::CreateGroupArgs;
use xmargin_client::health::{health_metas_with_markets, BankEntry};
use xmargin_client::instructions::{self as ixs, BankKeys};

use crate::amount::{associated_token_address, ui};
use crate::bank_config::BankConfig;
use crate::cli::{Command, TokenMove, UpdateBankFlags};
use crate::rpc::{Cluster, Ctx};

fn bank_keys(entry: &BankEntry) -> BankKeys {
    BankKeys { bank: entry.address, vault: entry.bank.vault, oracle: entry.bank.oracle }
}

fn bank<C: Cluster>(ctx: &mut Ctx<C>, group: &Pubkey, token_index: u16) -> Result<BankEntry, String> {
    ctx.banks(group)?
        .get(&token_index)
        .copied()
        .ok_or_else(|| format!("no bank {token_index} in group {group}"))
}

/// Runs `command`; `lookup_table`: `--lookup-table` (extend-lookup-table's table).
pub fn execute<C: Cluster>(
    ctx: &mut Ctx<C>,
    command: Command,
    lookup_table: Option<Pubkey>,
) -> Result<(), String> {
    let me = ctx.me;
    match command {
        Command::Demo => Err("demo runs on the embedded SVM, not a cluster".into()),
        Command::CreateGroup { quote_mint, group_num, loosen_delay_secs, admin } => {
            let group = ctx.program.new_group(&me, group_num);
            let args = CreateGroupArgs { group_num, admin: admin.unwrap_or(me), loosen_delay_secs };
            ctx.out.field("group", group.to_string());
            ctx.send(&format!("create-group {group}"), ixs::create_group(&me, &me, &quote_mint, args))
        }
        Command::AddBank { group, bank_config } => add_bank(ctx, &group.group, &bank_config),
        Command::UpdateBank { group, token_index, fields } => {
            update_bank(ctx, &group.group, token_index, &fields)
        }
        Command::SetPause { group, flags } => ctx.send("set-pause", ixs::set_pause(&group.group, &me, flags)),
        Command::CreateAccount { group, account } => {
            let address = ctx.program.margin_account(&group.group, &me, account.account_num);
            ctx.out.field("account", address.to_string());
            ctx.send(
                &format!("create-account {address}"),
                ixs::create_account(&group.group, &me, &me, account.account_num),
            )
        }
        Command::Deposit(m) => token_move(ctx, "deposit", m),
        Command::Repay(m) => token_move(ctx, "repay", m),
        Command::Withdraw(m) => token_move(ctx, "withdraw", m),
        Command::SetDelegate { group, delegate, account } => {
            let address = ctx.program.margin_account(&group.group, &me, account.account_num);
            ctx.send("set-delegate", ixs::set_delegate(&address, &me, &delegate))
        }
        Command::CloseAccount { group, account } => {
            let address = ctx.program.margin_account(&group.group, &me, account.account_num);
            ctx.send("close-account", ixs::close_account(&address, &me, &me))
        }
        Command::AccrueInterest { group, token_index } => {
            let entry = bank(ctx, &group.group, token_index)?;
            ctx.send("accrue-interest", ixs::accrue_interest(&group.group, &bank_keys(&entry)))
        }
        Command::SetMarginMode { account, mode } => crate::margin_mode::set_margin_mode(ctx, &account, mode),
        Command::Show(args) => match (args.account.or(args.account_flag), args.group) {
            (Some(account), _) => crate::show_account::show(ctx, &account),
            (None, Some(group)) => crate::show::show(ctx, &group),
            (None, None) => Err("show: give a margin account (show ACCOUNT) or --group G".into()),
        },
        Command::CreateLookupTable { group } => {
            crate::lookup::execute(ctx, crate::lookup::Command::Create { group: group.group }).map(|_| ())
        }
        Command::ExtendLookupTable { group } => {
            let table = lookup_table.ok_or("extend-lookup-table: give the table with --lookup-table T")?;
            crate::lookup::execute(ctx, crate::lookup::Command::Extend { group: group.group, table })
                .map(|_| ())
        }
        Command::Market(m) => crate::markets::execute(ctx, m.parsed()),
    }
}

fn add_bank<C: Cluster>(ctx: &mut Ctx<C>, group: &Pubkey, path: &str) -> Result<(), String> {
    let me = ctx.me;
    let config = BankConfig::read(path)?;
    let token_index = ctx.group(group)?.bank_count;
    let args = config.add_bank_args(token_index).map_err(|e| format!("{path}: {e}"))?;
    let (mint, oracle) = (config.mint()?, config.oracle()?);
    let (bank, _) = ctx.program.bank(group, token_index);
    ctx.program.mint_marker(group, &mint);
    ctx.out.field("bank", bank.to_string());
    ctx.out.field("token_index", token_index);
    ctx.out.field("oracle", oracle.to_string());
    let symbol = config.symbol.as_deref().unwrap_or("");
    ctx.send(
        &format!("add-bank {token_index} {symbol} {bank}"),
        ixs::add_bank(group, &me, &me, &mint, &oracle, args),
    )
}

fn update_bank<C: Cluster>(
    ctx: &mut Ctx<C>,
    group: &Pubkey,
    token_index: u16,
    fields: &UpdateBankFlags,
) -> Result<(), String> {
    let entry = bank(ctx, group, token_index)?;
    let args = crate::update_bank::update_args(&entry.bank, fields).map_err(|e| e.to_string())?;
    ctx.program.bank(group, token_index);
    ctx.send(
        &format!("update-bank {token_index}"),
        ixs::update_bank(group, &ctx.me.clone(), token_index, args),
    )
}

/// The token account to use: the flag's, else the signer's associated token
/// account of the bank's mint, which must exist.
fn token_account<C: Cluster>(
    ctx: &mut Ctx<C>,
    given: Option<Pubkey>,
    entry: &BankEntry,
) -> Result<Pubkey, String> {
    if let Some(t) = given {
        return Ok(t);
    }
    let ata = associated_token_address(&ctx.me, &entry.bank.mint);
    let found = ctx.chain.accounts(&[ata]).map_err(|e| e.to_string())?.pop().flatten();
    match found {
        Some(_) => Ok(ata),
        None => Err(format!(
            "token account {ata} (the associated token account of {} for mint {}) does not exist: create it or pass --token-account",
            ctx.me, entry.bank.mint
        )),
    }
}

fn token_move<C: Cluster>(ctx: &mut Ctx<C>, kind: &str, m: TokenMove) -> Result<(), String> {
    let (me, group, token_index) = (ctx.me, m.group.group, m.token_index);
    let account = ctx.program.margin_account(&group, &me, m.account.account_num);
    let banks = ctx.banks(&group)?;
    let entry = *banks.get(&token_index).ok_or_else(|| format!("no bank {token_index} in group {group}"))?;
    let decimals = entry.bank.mint_decimals;
    let amount = m.amount().to_native(decimals).map_err(|e| format!("--amount: {e}"))?;
    let token_account = token_account(ctx, m.token_account, &entry)?;
    let keys = bank_keys(&entry);
    let ix = match kind {
        "deposit" => ixs::deposit(&group, &account, &keys, &token_account, &me, amount),
        "repay" => ixs::repay(&group, &account, &keys, &token_account, &me, amount),
        _ => {
            let data = ctx.account(&account)?;
            let markets = ctx.markets(&group)?;
            let metas = health_metas_with_markets(&data, &[token_index], &[], &banks, &markets)
                .map_err(|e| e.to_string())?;
            ixs::withdraw(&group, &account, &keys, &token_account, &me, amount, metas)
        }
    };
    ctx.out.field("account", account.to_string());
    ctx.out.field("token_account", token_account.to_string());
    ctx.out.field("amount", ui(i128::from(amount), decimals));
    ctx.out.field("amount_native", amount);
    ctx.send(
        &format!("{kind} {} of token {token_index} ({amount} native)", ui(i128::from(amount), decimals)),
        ix,
    )
}

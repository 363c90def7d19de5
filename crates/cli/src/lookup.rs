//! The group's address lookup table: `create-lookup-table` creates it and
//! fills it with every address the group's instructions share
//! (`xmargin_client::lookup_table::group_addresses`), `extend-lookup-table`
//! adds what a later `add-bank` or `add-market` listed. Every other command
//! given `--lookup-table T` sends v0 transactions through it (`rpc::connect`).
use anchor_lang::prelude::Pubkey;
use xmargin_client::lookup_table::{
    create_lookup_table, decode_lookup_table, extend_lookup_table, group_addresses, missing_addresses,
    LookupTableState, MAX_ADDRESSES,
};

use crate::args::Args;
use crate::rpc::{Cluster, Ctx};

pub const USAGE: &str = "\
LOOKUP TABLE (the group's address lookup table: v0 transactions for accounts with many positions):
    xmargin create-lookup-table --group G   (prints its address; the signer is its authority)
    xmargin extend-lookup-table --group G --lookup-table T   (adds banks and markets listed since)";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Create { group: Pubkey },
    Extend { group: Pubkey, table: Pubkey },
}

/// Parses a lookup-table command (`Ok(None)`: not one).
pub fn parse(command: &str, a: &Args) -> Result<Option<Command>, String> {
    Ok(Some(match command {
        "create-lookup-table" => Command::Create { group: a.pubkey("--group")? },
        "extend-lookup-table" => {
            Command::Extend { group: a.pubkey("--group")?, table: a.pubkey("--lookup-table")? }
        }
        _ => return Ok(None),
    }))
}

/// Reads the lookup table at `table`.
pub fn read<C: Cluster>(ctx: &mut Ctx<C>, table: &Pubkey) -> Result<LookupTableState, String> {
    let got = ctx.chain.accounts(&[*table]).map_err(|e| e.to_string())?.pop().flatten();
    let acc = got.ok_or_else(|| format!("lookup table {table} not found"))?;
    decode_lookup_table(table, &acc.owner, &acc.data).map_err(|e| e.to_string())
}

/// Runs the command; returns the table's address.
pub fn execute<C: Cluster>(ctx: &mut Ctx<C>, command: Command) -> Result<Pubkey, String> {
    let me = ctx.me;
    let (group, table, have) = match command {
        Command::Create { group } => {
            let slot = ctx.chain.lookup_table_slot()?;
            let (ix, table) = create_lookup_table(&me, &me, slot);
            ctx.send(&format!("create-lookup-table {table}"), ix)?;
            (group, table, Vec::new())
        }
        Command::Extend { group, table } => {
            let state = read(ctx, &table)?;
            if state.authority != Some(me) {
                let who = state.authority.map_or("nobody (frozen)".to_string(), |a| a.to_string());
                return Err(format!("lookup table {table}: its authority is {who}, not the signer {me}"));
            }
            (group, table, state.table.addresses)
        }
    };
    let wanted = group_addresses(&group, &ctx.banks(&group)?, &ctx.markets(&group)?);
    let missing = missing_addresses(&have, &wanted);
    if have.len() + missing.len() > MAX_ADDRESSES {
        return Err(format!(
            "lookup table {table}: {} addresses needed, a table holds {MAX_ADDRESSES}",
            have.len() + missing.len()
        ));
    }
    let total = have.len() + missing.len();
    for (i, ix) in extend_lookup_table(&table, &me, &me, &missing).into_iter().enumerate() {
        ctx.send(&format!("extend-lookup-table {table} (part {})", i + 1), ix)?;
    }
    if missing.is_empty() {
        println!("lookup table {table}: up to date ({total} addresses)");
    } else {
        println!("lookup table {table}: {} addresses added, {total} in all", missing.len());
    }
    println!("lookup table: {table}   (pass --lookup-table {table} to every command and the keeper)");
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commands_parse() {
        let g = Pubkey::new_unique();
        let t = Pubkey::new_unique();
        let raw = |s: String| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let a = Args::parse(&raw(format!("--group {g}"))).unwrap();
        assert_eq!(parse("create-lookup-table", &a).unwrap(), Some(Command::Create { group: g }));
        assert!(a.finish().is_ok());
        let a = Args::parse(&raw(format!("--group {g} --lookup-table {t}"))).unwrap();
        assert_eq!(parse("extend-lookup-table", &a).unwrap(), Some(Command::Extend { group: g, table: t }));
        let a = Args::parse(&raw(format!("--group {g}"))).unwrap();
        assert!(parse("extend-lookup-table", &a).unwrap_err().contains("--lookup-table is required"));
        assert_eq!(parse("deposit", &a).unwrap(), None);
    }
}

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

use crate::rpc::{Cluster, Ctx};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Create { group: Pubkey },
    Extend { group: Pubkey, table: Pubkey },
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
    ctx.program.insurance_vault(&group);
    let wanted: Vec<Pubkey> = group_addresses(&group, &ctx.banks(&group)?, &ctx.markets(&group)?)
        .iter()
        .map(|k| ctx.program.map_key(k))
        .collect();
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
    let added = missing.len();
    let status = match added {
        0 => format!("lookup table {table}: up to date ({total} addresses)"),
        n => format!("lookup table {table}: {n} addresses added, {total} in all"),
    };
    ctx.out.note("added", added, status);
    ctx.out.field("addresses", total);
    let hint =
        format!("lookup table: {table}   (pass --lookup-table {table} to every command and the keeper)");
    ctx.out.note("lookup_table", table.to_string(), hint);
    Ok(table)
}

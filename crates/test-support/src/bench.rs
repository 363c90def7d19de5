//! The fixed scenario behind the compute-unit table (see `bin/cu_bench.rs`).
//! Each row is one instruction sent alone, so its CU is what a wallet or keeper
//! would pay for it. Rows are added as instructions land.
use solana_signer::Signer;

use crate::env::Env;
use crate::fixtures::{
    add_bank_ix, close_account_ix, create_account_ix, create_group_ix, default_bank_args, default_group_args,
    pda, set_delegate_ix,
};
use crate::pyth::{feeds, PythPrice};
use crate::Address;

/// One measured instruction.
#[derive(Clone, Debug)]
pub struct Row {
    pub instruction: &'static str,
    pub scenario: String,
    pub compute_units: u64,
    /// Ceiling from DESIGN.md, where one applies.
    pub budget: Option<u64>,
}

/// DESIGN.md: any single instruction, even with 16 token + 16 derivative positions.
pub const MAX_INSTRUCTION_CU: u64 = 200_000;

pub fn run_scenario() -> Vec<Row> {
    let mut env = Env::new();
    let mut rows = Vec::new();
    let admin = env.new_wallet(1);
    let quote_mint = env.create_mint(6);
    let ix = create_group_ix(&env, &admin.pubkey(), &quote_mint, default_group_args(&admin.pubkey()));
    let cu = env.send_ok(&[ix], &[&admin]).compute_units;
    rows.push(Row {
        instruction: "create_group",
        scenario: "group PDA + insurance vault token account".into(),
        compute_units: cu,
        budget: Some(MAX_INSTRUCTION_CU),
    });

    let group = pda(&[xmargin::state::GROUP_SEED, admin.pubkey().as_ref(), &0u32.to_le_bytes()]).0;
    let sol_mint = env.create_mint(9);
    let oracle = Address::new_unique();
    let now = env.unix_time();
    env.set_pyth_price(&oracle, &PythPrice::new(feeds::SOL_USD, 150_0000_0000, 1000_0000, -8, now));
    let ix =
        add_bank_ix(&env, &group, &admin.pubkey(), &sol_mint, &oracle, default_bank_args(0, feeds::SOL_USD));
    let cu = env.send_ok(&[ix], &[&admin]).compute_units;
    rows.push(Row {
        instruction: "add_bank",
        scenario: "bank PDA + vault token account + oracle read".into(),
        compute_units: cu,
        budget: Some(MAX_INSTRUCTION_CU),
    });

    let alice = env.new_wallet(2);
    let mut measure = |env: &mut Env, instruction: &'static str, scenario: &str, ix, signer| {
        let cu = env.send_ok(&[ix], &[signer]).compute_units;
        rows.push(Row {
            instruction,
            scenario: scenario.into(),
            compute_units: cu,
            budget: Some(MAX_INSTRUCTION_CU),
        });
    };
    let ix = create_account_ix(&env, &group, &alice.pubkey(), 0);
    let account = ix.accounts[3].pubkey;
    measure(&mut env, "create_account", "margin account PDA (1,384 bytes)", ix, &alice);
    let ix = set_delegate_ix(&account, &alice.pubkey(), &admin.pubkey());
    measure(&mut env, "set_delegate", "set a delegate", ix, &alice);
    let ix = close_account_ix(&account, &alice.pubkey(), &alice.pubkey());
    measure(&mut env, "close_account", "empty account, rent back", ix, &alice);
    rows
}

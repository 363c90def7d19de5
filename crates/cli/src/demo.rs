//! The demo: a whole scenario on the embedded SVM, printed step by step.
use xmargin::state::Group;
use xmargin_test_support::fixtures::{create_group_ix, default_group_args};
use xmargin_test_support::{program_so_path, Env, Signer};

pub fn run() -> Result<(), String> {
    let so = program_so_path();
    println!("xmargin demo — embedded SVM (LiteSVM) running {}", so.display());
    let mut env = Env::new();
    println!("program id      {}", env.program_id);

    let admin = env.new_wallet(1);
    let usdc = env.create_mint(6);
    println!("admin           {}", admin.pubkey());
    println!("quote mint      {usdc} (USDC-like, 6 decimals)");

    let ix = create_group_ix(&env, &admin.pubkey(), &usdc, default_group_args(&admin.pubkey()));
    let group_key = ix.accounts[2].pubkey;
    let out = env.send(&[ix], &[&admin]);
    out.result.as_ref().map_err(|f| f.to_string())?;
    println!("\n1. create_group                                     {:>7} CU", out.compute_units);
    let group: Group = env.zero_copy(&group_key);
    println!("   group           {group_key}");
    println!(
        "   insurance vault {} (balance {} µUSDC)",
        group.insurance_vault,
        env.token_balance(&group.insurance_vault)
    );
    println!("   risk-loosening delay {} s, pause flags {:#04x}", group.loosen_delay_secs, group.pause_flags);

    println!(
        "\nBanks, margin accounts, borrowing and liquidation join this demo as they land (see the issues)."
    );
    Ok(())
}

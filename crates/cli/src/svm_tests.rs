//! The market commands end to end on the embedded SVM: the same parsing and
//! execution as over JSON-RPC, with LiteSVM as the [`Cluster`].
use std::path::PathBuf;

use xmargin::state::{market_status, MarginAccount};
use xmargin_keeper::svm::SvmChain;
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Keypair, Signer};

use anchor_lang::prelude::Pubkey;
use xmargin_client::lookup_table::group_addresses;
use xmargin_client::transaction;
use xmargin_test_support::fixtures::{default_bank_args, setup_bank};
use xmargin_test_support::margin::banks;
use xmargin_test_support::world::BTC;

use clap::Parser;
use serde_json::Value;

use crate::cli::{Cli, Command};
use crate::output::Output;
use crate::program_id::ProgramTarget;
use crate::rpc::{Cluster, Ctx};

impl Cluster for SvmChain<'_> {
    fn slot(&mut self) -> Result<u64, String> {
        Ok(self.env.clock().slot)
    }

    /// As over JSON-RPC: v0 with the table when set, refused unsent when a
    /// cluster would drop it (the signer paying, as `--keypair` does).
    fn send_signed(
        &mut self,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
        others: &[&Keypair],
    ) -> Result<String, String> {
        let blockhash = self.env.svm.latest_blockhash();
        let message =
            transaction::message(&self.signer.pubkey(), ixs, self.env.lookup_table.as_ref(), blockhash)
                .map_err(|e| e.to_string())?;
        transaction::check(&message).map_err(|e| e.to_string())?;
        let mut signers = vec![self.signer];
        signers.extend(others);
        let out = self.env.send(ixs, &signers);
        out.result.map(|()| format!("{} CU", out.compute_units)).map_err(|f| f.to_string())
    }

    fn lookup_table_slot(&mut self) -> Result<u64, String> {
        Ok(self.env.lookup_table_slot())
    }

    fn set_lookup_table(&mut self, table: &anchor_lang::prelude::Pubkey) -> Result<(), String> {
        self.env.lookup_table = Some(self.env.lookup_table_account(table));
        Ok(())
    }
}

/// Runs the command line `line` (without `xmargin`) as `who` on the
/// world's VM, as `main` does over JSON-RPC; returns the JSON document
/// (with `--output json`).
pub(crate) fn run_as(w: &mut World, who: &Keypair, line: &str) -> Result<Option<Value>, String> {
    let cli = Cli::try_parse_from(std::iter::once("xmargin").chain(line.split_whitespace()))
        .map_err(|e| e.to_string())?;
    let out = Output::new(cli.global.output, &cli.command.name());
    let program = ProgramTarget::new(cli.global.program_id.unwrap_or(xmargin::ID));
    let mut ctx = Ctx::new(SvmChain { env: &mut w.env, signer: who }, who.insecure_clone(), program, out)
        .with_budget(cli.global.budget());
    if let (Some(table), false) = (
        cli.global.lookup_table,
        matches!(cli.command, Command::CreateLookupTable { .. } | Command::ExtendLookupTable { .. }),
    ) {
        ctx.chain.set_lookup_table(&table)?;
    }
    let result = crate::commands::execute(&mut ctx, cli.command, cli.global.lookup_table);
    let document = ctx.out.document();
    w.assert_all_vaults();
    result.map(|()| document)
}

/// Runs `xmargin <command> --group G <flags>` as `who` on the world's VM.
fn xmargin(w: &mut World, who: &Keypair, command: &str, flags: &str) -> Result<(), String> {
    let line = format!("{command} --group {} {flags}", w.group.group);
    run_as(w, who, &line).map(|_| ())
}

/// This test's own folder (tests run in parallel and each removes its folder at the end).
fn dir() -> PathBuf {
    let test = std::thread::current().name().unwrap_or("main").replace("::", "-");
    let d = std::env::temp_dir().join(format!("xmargin-cli-svm-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, text: &str) -> String {
    let path = dir().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn keypair_file(name: &str, u: &User) -> String {
    write(name, &format!("{:?}", u.wallet.to_bytes().to_vec()))
}

const CONFIGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/configs");

/// add-market, update-market, trade, quote, take (once), update-funding,
/// settle-pnl, sample-price, settle-expired and show, each through its flags.
#[test]
fn the_market_commands_on_the_embedded_svm() {
    let mut w = World::new();
    let admin = w.admin.insecure_clone();
    xmargin(&mut w, &admin, "add-market", &format!("--market-config {CONFIGS}/sol-perp.json")).unwrap();
    assert_eq!(w.market(0).name_str(), "SOL-PERP");
    let update = write("update.json", r#"{ "insuranceFeeBps": 25 }"#);
    xmargin(&mut w, &admin, "update-market", &format!("--market-index 0 --update {update}")).unwrap();
    assert_eq!(w.market(0).insurance_fee.get(), Fixed::from_ratio(25, 10_000, Rounding::Floor).unwrap());

    let erin = w.user(20, [10_000_000_000, 0, 0]);
    let frank = w.user(21, [10_000_000_000, 0, 0]);
    w.deposit(&erin, 0, 10_000_000_000).expect_ok();
    w.deposit(&frank, 0, 10_000_000_000).expect_ok();
    let (erin_kp, frank_kp) = (keypair_file("erin.json", &erin), keypair_file("frank.json", &frank));
    let flags = format!(
        "--market-index 0 --size 1000 --price 1515000 --buyer-keypair {frank_kp} --seller-keypair {erin_kp}"
    );
    xmargin(&mut w, &admin, "trade", &flags).unwrap();
    assert_eq!((w.position(&frank, 0).base_contracts, w.position(&erin, 0).base_contracts), (1_000, -1_000));

    // Erin quotes (the next nonce read from her account, valid 150 slots), Frank takes, once.
    let quote = dir().join("quote.json").display().to_string();
    let flags = format!("--market-index 0 --side sell --size 500 --price 1500000 --out {quote}");
    xmargin(&mut w, &erin.wallet, "quote", &flags).unwrap();
    xmargin(&mut w, &frank.wallet, "take", &format!("--quote {quote}")).unwrap();
    assert_eq!(w.position(&frank, 0).base_contracts, 1_500);
    let replay = xmargin(&mut w, &frank.wallet, "take", &format!("--quote {quote}")).unwrap_err();
    let code = u32::from(xmargin::errors::XmarginError::QuoteNonceUsed);
    assert!(replay.contains(&format!("XmarginError::QuoteNonceUsed ({code}): ")), "by name: {replay}");
    let next = w.env.zero_copy::<MarginAccount>(&erin.account);
    assert_eq!(crate::markets::next_nonce(&next), 1);

    // An hour later anyone cranks funding. The premium in force is +1 %
    // (1,000 at $1.515 over $1.50) moved a third of the way back by the 500
    // at the oracle (500 of 1,500 open): +0.667 % a day, so frank (long
    // 1,500) owes erin about 1,500 · $1.50 · 0.667 %/24 ≈ $0.625 of funding,
    // a realised loss the keeper's planner settles at once, together with
    // erin's $0.015 a contract of profit (within her window).
    w.env.warp(3_600);
    w.refresh_prices();
    xmargin(&mut w, &frank.wallet, "update-funding", "--market-index 0").unwrap();
    assert_eq!(w.market(0).last_funding_ts, w.env.unix_time());
    assert!(w.market(0).last_funding_rate.get() > Fixed::ZERO, "longs pay");
    let before = w.position(&erin, 0).realized_pnl;
    xmargin(&mut w, &frank.wallet, "settle-pnl", "--market-index 0").unwrap();
    // Her realised PnL gains the funding (≈ 625,000) and loses the amount
    // settled (the funding and the 15,000,000 of profit): net −15,000,000.
    let erin_after = w.position(&erin, 0);
    assert_eq!(
        before - erin_after.realized_pnl,
        15_000_000,
        "1,000 × ($1.515 − $1.50), plus funding in and out"
    );
    assert!(w.market(0).funding_dust.get() > Fixed::ZERO, "funding reached both positions");
    let flags = format!("--market-index 0 --winner {} --loser {}", erin.account, frank.account);
    let none = xmargin(&mut w, &frank.wallet, "settle-pnl", &flags).unwrap_err();
    assert!(none.contains("NoPnlToSettle"), "everything settled: {none}");

    // A dated future two hours out: sampled in its last 30 minutes, settled and paid.
    let mut future: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{CONFIGS}/sol-future.json")).unwrap())
            .unwrap();
    let expiry = w.env.unix_time() + 7_200;
    future["expiryTs"] = expiry.into();
    future["minSamples"] = 1.into();
    let config = write("future.json", &future.to_string());
    xmargin(&mut w, &admin, "add-market", &format!("--market-config {config}")).unwrap();
    let flags = format!(
        "--market-index 1 --size 100 --price 1500000 --buyer-keypair {frank_kp} --seller-keypair {erin_kp}"
    );
    xmargin(&mut w, &admin, "trade", &flags).unwrap();
    w.env.set_unix_time(expiry - 600);
    w.refresh_prices();
    w.set_price(1, 15_200_000_000, 10_000_000); // SOL at $152: frank's 1 SOL long gains $2
    xmargin(&mut w, &frank.wallet, "sample-price", "--market-index 1").unwrap();
    assert_eq!(w.market(1).sample_count, 1);
    w.env.set_unix_time(expiry);
    w.refresh_prices();
    xmargin(&mut w, &frank.wallet, "settle-expired", "--market-index 1").unwrap();
    assert_eq!((w.market(1).status, w.market(1).open_interest), (market_status::SETTLED, 0));
    let frank_before = w.position(&frank, 1).realized_pnl;
    assert_eq!(frank_before, 2_000_000, "100 contracts × ($1.52 − $1.50)");
    xmargin(&mut w, &frank.wallet, "settle-pnl", "--market-index 1").unwrap();
    for u in [&erin, &frank] {
        let acc: MarginAccount = w.env.zero_copy(&u.account);
        assert!(acc.derivative_position(1).is_none(), "settled at the sampled price, paid, closed");
    }

    let line = format!("show --group {} --output json", w.group.group);
    let shown = run_as(&mut w, &frank.wallet, &line);
    let shown = shown.unwrap().unwrap();
    assert_eq!(shown["markets"].as_array().unwrap().len(), 2);
    assert_eq!(shown["accounts"].as_array().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(dir());
}

/// Runs `xmargin <lookup command> --group G <flags>` as `who`; returns the table.
fn xmargin_table(w: &mut World, who: &Keypair, command: &str, flags: &str) -> Result<Pubkey, String> {
    let line = format!("{command} --group {} {flags} --output json", w.group.group);
    let doc = run_as(w, who, &line)?.expect("a JSON document");
    Ok(doc["lookup_table"].as_str().expect("the table").parse().expect("an address"))
}

/// create-lookup-table fills the group's table; after add-bank,
/// extend-lookup-table adds the new bank's addresses (only its authority
/// may); a trade sent with the table goes out as a v0 message.
#[test]
fn the_lookup_table_commands_on_the_embedded_svm() {
    let mut w = World::new();
    let admin = w.admin.insecure_clone();
    xmargin(&mut w, &admin, "add-market", &format!("--market-config {CONFIGS}/sol-perp.json")).unwrap();
    let g = w.group.group;
    let table = xmargin_table(&mut w, &admin, "create-lookup-table", "").unwrap();
    let wanted = group_addresses(&g, &banks(&w.env, &g), &xmargin_test_support::markets::markets(&w.env, &g));
    assert_eq!(
        wanted.len(),
        4 + 2 + 3 * 3 + 1,
        "programs, group, vault, 3 banks, 1 market (its oracle is SOL's)"
    );
    assert_eq!(w.env.lookup_table_account(&table).addresses, wanted);

    // A fourth bank: the table lacks it until extend-lookup-table.
    let group = w.group;
    setup_bank(&mut w.env, &group, &admin, BTC, default_bank_args(3, BTC.feed_hex));
    let flags = format!("--lookup-table {table}");
    let erin = w.user(20, [10_000_000_000, 0, 0]);
    let refused = xmargin_table(&mut w, &erin.wallet, "extend-lookup-table", &flags).unwrap_err();
    assert!(refused.contains("its authority is"), "{refused}");
    xmargin_table(&mut w, &admin, "extend-lookup-table", &flags).unwrap();
    let now = w.env.lookup_table_account(&table).addresses;
    assert_eq!(now.len(), wanted.len() + 3, "bank 3, its vault and oracle");
    assert_eq!(now[..wanted.len()], wanted[..], "appended");
    let mut all =
        group_addresses(&g, &banks(&w.env, &g), &xmargin_test_support::markets::markets(&w.env, &g));
    let mut held = now.clone();
    all.sort();
    held.sort();
    assert_eq!(held, all, "every address the group's instructions share");
    let sent = w.env.sent_sizes.len();
    xmargin_table(&mut w, &admin, "extend-lookup-table", &flags).unwrap();
    assert_eq!(w.env.sent_sizes.len(), sent, "up to date: nothing sent");

    // The next slot: every address usable; a trade through the table.
    w.env.warp(1);
    w.refresh_prices();
    let frank = w.user(21, [10_000_000_000, 0, 0]);
    w.deposit(&erin, 0, 10_000_000_000).expect_ok();
    w.deposit(&frank, 0, 10_000_000_000).expect_ok();
    Cluster::set_lookup_table(&mut SvmChain { env: &mut w.env, signer: &admin }, &table).unwrap();
    let (erin_kp, frank_kp) = (keypair_file("erin-t.json", &erin), keypair_file("frank-t.json", &frank));
    let flags = format!(
        "--market-index 0 --size 100 --price 1500000 --buyer-keypair {frank_kp} --seller-keypair {erin_kp}"
    );
    xmargin(&mut w, &admin, "trade", &flags).unwrap();
    let last = *w.env.sent_sizes.last().unwrap();
    assert_eq!(last.looked_up, 5, "group, market, SOL and USDC oracles, USDC bank: {last:?}");
    assert_eq!(w.position(&frank, 0).base_contracts, 100);
    let _ = std::fs::remove_dir_all(dir());
}

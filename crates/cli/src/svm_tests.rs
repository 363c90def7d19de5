//! The market commands end to end on the embedded SVM: the same parsing and
//! execution as over JSON-RPC, with LiteSVM as the [`Cluster`].
use std::path::PathBuf;

use xmargin::state::{market_status, MarginAccount};
use xmargin_keeper::svm::SvmChain;
use xmargin_risk::{Fixed, Rounding};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Keypair, Signer};

use crate::args::Args;
use crate::markets;
use crate::rpc::{Cluster, Ctx};

impl Cluster for SvmChain<'_> {
    fn slot(&mut self) -> Result<u64, String> {
        Ok(self.env.clock().slot)
    }

    fn send_signed(
        &mut self,
        ixs: &[anchor_lang::solana_program::instruction::Instruction],
        others: &[&Keypair],
    ) -> Result<String, String> {
        let mut signers = vec![self.signer];
        signers.extend(others);
        let out = self.env.send(ixs, &signers);
        out.result.map(|()| format!("{} CU", out.compute_units)).map_err(|f| f.to_string())
    }
}

/// Runs `xmargin <command> <flags>` as `who` on the world's VM.
fn xmargin(w: &mut World, who: &Keypair, command: &str, flags: &str) -> Result<(), String> {
    let raw: Vec<String> =
        format!("--group {} {flags}", w.group.group).split_whitespace().map(String::from).collect();
    let a = Args::parse(&raw)?;
    let parsed = markets::parse(command, &a)?.expect("a market command");
    a.finish()?;
    let mut ctx = Ctx {
        chain: SvmChain { env: &mut w.env, signer: who },
        signer: who.insecure_clone(),
        me: who.pubkey(),
    };
    let result = markets::execute(&mut ctx, parsed);
    w.assert_all_vaults();
    result
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("xmargin-cli-svm-{}", std::process::id()));
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
    assert!(replay.contains("QuoteNonceUsed"), "{replay}");
    let next = w.env.zero_copy::<MarginAccount>(&erin.account);
    assert_eq!(markets::next_nonce(&next), 1);

    // An hour later anyone cranks funding (no premium: the last trade was at
    // the oracle) and settles erin's $0.015 a contract of profit from frank.
    w.env.warp(3_600);
    w.refresh_prices();
    xmargin(&mut w, &frank.wallet, "update-funding", "--market-index 0").unwrap();
    assert_eq!(w.market(0).last_funding_ts, w.env.unix_time());
    xmargin(&mut w, &frank.wallet, "settle-pnl", "--market-index 0").unwrap(); // nothing realised: nothing due
    let before = w.position(&erin, 0).realized_pnl;
    let flags = format!("--market-index 0 --winner {} --loser {}", erin.account, frank.account);
    xmargin(&mut w, &frank.wallet, "settle-pnl", &flags).unwrap();
    assert_eq!(before - w.position(&erin, 0).realized_pnl, 15_000_000, "1,000 × ($1.515 − $1.50) paid out");

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

    let mut ctx = Ctx {
        chain: SvmChain { env: &mut w.env, signer: &frank.wallet },
        signer: frank.wallet.insecure_clone(),
        me: frank.wallet.pubkey(),
    };
    let group = w.group.group;
    crate::show::show(&mut ctx, &group).unwrap();
    let _ = std::fs::remove_dir_all(dir());
}

//! Portfolio margin from the command line on the embedded SVM
//! (`--output json`): set-margin-mode switches a delta-hedged account (10
//! SOL deposited, 10 SOL sold on the perpetual) into portfolio mode and
//! back, refusals by name (`MarginModeUnchanged`, `UnauthorizedOwner`,
//! `MarginModeUnhealthy`), and show prints the account's health in its mode
//! and each underlying's book: its requirement per health type, what linear
//! mode would charge, the contingency and the worst scenario.
use xmargin::state::account_flags::PORTFOLIO_MODE;
use xmargin_test_support::margin::health_view;
use xmargin_test_support::markets::sol_perp_args;
use xmargin_test_support::world::{User, World};
use xmargin_test_support::Signer;

use crate::amount::ui;
use crate::svm_tests::run_as;

const USDC: u16 = 0;
const SOL: u16 = 1;
const ONE_SOL: u64 = 1_000_000_000;

fn run(w: &mut World, who: &xmargin_test_support::Keypair, line: &str) -> Result<serde_json::Value, String> {
    run_as(w, who, &format!("{line} --output json")).map(|d| d.expect("a JSON document"))
}

#[test]
fn set_margin_mode_and_the_portfolio_books_in_show() {
    let mut w = World::new();
    w.add_market(sol_perp_args(0)).expect_ok();
    let bob = w.user(11, [20_000_000_000, 0, 0]);
    w.deposit(&bob, USDC, 20_000_000_000).expect_ok();
    let alice = w.user(10, [0, 10 * ONE_SOL, 0]);
    w.deposit(&alice, SOL, 10 * ONE_SOL).expect_ok();
    w.trade(0, &bob, &alice, 1_000, 1_500_000).expect_ok();
    let acct = alice.account;
    let g = w.group.group;

    let shown = run(&mut w, &alice.wallet, &format!("show {acct}")).unwrap();
    assert_eq!((shown["margin_mode"].as_str(), shown["portfolio"].is_null()), (Some("linear"), true));

    let set = run(&mut w, &alice.wallet, &format!("set-margin-mode {acct} portfolio")).unwrap();
    assert_eq!((set["previous_mode"].as_str(), set["mode"].as_str()), (Some("linear"), Some("portfolio")));
    assert_ne!(w.flags(&alice) & PORTFOLIO_MODE, 0);
    let view = health_view(&mut w.env, &g, &acct);
    assert_eq!(set["health_init"], ui(i128::from(view.init), 6), "{set}");

    // show: the program's portfolio numbers and one SOL book paying its contingency alone:
    // 1 % (Init) of 1,500 of SOL and 1,500 of perpetual; linear mode would charge ≈ 449.90.
    let shown = run(&mut w, &alice.wallet, &format!("show {acct}")).unwrap();
    assert_eq!(shown["margin_mode"], "portfolio");
    assert_eq!(shown["health"]["init"], ui(i128::from(view.init), 6));
    assert_eq!(shown["health"]["maint"], ui(i128::from(view.maint), 6));
    let books = shown["portfolio"].as_array().expect("books");
    assert_eq!(books.len(), 1, "{shown}");
    let sol = &books[0];
    assert_eq!(sol["underlying"], SOL);
    assert_eq!(sol["requirement"]["init"], "30.000000");
    assert_eq!(sol["requirement"]["maint"], "15.000000");
    assert_eq!((sol["worst_loss"].as_str(), sol["worst_scenario"].is_null()), (Some("0.000000"), true));
    let linear: f64 = sol["init_linear"].as_str().unwrap().parse().unwrap();
    assert!((449.0..451.0).contains(&linear), "{sol}");
    run_as(&mut w, &alice.wallet, &format!("show {acct}")).unwrap(); // the text view

    // Refusals by name, nothing changed.
    let e = run(&mut w, &alice.wallet, &format!("set-margin-mode {acct} portfolio")).unwrap_err();
    assert!(e.contains("MarginModeUnchanged"), "{e}");
    let e = run(&mut w, &bob.wallet, &format!("set-margin-mode {acct} linear")).unwrap_err();
    assert!(e.contains("UnauthorizedOwner"), "{e}");
    let e = run(&mut w, &alice.wallet, &format!("set-margin-mode {acct} cross")).unwrap_err();
    assert!(e.contains("invalid value 'cross'"), "{e}");
    assert_ne!(w.flags(&alice) & PORTFOLIO_MODE, 0);

    // 1,400 USDC borrowed in portfolio mode: linear mode would find it below Init 0.
    let token = w.env.create_token_account(&w.banks[0].mint, &alice.wallet.pubkey());
    let alice = User { tokens: [token, alice.tokens[1], alice.tokens[2]], ..alice };
    w.withdraw(&alice, USDC, 1_400_000_000).expect_ok();
    let e = run(&mut w, &alice.wallet, &format!("set-margin-mode {acct} linear")).unwrap_err();
    assert!(e.contains("MarginModeUnhealthy"), "{e}");
    assert_ne!(w.flags(&alice) & PORTFOLIO_MODE, 0, "still portfolio");
    w.deposit(&alice, USDC, 1_400_000_000).expect_ok();
    let back = run(&mut w, &alice.wallet, &format!("set-margin-mode {acct} linear")).unwrap();
    assert_eq!(back["mode"], "linear");
    assert_eq!(w.flags(&alice) & PORTFOLIO_MODE, 0);
}

//! Every pause flag against every instruction (issue 10, finding 4: before
//! the fix `resolve_bankruptcy` ignored the liquidation pause). A paused
//! instruction fails with GroupPaused and changes nothing; every other one
//! still runs — repay above all, so a pause never traps a borrower.
use solana_instruction::Instruction;
use xmargin::errors::XmarginError;
use xmargin::state::pause;
use xmargin_client::instructions::withdraw_fees;
use xmargin_test_support::fixtures::set_delegate_ix;
use xmargin_test_support::margin::{
    accrue_interest_ix, bank_keys, compute_health_ix, deposit_ix, liquidate_token_ix, resolve_bankruptcy_ix,
    set_pause_ix, withdraw_ix,
};
use xmargin_test_support::world::{User, World};
use xmargin_test_support::{Address, Keypair, Signer};

const USDC: u16 = 0;
const SOL: u16 = 1;
const LAMPORTS: u64 = 1_000_000_000;
const MICRO: u64 = 1_000_000;

/// Bob lends; Alice is liquidatable (10 SOL against 1,150 USDC at $125);
/// Carol is bankrupt (USDC debt, nothing left); the USDC bank holds a day of
/// protocol fees.
struct Scene {
    w: World,
    alice: User,
    bob: User,
    carol: User,
}

fn scene() -> Scene {
    let mut w = World::new();
    let bob = w.user(11, [100_000 * MICRO, 0, 0]);
    w.deposit(&bob, USDC, 50_000 * MICRO).expect_ok();
    let alice = w.user(10, [0, 10 * LAMPORTS, 0]);
    w.deposit(&alice, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&alice, USDC, 1_150 * MICRO).expect_ok();
    let carol = w.user(12, [0, 10 * LAMPORTS, 0]);
    w.deposit(&carol, SOL, 10 * LAMPORTS).expect_ok();
    w.withdraw(&carol, USDC, 1_150 * MICRO).expect_ok();
    w.set_price(SOL, 5_000_000_000, 10_000_000);
    w.liquidate(&carol, &bob, SOL, USDC, u64::MAX).expect_ok();
    // A day of interest on the USDC borrows: protocol fees to withdraw.
    w.env.warp(86_400);
    w.refresh_prices();
    w.env.send_ok(&[accrue_interest_ix(&w.env, &w.group.group, USDC)], &[]);
    w.set_price(SOL, 12_500_000_000, 10_000_000);
    Scene { w, alice, bob, carol }
}

/// One instruction of the matrix: what pauses it, how to build it, who signs.
struct Case {
    name: &'static str,
    paused_by: u8,
    build: fn(&Scene) -> (Instruction, Vec<Address>),
    signer: fn(&Scene) -> Option<&Keypair>,
}

fn alice(s: &Scene) -> Option<&Keypair> {
    Some(&s.alice.wallet)
}

fn bob(s: &Scene) -> Option<&Keypair> {
    Some(&s.bob.wallet)
}

fn admin(s: &Scene) -> Option<&Keypair> {
    Some(&s.w.admin)
}

fn nobody(_: &Scene) -> Option<&Keypair> {
    None
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "deposit",
            paused_by: pause::DEPOSITS,
            build: |s| {
                let (g, a) = (s.w.group.group, &s.bob);
                let ix = deposit_ix(
                    &s.w.env,
                    &g,
                    &a.account,
                    USDC,
                    &a.tokens[0],
                    &a.wallet.pubkey(),
                    MICRO,
                    false,
                );
                (ix, vec![a.account, a.tokens[0], s.w.banks[0].bank])
            },
            signer: bob,
        },
        Case {
            name: "repay",
            paused_by: 0,
            build: |s| {
                let (g, a) = (s.w.group.group, &s.alice);
                let ix =
                    deposit_ix(&s.w.env, &g, &a.account, USDC, &a.tokens[0], &a.wallet.pubkey(), MICRO, true);
                (ix, vec![a.account])
            },
            signer: alice,
        },
        Case {
            name: "withdraw",
            paused_by: pause::WITHDRAWALS,
            build: |s| {
                let (g, a) = (s.w.group.group, &s.bob);
                let ix = withdraw_ix(&s.w.env, &g, &a.account, USDC, &a.tokens[0], &a.wallet.pubkey(), MICRO);
                (ix, vec![a.account, a.tokens[0], s.w.banks[0].bank])
            },
            signer: bob,
        },
        Case {
            name: "liquidate_token",
            paused_by: pause::LIQUIDATIONS,
            build: |s| {
                let (g, a, b) = (s.w.group.group, &s.alice, &s.bob);
                let ix = liquidate_token_ix(
                    &s.w.env,
                    &g,
                    &a.account,
                    &b.account,
                    &b.wallet.pubkey(),
                    SOL,
                    USDC,
                    MICRO,
                );
                (ix, vec![a.account, b.account, s.w.banks[0].bank, s.w.banks[1].bank])
            },
            signer: bob,
        },
        Case {
            name: "resolve_bankruptcy",
            paused_by: pause::LIQUIDATIONS,
            build: |s| {
                let ix = resolve_bankruptcy_ix(&s.w.env, &s.w.group.group, &s.carol.account, USDC);
                (ix, vec![s.carol.account, s.w.banks[0].bank, s.w.group.insurance_vault])
            },
            signer: nobody,
        },
        Case {
            name: "withdraw_fees",
            paused_by: pause::WITHDRAWALS,
            build: |s| {
                let (g, admin) = (s.w.group.group, s.w.admin.pubkey());
                let keys = bank_keys(&s.w.env, &g, USDC);
                (
                    withdraw_fees(&g, &admin, &keys, &s.bob.tokens[0], 1),
                    vec![keys.bank, keys.vault, s.bob.tokens[0]],
                )
            },
            signer: admin,
        },
        Case {
            name: "accrue_interest",
            paused_by: 0,
            build: |s| (accrue_interest_ix(&s.w.env, &s.w.group.group, SOL), vec![]),
            signer: nobody,
        },
        Case {
            name: "compute_health",
            paused_by: 0,
            build: |s| (compute_health_ix(&s.w.env, &s.w.group.group, &s.alice.account), vec![]),
            signer: nobody,
        },
        Case {
            name: "set_delegate",
            paused_by: 0,
            build: |s| {
                let ix = set_delegate_ix(&s.bob.account, &s.bob.wallet.pubkey(), &s.alice.wallet.pubkey());
                (ix, vec![])
            },
            signer: bob,
        },
    ]
}

#[test]
fn every_flag_pauses_exactly_its_instructions() {
    let flags = [pause::DEPOSITS, pause::WITHDRAWALS, pause::LIQUIDATIONS, pause::TRADING, pause::ALL, 0];
    for flag in flags {
        for case in cases() {
            let mut s = scene();
            let admin = s.w.admin.insecure_clone();
            s.w.env.send_ok(&[set_pause_ix(&s.w.group.group, &admin.pubkey(), flag)], &[&admin]);
            let (ix, watched) = (case.build)(&s);
            let signer = (case.signer)(&s).map(|k| k.insecure_clone());
            let signers: Vec<&Keypair> = signer.iter().collect();
            if flag & case.paused_by != 0 {
                s.w.env.send_err(&[ix], &signers, XmarginError::GroupPaused, &watched);
            } else {
                let out = s.w.env.send(&[ix], &signers);
                assert!(out.result.is_ok(), "{} under flags {flag:#06b}: {:?}", case.name, out.result);
            }
        }
    }
}

/// Unpausing lifts it: the same resolution goes through once the flag is cleared.
#[test]
fn clearing_the_flag_resumes_liquidations() {
    let mut s = scene();
    let (admin, g) = (s.w.admin.insecure_clone(), s.w.group.group);
    s.w.env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), pause::LIQUIDATIONS)], &[&admin]);
    s.w.resolve(&s.carol, USDC).expect_error(XmarginError::GroupPaused);
    s.w.env.send_ok(&[set_pause_ix(&g, &admin.pubkey(), 0)], &[&admin]);
    s.w.resolve(&s.carol, USDC).expect_ok();
}

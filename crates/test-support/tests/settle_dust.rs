//! `settle_dust`: the protocol collects the funding rounding it holds, so a
//! payer's last unit of realised loss does not keep its position slot open.
//!
//! ```text
//! Alice buys 100 contracts (1 SOL) from Bob at $155 (oracle $150); an hour
//! later update_funding: rate 1/720 per hour, Δcum = 2,083.33 µUSDC/contract.
//! Alice sells the 100 back to Bob at $155; the trade settles funding first:
//!   Alice ⌊−208,333.33⌋ = −208,334, Bob ⌊+208,333.33⌋ = +208,333, dust 1.
//! settle_pnl(Bob, Alice) moves 208,333 µUSDC: Bob's slot frees, Alice keeps
//! −1 of realised loss, the protocol's 1 unit of dust.
//! settle_dust(Alice) moves that 1 µUSDC from her USDC into the USDC bank's
//! collected fees: dust 0, her slot frees, the market holds no slot.
//! ```
use xmargin::errors::XmarginError;
use xmargin::state::Bank;
use xmargin_client::market_instructions as mixs;
use xmargin_risk::Fixed;
use xmargin_test_support::market_checks::PnlLedger;
use xmargin_test_support::markets::perp_desk;
use xmargin_test_support::world::World;

const USDC: u16 = 0;
const PERP: u16 = 0;

fn fees(w: &World) -> Fixed {
    w.env.zero_copy::<Bank>(&w.banks[USDC as usize].bank).collected_fees.get()
}

#[test]
fn the_protocol_collects_its_funding_dust() {
    let (mut w, alice, bob) = perp_desk(PERP);
    let mut ledger = PnlLedger::new(&w, PERP, &[&alice, &bob]);

    w.trade(PERP, &alice, &bob, 100, 1_550_000).expect_ok();
    // No dust yet: nothing to collect, nothing changes.
    let before = w.env.snapshot(&[alice.account, w.market_keys(PERP).market, w.banks[0].bank]);
    w.settle_dust(PERP, &alice).expect_error(XmarginError::NoPnlToSettle);
    assert_eq!(w.env.snapshot(&[alice.account, w.market_keys(PERP).market, w.banks[0].bank]), before);

    w.env.warp(3_600);
    w.refresh_prices();
    w.update_funding(PERP).expect_ok();
    w.trade(PERP, &bob, &alice, 100, 1_550_000).expect_ok();
    assert_eq!(
        (w.position(&alice, PERP).realized_pnl, w.position(&bob, PERP).realized_pnl),
        (-208_334, 208_333)
    );
    assert_eq!(w.market(PERP).funding_dust.get(), Fixed::ONE);
    ledger.assert_conserved(&w);
    assert_eq!(ledger.settle(&mut w, &bob, &alice), 208_333);
    assert!(w.position(&bob, PERP).in_use == 0, "Bob's slot is free");
    assert_eq!(w.position(&alice, PERP).realized_pnl, -1, "the protocol's unit");
    assert_eq!(w.market(PERP).position_count, 1);

    // The wrong bank is refused with nothing changed.
    let keys = [alice.account, w.market_keys(PERP).market, w.banks[0].bank, w.banks[1].bank];
    let before = w.env.snapshot(&keys);
    let ix = mixs::settle_dust(&w.group.group, &keys[1], &alice.account, &w.banks[1].bank);
    w.env.send(&[ix], &[]).expect_error(XmarginError::WrongQuoteBank);
    assert_eq!(w.env.snapshot(&keys), before);
    // Bob has no slot left.
    w.settle_dust(PERP, &bob).expect_error(XmarginError::NoPosition);

    let fees_before = fees(&w);
    w.settle_dust(PERP, &alice).expect_ok();
    // Alice's quote balance paid the unit: the accounts' claims now sum to
    // minus what the protocol holds in fees.
    ledger.settled[0] -= 1;
    assert_eq!(ledger.total(&w), Fixed::from_i64(-1), "the unit is in the bank's fees");
    assert_eq!(w.market(PERP).funding_dust.get(), Fixed::ZERO);
    assert!(w.position(&alice, PERP).in_use == 0, "Alice's slot is free");
    assert_eq!(w.market(PERP).position_count, 0);
    assert_eq!(fees(&w), fees_before.checked_add(Fixed::ONE).unwrap(), "one µUSDC of fees");
    w.settle_dust(PERP, &alice).expect_error(XmarginError::NoPosition);
}

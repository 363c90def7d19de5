//! SCRATCH (not to commit).
use xmargin_test_support::random_ops::generate;
use xmargin_test_support::random_ops::market::{to_f64, Market};

#[test]
#[ignore]
fn scratch_slack() {
    let ops = generate(777, 54_751);
    let mut m = Market::new(777);
    for (i, op) in ops.iter().enumerate() {
        let sent = m.execute(*op);
        if i >= 54_735 {
            let b = m.bank(1);
            let (d, br) = b.native_totals().unwrap();
            let claims = to_f64(d) - to_f64(br) + to_f64(b.collected_fees.get());
            let held = m.balance(&b.vault) as f64;
            println!(
                "{i} {op}: slack {:.1} dep_idx {:.6e} dep_shares {:.3e} fees {:.1} deficit {:.1} {:?}",
                held - claims,
                to_f64(b.deposit_index.get()),
                to_f64(b.deposit_shares.get()),
                to_f64(b.collected_fees.get()),
                to_f64(b.deficit.get()),
                sent.iter().map(|s| (s.label.clone(), s.accepted())).collect::<Vec<_>>()
            );
        }
    }
}

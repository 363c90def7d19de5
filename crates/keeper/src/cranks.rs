//! Market cranks, each permissionless and sent only when due:
//! - `update_funding` of a perpetual whose last update is at least
//!   `funding_interval_secs` old and whose oracle is usable;
//! - `sample_price` of a live dated future or option in its last 30 minutes
//!   (`SETTLEMENT_WINDOW_SECS`), at most every `sample_interval_secs`: an
//!   option's settlement price comes from the same samples, so an honest
//!   keeper samples it too rather than leave the window to one sampler;
//! - `settle_expired` of every position (base or cost left) in an expired
//!   future or option. The first call fixes the settlement price; if it fails (too few
//!   samples and no fresh price published in the oracle's max age after
//!   expiry), the market waits for the next cycle, and an hour after expiry
//!   (`SETTLEMENT_TIMEOUT_SECS`) it settles on its samples or stable price;
//! - `update_risk_array` of an option market whose array is past
//!   `risk_array_refresh_percent` % of the program's age or drift bound
//!   ([`crate::risk_arrays`]), before health checks start refusing it.
use anchor_lang::prelude::Pubkey;
use xmargin::state::{market_kind, market_status, Market};
use xmargin_client::market_instructions::{self as mixs, MarketKeys};
use xmargin_risk::settlement::SETTLEMENT_WINDOW_SECS;

use crate::risk_arrays::refresh_due;
use crate::snapshot::Snapshot;
use crate::{Sender, Touched};

/// What a market needs now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crank {
    UpdateFunding,
    SamplePrice,
    SettleExpired,
}

/// The cranks `market` is due for at `now` (its oracle usable or not:
/// the caller checks).
pub fn due(
    market: &Market,
    now: i64,
    funding_interval_secs: u64,
    sample_interval_secs: u64,
) -> Option<Crank> {
    let interval = |secs: u64| i64::try_from(secs).unwrap_or(i64::MAX);
    match market.kind {
        market_kind::PERPETUAL => (now.saturating_sub(market.last_funding_ts)
            >= interval(funding_interval_secs)
            && now > market.last_funding_ts)
            .then_some(Crank::UpdateFunding),
        market_kind::FUTURE | market_kind::OPTION if market.is_expired(now) => Some(Crank::SettleExpired),
        market_kind::FUTURE | market_kind::OPTION if market.status == market_status::ACTIVE => {
            let window_start = market.expiry_ts.saturating_sub(SETTLEMENT_WINDOW_SECS as i64);
            let spaced = market.sample_count == 0
                || (now > market.last_sample_ts
                    && now.saturating_sub(market.last_sample_ts) >= interval(sample_interval_secs));
            (now >= window_start && spaced).then_some(Crank::SamplePrice)
        }
        _ => None,
    }
}

/// Sends every crank due (module docs); returns the accounts it wrote.
pub fn run(sender: &mut Sender, snap: &Snapshot) -> Touched {
    let mut touched = Touched::default();
    let group = snap.group;
    let (funding_every, sample_every) =
        (sender.config().funding_interval_secs, sender.config().sample_interval_secs);
    for (index, entry) in &snap.markets {
        let m = &entry.market;
        let keys = MarketKeys { market: entry.address, oracle: m.oracle };
        let priced = snap.market_templates.get(index).is_some_and(|t| t.oracle.is_some());
        match due(m, snap.now, funding_every, sample_every) {
            Some(Crank::UpdateFunding) if priced => {
                if sender.send("update_funding", &entry.address, mixs::update_funding(&group, &keys)) {
                    sender.summary.funding_updates += 1;
                    touched.any = true;
                }
            }
            Some(Crank::SamplePrice) if priced => {
                if sender.send("sample_price", &entry.address, mixs::sample_price(&group, &keys)) {
                    sender.summary.price_samples += 1;
                    touched.any = true;
                }
            }
            Some(Crank::SettleExpired) => settle_expired(sender, snap, *index, &keys, &mut touched),
            _ => {}
        }
        if m.is_option() {
            update_risk_array(sender, snap, *index, &keys, &mut touched);
        }
    }
    touched
}

/// `update_risk_array` of option market `index` when due and priced.
fn update_risk_array(
    sender: &mut Sender,
    snap: &Snapshot,
    index: u16,
    keys: &MarketKeys,
    touched: &mut Touched,
) {
    let market = &snap.markets[&index].market;
    let Some(oracle) = snap.market_templates.get(&index).and_then(|t| t.oracle) else {
        if !market.is_expired(snap.now) {
            tracing::debug!(market = index, "option market oracle unusable: risk array not updated");
        }
        return;
    };
    let percent = sender.config().risk_array_refresh_percent;
    let Some(reason) = refresh_due(market, snap.now, oracle.lo, percent, &snap.grid) else { return };
    tracing::debug!(market = index, reason = reason.as_str(), "risk array due");
    if sender.send("update_risk_array", &keys.market, mixs::update_risk_array(&snap.group, keys)) {
        sender.summary.risk_array_updates += 1;
        touched.any = true;
    }
}

/// `settle_expired` for every account with base or cost left in the market.
fn settle_expired(
    sender: &mut Sender,
    snap: &Snapshot,
    index: u16,
    keys: &MarketKeys,
    touched: &mut Touched,
) {
    let fixing_price = snap.markets[&index].market.status == market_status::ACTIVE;
    let open: Vec<Pubkey> = snap
        .accounts
        .iter()
        .filter(|(_, acc)| {
            acc.derivative_position(index).is_some_and(|p| p.base_contracts != 0 || p.quote_cost != 0)
        })
        .map(|(a, _)| *a)
        .collect();
    for (i, account) in open.iter().enumerate() {
        let ix = mixs::settle_expired(&snap.group, keys, account);
        if sender.send("settle_expired", account, ix) {
            sender.summary.expiries_settled += 1;
            touched.any = true;
            touched.accounts.push(*account);
        } else if i == 0 && fixing_price {
            // The settlement price could not be fixed yet: every other call would fail the same way.
            tracing::info!(market = index, "expired market not settleable yet; retrying next cycle");
            return;
        }
    }
    if open.is_empty() && fixing_price {
        tracing::debug!(market = index, "expired market with no open positions");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future(expiry: i64) -> Market {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.kind = market_kind::FUTURE;
        m.expiry_ts = expiry;
        m
    }

    #[test]
    fn what_is_due_when() {
        let mut perp: Market = bytemuck::Zeroable::zeroed();
        perp.last_funding_ts = 1_000;
        assert_eq!(due(&perp, 4_599, 3_600, 60), None);
        assert_eq!(due(&perp, 4_600, 3_600, 60), Some(Crank::UpdateFunding));
        assert_eq!(due(&perp, 1_000, 0, 60), None, "never twice in one second");

        let expiry = 10_000;
        let mut f = future(expiry);
        assert_eq!(due(&f, expiry - 1_801, 3_600, 60), None, "before the window");
        assert_eq!(due(&f, expiry - 1_800, 3_600, 60), Some(Crank::SamplePrice));
        f.sample_count = 1;
        f.last_sample_ts = expiry - 1_800;
        assert_eq!(due(&f, expiry - 1_741, 3_600, 60), None, "a minute apart");
        assert_eq!(due(&f, expiry - 1_740, 3_600, 60), Some(Crank::SamplePrice));
        assert_eq!(due(&f, expiry, 3_600, 60), Some(Crank::SettleExpired));
        f.status = market_status::SETTLED;
        assert_eq!(due(&f, expiry + 5, 3_600, 60), Some(Crank::SettleExpired));
    }

    /// An option market is sampled and settled on the future's schedule.
    #[test]
    fn options_are_sampled_and_settled_as_futures() {
        let expiry = 10_000;
        let mut o = future(expiry);
        o.kind = market_kind::OPTION;
        assert_eq!(due(&o, expiry - 1_801, 3_600, 60), None, "before the window");
        assert_eq!(due(&o, expiry - 1_800, 3_600, 60), Some(Crank::SamplePrice));
        (o.sample_count, o.last_sample_ts) = (1, expiry - 1_800);
        assert_eq!(due(&o, expiry - 1_741, 3_600, 60), None, "a minute apart");
        assert_eq!(due(&o, expiry - 1, 3_600, 60), Some(Crank::SamplePrice));
        assert_eq!(due(&o, expiry, 3_600, 60), Some(Crank::SettleExpired));
        o.status = market_status::SETTLED;
        assert_eq!(due(&o, expiry + 5, 3_600, 60), Some(Crank::SettleExpired));
    }
}

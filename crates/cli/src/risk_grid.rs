//! `xmargin update-risk-grid` (admin): the group's scenario grid, risk-array
//! rules and portfolio parameters (`xmargin::options`; a tightening at once,
//! a loosening after the group's delay), and the grid lines `show` prints.
use anchor_lang::prelude::Pubkey;
use clap::Args;
use serde_json::{json, Value};
use xmargin::instructions::UpdateRiskGridArgs;
use xmargin::state::{Group, RiskGridParams};
use xmargin_client::market_instructions as mixs;

use crate::cli::GroupArg;
use crate::rpc::{Cluster, Ctx};

/// The fields to change; the others keep the group's target (its pending
/// change if one waits, else the grid in force).
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct RiskGridChange {
    /// Price shocks in bps, strictly increasing, comma-separated (e.g. -1500,-750,0,750,1500)
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, value_name = "BPS,…")]
    pub price_shocks_bps: Option<Vec<i16>>,
    /// Vol shocks at the 30-day tenor in bps of volatility, comma-separated (e.g. -1000,0,1000)
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, value_name = "BPS,…")]
    pub vol_shocks_bps: Option<Vec<i16>>,
    /// Portfolio loss scales Init,LiquidationEnd,Maint in bps (e.g. 12500,11000,10000)
    #[arg(long, value_delimiter = ',', num_args = 1, value_name = "INIT,LIQ_END,MAINT")]
    pub shock_scale_bps: Option<Vec<u16>>,
    /// Portfolio contingencies Init,LiquidationEnd,Maint in bps (e.g. 100,75,50)
    #[arg(long, value_delimiter = ',', num_args = 1, value_name = "INIT,LIQ_END,MAINT")]
    pub floor_bps: Option<Vec<u16>>,
    /// Risk-array max age (seconds)
    #[arg(long)]
    pub max_age_secs: Option<u32>,
    /// Risk-array max oracle drift (bps)
    #[arg(long)]
    pub max_drift_bps: Option<u16>,
}

/// The `update-risk-grid` subcommand's flags.
#[derive(Debug, Clone, Args)]
pub struct UpdateRiskGridFlags {
    #[command(flatten)]
    pub group: GroupArg,
    #[command(flatten)]
    pub change: RiskGridChange,
}

fn three(v: &Option<Vec<u16>>, was: [u16; 3], what: &str) -> Result<[u16; 3], String> {
    match v {
        None => Ok(was),
        Some(v) => <[u16; 3]>::try_from(v.as_slice())
            .map_err(|_| format!("--{what} takes three values: Init,LiquidationEnd,Maint")),
    }
}

impl RiskGridChange {
    /// The instruction's arguments: `target` with the given fields replaced.
    pub fn args(&self, target: &RiskGridParams) -> Result<UpdateRiskGridArgs, String> {
        let was = UpdateRiskGridArgs::from_params(target);
        Ok(UpdateRiskGridArgs {
            price_shocks_bps: self.price_shocks_bps.clone().unwrap_or(was.price_shocks_bps),
            vol_shocks_bps: self.vol_shocks_bps.clone().unwrap_or(was.vol_shocks_bps),
            shock_scale_bps: three(&self.shock_scale_bps, was.shock_scale_bps, "shock-scale-bps")?,
            floor_bps: three(&self.floor_bps, was.floor_bps, "floor-bps")?,
            max_age_secs: self.max_age_secs.unwrap_or(was.max_age_secs),
            max_drift_bps: self.max_drift_bps.unwrap_or(was.max_drift_bps),
        })
    }
}

/// What a change starts from: the pending change if one waits, else the grid in force.
fn target(g: &Group, now: i64) -> RiskGridParams {
    if g.pending_risk_grid_ts != 0 && now < g.pending_risk_grid_ts {
        g.pending_risk_grid
    } else {
        g.risk_grid_at(now)
    }
}

pub fn execute<C: Cluster>(ctx: &mut Ctx<C>, group: &Pubkey, change: &RiskGridChange) -> Result<(), String> {
    let now = ctx.chain.unix_time().map_err(|e| e.to_string())?;
    let before = ctx.group(group)?;
    let args = change.args(&target(&before, now))?;
    let me = ctx.me;
    let was = before.risk_grid_at(now).grid_id;
    ctx.send(&format!("update-risk-grid {group}"), mixs::update_risk_grid(group, &me, args))?;
    let after = ctx.group(group)?;
    let in_force = after.risk_grid_at(now);
    ctx.out.field("risk_grid", grid_json(&in_force));
    ctx.out.field("previous_grid_id", was);
    let text = if after.pending_risk_grid_ts != 0 {
        ctx.out.field("pending", grid_json(&after.pending_risk_grid));
        ctx.out.field("pending_from", after.pending_risk_grid_ts);
        format!(
            "grid {:#010x} in force; {:#010x} from {} (a loosening waits the group's delay)",
            in_force.grid_id, after.pending_risk_grid.grid_id, after.pending_risk_grid_ts
        )
    } else if in_force.grid_id != was {
        format!(
            "grid {:#010x} in force: run update-risk-array (arrays on the old grid are refused until then)",
            in_force.grid_id
        )
    } else {
        format!("grid {:#010x} in force (same scenarios: arrays stay valid)", in_force.grid_id)
    };
    ctx.out.note("grid_id", in_force.grid_id, text);
    Ok(())
}

/// A grid as JSON (bps, seconds).
pub fn grid_json(p: &RiskGridParams) -> Value {
    json!({
        "grid_id": p.grid_id,
        "scenarios": p.grid_len,
        "price_shocks_bps": p.price_shocks(),
        "vol_shocks_bps": p.vol_shocks(),
        "shock_scale_bps": p.shock_scale_bps,
        "floor_bps": p.floor_bps,
        "max_age_secs": p.max_age_secs,
        "max_drift_bps": p.max_drift_bps,
    })
}

/// One line of a grid (bps, seconds).
pub fn grid_line(p: &RiskGridParams) -> String {
    format!(
        "grid {:#010x} ({} scenarios): price {:?} x vol {:?} bps; scales {:?}, contingencies {:?} bps (Init, LiqEnd, Maint); arrays valid {} s, {} bps drift",
        p.grid_id,
        p.grid_len,
        p.price_shocks(),
        p.vol_shocks(),
        p.shock_scale_bps,
        p.floor_bps,
        p.max_age_secs,
        p.max_drift_bps
    )
}

/// `show`'s grid lines: the grid in force and a pending loosening.
pub fn print_grid(g: &Group, now: i64) {
    println!("risk {}", grid_line(&g.risk_grid_at(now)));
    if g.pending_risk_grid_ts != 0 && now < g.pending_risk_grid_ts {
        println!("  pending from {}: {}", g.pending_risk_grid_ts, grid_line(&g.pending_risk_grid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmargin::options::DEFAULT_RISK_GRID;

    #[test]
    fn unset_fields_keep_the_target() {
        let d = DEFAULT_RISK_GRID;
        assert_eq!(RiskGridChange::default().args(&d).unwrap(), UpdateRiskGridArgs::from_params(&d));
        let c = RiskGridChange {
            floor_bps: Some(vec![200, 100, 50]),
            max_age_secs: Some(300),
            ..Default::default()
        };
        let a = c.args(&d).unwrap();
        assert_eq!(
            (a.floor_bps, a.max_age_secs, a.shock_scale_bps),
            ([200, 100, 50], 300, d.shock_scale_bps)
        );
        let bad = RiskGridChange { shock_scale_bps: Some(vec![1, 2]), ..Default::default() };
        assert!(bad.args(&d).unwrap_err().contains("three values"));
    }

    /// `update-risk-grid` on the embedded SVM: a tightening in force at once,
    /// a loosening pending (fields left out keep the target), refusals by
    /// name; `show` prints the grid.
    #[test]
    fn update_risk_grid_on_the_embedded_svm() {
        use xmargin_test_support::world::World;

        let mut w = World::new();
        let admin = w.admin.insecure_clone();
        let now = w.env.unix_time();
        let g = w.group.group;
        let run = |w: &mut World, who: &xmargin_test_support::Keypair, flags: &str| {
            let line = format!("update-risk-grid --group {g} {flags} --output json");
            crate::svm_tests::run_as(w, who, &line).map(|d| d.expect("a JSON document"))
        };
        let tight =
            run(&mut w, &admin, "--price-shocks-bps -1500,-1000,-750,0,750,1500 --floor-bps 200,75,50")
                .unwrap();
        assert_eq!(tight["risk_grid"]["scenarios"], 27, "{tight}");
        assert_eq!(tight["previous_grid_id"], DEFAULT_RISK_GRID.grid_id);
        assert!(tight.get("pending").is_none(), "{tight}");
        let grid = w.env.zero_copy::<Group>(&g).risk_grid;
        assert_eq!((grid.price_shock_count, grid.floor_bps), (6, [200, 75, 50]));
        assert_eq!(tight["grid_id"], grid.grid_id);

        let loose = run(&mut w, &admin, "--max-age-secs 900").unwrap();
        assert_eq!(loose["pending_from"], now + 3_600, "{loose}");
        assert_eq!(loose["pending"]["max_age_secs"], 900);
        assert_eq!(loose["pending"]["floor_bps"], json!([200, 75, 50]), "the other fields kept");
        let group = w.env.zero_copy::<Group>(&g);
        assert_eq!((group.risk_grid.max_age_secs, group.pending_risk_grid.max_age_secs), (600, 900));

        let e = run(&mut w, &admin, "--max-drift-bps 5000").unwrap_err();
        assert!(e.contains("RiskArrayMaxDriftOutOfBounds"), "{e}");
        let e = run(&mut w, &admin, "--price-shocks-bps=-1500,0,0").unwrap_err();
        assert!(e.contains("RiskGridShocksNotIncreasing"), "{e}");
        let eve = w.env.new_wallet(66);
        let e = run(&mut w, &eve, "--floor-bps 300,75,50").unwrap_err();
        assert!(e.contains("UnauthorizedAdmin"), "{e}");
        let shown =
            crate::svm_tests::run_as(&mut w, &admin, &format!("show --group {g} --output json")).unwrap();
        assert_eq!(shown.unwrap()["risk_grid"]["grid_id"], grid.grid_id);
        crate::svm_tests::run_as(&mut w, &admin, &format!("show --group {g}")).unwrap();
    }
}

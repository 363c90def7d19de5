//! `xmargin` — command line for the xmargin program.
//!
//! `xmargin demo` plays a scenario on an embedded SVM (LiteSVM running the real
//! SBF build of the program) and prints what happened; the admin, user and
//! market commands work against a cluster's JSON-RPC, with the Solana CLI's
//! conventions (`settings.rs`: `-u`, `-k`, `--commitment`, its config file).
mod amount;
mod bank_config;
mod cli;
mod commands;
mod compute_budget;
mod demo;
mod demo_markets;
mod lookup;
mod margin_mode;
mod market_config;
mod market_flags;
mod markets;
mod option_commands;
mod option_series;
mod output;
mod program_id;
#[cfg(test)]
mod program_id_tests;
mod quote;
mod risk_grid;
mod rpc;
mod settings;
mod show;
mod show_account;
mod show_portfolio;
mod stdout_guard;
#[cfg(test)]
mod svm_option_tests;
#[cfg(test)]
mod svm_portfolio_tests;
#[cfg(test)]
mod svm_tests;
#[cfg(test)]
mod svm_user_tests;
mod update_bank;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::output::Output;
use crate::program_id::ProgramTarget;

/// Why a command failed, and whether its JSON document (with what it sent
/// before failing) was printed already.
struct Failure {
    error: String,
    printed: bool,
}

impl From<String> for Failure {
    fn from(error: String) -> Self {
        Failure { error, printed: false }
    }
}

/// Connects as the settings say and runs `cli.command`.
fn run(cli: Cli) -> Result<(), Failure> {
    let settings =
        settings::resolve(&cli.global.overrides(), &settings::home_dir()).map_err(|e| e.to_string())?;
    let program = ProgramTarget::new(cli.global.program_id.unwrap_or(xmargin::ID));
    let out = Output::new(cli.global.output, &cli.command.name());
    let mut ctx = rpc::connect(&settings, program, cli.global.budget(), out)?;
    // The lookup-table commands send small transactions without the table
    // (create: it does not exist yet; extend: its newest addresses are not
    // usable until the next slot).
    if let (Some(table), false) = (
        cli.global.lookup_table,
        matches!(cli.command, Command::CreateLookupTable { .. } | Command::ExtendLookupTable { .. }),
    ) {
        rpc::Cluster::set_lookup_table(&mut ctx.chain, &table)?;
    }
    // JSON mode: stray prints (the program's `msg!` run off-chain) go to stderr, not into the document.
    let guard =
        (cli.global.output == output::OutputFormat::Json).then(stdout_guard::StdoutToStderr::start).flatten();
    let result = commands::execute(&mut ctx, cli.command, cli.global.lookup_table);
    drop(guard);
    if let Err(error) = result {
        let document = ctx.out.failed_document(&error);
        if let Some(doc) = &document {
            println!("{}", serde_json::to_string_pretty(doc).expect("JSON values serialise"));
        }
        return Err(Failure { error, printed: document.is_some() });
    }
    ctx.out.finish();
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let name = cli.command.name();
    let json = cli.global.output == output::OutputFormat::Json;
    let result = match cli.command {
        Command::Demo => demo::run().map_err(|e| Failure::from(format!("demo failed: {e}"))),
        _ => run(cli),
    };
    if let Err(Failure { error: e, printed }) = result {
        if json && !printed {
            println!("{}", serde_json::json!({ "command": name, "error": e }));
        }
        eprintln!("{name}: {e}");
        std::process::exit(1);
    }
}

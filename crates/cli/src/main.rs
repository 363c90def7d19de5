//! `xmargin` — command line for the xmargin program.
//!
//! `xmargin demo` plays a scenario on an embedded SVM (LiteSVM running the real
//! SBF build of the program) and prints what happened; the admin and user
//! commands (`rpc.rs`) work against a cluster's JSON-RPC.
mod args;
mod demo;
mod demo_markets;
mod lookup;
mod market_config;
mod markets;
mod quote;
mod rpc;
mod show;
#[cfg(test)]
mod svm_tests;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => {
            if let Err(e) = demo::run() {
                eprintln!("demo failed: {e}");
                std::process::exit(1);
            }
        }
        Some("-h" | "--help") | None => print_usage(),
        Some(command) => match rpc::run(command, &args[1..]) {
            Ok(true) => {}
            Ok(false) => {
                eprintln!("unknown command `{command}`\n");
                print_usage();
                std::process::exit(2);
            }
            Err(e) => {
                eprintln!("{command}: {e}");
                std::process::exit(1);
            }
        },
    }
}

fn print_usage() {
    println!(
        "xmargin — cross-margin clearing on Solana\n\n\
         USAGE:\n    xmargin demo     play a scenario on an embedded SVM and print what happened\n\
         \x20                    (the program is read from $XMARGIN_SO or target/deploy/xmargin.so)\n\n{}\n{}\n{}\n{}",
        rpc::USAGE,
        markets::USAGE,
        lookup::USAGE,
        rpc::COMMON
    );
}

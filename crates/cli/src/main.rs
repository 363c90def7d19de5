//! `xmargin` — command line for the xmargin program.
//!
//! `xmargin demo` plays a scenario on an embedded SVM (LiteSVM running the real
//! SBF build of the program) and prints what happened.
mod demo;

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
        Some(other) => {
            eprintln!("unknown command `{other}`\n");
            print_usage();
            std::process::exit(2);
        }
    }
}

fn print_usage() {
    println!(
        "xmargin — cross-margin clearing on Solana\n\n\
         USAGE:\n    xmargin demo     play a scenario on an embedded SVM and print what happened\n\n\
         The program is read from $XMARGIN_SO or target/deploy/xmargin.so (scripts/build-sbf)."
    );
}

//! The `switchyard` binary: HAProxy's command line in front of the
//! Switchyard library.

use switchyard::cli::{self, Next};

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let code = match cli::main(argv) {
        Next::Exit(code) => code,
        Next::Run(cfg, args) => switchyard::runtime::run(*cfg, args),
    };
    std::process::exit(code);
}

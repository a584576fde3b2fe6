//! `cargo test` entry point: every assertion of every spec under specs/ becomes a test case.

fn main() -> std::process::ExitCode {
    perfgate::gate::main()
}

//! The `perfgate` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    perfgate::cli::run()
}

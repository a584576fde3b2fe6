//! `perfgate diff OLD NEW`: what changed between two runs; exit 1 when a verdict flipped.

use std::io::IsTerminal;

use super::args::DiffArgs;
use crate::error::Exit;
use crate::report::{diff_records, read_record};

pub fn diff(args: DiffArgs) -> Exit {
    let (old, new) = match (read_record(&args.old), read_record(&args.new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: cannot read a run record: {e}");
            return Exit::Usage;
        }
    };
    let outcome = diff_records(&old, &new, std::io::stdout().is_terminal());
    print!("{}", outcome.text);
    if outcome.flipped.is_empty() {
        Exit::Success
    } else {
        Exit::GateFailed
    }
}

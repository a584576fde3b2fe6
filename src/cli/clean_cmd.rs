//! `perfgate clean`: the sweep every run starts with, on demand, saying what it removed.

use crate::error::Exit;

/// Sweeps what dead runs left (their containers and networks too) and says what went.
pub fn clean() -> Exit {
    println!("{}", crate::reaper::sweep(true));
    Exit::Success
}

//! The one table style every console table of a report uses (comfy-table, condensed UTF-8,
//! no colours unless asked for and `NO_COLOR` is unset).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table};

/// An empty table with `header`; `color` allows ANSI colours when the output is a terminal.
pub(super) fn table(header: &[&str], color: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new));
    if !color || std::env::var_os("NO_COLOR").is_some() {
        t.force_no_tty();
    }
    t
}

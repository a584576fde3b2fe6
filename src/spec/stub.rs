//! TEMPORARY stub until the spec branch lands.
use std::path::{Path, PathBuf};
use std::time::Duration;
use super::model::*;
#[derive(Debug)]
pub struct Diagnostic { pub location: Location, pub len: usize, pub message: String, pub hint: Option<String> }
#[derive(Debug, thiserror::Error)]
#[error("spec error in {path:?}")]
pub struct SpecError { path: PathBuf, source_text: String, diagnostics: Vec<Diagnostic> }
impl SpecError { pub fn new(path: PathBuf, source_text: String, diagnostics: Vec<Diagnostic>) -> Self { Self { path, source_text, diagnostics } } }
pub fn load(_p: &Path) -> Result<Spec, SpecError> { todo!() }
pub fn format_prom_duration(d: Duration) -> String { format!("{}ms", d.as_millis()) }

//! Files a test writes for a service to read (configuration, key files).

use std::io::Write as _;

/// Writes `text` to a new file in `dir` and returns its path.
pub fn file_with(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path
}

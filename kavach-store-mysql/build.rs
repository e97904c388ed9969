//! Embeds every `migrations/NNNN_name.sql` file, in version order, so adding
//! a migration (a table, a column) is adding one file.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<(u32, String, String)> = std::fs::read_dir(&dir)
        .expect("migrations directory")
        .filter_map(|entry| {
            let path = entry.expect("directory entry").path();
            let file = path.file_name()?.to_str()?.to_string();
            let stem = file.strip_suffix(".sql")?;
            let (version, name) = stem.split_once('_')?;
            let version = version
                .parse()
                .unwrap_or_else(|_| panic!("migration file {file}: NNNN_name.sql"));
            Some((version, name.to_string(), path.display().to_string()))
        })
        .collect();
    files.sort();
    for pair in files.windows(2) {
        assert!(
            pair[0].0 != pair[1].0,
            "two migrations with version {}",
            pair[0].0
        );
    }
    let mut out = String::from("&[\n");
    for (version, name, path) in &files {
        println!("cargo:rerun-if-changed={path}");
        let _ = writeln!(
            out,
            "    Migration {{ version: {version}, name: {name:?}, sql: include_str!({path:?}) }},"
        );
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(target, out).expect("write migrations.rs");
}

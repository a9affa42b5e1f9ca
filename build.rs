//! Embeds the data folders in the binary, so that adding a template or a factor-set version is
//! adding a file, never editing code: every `templates/*.toml`, every `templates/carbon/*.toml`,
//! every warehouse query `templates/sql/*.sql` and every file under
//! `src/factors/data/<version>/` is listed in `$OUT_DIR/embedded.rs`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn files_in(dir: &Path, ext: Option<&str>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    if let Some(ext) = ext {
        out.retain(|p| p.extension().is_some_and(|e| e == ext));
    }
    out.sort();
    out
}

/// Writes `pub static NAME: &[(&str, &str)]` holding every `.EXT` file of `dir`.
fn embed_folder(code: &mut String, dir: &Path, ext: &str, name: &str, doc: &str) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let _ = writeln!(code, "/// {doc}\npub static {name}: &[(&str, &str)] = &[");
    for p in files_in(dir, Some(ext)) {
        println!("cargo:rerun-if-changed={}", p.display());
        let file = p.file_name().unwrap().to_string_lossy();
        let _ = writeln!(
            code,
            "    ({file:?}, include_str!({:?})),",
            p.display().to_string()
        );
    }
    code.push_str("];\n\n");
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut code = String::new();

    let templates = root.join("templates");
    embed_folder(
        &mut code,
        &templates,
        "toml",
        "TEMPLATES",
        "Built-in templates: (file name, TOML text).",
    );
    embed_folder(
        &mut code,
        &templates.join("carbon"),
        "toml",
        "CARBON_TEMPLATES",
        "Built-in vendor carbon report templates: (file name, TOML text).",
    );
    embed_folder(
        &mut code,
        &templates.join("sql"),
        "sql",
        "SQL_QUERIES",
        "Warehouse queries beside the templates: (file name `<template>.<dialect>.sql`, SQL text).",
    );

    let data = root.join("src/factors/data");
    println!("cargo:rerun-if-changed={}", data.display());
    code.push_str("/// Embedded factor sets: (version, [(file, content)]).\npub static FACTOR_SETS: &[(&str, &[(&str, &str)])] = &[\n");
    let mut versions: Vec<PathBuf> = fs::read_dir(&data)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    for v in versions {
        println!("cargo:rerun-if-changed={}", v.display());
        let version = v.file_name().unwrap().to_string_lossy();
        let _ = writeln!(code, "    ({version:?}, &[");
        for p in files_in(&v, None) {
            println!("cargo:rerun-if-changed={}", p.display());
            let name = p.file_name().unwrap().to_string_lossy();
            let _ = writeln!(
                code,
                "        ({name:?}, include_str!({:?})),",
                p.display().to_string()
            );
        }
        code.push_str("    ]),\n");
    }
    code.push_str("];\n");
    fs::write(out_dir.join("embedded.rs"), code).expect("write embedded.rs");
}

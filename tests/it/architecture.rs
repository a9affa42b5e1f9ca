//! The house has one direction: no module of `src/` reaches, through others, back to itself
//! (docs/ARCHITECTURE.md). Read from the code: every `crate::module` path outside comments
//! and test modules is an edge from the file's top-level module to that module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::root;

/// Top-level module -> (module it uses -> the first file:line that uses it).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn graph(src: &Path) -> Graph {
    let modules: BTreeSet<String> = std::fs::read_dir(src)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let stem = name.strip_suffix(".rs").unwrap_or(&name).to_string();
            (e.path().is_dir() || name.ends_with(".rs")).then_some(stem)
        })
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let re = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let mut g = Graph::new();
    let mut files = vec![];
    walk(src, &mut files);
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = top.strip_suffix(".rs").unwrap_or(&top).to_string();
        if !modules.contains(&top) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may reach anywhere; they sit at the end of a file.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for c in re.captures_iter(line) {
                let to = c[1].to_string();
                if to != top && modules.contains(&to) {
                    g.entry(top.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| format!("src/{}:{}", rel.display(), n + 1));
                }
            }
        }
    }
    g
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A path from `from` back to itself, if there is one.
fn cycle_through(g: &Graph, from: &str) -> Option<Vec<String>> {
    fn dfs(
        g: &Graph,
        at: &str,
        goal: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in g.get(at).into_iter().flat_map(|m| m.keys()) {
            if next == goal {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if dfs(g, next, goal, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![from.to_string()];
    dfs(g, from, from, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_module_reaches_back_to_itself() {
    let g = graph(&root().join("src"));
    // The scan sees the house: the pipeline uses normalise, the report the pipeline.
    assert!(g["pipeline"].contains_key("normalise"), "{g:?}");
    assert!(g["report"].contains_key("pipeline"), "{g:?}");
    for m in g.keys() {
        if let Some(cycle) = cycle_through(&g, m) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("{} -> {} ({})", w[0], w[1], g[&w[0]][&w[1]]))
                .collect();
            panic!("a module cycle: {}", steps.join(", "));
        }
    }
}

#[test]
fn the_scan_finds_a_cycle_when_there_is_one() {
    // Two modules that use each other, in a throwaway tree.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap();
    std::fs::create_dir(src.join("b")).unwrap();
    std::fs::write(
        src.join("b/mod.rs"),
        "// crate::a in a comment is no edge\npub struct B;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("b/inner.rs"),
        "fn f() -> crate::a::A { crate::a::A }\n",
    )
    .unwrap();
    let g = graph(src);
    assert_eq!(g["a"]["b"], "src/a.rs:1");
    assert_eq!(g["b"]["a"], "src/b/inner.rs:1");
    assert_eq!(cycle_through(&g, "a").unwrap(), ["a", "b", "a"]);
}

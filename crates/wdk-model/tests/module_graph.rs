//! The model's modules in layers, without cycles (docs/ARCHITECTURE.md, section 3).
//!
//! Reads every source file of the crate, lists each module's references to the crate's other
//! modules (`use` trees, `crate::`/`super::`/`self::` paths anywhere, macros included; comments
//! and doc text are not code and do not count; a call to a slot accessor another subsystem
//! adds to `KernelState`, such as `.wdf()`, counts as a use of that subsystem), and checks that
//!
//! * every top-level module has a layer, and an edge never goes to a higher layer;
//! * the modules (files, those inside the WSK provider included) form no cycle, and neither do
//!   the top-level modules;
//! * the kernel core (`kernel/`) reaches nothing but the definitions below it;
//! * no module but the crate root names an item through the crate root (`crate::Rule`): it names
//!   the defining module, so the edge is real.
//!
//! `cargo test -p wdk-model --test module_graph -- --nocapture` prints the edges.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;
use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// The layers, lowest first. A module may use modules of its own layer or lower ones.
const LAYERS: &[(&str, &[&str])] = &[
    ("definitions", &["types", "constants", "sddl"]),
    ("kernel core", &["kernel"]),
    (
        "subsystems",
        &[
            "debug", "pool", "mdl", "irp", "devobj", "sync", "wdf", "wsk",
        ],
    ),
    ("composition root", &["boot"]),
    ("harness", &["harness"]),
    ("crate root", &["crate"]),
];

/// What the kernel core may use besides itself.
const CORE_MAY_USE: &[&str] = &["types", "constants"];

/// A module path inside the crate; the root is empty.
type ModPath = Vec<String>;

fn name(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_string()
    } else {
        path.join("::")
    }
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `lib.rs` is the root, `a.rs` and `a/mod.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: ModPath = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "lib" && stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

struct Scanner<'a> {
    modules: &'a BTreeSet<ModPath>,
    /// Paths found, each with the inline-module scope it was written in.
    found: Vec<(ModPath, Vec<String>, bool)>,
    /// Methods this file adds to `KernelState` (a subsystem's slot accessors).
    accessors: BTreeSet<String>,
    /// Methods this file calls (`.name(`).
    calls: BTreeSet<String>,
}

fn is_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!((tokens.get(i), tokens.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
}

fn ident(tokens: &[TokenTree], i: usize) -> Option<String> {
    match tokens.get(i) {
        Some(TokenTree::Ident(id)) => Some(id.to_string()),
        _ => None,
    }
}

impl Scanner<'_> {
    fn scan(&mut self, stream: TokenStream, scope: &ModPath) {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Ident(id) if id == "use" => {
                    let end = tokens[i..]
                        .iter()
                        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
                        .map_or(tokens.len(), |p| i + p);
                    let mut paths = Vec::new();
                    use_tree(&tokens[i + 1..end], Vec::new(), &mut paths);
                    for path in paths {
                        self.found.push((scope.clone(), path, true));
                    }
                    i = end + 1;
                }
                // `pub(in crate::wsk)` names where an item is visible, not what it uses.
                TokenTree::Ident(id)
                    if id == "pub"
                        && matches!(tokens.get(i + 1), Some(TokenTree::Group(g))
                            if g.delimiter() == Delimiter::Parenthesis) =>
                {
                    i += 2;
                }
                // `impl KernelState { fn pool(&self) … }`: the accessors a subsystem defines.
                TokenTree::Ident(id)
                    if id == "impl"
                        && ident(&tokens, i + 1).is_some_and(|t| t == "KernelState") =>
                {
                    if let Some(TokenTree::Group(body)) = tokens.get(i + 2) {
                        let inner: Vec<TokenTree> = body.stream().into_iter().collect();
                        for (k, token) in inner.iter().enumerate() {
                            if matches!(token, TokenTree::Ident(f) if f == "fn")
                                && let Some(method) = ident(&inner, k + 1)
                            {
                                self.accessors.insert(method);
                            }
                        }
                    }
                    i += 2;
                }
                TokenTree::Punct(dot)
                    if dot.as_char() == '.'
                        && matches!(tokens.get(i + 2), Some(TokenTree::Group(g))
                            if g.delimiter() == Delimiter::Parenthesis) =>
                {
                    if let Some(method) = ident(&tokens, i + 1) {
                        self.calls.insert(method);
                    }
                    i += 1;
                }
                TokenTree::Ident(id) if id == "mod" => {
                    if let (Some(name), Some(TokenTree::Group(body))) =
                        (ident(&tokens, i + 1), tokens.get(i + 2))
                        && body.delimiter() == Delimiter::Brace
                    {
                        let mut inner = scope.clone();
                        inner.push(name);
                        self.scan(body.stream(), &inner);
                        i += 3;
                    } else {
                        i += 1;
                    }
                }
                TokenTree::Ident(id)
                    if (id == "crate" || id == "super" || id == "self")
                        && is_path_sep(&tokens, i + 1) =>
                {
                    let mut path = vec![id.to_string()];
                    let mut j = i + 1;
                    while is_path_sep(&tokens, j) {
                        let Some(segment) = ident(&tokens, j + 2) else {
                            break;
                        };
                        path.push(segment);
                        j += 3;
                    }
                    self.found.push((scope.clone(), path, false));
                    i = j;
                }
                TokenTree::Group(group) => {
                    self.scan(group.stream(), scope);
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    /// The module a path lands in (its longest prefix that is a file module), or None for a
    /// path outside the crate.
    fn resolve(&self, scope: &ModPath, path: &[String], in_use: bool) -> Option<ModPath> {
        let mut absolute: ModPath = match path.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("self") => scope.clone(),
            Some("super") => scope.clone(),
            Some(first) if in_use => {
                let mut child = scope.clone();
                child.push(first.to_string());
                if !self.modules.contains(&child) {
                    return None;
                }
                scope.clone()
            }
            _ => return None,
        };
        let mut rest = path.iter().peekable();
        if matches!(path[0].as_str(), "crate" | "self") {
            rest.next();
        }
        while rest.peek().is_some_and(|s| *s == "super") {
            rest.next();
            absolute.pop();
        }
        absolute.extend(rest.cloned());
        (0..=absolute.len())
            .rev()
            .map(|n| absolute[..n].to_vec())
            .find(|prefix| self.modules.contains(prefix))
    }
}

/// Expands a `use` tree (without `use` and `;`) into full paths.
fn use_tree(tokens: &[TokenTree], prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    let mut i = 0;
    // `pub`, `pub(crate)` and the like come before `use`, so a tree starts at a path.
    if is_path_sep(tokens, 0) {
        i = 2;
    }
    loop {
        match tokens.get(i) {
            Some(TokenTree::Ident(id)) if id == "as" => break,
            Some(TokenTree::Ident(id)) => {
                if id != "self" || path.is_empty() {
                    path.push(id.to_string());
                }
                i += 1;
            }
            Some(TokenTree::Punct(p)) if p.as_char() == '$' => i += 1,
            Some(TokenTree::Punct(p)) if p.as_char() == '*' => break,
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                for part in inner.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                {
                    if !part.is_empty() {
                        use_tree(part, path.clone(), out);
                    }
                }
                return;
            }
            _ => break,
        }
        if is_path_sep(tokens, i) {
            i += 2;
        } else {
            break;
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

struct Graph {
    /// Module → the modules it uses (self-references left out).
    edges: BTreeMap<String, BTreeSet<String>>,
    /// Paths that name an item through the crate root, by module.
    through_root: Vec<(String, String)>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let modules: BTreeSet<ModPath> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut through_root = Vec::new();
    let mut scanned = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = fs::read_to_string(file).expect("read source");
        let stream: TokenStream = text
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut scanner = Scanner {
            modules: &modules,
            found: Vec::new(),
            accessors: BTreeSet::new(),
            calls: BTreeSet::new(),
        };
        scanner.scan(stream, &module);
        scanned.push((module, scanner));
    }
    // A slot accessor is a method of KernelState defined in its subsystem: a call to it from
    // another module is a use of that subsystem, though no path names it.
    let owners: BTreeMap<String, ModPath> = scanned
        .iter()
        .filter(|(module, _)| module.first().is_none_or(|m| m != "kernel"))
        .flat_map(|(module, scanner)| {
            scanner
                .accessors
                .iter()
                .map(|a| (a.clone(), module.clone()))
        })
        .collect();
    for (module, scanner) in &scanned {
        let entry = edges.entry(name(module)).or_default();
        for call in &scanner.calls {
            if let Some(owner) = owners.get(call)
                && owner != module
            {
                entry.insert(name(owner));
            }
        }
        for (scope, path, in_use) in &scanner.found {
            let Some(target) = scanner.resolve(scope, path, *in_use) else {
                continue;
            };
            if target.is_empty() && !module.is_empty() {
                through_root.push((name(module), path.join("::")));
            }
            if target != *module {
                entry.insert(name(&target));
            }
        }
    }
    Graph {
        edges,
        through_root,
    }
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, members)| members.contains(&top(module)))
}

/// The cycles (strongly connected components of more than one node) of `edges` after `merge`
/// names each node.
fn cycles(
    edges: &BTreeMap<String, BTreeSet<String>>,
    merge: impl Fn(&str) -> String,
) -> Vec<Vec<String>> {
    let names: BTreeSet<String> = edges
        .iter()
        .flat_map(|(from, to)| std::iter::once(from).chain(to))
        .map(|m| merge(m))
        .collect();
    let mut graph = DiGraphMap::<&str, ()>::new();
    for node in &names {
        graph.add_node(node);
    }
    for (from, to) in edges {
        for target in to {
            let (a, b) = (merge(from), merge(target));
            if a != b {
                let a = names.get(&a).expect("named");
                let b = names.get(&b).expect("named");
                graph.add_edge(a, b, ());
            }
        }
    }
    tarjan_scc(&graph)
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .map(|scc| {
            let mut scc: Vec<String> = scc.into_iter().map(str::to_string).collect();
            scc.sort();
            scc
        })
        .collect()
}

#[test]
fn modules_form_layers_without_cycles() {
    let graph = graph();
    for (from, to) in &graph.edges {
        println!(
            "{from} -> {}",
            to.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let mut problems = Vec::new();

    for (from, to) in &graph.edges {
        let Some(own) = layer_of(from) else {
            problems.push(format!(
                "module {from} has no layer: add it to LAYERS and to docs/ARCHITECTURE.md"
            ));
            continue;
        };
        for target in to {
            if layer_of(target).is_some_and(|theirs| theirs > own) {
                problems.push(format!(
                    "{from} ({}) uses {target}, which lies above it ({})",
                    LAYERS[own].0,
                    LAYERS[layer_of(target).unwrap_or(0)].0
                ));
            }
        }
        if top(from) == "kernel" {
            for target in to.iter().filter(|t| top(t) != "kernel") {
                if !CORE_MAY_USE.contains(&target.as_str()) {
                    problems.push(format!("the kernel core's {from} uses {target}"));
                }
            }
        }
    }
    for (module, path) in &graph.through_root {
        problems.push(format!(
            "{module} names {path} through the crate root: name the defining module"
        ));
    }
    for cycle in cycles(&graph.edges, str::to_string) {
        problems.push(format!("modules in a cycle: {}", cycle.join(", ")));
    }
    for cycle in cycles(&graph.edges, |m| top(m).to_string()) {
        problems.push(format!(
            "top-level modules in a cycle: {}",
            cycle.join(", ")
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The scanner itself finds what it must: a test of the test.
#[test]
fn the_scanner_sees_use_trees_paths_macros_and_inline_modules() {
    let modules: BTreeSet<ModPath> = [
        vec![],
        vec!["a".to_string()],
        vec!["a".to_string(), "b".to_string()],
        vec!["c".to_string()],
        vec!["d".to_string()],
        vec!["e".to_string()],
        vec!["f".to_string()],
    ]
    .into_iter()
    .collect();
    let text = r#"
        // crate::f::nothing (a comment is not code)
        /// [`crate::f`] neither is doc text
        use super::b::{self, X};
        use crate::{c::{Y, Z}, d};
        fn f() { format!("{}", crate::e::thing()); }
        mod inner { use super::super::c; }
        pub(in crate::f) fn g() {}
        impl KernelState { fn table(&self) {} }
        fn h(k: &KernelState) { k.other().table(); }
    "#;
    let mut scanner = Scanner {
        modules: &modules,
        found: Vec::new(),
        accessors: BTreeSet::new(),
        calls: BTreeSet::new(),
    };
    let scope = vec!["a".to_string(), "b".to_string()];
    scanner.scan(text.parse().expect("tokens"), &scope);
    let targets: BTreeSet<String> = scanner
        .found
        .iter()
        .filter_map(|(s, p, u)| scanner.resolve(s, p, *u))
        .map(|m| name(&m))
        .collect();
    let expected: BTreeSet<String> = ["a::b", "a", "c", "d", "e"]
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(targets, expected);
    assert_eq!(scanner.accessors, BTreeSet::from(["table".to_string()]));
    assert!(scanner.calls.contains("table") && scanner.calls.contains("other"));
}

/// Two files of one subsystem that use each other are a cycle, though the subsystem as a whole
/// (its top-level module) is not in one: a test of the cycle check.
#[test]
fn a_cycle_between_files_of_one_subsystem_is_found() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("wsk::calls", &["wsk::provider", "wsk::receive"][..]),
        ("wsk::receive", &["wsk::calls", "irp"][..]),
        ("wsk::provider", &[][..]),
        ("irp", &[][..]),
    ]
    .into_iter()
    .map(|(from, to)| (from.to_string(), to.iter().map(|t| t.to_string()).collect()))
    .collect();
    assert_eq!(
        cycles(&edges, str::to_string),
        vec![vec!["wsk::calls".to_string(), "wsk::receive".to_string()]]
    );
    assert!(cycles(&edges, |m| top(m).to_string()).is_empty());
}

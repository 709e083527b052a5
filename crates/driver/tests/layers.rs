//! The driver's modules in layers (docs/ARCHITECTURE.md, "Driver modules"): a module of
//! crates/driver/src uses only modules of lower layers, or modules listed before it in its own
//! layer's row, so no import cycle can form. The table is read from ARCHITECTURE.md; the uses
//! from the source, parsed with syn: every `crate::…` path, in `use` items, in code, and in the
//! arguments of macro calls (which syn leaves as tokens). A module missing from the table, or a
//! table entry with no module behind it, fails as well, so the table stays true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// The layer table: each module's layer and its place in its layer's row.
fn layer_table(architecture: &str) -> BTreeMap<String, (u32, usize)> {
    let section = architecture
        .split("\n### ")
        .find(|s| s.starts_with("Driver modules"))
        .expect("ARCHITECTURE.md has a \"Driver modules\" section");
    let mut table = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | layer | modules | what the layer is |  ->  ["", layer, modules, what, ""]
        let [_, layer, modules, ..] = cells.as_slice() else {
            continue;
        };
        let Ok(layer) = layer.parse::<u32>() else {
            continue;
        };
        let names = modules.split('`').skip(1).step_by(2);
        for (place, name) in names.enumerate() {
            let previous = table.insert(name.to_string(), (layer, place));
            assert!(
                previous.is_none(),
                "`{name}` appears twice in the layer table"
            );
        }
    }
    assert!(
        !table.is_empty(),
        "no layer rows found in \"Driver modules\""
    );
    table
}

/// The top-level modules each `crate::` path names.
#[derive(Default)]
struct Uses(BTreeSet<String>);

impl Uses {
    /// After `crate::` in a `use` tree: the first name of each path (`{a, b::c}` gives a, b).
    fn use_tree(&mut self, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => self.name(&path.ident),
            syn::UseTree::Name(name) => self.name(&name.ident),
            syn::UseTree::Rename(rename) => self.name(&rename.ident),
            syn::UseTree::Group(group) => group.items.iter().for_each(|t| self.use_tree(t)),
            syn::UseTree::Glob(_) => {}
        }
    }

    fn name(&mut self, ident: &syn::Ident) {
        if ident != "self" {
            self.0.insert(ident.to_string());
        }
    }

    /// `crate :: name` in a macro's tokens, not `$crate` (a macro definition's own path).
    fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (index, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Ident(ident) if ident == "crate" => {
                    let dollar = index
                        .checked_sub(1)
                        .and_then(|i| tokens.get(i))
                        .is_some_and(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == '$'));
                    let next = (tokens.get(index + 1), tokens.get(index + 2));
                    let colons = matches!(
                        next,
                        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                            if a.as_char() == ':' && b.as_char() == ':'
                    );
                    if let (false, true, Some(TokenTree::Ident(name))) =
                        (dollar, colons, tokens.get(index + 3))
                    {
                        self.name(name);
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Uses {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if let syn::UseTree::Path(path) = &item.tree
            && path.ident == "crate"
        {
            self.use_tree(&path.tree);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let mut segments = path.segments.iter();
        if let (Some(first), Some(second)) = (segments.next(), segments.next())
            && first.ident == "crate"
        {
            self.name(&second.ident);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Each top-level module of the crate (a folder counts as one) and the modules it uses.
fn module_uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("inside src");
        if relative == Path::new("lib.rs") {
            continue;
        }
        let first = relative.components().next().expect("a path");
        let module = Path::new(first.as_os_str())
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).expect("readable source");
        let syntax = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}", file.display()));
        let mut uses = Uses::default();
        uses.visit_file(&syntax);
        uses.0.remove(&module);
        modules.entry(module).or_default().extend(uses.0);
    }
    modules
}

#[test]
fn driver_modules_use_only_the_layers_below_them() {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture = std::fs::read_to_string(driver.join("../../docs/ARCHITECTURE.md"))
        .expect("docs/ARCHITECTURE.md");
    let table = layer_table(&architecture);
    let modules = module_uses(&driver.join("src"));

    let in_source: BTreeSet<&String> = modules.keys().collect();
    let in_table: BTreeSet<&String> = table.keys().collect();
    assert_eq!(
        in_source, in_table,
        "the modules of crates/driver/src and the layer table in docs/ARCHITECTURE.md differ"
    );

    let mut breaks = Vec::new();
    for (module, uses) in &modules {
        let (layer, place) = table[module];
        for used in uses {
            let Some(&(used_layer, used_place)) = table.get(used) else {
                breaks.push(format!(
                    "{module} uses crate::{used}, which is not a module"
                ));
                continue;
            };
            let below = used_layer < layer || (used_layer == layer && used_place < place);
            if !below {
                breaks.push(format!(
                    "{module} (layer {layer}) uses {used} (layer {used_layer}), which is not below it"
                ));
            }
        }
    }
    assert!(breaks.is_empty(), "layering broken:\n{}", breaks.join("\n"));
}

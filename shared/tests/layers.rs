//! The common crate's layers look inward only: a file may name the modules of its own layer and
//! of the layers inside it, never those outside. The domain knows no HTTP, no AWS and no HTTP
//! client; the HTTP layer knows no AWS. A file that breaks this fails here with the line.
//!
//! Each file is parsed (`syn`), not matched line by line: every path it names, in `use` trees
//! (grouped, nested, renamed, over several lines), in code, in types, in macro arguments and in
//! attributes, is resolved to what it names (`self`, `super`, the file's own `mod`s, its
//! imports, and the names other modules re-export: `crate::KeyFetchError` is lib.rs's
//! `videosdk::KeyFetchError`) before it is judged. The unit tests at the end run this same
//! matcher.

mod source_tree;

use source_tree::{module_of, source_files};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::Visit;

/// A layer: the files it holds, the crate modules it may not name, the crates it may not use.
struct Layer {
    name: &'static str,
    files: &'static [&'static str],
    forbidden_modules: &'static [&'static str],
    /// Crate names; `aws` stands for `aws` and every `aws_*` crate.
    forbidden_crates: &'static [&'static str],
}

const OUTER_OF_DOMAIN: &[&str] = &[
    "http", "aws", "videosdk", "backends", "settings", "state", "routes", "tls",
];
const NETWORK_CRATES: &[&str] = &["lambda_http", "aws", "reqwest", "videosdk", "hyper"];

const LAYERS: &[Layer] = &[
    Layer {
        name: "domain",
        files: &["domain/"],
        forbidden_modules: OUTER_OF_DOMAIN,
        forbidden_crates: NETWORK_CRATES,
    },
    Layer {
        name: "http",
        files: &["http/"],
        forbidden_modules: &[
            "aws", "videosdk", "backends", "settings", "state", "routes", "tls",
        ],
        forbidden_crates: &["aws", "reqwest", "videosdk"],
    },
    Layer {
        name: "aws",
        files: &["aws/"],
        forbidden_modules: &["videosdk", "backends", "settings", "state", "routes"],
        forbidden_crates: &["reqwest", "videosdk"],
    },
    Layer {
        name: "videosdk",
        files: &["videosdk.rs"],
        forbidden_modules: &["http", "aws", "backends", "settings", "state", "routes"],
        forbidden_crates: &["lambda_http", "aws"],
    },
    // The TLS configuration that the AWS and VideoSDK clients share: it names no other module.
    Layer {
        name: "tls",
        files: &["tls.rs"],
        forbidden_modules: &[
            "domain", "http", "aws", "videosdk", "backends", "settings", "state", "routes",
        ],
        forbidden_crates: &["lambda_http", "aws", "reqwest", "videosdk"],
    },
    // What every function reads and builds; a backend builds itself from it, not the reverse.
    Layer {
        name: "configuration and state",
        files: &["function.rs", "settings/", "state.rs"],
        forbidden_modules: &["backends", "routes"],
        forbidden_crates: &[],
    },
    // The part of a function's state that differs between functions: which room service, which
    // webhook key and bus.
    Layer {
        name: "backends",
        files: &["backends/"],
        forbidden_modules: &["routes"],
        forbidden_crates: &[],
    },
];

/// A path as the file spells it, with where it stands.
struct Spelled {
    /// The module it is written in (`["domain", "token", "keys"]`; empty for the crate root).
    module: Vec<String>,
    leading_colon: bool,
    segments: Vec<String>,
    line: usize,
    /// For an import: the name it brings into scope (`None` for a glob or `_`).
    binds: Option<String>,
}

/// Every path a file names and every module it declares.
#[derive(Default)]
struct Collector {
    module: Vec<String>,
    declared_modules: HashSet<Vec<String>>,
    imports: Vec<Spelled>,
    paths: Vec<Spelled>,
}

impl Collector {
    fn spelled(
        &self,
        leading_colon: bool,
        segments: Vec<String>,
        span: Span,
        binds: Option<String>,
    ) -> Spelled {
        Spelled {
            module: self.module.clone(),
            leading_colon,
            segments,
            line: span.start().line,
            binds,
        }
    }

    fn use_tree(&mut self, leading_colon: bool, prefix: &[String], tree: &syn::UseTree) {
        let with = |name: &syn::Ident| {
            let mut path = prefix.to_vec();
            path.push(name.to_string());
            path
        };
        match tree {
            syn::UseTree::Path(path) => {
                self.use_tree(leading_colon, &with(&path.ident), &path.tree);
            }
            syn::UseTree::Name(name) if name.ident == "self" => {
                let bound = prefix.last().cloned();
                let import = self.spelled(leading_colon, prefix.to_vec(), name.ident.span(), bound);
                self.imports.push(import);
            }
            syn::UseTree::Name(name) => {
                let bound = Some(name.ident.to_string());
                let import =
                    self.spelled(leading_colon, with(&name.ident), name.ident.span(), bound);
                self.imports.push(import);
            }
            syn::UseTree::Rename(rename) => {
                let path = if rename.ident == "self" {
                    prefix.to_vec()
                } else {
                    with(&rename.ident)
                };
                let bound = (rename.rename != "_").then(|| rename.rename.to_string());
                let import = self.spelled(leading_colon, path, rename.ident.span(), bound);
                self.imports.push(import);
            }
            syn::UseTree::Glob(glob) => {
                let span = glob.star_token.spans[0];
                let import = self.spelled(leading_colon, prefix.to_vec(), span, None);
                self.imports.push(import);
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(leading_colon, prefix, tree);
                }
            }
        }
    }

    /// A string that reads as a path of two segments or more (`#[serde(with = "a::b")]`).
    fn string(&mut self, text: &str, span: Span) {
        if let Ok(path) = syn::parse_str::<syn::Path>(text)
            && path.segments.len() > 1
        {
            let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let spelled = self.spelled(path.leading_colon.is_some(), segments, span, None);
            self.paths.push(spelled);
        }
    }

    /// The paths in tokens no parser has read (a macro's arguments, an attribute's): every run
    /// of `a::b::c`, and in attributes, string literals that read as such a path.
    fn tokens(&mut self, tokens: TokenStream, strings_too: bool) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let is_colons = |index: usize| {
            matches!((tokens.get(index), tokens.get(index + 1)),
                (Some(TokenTree::Punct(first)), Some(TokenTree::Punct(second)))
                    if first.as_char() == ':' && second.as_char() == ':'
                        && first.spacing() == proc_macro2::Spacing::Joint)
        };
        let mut index = 0;
        while index < tokens.len() {
            match &tokens[index] {
                TokenTree::Group(group) => self.tokens(group.stream(), strings_too),
                TokenTree::Literal(literal) if strings_too => {
                    if let Ok(syn::Lit::Str(text)) =
                        syn::parse_str::<syn::Lit>(&literal.to_string())
                    {
                        self.string(&text.value(), literal.span());
                    }
                }
                TokenTree::Ident(_) | TokenTree::Punct(_) => {
                    let leading_colon = is_colons(index);
                    let start = if leading_colon { index + 2 } else { index };
                    let mut segments = Vec::new();
                    let mut at = start;
                    while let Some(TokenTree::Ident(ident)) = tokens.get(at) {
                        segments.push(ident.to_string());
                        if is_colons(at + 1) {
                            at += 3;
                        } else {
                            at += 1;
                            break;
                        }
                    }
                    if segments.len() > 1 || (leading_colon && !segments.is_empty()) {
                        let spelled =
                            self.spelled(leading_colon, segments, tokens[start].span(), None);
                        self.paths.push(spelled);
                        index = at;
                        continue;
                    }
                }
                TokenTree::Literal(_) => {}
            }
            index += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let mut declared = self.module.clone();
        declared.push(item.ident.to_string());
        self.declared_modules.insert(declared);
        for attribute in &item.attrs {
            self.visit_attribute(attribute);
        }
        if let Some((_, items)) = &item.content {
            self.module.push(item.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.module.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        for attribute in &item.attrs {
            self.visit_attribute(attribute);
        }
        self.use_tree(item.leading_colon.is_some(), &[], &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let span = path
            .segments
            .first()
            .map_or_else(Span::call_site, |s| s.ident.span());
        let spelled = self.spelled(path.leading_colon.is_some(), segments, span, None);
        self.paths.push(spelled);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        syn::visit::visit_macro(self, mac);
        self.tokens(mac.tokens.clone(), false);
    }

    fn visit_attribute(&mut self, attribute: &'ast syn::Attribute) {
        syn::visit::visit_attribute(self, attribute);
        match &attribute.meta {
            syn::Meta::List(list) => self.tokens(list.tokens.clone(), true),
            // Doc comments are prose; other `name = "value"` attributes may name a path.
            syn::Meta::NameValue(pair) if !pair.path.is_ident("doc") => {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) = &pair.value
                {
                    self.string(&text.value(), text.span());
                }
            }
            _ => {}
        }
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        let bound = item
            .rename
            .as_ref()
            .map_or(&item.ident, |(_, rename)| rename);
        let import = self.spelled(
            true,
            vec![item.ident.to_string()],
            item.ident.span(),
            Some(bound.to_string()),
        );
        self.imports.push(import);
    }
}

/// What a path names: `crate` and the crate's own modules, or another crate first.
#[derive(Debug, Clone, PartialEq)]
struct Resolved(Vec<String>);

struct Resolver<'a> {
    declared_modules: &'a HashSet<Vec<String>>,
    /// Names imported in the file, and what they stand for (resolved).
    imported: HashMap<String, Resolved>,
}

impl Resolver<'_> {
    fn resolve(&self, spelled: &Spelled) -> Option<Resolved> {
        let (first, rest) = spelled.segments.split_first()?;
        if spelled.leading_colon {
            return Some(Resolved(spelled.segments.clone()));
        }
        let within = |base: Vec<String>, rest: &[String]| {
            let mut path = vec!["crate".to_owned()];
            path.extend(base);
            path.extend_from_slice(rest);
            Some(Resolved(path))
        };
        match first.as_str() {
            "crate" => within(Vec::new(), rest),
            "self" => within(spelled.module.clone(), rest),
            "super" => {
                let mut module = spelled.module.clone();
                let mut rest = &spelled.segments[..];
                while let Some(("super", after)) = rest
                    .split_first()
                    .map(|(first, after)| (first.as_str(), after))
                {
                    module.pop()?;
                    rest = after;
                }
                within(module, rest)
            }
            "Self" => None,
            _ => {
                // An import is not read through the name it binds itself (`use a::a;`).
                let own = spelled.binds.as_deref() == Some(first.as_str());
                if let Some(Resolved(target)) = self.imported.get(first).filter(|_| !own) {
                    let mut path = target.clone();
                    path.extend_from_slice(rest);
                    return Some(Resolved(path));
                }
                let mut child = spelled.module.clone();
                child.push(first.clone());
                if self.declared_modules.contains(&child) {
                    return within(child, rest);
                }
                Some(Resolved(spelled.segments.clone()))
            }
        }
    }
}

/// Every path `source` (the file of module `module`) names, resolved, with its line and whether
/// it is an import; a single name in code (a local) is left out.
fn named_paths(module: &[&str], file: &syn::File) -> Vec<(usize, Option<Resolved>, bool, bool)> {
    let mut collector = Collector {
        module: module.iter().map(|part| (*part).to_owned()).collect(),
        ..Collector::default()
    };
    collector.visit_file(file);

    let resolver = settled(&collector);

    let imports = collector.imports.iter().map(|spelled| (spelled, true));
    let paths = collector.paths.iter().map(|spelled| (spelled, false));
    imports
        .chain(paths)
        .filter(|(spelled, is_import)| {
            *is_import
                || spelled.segments.len() > 1
                || spelled.leading_colon
                || resolver.imported.contains_key(&spelled.segments[0])
        })
        .map(|(spelled, is_import)| {
            let starts_with_super = spelled
                .segments
                .first()
                .is_some_and(|first| first == "super");
            (
                spelled.line,
                resolver.resolve(spelled),
                is_import,
                starts_with_super,
            )
        })
        .collect()
}

/// A resolver of `collector`'s paths: imports may build on each other (`use crate::aws; use
/// aws::metrics;`), so they are resolved until settled.
fn settled(collector: &Collector) -> Resolver<'_> {
    let mut resolver = Resolver {
        declared_modules: &collector.declared_modules,
        imported: HashMap::new(),
    };
    for _ in 0..8 {
        let imported: HashMap<String, Resolved> = collector
            .imports
            .iter()
            .filter_map(|import| Some((import.binds.clone()?, resolver.resolve(import)?)))
            .collect();
        if imported == resolver.imported {
            break;
        }
        resolver.imported = imported;
    }
    resolver
}

/// What each module's imports make a name of that module stand for: `crate::KeyFetchError` is
/// `crate::videosdk::KeyFetchError` when lib.rs writes `pub use videosdk::KeyFetchError;`
/// (a private `use` too is a name its module's descendants can reach). Keyed by the module's
/// path under `crate`, then by the name bound.
#[derive(Default)]
struct Reexports(HashMap<Vec<String>, HashMap<String, Resolved>>);

impl Reexports {
    /// From every `(module, source)` file of the crate.
    fn of(files: &[(Vec<String>, String)]) -> Result<Self, syn::Error> {
        let mut reexports = HashMap::new();
        for (module, source) in files {
            let file = syn::parse_file(source)?;
            let mut collector = Collector {
                module: module.clone(),
                ..Collector::default()
            };
            collector.visit_file(&file);
            let resolver = settled(&collector);
            for import in &collector.imports {
                let (Some(name), Some(target)) = (&import.binds, resolver.resolve(import)) else {
                    continue;
                };
                reexports
                    .entry(import.module.clone())
                    .or_insert_with(HashMap::new)
                    .insert(name.clone(), target);
            }
        }
        Ok(Self(reexports))
    }

    /// `path` (resolved) with each name a module re-exports replaced by what it stands for,
    /// until it names no re-export.
    fn expand(&self, mut path: Vec<String>) -> Vec<String> {
        for _ in 0..8 {
            if path.first().map(String::as_str) != Some("crate") {
                return path;
            }
            let through = (1..path.len()).rev().find_map(|at| {
                let Resolved(target) = self.0.get(&path[1..at])?.get(&path[at])?;
                (*target != path[..=at]).then(|| (at, target.clone()))
            });
            let Some((at, mut target)) = through else {
                return path;
            };
            target.extend_from_slice(&path[at + 1..]);
            path = target;
        }
        path
    }
}

/// The re-exports of the crate's own files (`shared/src`), read once.
fn crate_reexports() -> &'static Reexports {
    static REEXPORTS: std::sync::OnceLock<Reexports> = std::sync::OnceLock::new();
    REEXPORTS.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let files: Vec<(Vec<String>, String)> = source_files(&source)
            .into_iter()
            .map(|path| {
                let relative = path
                    .strip_prefix(&source)
                    .expect("under src")
                    .to_string_lossy()
                    .replace('\\', "/");
                let module = module_of(&relative)
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect();
                (
                    module,
                    std::fs::read_to_string(&path).expect("a readable source file"),
                )
            })
            .collect();
        Reexports::of(&files).expect("the crate's files parse")
    })
}

/// What a layer may not name, in `source` (the file of module `module`): one line each.
fn violations(layer: &Layer, module: &[&str], source: &str) -> Result<Vec<String>, syn::Error> {
    violations_through(layer, module, source, crate_reexports())
}

/// [`violations`], each path read through `reexports`.
fn violations_through(
    layer: &Layer,
    module: &[&str],
    source: &str,
    reexports: &Reexports,
) -> Result<Vec<String>, syn::Error> {
    let file = syn::parse_file(source)?;
    let mut found = Vec::new();
    for (line, resolved, is_import, starts_with_super) in named_paths(module, &file) {
        let Some(Resolved(spelled)) = resolved else {
            if starts_with_super {
                found.push(format!("line {line}: `super` above the crate root"));
            }
            continue;
        };
        let path = reexports.expand(spelled.clone());
        let named = if path == spelled {
            path.join("::")
        } else {
            format!(
                "{} (re-exported from {})",
                spelled.join("::"),
                path.join("::")
            )
        };
        let reason = if path[0] == "crate" {
            match path.get(1) {
                Some(module) if layer.forbidden_modules.contains(&module.as_str()) => {
                    Some(format!("the module crate::{module}"))
                }
                None if is_import && !layer.forbidden_modules.is_empty() => {
                    Some("everything at the crate root".to_owned())
                }
                _ => None,
            }
        } else {
            let krate = &path[0];
            layer
                .forbidden_crates
                .iter()
                .find(|name| krate == *name || krate.starts_with(&format!("{name}_")))
                .map(|name| format!("the crate {krate} ({name})"))
        };
        if let Some(reason) = reason {
            found.push(format!("line {line}: names {named}: {reason}"));
        }
    }
    found.sort_by_key(|line| {
        line.split([' ', ':'])
            .nth(1)
            .and_then(|number| number.parse::<usize>().ok())
    });
    found.dedup();
    Ok(found)
}

/// The crate's modules that the non-test code of `source` (module `module`) names, among
/// `modules` (each a file's module): the longest that each path starts with.
fn modules_named(
    module: &[&str],
    source: &str,
    modules: &[Vec<String>],
) -> Result<HashSet<Vec<String>>, syn::Error> {
    let mut file = syn::parse_file(source)?;
    let is_test = |attrs: &[syn::Attribute]| {
        attrs.iter().any(|attr| {
            attr.path().is_ident("cfg")
                && attr
                    .parse_args::<syn::Meta>()
                    .is_ok_and(|meta| meta.path().is_ident("test"))
        })
    };
    file.items.retain(|item| match item {
        syn::Item::Mod(module) => !is_test(&module.attrs),
        syn::Item::Fn(function) => !is_test(&function.attrs),
        syn::Item::Use(import) => !is_test(&import.attrs),
        _ => true,
    });
    let own: Vec<String> = module.iter().map(|part| (*part).to_owned()).collect();
    let mut named = HashSet::new();
    for (_, resolved, _, _) in named_paths(module, &file) {
        let Some(Resolved(path)) = resolved else {
            continue;
        };
        let path = crate_reexports().expand(path);
        if path.first().map(String::as_str) != Some("crate") {
            continue;
        }
        let inner = &path[1..];
        if let Some(target) = modules
            .iter()
            .filter(|candidate| !candidate.is_empty() && inner.starts_with(candidate))
            .max_by_key(|candidate| candidate.len())
            .filter(|target| **target != own && !own.starts_with(target))
        {
            named.insert(target.clone());
        }
    }
    Ok(named)
}

/// A loop in `graph` (module to the modules it names), as the modules along it, if any.
fn find_loop(graph: &HashMap<Vec<String>, HashSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        node: &Vec<String>,
        graph: &HashMap<Vec<String>, HashSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut HashSet<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut cycle: Vec<String> = path[start..].iter().map(|m| m.join("::")).collect();
            cycle.push(node.join("::"));
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        let mut next: Vec<&Vec<String>> = graph.get(node).into_iter().flatten().collect();
        next.sort();
        for target in next {
            if let Some(cycle) = visit(target, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = HashSet::new();
    let mut nodes: Vec<&Vec<String>> = graph.keys().collect();
    nodes.sort();
    nodes
        .into_iter()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn layer(name: &str) -> &'static Layer {
    LAYERS
        .iter()
        .find(|layer| layer.name == name)
        .expect("a layer of that name")
}

#[test]
fn every_layer_names_only_itself_and_the_layers_inside_it() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations_found = Vec::new();
    let mut checked = 0;
    for path in source_files(&source) {
        let relative = path
            .strip_prefix(&source)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let Some(layer) = LAYERS
            .iter()
            .find(|layer| layer.files.iter().any(|file| relative.starts_with(file)))
        else {
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        let found = violations(layer, &module_of(&relative), &text)
            .unwrap_or_else(|error| panic!("src/{relative} does not parse: {error}"));
        violations_found.extend(
            found
                .into_iter()
                .map(|found| format!("src/{relative} ({} layer), {found}", layer.name)),
        );
    }
    assert!(checked >= 15, "only {checked} files were checked");
    assert!(
        violations_found.is_empty(),
        "{}",
        violations_found.join("\n")
    );
}

/// No module of the crate names, outside its tests, a module that names it back, however
/// indirectly: each layer, and each file in it, can be read and changed from the inside out.
#[test]
fn the_modules_name_each_other_without_a_loop() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<(String, PathBuf)> = source_files(&source)
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&source)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            (relative, path)
        })
        .collect();
    let modules: Vec<Vec<String>> = files
        .iter()
        .map(|(relative, _)| {
            module_of(relative)
                .iter()
                .map(|p| (*p).to_owned())
                .collect()
        })
        .collect();
    let mut graph = HashMap::new();
    for (relative, path) in &files {
        let text = std::fs::read_to_string(path).expect("a readable source file");
        let module = module_of(relative);
        let named = modules_named(&module, &text, &modules)
            .unwrap_or_else(|error| panic!("src/{relative} does not parse: {error}"));
        graph.insert(module.iter().map(|p| (*p).to_owned()).collect(), named);
    }
    assert!(graph.len() >= 30, "only {} modules were read", graph.len());
    assert_eq!(
        find_loop(&graph),
        None,
        "a loop of modules naming each other"
    );
}

#[test]
fn a_loop_is_found_through_any_spelling_and_tests_do_not_count() {
    let modules: Vec<Vec<String>> = [
        &["aws", "metrics"][..],
        &["aws", "secrets_manager"],
        &["aws"],
    ]
    .iter()
    .map(|module| module.iter().map(|p| (*p).to_owned()).collect())
    .collect();
    let graph_of = |metrics: &str, secrets: &str| {
        let mut graph = HashMap::new();
        for (module, source) in [
            (&["aws", "metrics"][..], metrics),
            (&["aws", "secrets_manager"], secrets),
        ] {
            graph.insert(
                module
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect::<Vec<String>>(),
                modules_named(module, source, &modules).expect("parses"),
            );
        }
        graph
    };
    let back = "use super::metrics;\nfn f() { metrics::count(); }";
    assert!(
        find_loop(&graph_of(
            "use crate::aws::secrets_manager::SecretError;",
            back
        ))
        .is_some()
    );
    assert!(
        find_loop(&graph_of(
            "use crate::{\n    aws::{secrets_manager::X},\n};",
            back
        ))
        .is_some()
    );
    assert!(
        find_loop(&graph_of(
            "fn f(e: &crate::aws::secrets_manager::E) {}",
            back
        ))
        .is_some()
    );
    assert_eq!(find_loop(&graph_of("use crate::domain::x;", back)), None);
    assert_eq!(
        find_loop(&graph_of(
            "#[cfg(test)]\nmod tests {\n    use crate::aws::secrets_manager::E;\n}",
            back
        )),
        None
    );
}

// The matcher itself, on sources written to break each rule in each way one can be broken.

fn in_domain(source: &str) -> Vec<String> {
    violations(layer("domain"), &["domain", "token", "keys"], source).expect("parses")
}

#[test]
fn an_import_of_an_outer_module_is_found_in_every_spelling() {
    for source in [
        "use crate::http::error::ApiError;",
        "use crate::http;",
        "use crate::{http::error::ApiError};",
        "use crate::{domain::permissions, http::{self}};",
        "use crate::http as web;",
        "use ::core::fmt; use crate::{\n    domain::permissions::Permission,\n    http::{\n        error::ApiError,\n    },\n};",
        "use super::super::super::http::error::ApiError;",
        "use super::super::super::{http::error::ApiError};",
        "pub use crate::http::error::*;",
    ] {
        let found = in_domain(source);
        assert_eq!(found.len(), 1, "{source}: {found:?}");
        assert!(found[0].contains("crate::http"), "{source}: {found:?}");
    }
}

#[test]
fn an_outer_module_named_in_code_types_macros_and_attributes_is_found() {
    for source in [
        "fn f() { let _ = crate::aws::metrics::Capture::start(); }",
        "fn f(_: Option<crate::aws::metrics::Metric>) {}",
        "fn f() { tracing::info!(value = ?crate::aws::metrics::NAME, \"x\"); }",
        "fn f() -> String { format!(\"{}\", super::super::super::aws::NAME) }",
        "#[serde(with = \"crate::aws::codec\")] struct S;",
        "#[derive(crate::aws::Derive)] struct S;",
        "use crate as root; fn f() { root::aws::f(); }",
        "use super::super::super as root; fn f() { root::aws::f(); }",
        "use crate::aws as cloud;",
    ] {
        let found = in_domain(source);
        assert!(
            found.iter().any(|line| line.contains("crate::aws")),
            "{source}: {found:?}"
        );
    }
}

#[test]
fn an_outer_crate_is_found_wherever_it_is_named() {
    for (source, krate) in [
        ("use lambda_http::Request;", "lambda_http"),
        (
            "use lambda_http::{\n    Body,\n    Request,\n};",
            "lambda_http",
        ),
        ("fn f() { let _c = reqwest::Client::new(); }", "reqwest"),
        (
            "use ::aws_sdk_eventbridge as events;",
            "aws_sdk_eventbridge",
        ),
        ("fn f(_: aws_smithy_types::Blob) {}", "aws_smithy_types"),
        (
            "fn f() { let _ = vec![hyper_util::rt::TokioExecutor::new()]; }",
            "hyper_util",
        ),
        ("use videosdk;", "videosdk"),
        ("extern crate reqwest as client;", "reqwest"),
        (
            "use std::fmt; use videosdk as sdk; fn f() { sdk::Client::builder(); }",
            "videosdk",
        ),
    ] {
        let found = in_domain(source);
        assert!(
            found
                .iter()
                .any(|line| line.contains(&format!("the crate {krate}"))),
            "{source}: {found:?}"
        );
    }
}

#[test]
fn a_name_the_crate_root_re_exports_is_judged_by_what_it_names() {
    // lib.rs: `pub use videosdk::{KeyFetchError, VIDEOSDK_REQUEST_TIMEOUT};`
    for source in [
        "use crate::KeyFetchError;",
        "use crate::{KeyFetchError as FetchError};",
        "fn f(_: crate::KeyFetchError) {}",
        "fn f() -> std::time::Duration { crate::VIDEOSDK_REQUEST_TIMEOUT }",
        "use crate as root; fn f(_: &root::KeyFetchError) {}",
        "use super::super::super::KeyFetchError;",
    ] {
        let found = in_domain(source);
        assert!(
            found.iter().any(|line| line.contains("crate::videosdk::")
                && line.contains("the module crate::videosdk")),
            "{source}: {found:?}"
        );
    }
}

#[test]
fn re_exports_are_followed_through_every_module() {
    let files: Vec<(Vec<String>, String)> = [
        (
            &[][..],
            "pub mod aws; pub mod domain; pub use domain::Measures;",
        ),
        (
            &["domain"],
            "pub use crate::aws::metrics as measures; pub use measures::Capture as Measures;",
        ),
        (&["domain", "keyring"], "pub struct Keyring;"),
    ]
    .iter()
    .map(|(module, source)| {
        (
            module.iter().map(|part| (*part).to_owned()).collect(),
            (*source).to_owned(),
        )
    })
    .collect();
    let reexports = Reexports::of(&files).expect("parses");
    let in_http = |source| {
        violations_through(layer("http"), &["http", "error"], source, &reexports).expect("parses")
    };
    for source in [
        "use crate::domain::measures;",
        "fn f() { crate::domain::measures::count(); }",
        "use crate::Measures;",
        "use crate::domain::Measures;",
    ] {
        let found = in_http(source);
        assert_eq!(found.len(), 1, "{source}: {found:?}");
        assert!(
            found[0].ends_with("the module crate::aws"),
            "{source}: {found:?}"
        );
    }
    assert_eq!(
        in_http("use crate::domain::keyring::Keyring;"),
        Vec::<String>::new()
    );
}

#[test]
fn what_a_layer_may_name_passes() {
    for source in [
        "use serde_json::Value;",
        "use crate::domain::meetings::RoomOptions;",
        "use super::super::meetings::RoomOptions;",
        "use super::claims::Claims; use self::inner::X; mod inner { pub struct X; }",
        "mod keys; pub use keys::TokenKeys;",
        "// use crate::http::error::ApiError;\nconst TEXT: &str = \"crate::aws::metrics\";",
        "/// See `crate::http`.\nfn f() {}",
        "fn f(http: u8, aws: u8) -> u8 { http + aws }",
        "mod tests { use super::*; use crate::domain::Keyring; }",
    ] {
        assert_eq!(in_domain(source), Vec::<String>::new(), "{source}");
    }
    assert_eq!(
        violations(
            layer("http"),
            &["http", "error"],
            "use crate::domain::Keyring; use lambda_http::Body;"
        )
        .expect("parses"),
        Vec::<String>::new()
    );
}

#[test]
fn each_layer_is_judged_by_its_own_rules() {
    let source = "use crate::{domain::Keyring, http::error::ApiError, aws::metrics};";
    let names = |layer_name: &str, module: &[&str]| {
        violations(layer(layer_name), module, source)
            .expect("parses")
            .join("\n")
    };
    let domain = names("domain", &["domain", "keyring"]);
    assert!(
        domain.contains("crate::http") && domain.contains("crate::aws"),
        "{domain}"
    );
    let http = names("http", &["http", "error"]);
    assert!(
        !http.contains("crate::http") && http.contains("crate::aws"),
        "{http}"
    );
    assert_eq!(names("aws", &["aws", "lambda"]), "");
    let tls = names("tls", &["tls"]);
    assert!(
        tls.contains("crate::domain") && tls.contains("crate::aws"),
        "{tls}"
    );
}

#[test]
fn a_backend_builds_on_the_state_and_never_the_reverse() {
    let state = violations(
        layer("configuration and state"),
        &["state"],
        "use crate::domain::keyring::Keyring;\nuse crate::backends::meetings::MeetingBackend;",
    )
    .expect("parses");
    assert_eq!(
        state,
        ["line 2: names crate::backends::meetings::MeetingBackend: the module crate::backends"]
    );
    let backend =
        |source| violations(layer("backends"), &["backends", "webhooks"], source).expect("parses");
    assert_eq!(
        backend("use crate::settings::Settings;\nuse crate::state::{Backend, InitError};"),
        Vec::<String>::new()
    );
    assert_eq!(backend("use crate::routes::API;").len(), 1);
}

#[test]
fn each_finding_carries_its_line() {
    let found = in_domain("use std::fmt;\n\nuse crate::{\n    domain::x,\n    aws::metrics,\n};\n");
    assert_eq!(
        found,
        ["line 5: names crate::aws::metrics: the module crate::aws"]
    );
}

#[test]
fn a_file_that_does_not_parse_is_an_error_not_a_pass() {
    assert!(violations(layer("domain"), &["domain"], "use crate::http::{;").is_err());
}

#[test]
fn files_map_to_their_modules() {
    assert_eq!(
        module_of("domain/token/keys.rs"),
        ["domain", "token", "keys"]
    );
    assert_eq!(module_of("domain/mod.rs"), ["domain"]);
    assert_eq!(module_of("tls.rs"), ["tls"]);
    assert_eq!(module_of("lib.rs"), Vec::<&str>::new());
}

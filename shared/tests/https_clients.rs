//! Every call out is made with the TLS of `shared/src/tls.rs` (rustls on ring, the compiled-in
//! roots): reqwest is built with manually given roots only, so a client built any other way
//! trusts no root and its HTTPS calls fail (the webhook key fetch once was, and the default
//! deployment could not start). The HTTPS end-to-end test proves it for the key fetch
//! (`tests/tests/webhook_local_api.rs`); this one keeps any new client on the same path.
//!
//! Every file compiled into the functions (`shared/src` and `functions/*/src`) is parsed
//! (`syn`), outside its tests: each path in code is resolved through the file's imports
//! (`use reqwest::Client; Client::builder()`, `use reqwest as http;`, `crate::`, `super::`)
//! before it is judged, also inside macro arguments that are expressions.

mod source_tree;

use source_tree::{module_of, source_files};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use syn::punctuated::Punctuated;
use syn::visit::Visit;

/// Calls that make an HTTPS client with a TLS configuration of their own (or none): never, outside
/// tls.rs. A path that starts with one of these is one.
const FORBIDDEN: &[&str] = &[
    "reqwest::Client::new",
    "reqwest::Client::default",
    "reqwest::ClientBuilder::default",
    "reqwest::get",
    "reqwest::blocking",
    "rustls::ClientConfig",
    "rustls::RootCertStore",
    "rustls::client",
    "hyper_rustls",
    "tokio_rustls",
    "rustls_native_certs",
    "webpki_roots",
    "native_tls",
    "openssl",
    "aws_config",
    "aws_smithy_http_client",
    // The official VideoSDK crate's `Client::new` builds a reqwest client of its own.
    "videosdk::Client::new",
    "videosdk::Client::default",
];

/// Methods that give a client roots or a TLS configuration of their own, or turn checks off.
const FORBIDDEN_METHODS: &[&str] = &[
    "add_root_certificate",
    "tls_built_in_root_certs",
    "tls_built_in_webpki_certs",
    "tls_built_in_native_certs",
    "use_rustls_tls",
    "use_native_tls",
    "danger_accept_invalid_certs",
    "danger_accept_invalid_hostnames",
    "with_tls_config",
    "with_native_roots",
    "with_webpki_roots",
    "tls_provider",
];

/// reqwest's client builders: each must be given tls.rs's configuration
/// (`.use_preconfigured_tls(crate::tls::client_config())`) in the function that makes it.
const REQWEST_BUILDERS: &[&str] = &["reqwest::Client::builder", "reqwest::ClientBuilder::new"];

/// Builders of clients that take an HTTP client: each must be given one (`.http_client(..)`, the
/// reqwest client above or the AWS one of `aws::environment`) in the function that makes it.
const GIVEN_AN_HTTP_CLIENT: &[&str] = &[
    "videosdk::Client::builder",
    "videosdk::ClientBuilder::new",
    "videosdk::builder::ClientBuilder::new",
    "aws_types::SdkConfig::builder",
    "aws_types::sdk_config::Builder::new",
];

/// Crates whose items a glob import would hide from this test.
const WATCHED_CRATES: &[&str] = &[
    "reqwest",
    "rustls",
    "hyper_rustls",
    "videosdk",
    "aws_types",
    "aws_config",
];

/// What one file does, as found.
#[derive(Default, Debug, PartialEq)]
struct Findings {
    /// Forbidden calls and methods, one line each.
    offences: Vec<String>,
    /// reqwest builders made, per function (`module::function`), and how many of them were
    /// given tls.rs's configuration there.
    reqwest_builders: BTreeMap<String, (usize, usize)>,
    /// Other client builders, per function, and the `.http_client(..)` calls there.
    client_builders: BTreeMap<String, (usize, usize)>,
}

struct Scanner {
    /// The module the file holds, under `crate`.
    module: Vec<String>,
    /// Each name the file imports, and the path it stands for.
    imports: HashMap<String, Vec<String>>,
    /// The function being read (`""` outside any).
    function: String,
    findings: Findings,
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

fn line_of(span: proc_macro2::Span) -> usize {
    span.start().line
}

impl Scanner {
    fn new(module: &[&str], file: &syn::File) -> Self {
        let mut scanner = Self {
            module: module.iter().map(|part| (*part).to_owned()).collect(),
            imports: HashMap::new(),
            function: String::new(),
            findings: Findings::default(),
        };
        // Imports may build on each other (`use reqwest as http; use http::Client;`).
        let spelled = collect_imports(file);
        for _ in 0..4 {
            for (name, path, line) in &spelled {
                let Some(name) = name else {
                    if path
                        .first()
                        .is_some_and(|first| WATCHED_CRATES.contains(&first.as_str()))
                        || scanner
                            .absolute(path)
                            .first()
                            .is_some_and(|first| WATCHED_CRATES.contains(&first.as_str()))
                    {
                        let offence = format!(
                            "line {line}: a glob import of {}::* hides what it names",
                            path.join("::")
                        );
                        if !scanner.findings.offences.contains(&offence) {
                            scanner.findings.offences.push(offence);
                        }
                    }
                    continue;
                };
                let resolved = scanner.absolute_except(path, Some(name));
                scanner.imports.insert(name.clone(), resolved);
            }
        }
        scanner
    }

    /// `segments` as the path they name: `crate::...` for the crate's own items, else the
    /// external crate's path.
    fn absolute(&self, segments: &[String]) -> Vec<String> {
        self.absolute_except(segments, None)
    }

    fn absolute_except(&self, segments: &[String], binding: Option<&String>) -> Vec<String> {
        let Some((first, rest)) = segments.split_first() else {
            return Vec::new();
        };
        let within = |mut base: Vec<String>| {
            base.insert(0, "crate".to_owned());
            base.extend_from_slice(rest);
            base
        };
        match first.as_str() {
            "crate" => within(Vec::new()),
            "self" => within(self.module.clone()),
            "super" => {
                let mut module = self.module.clone();
                let mut rest = segments;
                while let Some((first, after)) = rest.split_first()
                    && first == "super"
                {
                    module.pop();
                    rest = after;
                }
                let mut path = vec!["crate".to_owned()];
                path.extend(module);
                path.extend_from_slice(rest);
                path
            }
            _ => match self.imports.get(first).filter(|_| binding != Some(first)) {
                Some(target) => {
                    let mut path = target.clone();
                    path.extend_from_slice(rest);
                    path
                }
                None => segments.to_vec(),
            },
        }
    }

    fn offence(&mut self, line: usize, what: String) {
        self.findings
            .offences
            .push(format!("line {line} (in {}): {what}", self.where_()));
    }

    fn where_(&self) -> String {
        let mut at = self.module.clone();
        if !self.function.is_empty() {
            at.push(self.function.clone());
        }
        format!("crate::{}", at.join("::"))
    }

    /// Whether `expression` is a call of `crate::tls::client_config`.
    fn is_tls_configuration(&self, expression: &syn::Expr) -> bool {
        let syn::Expr::Call(call) = expression else {
            return false;
        };
        let syn::Expr::Path(path) = &*call.func else {
            return false;
        };
        let segments: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        call.args.is_empty() && self.absolute(&segments) == ["crate", "tls", "client_config"]
    }
}

/// Every import of `file`, at any depth (inline modules, function bodies) outside tests: the
/// name it binds (`None` for a glob), the path it names, its line. A file's imports are taken
/// as one scope.
fn collect_imports(file: &syn::File) -> Vec<(Option<String>, Vec<String>, usize)> {
    #[derive(Default)]
    struct Imports(Vec<(Option<String>, Vec<String>, usize)>);

    impl Imports {
        fn tree(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
            match tree {
                syn::UseTree::Path(path) => {
                    prefix.push(path.ident.to_string());
                    self.tree(&path.tree, prefix);
                    prefix.pop();
                }
                syn::UseTree::Name(name) if name.ident == "self" => {
                    let line = line_of(name.ident.span());
                    self.0.push((prefix.last().cloned(), prefix.clone(), line));
                }
                syn::UseTree::Name(name) => {
                    let mut path = prefix.clone();
                    path.push(name.ident.to_string());
                    let line = line_of(name.ident.span());
                    self.0.push((Some(name.ident.to_string()), path, line));
                }
                syn::UseTree::Rename(rename) => {
                    let mut path = prefix.clone();
                    if rename.ident != "self" {
                        path.push(rename.ident.to_string());
                    }
                    if rename.rename != "_" {
                        let line = line_of(rename.ident.span());
                        self.0.push((Some(rename.rename.to_string()), path, line));
                    }
                }
                syn::UseTree::Glob(glob) => {
                    let line = line_of(glob.star_token.spans[0]);
                    self.0.push((None, prefix.clone(), line));
                }
                syn::UseTree::Group(group) => {
                    for inner in &group.items {
                        self.tree(inner, prefix);
                    }
                }
            }
        }
    }

    impl<'ast> Visit<'ast> for Imports {
        fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
            if !is_test(&item.attrs) {
                syn::visit::visit_item_mod(self, item);
            }
        }

        fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
            if !is_test(&item.attrs) {
                syn::visit::visit_item_fn(self, item);
            }
        }

        fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
            if !is_test(&item.attrs) {
                self.tree(&item.tree, &mut Vec::new());
            }
        }

        fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
            let bound = item
                .rename
                .as_ref()
                .map_or(&item.ident, |(_, rename)| rename);
            let line = line_of(item.ident.span());
            self.0
                .push((Some(bound.to_string()), vec![item.ident.to_string()], line));
        }
    }

    let mut imports = Imports::default();
    imports.visit_file(file);
    imports.0
}

impl<'ast> Visit<'ast> for Scanner {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if is_test(&item.attrs) {
            return;
        }
        if let Some((_, items)) = &item.content {
            self.module.push(item.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.module.pop();
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if is_test(&item.attrs) {
            return;
        }
        let outer = std::mem::replace(&mut self.function, item.sig.ident.to_string());
        syn::visit::visit_item_fn(self, item);
        self.function = outer;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if is_test(&item.attrs) {
            return;
        }
        let outer = std::mem::replace(&mut self.function, item.sig.ident.to_string());
        syn::visit::visit_impl_item_fn(self, item);
        self.function = outer;
    }

    fn visit_expr_path(&mut self, expression: &'ast syn::ExprPath) {
        let mut segments: Vec<String> = expression
            .path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        // `<reqwest::Client as Default>::default`: the type's path, then the function.
        if let Some(qself) = &expression.qself
            && let syn::Type::Path(ty) = &*qself.ty
            && let Some(function) = segments.last().cloned()
        {
            segments = ty
                .path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            segments.push(function);
        }
        let path = self.absolute(&segments);
        let named = path.join("::");
        let line = expression
            .path
            .segments
            .first()
            .map_or(0, |segment| line_of(segment.ident.span()));
        let starts_with =
            |prefix: &str| named == *prefix || named.starts_with(&format!("{prefix}::"));
        if let Some(forbidden) = FORBIDDEN.iter().find(|prefix| starts_with(prefix)) {
            let what = if named == *forbidden {
                named.clone()
            } else {
                format!("{named} ({forbidden})")
            };
            self.offence(line, format!("{what}: a client without crate::tls"));
        }
        let at = self.where_();
        if REQWEST_BUILDERS.iter().any(|prefix| starts_with(prefix)) {
            self.findings
                .reqwest_builders
                .entry(at.clone())
                .or_default()
                .0 += 1;
        }
        if GIVEN_AN_HTTP_CLIENT
            .iter()
            .any(|prefix| starts_with(prefix))
        {
            self.findings.client_builders.entry(at).or_default().0 += 1;
        }
        syn::visit::visit_expr_path(self, expression);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        let line = line_of(call.method.span());
        if FORBIDDEN_METHODS.contains(&method.as_str()) {
            self.offence(line, format!(".{method}(..)"));
        }
        let at = self.where_();
        if method == "use_preconfigured_tls" {
            if call.args.len() == 1 && self.is_tls_configuration(&call.args[0]) {
                self.findings.reqwest_builders.entry(at).or_default().1 += 1;
            } else {
                self.offence(
                    line,
                    ".use_preconfigured_tls(..) of another configuration than \
                     crate::tls::client_config()"
                        .to_owned(),
                );
            }
        } else if method == "http_client" {
            self.findings.client_builders.entry(at).or_default().1 += 1;
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // Most macros (`format!`, `vec!`, `assert!`, `tokio::join!`) take expressions.
        if let Ok(arguments) =
            mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        {
            for argument in &arguments {
                self.visit_expr(argument);
            }
        }
        syn::visit::visit_macro(self, mac);
    }
}

/// What the non-test code of `source` (the file of module `module`) does.
fn scan(module: &[&str], source: &str) -> Result<Findings, syn::Error> {
    let file = syn::parse_file(source)?;
    let mut scanner = Scanner::new(module, &file);
    scanner.visit_file(&file);
    Ok(scanner.findings)
}

/// Every file compiled into the functions: the common crate's and each function's own.
fn compiled_into_the_functions() -> Vec<(String, Vec<String>, PathBuf)> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = shared.parent().expect("the workspace");
    let mut roots = vec![shared.join("src")];
    for entry in std::fs::read_dir(workspace.join("functions")).expect("functions/") {
        let source = entry.expect("a directory entry").path().join("src");
        if source.is_dir() {
            roots.push(source);
        }
    }
    let mut files = Vec::new();
    for root in roots {
        for path in source_files(&root) {
            let relative = path
                .strip_prefix(&root)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let shown = path
                .strip_prefix(workspace)
                .expect("in the workspace")
                .display()
                .to_string();
            let module = module_of(&relative)
                .iter()
                .map(|part| (*part).to_owned())
                .collect();
            files.push((shown, module, path));
        }
    }
    files
}

/// Every client that calls out is made with tls.rs's TLS: no other file builds a TLS
/// configuration, connector or client of its own; the one reqwest client builder
/// (`crate::videosdk::https_client`) is given tls.rs's configuration, and every client that
/// takes an HTTP client (VideoSDK's crate, the AWS SDK's configuration) is given one.
#[test]
fn no_other_module_builds_an_https_client() {
    let files = compiled_into_the_functions();
    assert!(
        files
            .iter()
            .any(|(shown, ..)| shown.starts_with("functions/"))
            && files.len() >= 40,
        "only {} files were read",
        files.len()
    );
    let mut offenders = Vec::new();
    let mut reqwest_builders = 0;
    let mut client_builders = 0;
    for (shown, module, path) in &files {
        if shown == "shared/src/tls.rs" {
            continue;
        }
        let module: Vec<&str> = module.iter().map(String::as_str).collect();
        let text = std::fs::read_to_string(path).expect("a readable source file");
        let found = scan(&module, &text).unwrap_or_else(|error| panic!("{shown}: {error}"));
        offenders.extend(found.offences.iter().map(|line| format!("{shown}: {line}")));
        for (function, (made, given)) in &found.reqwest_builders {
            if made != given {
                offenders.push(format!(
                    "{shown}: {function} makes {made} reqwest client builders, {given} given \
                     crate::tls::client_config()"
                ));
            }
            reqwest_builders += made;
        }
        for (function, (made, given)) in &found.client_builders {
            if made > given {
                offenders.push(format!(
                    "{shown}: {function} makes {made} client builders, {given} given an HTTP \
                     client"
                ));
            }
            client_builders += made;
        }
    }
    assert_eq!(offenders, Vec::<String>::new());
    assert_eq!(reqwest_builders, 1, "one reqwest constructor");
    assert!(
        client_builders >= 2,
        "the VideoSDK client and the AWS configuration: {client_builders}"
    );
}

// The matcher itself, on sources written to break the rule in each way it can be broken.

fn offences(source: &str) -> Vec<String> {
    let found = scan(&["routes", "join"], source).expect("parses");
    let mut lines = found.offences;
    for (function, (made, given)) in found.reqwest_builders {
        if made != given {
            lines.push(format!(
                "{function}: {made} reqwest builders, {given} with tls"
            ));
        }
    }
    for (function, (made, given)) in found.client_builders {
        if made > given {
            lines.push(format!(
                "{function}: {made} client builders, {given} given one"
            ));
        }
    }
    lines
}

#[test]
fn every_spelling_of_a_client_of_its_own_is_found() {
    for source in [
        "fn f() { let _ = reqwest::Client::new(); }",
        "fn f() { let _ = reqwest::Client::default(); }",
        "fn f() { let _ = <reqwest::Client as Default>::default(); }",
        "async fn f(url: &str) { let _ = reqwest::get(url).await; }",
        "use reqwest::Client; fn f() { let _ = Client::builder().build(); }",
        "use reqwest::Client as Http; fn f() { let _ = Http::new(); }",
        "use reqwest as http; fn f() { let _ = http::Client::builder().build(); }",
        "use reqwest::{self, ClientBuilder}; fn f() { let _ = ClientBuilder::new().build(); }",
        "use reqwest::get; async fn f() { let _ = get(\"https://example.com\").await; }",
        "fn f() { let _ = reqwest::blocking::get(\"https://example.com\"); }",
        "fn f() { let _ = format!(\"{:?}\", reqwest::Client::new()); }",
        "fn f() { let _ = Some(1).map(|_| reqwest::Client::new()); }",
        "impl S { fn f(&self) { let _ = reqwest::Client::builder().build(); } }",
        "fn f() { let _ = reqwest::Client::builder().use_preconfigured_tls(other()).build(); }",
        "fn f() { let _ = reqwest::Client::builder().use_preconfigured_tls(crate::tls::client_config()).add_root_certificate(c).build(); }",
        "fn f() { let _ = rustls::ClientConfig::builder(); }",
        "use rustls::ClientConfig; fn f() { let _ = ClientConfig::builder_with_provider(p); }",
        "fn f() { let _ = hyper_rustls::HttpsConnectorBuilder::new(); }",
        "use reqwest::*; fn f() { let _ = Client::new(); }",
        "fn f() { let _ = videosdk::Client::new(); }",
        "use videosdk::Client; fn f() { let _ = Client::builder().base_url(u).build(); }",
        "fn f() { let _ = aws_config::load_from_env(); }",
        "fn f() { let _ = aws_types::SdkConfig::builder().region(r).build(); }",
        "mod inner { fn f() { let _ = reqwest::Client::new(); } }",
        "fn f() -> reqwest::Client { use reqwest::Client; Client::builder().build().unwrap() }",
        "fn f() { use reqwest::Client as C; let _ = C::default(); }",
    ] {
        assert_ne!(offences(source), Vec::<String>::new(), "{source}");
    }
}

#[test]
fn a_client_on_tls_rs_configuration_passes() {
    for source in [
        "fn https_client() -> reqwest::Client { reqwest::Client::builder().use_preconfigured_tls(crate::tls::client_config()).build().unwrap() }",
        "fn https_client(configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder) { configure(reqwest::Client::builder()).use_preconfigured_tls(crate::tls::client_config()); }",
        "use crate::tls; fn f() { reqwest::Client::builder().use_preconfigured_tls(tls::client_config()); }",
        "use super::super::tls::client_config; fn f() { reqwest::Client::builder().use_preconfigured_tls(client_config()); }",
        "fn f(http: reqwest::Client) { videosdk::Client::builder().http_client(http).build(); }",
        "fn f() { aws_types::SdkConfig::builder().http_client(http_client()).build(); }",
        "fn f(c: &reqwest::Client) { let _ = c.get(\"https://api.videosdk.live\").send(); }",
        "#[cfg(test)] mod tests { fn f() { let _ = reqwest::Client::new(); } }",
        "// reqwest::Client::new()\nconst TEXT: &str = \"reqwest::get\";",
    ] {
        assert_eq!(offences(source), Vec::<String>::new(), "{source}");
    }
}

#[test]
fn a_file_that_does_not_parse_is_an_error_not_a_pass() {
    assert!(scan(&[], "fn f() { reqwest::Client::new( }").is_err());
}

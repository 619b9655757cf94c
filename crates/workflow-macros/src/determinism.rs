//! Compile-time determinism checks for the methods of a `#[workflow]` impl block.
//!
//! A workflow's code runs again from its history on every replay, so it must make the same
//! decisions each time. The macro cannot see types, so the checks work on names: calls whose
//! path ends the way the clock, sleeping, spawning, randomness, fresh ids, files, the network
//! and the environment are reached in std and the common crates, and iteration over a
//! `HashMap` or `HashSet` the method itself declares. Each finding names the `ctx`
//! alternative. Closures given to `ctx.side_effect(..)` are not checked: their result is
//! recorded. `#[allow_nondeterminism("why it is safe")]` on a statement, a match arm or the
//! method accepts a reviewed exception.

use std::collections::HashMap;

use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Error, Expr, ImplItemFn, Pat, Stmt, Token, Type};

/// The attribute that accepts a reviewed exception.
pub const ALLOW: &str = "allow_nondeterminism";

/// What a call reaches and what to use instead.
struct Rule {
    /// Path suffixes (the last segments), `*` matching any one segment.
    paths: &'static [&'static [&'static str]],
    what: &'static str,
    instead: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        paths: &[
            &["SystemTime", "now"],
            &["Instant", "now"],
            &["Utc", "now"],
            &["Local", "now"],
            &["OffsetDateTime", "now_utc"],
            &["OffsetDateTime", "now_local"],
            &["Timestamp", "now"],
            &["Zoned", "now"],
        ],
        what: "reads this machine's clock, which reads differently when the workflow replays",
        instead: "use `ctx.now()`, the time recorded in the history",
    },
    Rule {
        paths: &[
            &["thread", "sleep"],
            &["time", "sleep"],
            &["time", "sleep_until"],
            &["time", "interval"],
            &["time", "interval_at"],
            &["sleep"],
            &["sleep_until"],
        ],
        what: "waits on this machine's clock, which the history does not record",
        instead: "use `ctx.sleep(duration)`, a durable timer",
    },
    Rule {
        paths: &[&["time", "timeout"]],
        what: "times out on this machine's clock, which the history does not record",
        instead: "race the future against `ctx.sleep(duration)` with `workflow_core::workflow::future::select`",
    },
    Rule {
        paths: &[
            &["tokio", "spawn"],
            &["task", "spawn"],
            &["task", "spawn_local"],
            &["thread", "spawn"],
            &["thread", "scope"],
            &["spawn_blocking"],
            &["rayon", "spawn"],
        ],
        what: "runs code outside the workflow's executor, in an order the history does not record",
        instead: "run steps concurrently with `workflow_core::workflow::future` (`join`, `select`, `join_all`), or start a child workflow",
    },
    Rule {
        paths: &[
            &["rand", "random"],
            &["rand", "rng"],
            &["random"],
            &["thread_rng"],
            &["OsRng"],
            &["from_entropy"],
            &["from_os_rng"],
            &["getrandom"],
            &["fastrand", "*"],
        ],
        what: "draws a different random number when the workflow replays",
        instead: "use `ctx.random_u64()` or `ctx.random_f64()`, seeded from the history",
    },
    Rule {
        paths: &[
            &["Uuid", "new_v4"],
            &["Uuid", "new_v1"],
            &["Uuid", "new_v6"],
            &["Uuid", "new_v7"],
            &["Uuid", "now_v1"],
            &["Uuid", "now_v6"],
            &["Uuid", "now_v7"],
        ],
        what: "makes a different id when the workflow replays",
        instead: "use `ctx.uuid4()`, seeded from the history",
    },
    Rule {
        paths: &[
            &["File", "open"],
            &["File", "create"],
            &["File", "create_new"],
            &["File", "options"],
            &["OpenOptions", "new"],
        ],
        what: "does file I/O, whose result the history does not record",
        instead: "do it in an activity",
    },
    Rule {
        paths: &[
            &["TcpStream", "connect"],
            &["TcpListener", "bind"],
            &["UdpSocket", "bind"],
            &["reqwest", "*"],
        ],
        what: "does network I/O, whose result the history does not record",
        instead: "do it in an activity",
    },
    Rule {
        paths: &[
            &["env", "var"],
            &["env", "var_os"],
            &["env", "vars"],
            &["env", "vars_os"],
            &["env", "args"],
            &["env", "args_os"],
            &["env", "current_dir"],
            &["env", "temp_dir"],
            &["env", "home_dir"],
        ],
        what: "reads this process's environment, which can differ on the worker that replays",
        instead: "pass the value in the workflow's input, or read it in an activity",
    },
    Rule {
        paths: &[&["Command", "new"]],
        what: "runs a process, whose result the history does not record",
        instead: "do it in an activity",
    },
];

/// Module paths whose every function does I/O: `std::fs::read`, `tokio::net::lookup_host`.
const IO_MODULES: &[(&str, &str)] = &[
    (
        "fs",
        "does file I/O, whose result the history does not record",
    ),
    (
        "net",
        "does network I/O, whose result the history does not record",
    ),
];

/// Iterator adapters that keep the order of what they are given.
const ADAPTERS: &[&str] = &[
    "map",
    "filter",
    "filter_map",
    "flat_map",
    "flatten",
    "copied",
    "cloned",
    "enumerate",
    "zip",
    "chain",
    "skip",
    "take",
    "skip_while",
    "take_while",
    "map_while",
    "inspect",
    "peekable",
    "step_by",
    "rev",
];

/// Consumers whose result depends on the order of what they consume.
const ORDERED_CONSUMERS: &[&str] = &[
    "for_each",
    "try_for_each",
    "next",
    "find",
    "find_map",
    "position",
    "nth",
    "last",
    "fold",
    "try_fold",
    "reduce",
    "scan",
];

/// Methods of `HashMap` and `HashSet` that iterate.
const ITERATORS: &[&str] = &[
    "iter",
    "iter_mut",
    "keys",
    "values",
    "values_mut",
    "into_iter",
    "into_keys",
    "into_values",
    "drain",
];

/// Checks one method, removes the `allow_nondeterminism` attributes from it and its body, and
/// returns what it found (empty when the method is deterministic as far as names show).
pub fn check(method: &mut ImplItemFn) -> Vec<Error> {
    let mut checker = Checker::default();
    let allowed = checker.take_allow(&mut method.attrs);
    checker.allowed = usize::from(allowed);
    checker.scopes.push(HashMap::new());
    for input in &method.sig.inputs {
        if let syn::FnArg::Typed(typed) = input
            && let Pat::Ident(ident) = &*typed.pat
        {
            checker.declare(&ident.ident, is_hash_type(&typed.ty));
        }
    }
    checker.visit_block_mut(&mut method.block);
    checker.errors
}

#[derive(Default)]
struct Checker {
    errors: Vec<Error>,
    /// How many enclosing items carry an allow attribute; findings are dropped while > 0.
    allowed: usize,
    /// Local bindings by block, `true` for those known to be a `HashMap` or `HashSet`.
    scopes: Vec<HashMap<String, bool>>,
}

impl Checker {
    /// Removes the allow attributes from `attrs`; true when there was one. A missing or empty
    /// reason is an error: the attribute records a review.
    fn take_allow(&mut self, attrs: &mut Vec<Attribute>) -> bool {
        let mut found = false;
        attrs.retain(|attr| {
            if !attr.path().is_ident(ALLOW) {
                return true;
            }
            found = true;
            let reason = attr.parse_args::<syn::LitStr>().ok();
            if reason.is_none_or(|r| r.value().trim().is_empty()) {
                self.errors.push(Error::new_spanned(
                    attr,
                    format!(
                        "say why this is deterministic: `#[{ALLOW}(\"the value is only logged\")]`"
                    ),
                ));
            }
            false
        });
        found
    }

    /// Reports a finding spanned over `at` (all of a path, not only its first segment).
    fn report(&mut self, at: &dyn ToTokens, message: String) {
        if self.allowed == 0 {
            self.errors.push(Error::new_spanned(
                at,
                format!("{message} (if this was reviewed and is safe, mark the statement `#[{ALLOW}(\"why\")]`)"),
            ));
        }
    }

    fn declare(&mut self, ident: &syn::Ident, hash: bool) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(ident.to_string(), hash);
        }
    }

    fn is_hash_binding(&self, expr: &Expr) -> Option<String> {
        let expr = strip_refs(expr);
        let Expr::Path(path) = expr else { return None };
        let ident = path.path.get_ident()?.to_string();
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(&ident))
            .copied()
            .filter(|hash| *hash)
            .map(|_| ident)
    }

    /// The `HashMap` binding a chain of adapters over an iteration starts from.
    fn hash_iteration(&self, expr: &Expr) -> Option<String> {
        let mut expr = strip_refs(expr);
        loop {
            let Expr::MethodCall(call) = expr else {
                return None;
            };
            let method = call.method.to_string();
            if ITERATORS.contains(&method.as_str()) {
                return self.is_hash_binding(&call.receiver);
            }
            if !ADAPTERS.contains(&method.as_str()) {
                return None;
            }
            expr = strip_refs(&call.receiver);
        }
    }

    fn report_hash_iteration(&mut self, at: &dyn ToTokens, name: &str) {
        self.report(
            at,
            format!("iterating over `{name}`, a `HashMap` or `HashSet`, visits its entries in an order that changes between runs, so a replay can take other steps: use a `BTreeMap` or `BTreeSet`, or sort the entries first"),
        );
    }

    fn check_path(&mut self, path: &syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let shown = segments.join("::");
        for rule in RULES {
            let hit = rule.paths.iter().any(|suffix| {
                suffix.len() <= segments.len()
                    && suffix
                        .iter()
                        .zip(&segments[segments.len() - suffix.len()..])
                        .all(|(want, got)| *want == "*" || want == got)
            });
            if hit {
                self.report(path, format!("`{shown}` {}: {}", rule.what, rule.instead));
                return;
            }
        }
        // `std::fs::read`, `fs::write`, `tokio::net::TcpStream::connect`: a module of I/O,
        // named first or right after the crate that has it.
        for (module, what) in IO_MODULES {
            let position = segments.iter().position(|s| s == module);
            let io = position.is_some_and(|at| {
                at + 1 < segments.len()
                    && (at == 0
                        || matches!(segments[at - 1].as_str(), "std" | "tokio" | "async_std"))
            });
            if io {
                self.report(path, format!("`{shown}` {what}: do it in an activity"));
                return;
            }
        }
    }

    /// Macros keep their tokens unparsed; most take expressions separated by commas
    /// (`println!`, `format!`, `vec!`, `assert_eq!`), which are checked like any others.
    fn check_macro(&mut self, mac: &syn::Macro) {
        let name = mac.path.segments.last().map(|s| s.ident.to_string());
        if matches!(name.as_deref(), Some("select")) {
            let biased = mac.tokens.to_string().trim_start().starts_with("biased");
            if !biased {
                self.report(
                    &mac.path,
                    "`select!` picks a random branch among those ready, so a replay can take another: use `workflow_core::workflow::future::select`, which polls in order".into(),
                );
            }
            return;
        }
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(mut exprs) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) {
            for expr in exprs.iter_mut() {
                self.visit_expr_mut(expr);
            }
        }
    }
}

fn strip_refs(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Reference(r) => expr = &r.expr,
            Expr::Paren(p) => expr = &p.expr,
            _ => return expr,
        }
    }
}

/// `HashMap` or `HashSet`, the collections whose iteration order changes between runs.
fn is_hash_name(ident: &syn::Ident) -> bool {
    ident == "HashMap" || ident == "HashSet"
}

fn is_hash_type(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_hash_type(&r.elem),
        Type::Paren(p) => is_hash_type(&p.elem),
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| is_hash_name(&s.ident)),
        _ => false,
    }
}

/// Whether a `let`'s initializer makes a `HashMap` or `HashSet`: `HashMap::new()`,
/// `HashSet::from(..)`, `.collect::<HashMap<_, _>>()`.
fn makes_hash(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => match &*call.func {
            // The type is the segment before the function: `HashMap::new`.
            Expr::Path(path) => path
                .path
                .segments
                .iter()
                .rev()
                .nth(1)
                .is_some_and(|s| is_hash_name(&s.ident)),
            _ => false,
        },
        Expr::MethodCall(call) if call.method == "collect" => {
            call.turbofish.as_ref().is_some_and(|turbofish| {
                turbofish.args.iter().any(|arg| match arg {
                    syn::GenericArgument::Type(ty) => is_hash_type(ty),
                    _ => false,
                })
            })
        }
        _ => false,
    }
}

/// The attributes of an expression statement, where Rust accepts them.
fn expr_attrs(expr: &mut Expr) -> Option<&mut Vec<Attribute>> {
    Some(match expr {
        Expr::Array(e) => &mut e.attrs,
        Expr::Assign(e) => &mut e.attrs,
        Expr::Async(e) => &mut e.attrs,
        Expr::Await(e) => &mut e.attrs,
        Expr::Binary(e) => &mut e.attrs,
        Expr::Block(e) => &mut e.attrs,
        Expr::Break(e) => &mut e.attrs,
        Expr::Call(e) => &mut e.attrs,
        Expr::Cast(e) => &mut e.attrs,
        Expr::Closure(e) => &mut e.attrs,
        Expr::Continue(e) => &mut e.attrs,
        Expr::Field(e) => &mut e.attrs,
        Expr::ForLoop(e) => &mut e.attrs,
        Expr::If(e) => &mut e.attrs,
        Expr::Index(e) => &mut e.attrs,
        Expr::Let(e) => &mut e.attrs,
        Expr::Lit(e) => &mut e.attrs,
        Expr::Loop(e) => &mut e.attrs,
        Expr::Macro(e) => &mut e.attrs,
        Expr::Match(e) => &mut e.attrs,
        Expr::MethodCall(e) => &mut e.attrs,
        Expr::Paren(e) => &mut e.attrs,
        Expr::Path(e) => &mut e.attrs,
        Expr::Range(e) => &mut e.attrs,
        Expr::Reference(e) => &mut e.attrs,
        Expr::Return(e) => &mut e.attrs,
        Expr::Struct(e) => &mut e.attrs,
        Expr::Try(e) => &mut e.attrs,
        Expr::TryBlock(e) => &mut e.attrs,
        Expr::Tuple(e) => &mut e.attrs,
        Expr::Unary(e) => &mut e.attrs,
        Expr::Unsafe(e) => &mut e.attrs,
        Expr::While(e) => &mut e.attrs,
        Expr::Yield(e) => &mut e.attrs,
        _ => return None,
    })
}

impl VisitMut for Checker {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        self.scopes.push(HashMap::new());
        visit_mut::visit_block_mut(self, block);
        self.scopes.pop();
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        let attrs = match stmt {
            Stmt::Local(local) => Some(&mut local.attrs),
            Stmt::Expr(expr, _) => expr_attrs(expr),
            Stmt::Item(_) => None,
            Stmt::Macro(mac) => Some(&mut mac.attrs),
        };
        let allowed = match attrs {
            Some(attrs) => self.take_allow(attrs),
            None => false,
        };
        self.allowed += usize::from(allowed);
        visit_mut::visit_stmt_mut(self, stmt);
        self.allowed -= usize::from(allowed);
        // The binding is declared after its initializer is checked, so `let map = map.iter()`
        // still sees the outer `map`.
        if let Stmt::Local(local) = stmt {
            let (pat, ty) = match &local.pat {
                Pat::Type(typed) => (&*typed.pat, Some(&*typed.ty)),
                other => (other, None),
            };
            if let Pat::Ident(ident) = pat {
                let hash = ty.is_some_and(is_hash_type)
                    || local
                        .init
                        .as_ref()
                        .is_some_and(|init| makes_hash(&init.expr));
                self.declare(&ident.ident, hash);
            }
        }
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        let allowed = self.take_allow(&mut arm.attrs);
        self.allowed += usize::from(allowed);
        visit_mut::visit_arm_mut(self, arm);
        self.allowed -= usize::from(allowed);
    }

    fn visit_expr_path_mut(&mut self, expr: &mut syn::ExprPath) {
        self.check_path(&expr.path);
        visit_mut::visit_expr_path_mut(self, expr);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        self.check_macro(mac);
    }

    fn visit_expr_for_loop_mut(&mut self, expr: &mut syn::ExprForLoop) {
        let over = strip_refs(&expr.expr);
        if let Some(name) = self.is_hash_binding(over) {
            self.report_hash_iteration(&expr.expr, &name);
        } else if let Some(name) = self.hash_iteration(over) {
            self.report_hash_iteration(&expr.expr, &name);
        }
        visit_mut::visit_expr_for_loop_mut(self, expr);
    }

    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        let method = call.method.to_string();
        // The consumer ending a chain decides: `count`, `sum`, `any`, `collect` do not
        // depend on the order; `for_each`, `next`, `fold` do. An iteration handed on
        // (`let it = map.iter();`, `f(map.keys())`) is left alone: names cannot show its use.
        if ORDERED_CONSUMERS.contains(&method.as_str())
            && let Some(name) = self.hash_iteration(&call.receiver)
        {
            self.report_hash_iteration(&call.method, &name);
        }
        if method == "side_effect" {
            // `ctx.side_effect(|| ..)` records what its closure returns in the history; a
            // replay reads the record instead of calling the closure.
            self.visit_expr_mut(&mut call.receiver);
            self.allowed += 1;
            for arg in call.args.iter_mut() {
                self.visit_expr_mut(arg);
            }
            self.allowed -= 1;
            return;
        }
        visit_mut::visit_expr_method_call_mut(self, call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(method: ImplItemFn) -> Vec<String> {
        let mut method = method;
        check(&mut method)
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    fn finds(method: ImplItemFn, needle: &str) {
        let found = findings(method);
        assert!(
            found.iter().any(|f| f.contains(needle)),
            "expected a finding with {needle:?}, got {found:?}"
        );
    }

    #[test]
    fn the_clock_is_reported_with_ctx_now() {
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let t = std::time::SystemTime::now(); } },
            "`std::time::SystemTime::now` reads this machine's clock",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let t = Instant::now(); } },
            "use `ctx.now()`",
        );
    }

    #[test]
    fn sleeping_and_spawning_are_reported() {
        finds(
            syn::parse_quote! { async fn run(ctx: C) { tokio::time::sleep(d).await; } },
            "use `ctx.sleep(duration)`",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { std::thread::sleep(d); } },
            "use `ctx.sleep(duration)`",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { tokio::spawn(async {}); } },
            "`tokio::spawn` runs code outside the workflow's executor",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { tokio::time::timeout(d, f).await; } },
            "race the future against `ctx.sleep(duration)`",
        );
    }

    #[test]
    fn randomness_and_ids_are_reported() {
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let n: u64 = rand::random(); } },
            "use `ctx.random_u64()`",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let r = thread_rng(); } },
            "use `ctx.random_u64()`",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let id = uuid::Uuid::new_v4(); } },
            "use `ctx.uuid4()`",
        );
    }

    #[test]
    fn io_and_the_environment_are_reported() {
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let s = std::fs::read_to_string("a"); } },
            "`std::fs::read_to_string` does file I/O",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let s = fs::write("a", "b"); } },
            "does file I/O",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let s = std::net::TcpStream::connect("a:1"); } },
            "does network I/O",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { let v = std::env::var("HOME"); } },
            "pass the value in the workflow's input",
        );
    }

    #[test]
    fn calls_inside_macros_are_checked() {
        finds(
            syn::parse_quote! { async fn run(ctx: C) { println!("{:?}", SystemTime::now()); } },
            "use `ctx.now()`",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) { tokio::select! { _ = a => {} } } },
            "`select!` picks a random branch",
        );
        assert!(
            findings(syn::parse_quote! {
                async fn run(ctx: C) { tokio::select! { biased; _ = a => {} } }
            })
            .is_empty()
        );
    }

    #[test]
    fn ordered_use_of_a_hash_map_is_reported() {
        finds(
            syn::parse_quote! { async fn run(ctx: C) {
                let m: HashMap<String, u32> = HashMap::new();
                for (k, v) in &m { ctx.sleep(d).await; }
            } },
            "iterating over `m`, a `HashMap` or `HashSet`",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C) {
                let m = HashSet::new();
                let first = m.iter().map(|x| x).next();
            } },
            "iterating over `m`",
        );
        finds(
            syn::parse_quote! { async fn run(ctx: C, m: &HashMap<u32, u32>) {
                m.keys().for_each(|k| {});
            } },
            "iterating over `m`",
        );
    }

    #[test]
    fn order_free_use_of_a_hash_map_and_other_maps_pass() {
        let clean = findings(syn::parse_quote! { async fn run(ctx: C) {
            let m: HashMap<String, u32> = HashMap::new();
            let total: u32 = m.values().sum();
            let n = m.iter().filter(|(_, v)| **v > 1).count();
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            let b: BTreeMap<u32, u32> = BTreeMap::new();
            for (k, v) in &b {}
            let m = vec![1, 2];
            for x in &m {}
            let now = ctx.now();
            let id = ctx.side_effect(|| uuid::Uuid::new_v4().to_string())?;
        } });
        assert!(clean.is_empty(), "{clean:?}");
    }

    #[test]
    fn a_reviewed_exception_passes_and_needs_a_reason() {
        let mut method: ImplItemFn = syn::parse_quote! { async fn run(ctx: C) {
            #[allow_nondeterminism("only logged")]
            let t = SystemTime::now();
            match x {
                #[allow_nondeterminism("only logged")]
                _ => { let t = Instant::now(); }
            }
        } };
        assert!(check(&mut method).is_empty());
        let emitted = quote::quote!(#method).to_string();
        assert!(
            !emitted.contains(ALLOW),
            "the attribute is removed: {emitted}"
        );

        let mut method: ImplItemFn = syn::parse_quote! {
            #[allow_nondeterminism("a test fixture")]
            async fn run(ctx: C) { let t = SystemTime::now(); }
        };
        assert!(check(&mut method).is_empty());

        finds(
            syn::parse_quote! { async fn run(ctx: C) {
                #[allow_nondeterminism]
                let t = SystemTime::now();
            } },
            "say why this is deterministic",
        );
    }
}

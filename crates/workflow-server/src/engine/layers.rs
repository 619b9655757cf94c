//! The engine's modules import one way: each names only modules listed before it in the
//! layer order of the engine's module docs, and from the engine root only `Engine`. The
//! order is read from those docs, so the docs and this check cannot drift apart.

/// Every engine source file but the root: the module it belongs to, how many `super::`
/// reach the engine root from it, and its text.
const SOURCES: &[(&str, usize, &str)] = &[
    ("activities", 1, include_str!("activities/mod.rs")),
    ("activities", 2, include_str!("activities/answers.rs")),
    ("activities", 2, include_str!("activities/dispatch.rs")),
    ("activities", 2, include_str!("activities/timeouts.rs")),
    ("close", 1, include_str!("close.rs")),
    ("commands", 1, include_str!("commands/mod.rs")),
    ("commands", 2, include_str!("commands/apply.rs")),
    ("commands", 2, include_str!("commands/validate.rs")),
    ("commands", 3, include_str!("commands/validate/tests.rs")),
    ("context", 1, include_str!("context.rs")),
    ("cron", 1, include_str!("cron.rs")),
    ("deadline_loop", 1, include_str!("deadline_loop.rs")),
    ("deadlines", 1, include_str!("deadlines.rs")),
    ("effects", 1, include_str!("effects.rs")),
    ("error", 1, include_str!("error.rs")),
    ("event_log", 1, include_str!("event_log.rs")),
    ("events", 1, include_str!("events.rs")),
    ("execution", 1, include_str!("execution.rs")),
    ("history", 1, include_str!("history.rs")),
    ("pending_queries", 1, include_str!("pending_queries.rs")),
    ("queries", 1, include_str!("queries.rs")),
    ("record", 1, include_str!("record.rs")),
    ("retry", 1, include_str!("retry.rs")),
    ("signals", 1, include_str!("signals.rs")),
    ("start", 1, include_str!("start.rs")),
    ("state", 1, include_str!("state.rs")),
    ("successors", 1, include_str!("successors.rs")),
    ("tokens", 1, include_str!("tokens.rs")),
    ("update_registry", 1, include_str!("update_registry.rs")),
    ("updates", 1, include_str!("updates.rs")),
    ("workflow_tasks", 1, include_str!("workflow_tasks.rs")),
];

const ROOT: &str = include_str!("mod.rs");

/// The modules the root declares (the test modules aside).
fn declared() -> Vec<String> {
    ROOT.lines()
        .filter_map(|l| {
            let l = l.trim_start_matches("pub(crate) ");
            l.strip_prefix("mod ")?.strip_suffix(';')
        })
        .filter(|m| *m != "layers" && *m != "tests")
        .map(str::to_string)
        .collect()
}

/// The layer order of the root's docs: the declared modules its numbered list names, in
/// the order they appear, lowest first.
fn order(declared: &[String]) -> Vec<String> {
    let mut order = Vec::new();
    let mut in_item = false;
    for line in ROOT.lines().map_while(|l| l.strip_prefix("//!")) {
        let text = line.trim_start();
        let numbered = text
            .split_once(". ")
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        // An item's continuation lines are indented past its number.
        in_item = numbered || (in_item && line.starts_with("    "));
        if !in_item {
            continue;
        }
        for name in text.split('`').skip(1).step_by(2) {
            if declared.iter().any(|m| m == name) && !order.iter().any(|m| m == name) {
                order.push(name.to_string());
            }
        }
    }
    order
}

/// The names that follow `prefix` in `code`: one path segment each, and each first
/// segment of a `{...}` group.
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let first_segment = |s: &str| {
        s.trim()
            .chars()
            .take_while(|c| ident(*c))
            .collect::<String>()
    };
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find(prefix) {
        let at = from + found;
        from = at + prefix.len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| ident(c) || c == ':') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(first_segment(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            names.push(first_segment(&group[start..end]));
        } else {
            names.push(first_segment(rest));
        }
    }
    names.retain(|n| !n.is_empty() && n != "super");
    names
}

/// What a file at `depth` below the engine root names from the engine: modules and root
/// items. Comments are left out.
fn engine_names(source: &str, depth: usize) -> Vec<String> {
    let code: Vec<&str> = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    let code = code.join("\n");
    let mut names = names_after(&code, &"super::".repeat(depth));
    names.extend(names_after(&code, "crate::engine::"));
    names
}

/// Where each file names a module not below its own, or a root item other than `Engine`.
fn violations(order: &[String], sources: &[(&str, usize, &str)]) -> Vec<String> {
    let rank = |m: &str| order.iter().position(|o| o == m);
    let mut found = Vec::new();
    for (module, depth, source) in sources {
        let Some(own) = rank(module) else {
            found.push(format!("`{module}` is not in the layer order"));
            continue;
        };
        for name in engine_names(source, *depth) {
            match rank(&name) {
                Some(other) if other > own => found.push(format!(
                    "`{module}` names `{name}`, which the layer order puts above it"
                )),
                Some(_) => {}
                None if name == "Engine" => {}
                None => found.push(format!(
                    "`{module}` names `{name}` from the engine root, which holds only `Engine` for it"
                )),
            }
        }
    }
    found
}

#[test]
fn the_layer_order_lists_every_engine_module() {
    let declared = declared();
    let order = order(&declared);
    let missing: Vec<&String> = declared.iter().filter(|m| !order.contains(m)).collect();
    assert!(missing.is_empty(), "not in the layer order: {missing:?}");
    let files: Vec<&str> = SOURCES.iter().map(|(m, _, _)| *m).collect();
    let unread: Vec<&String> = declared
        .iter()
        .filter(|m| !files.contains(&m.as_str()))
        .collect();
    assert!(unread.is_empty(), "no source file read for: {unread:?}");
}

#[test]
fn engine_modules_name_only_modules_below_them() {
    let order = order(&declared());
    let found = violations(&order, SOURCES);
    assert!(
        found.is_empty(),
        "imports against the layer order:\n{}",
        found.join("\n")
    );
}

#[test]
fn an_import_upwards_or_of_a_root_item_is_caught() {
    let order: Vec<String> = ["record", "execution", "start"].map(String::from).into();
    let upwards = "use super::record::RunKey;\nuse super::{start, Engine};\n";
    let nested = "use crate::engine::execution::Execution;\nuse super::super::State;\n";
    let found = violations(
        &order,
        &[("execution", 1, upwards), ("execution", 2, nested)],
    );
    assert_eq!(
        found,
        [
            "`execution` names `start`, which the layer order puts above it",
            "`execution` names `State` from the engine root, which holds only `Engine` for it",
        ]
    );
}

//! The `#[workflow]` and `#[activity]` attributes. Use them through `workflow_core`, which
//! re-exports them (`use workflow_core::prelude::*`).
//!
//! Generated code names only `::workflow_core::__private` paths (and `::core`/`::std`), so
//! users need no other dependency; `crate = "renamed"` points it at a renamed `workflow-core` dependency. Errors
//! are spanned on the offending token and all of them are reported at once; the item is still
//! emitted, so one mistake does not cascade into unrelated errors.

mod activities;
mod activity;
mod attrs;
mod determinism;
mod updates;
mod workflow;

use proc_macro::TokenStream;
use syn::parse_macro_input;

/// Declares a workflow: on its struct (with an optional `name = "TypeName"`, by default the
/// struct's name) and on its impl block, whose methods are marked `#[run]` (exactly one),
/// `#[signal]`, `#[query]`, `#[update]` (with an optional `#[validator(update_name)]`) and
/// optionally `#[init]`.
///
/// The run method's name becomes its typed stub (`MyWorkflow::run`), and so do the signal,
/// query and update methods' names: `client.execute_workflow(MyWorkflow::run, input,
/// options)`, `handle.signal(MyWorkflow::add, item)`, `handle.execute_update(MyWorkflow::add_item,
/// item)`. Each stub has the visibility of its method.
///
/// The methods are checked for calls that break replay (the machine's clock, sleeping,
/// spawning, randomness, fresh ids, files, network, environment, processes, `select!`
/// without `biased;`, ordered walks over a `HashMap`): each is a compile error naming the
/// `ctx` alternative. `#[allow_nondeterminism("reason")]` on a statement, match arm or method
/// accepts a reviewed exception.
#[proc_macro_attribute]
pub fn workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(args as attrs::Args);
    let item = parse_macro_input!(item as syn::Item);
    match item {
        syn::Item::Struct(s) => workflow::expand_struct(args, s).into(),
        syn::Item::Impl(i) => workflow::expand_impl(args, i).into(),
        other => syn::Error::new_spanned(
            other,
            "`#[workflow]` goes on the workflow's struct and on its `impl` block",
        )
        .to_compile_error()
        .into(),
    }
}

/// Declares an activity: an `async fn` taking `ctx: ActivityContext` first, then its inputs,
/// and returning `Result<T, ActivityError>`. The function's name becomes a unit struct, the
/// typed stub passed to `ctx.execute_activity`; its code stays callable as `name::run`.
/// The type name defaults to the function's name; `name = "..."` overrides it.
#[proc_macro_attribute]
pub fn activity(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(args as attrs::Args);
    let item = parse_macro_input!(item as syn::ItemFn);
    activity::expand(args, item).into()
}

/// Declares activities that share state: on the impl block of a struct (e.g. one holding a
/// database pool), whose activity methods are marked `#[activity]` (optionally with
/// `name = "..."`) and take `&self`, then `ctx: ActivityContext`, then their inputs. Each
/// method's name becomes its typed stub (`Db::fetch`); `Worker::register_activities(db)`
/// registers them all with one shared value.
#[proc_macro_attribute]
pub fn activities(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(args as attrs::Args);
    let item = parse_macro_input!(item as syn::ItemImpl);
    activities::expand(args, item).into()
}

//! `#[workflow]` on a struct (its name) and on its impl block (run, signals, queries,
//! updates).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, FnArg, ImplItem, ImplItemFn, ItemImpl, ItemStruct, ReturnType, Type};

use crate::activity::{destructure, input_type, is_type_named, result_ok_type};
use crate::attrs::{Args, Errors};
use crate::determinism;
use crate::updates;

pub fn expand_struct(args: Args, item: ItemStruct) -> TokenStream {
    let _ = args.krate;
    let ident = &item.ident;
    let name = args
        .name
        .as_ref()
        .map(|n| n.value())
        .unwrap_or_else(|| ident.to_string());
    if !item.generics.params.is_empty() {
        let error = Error::new_spanned(
            &item.generics,
            "generic workflows are not supported: a workflow type has one name and fixed input and output types",
        )
        .to_compile_error();
        return quote!(#item #error);
    }
    quote! {
        #item

        impl #ident {
            #[doc(hidden)]
            pub const __WORKFLOW_NAME: &'static str = #name;
        }
    }
}

enum Role {
    Run,
    Signal(Args),
    Query(Args),
    Update(Args),
    Validator(syn::Ident),
    Init,
}

/// Takes the marker attribute (`#[run]`, `#[signal]`, ...) off a method.
fn take_role(method: &mut ImplItemFn, errors: &mut Errors) -> Option<Role> {
    let mut role = None;
    let mut kept = Vec::new();
    for attr in std::mem::take(&mut method.attrs) {
        let path = attr.path();
        let found = if path.is_ident("run") {
            Some(Role::Run)
        } else if path.is_ident("init") {
            Some(Role::Init)
        } else if path.is_ident("signal") || path.is_ident("query") || path.is_ident("update") {
            let args = match &attr.meta {
                syn::Meta::Path(_) => Ok(Args::default()),
                _ => attr.parse_args::<Args>(),
            };
            match args {
                Ok(args) if path.is_ident("signal") => Some(Role::Signal(args)),
                Ok(args) if path.is_ident("update") => Some(Role::Update(args)),
                Ok(args) => Some(Role::Query(args)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        } else if path.is_ident("validator") {
            match attr.parse_args::<syn::Ident>() {
                Ok(target) => Some(Role::Validator(target)),
                Err(_) => {
                    errors.push(Error::new_spanned(
                        &attr,
                        "name the update this validates: `#[validator(add_item)]`",
                    ));
                    None
                }
            }
        } else {
            kept.push(attr);
            continue;
        };
        if role.is_some() {
            errors.push(Error::new_spanned(
                &attr,
                "a method has at most one of `#[run]`, `#[signal]`, `#[query]`, `#[update]`, `#[validator]`, `#[init]`",
            ));
        } else {
            role = found;
        }
    }
    method.attrs = kept;
    role
}

/// The typed parameters after the receiver.
pub(crate) fn params(method: &ImplItemFn) -> Vec<Type> {
    method
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(t) => Some((*t.ty).clone()),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

fn receiver(method: &ImplItemFn) -> Option<&syn::Receiver> {
    match method.sig.inputs.first() {
        Some(FnArg::Receiver(r)) => Some(r),
        _ => None,
    }
}

struct Handler {
    vis: syn::Visibility,
    method: syn::Ident,
    wire_name: String,
    marker: syn::Ident,
    inputs: Vec<Type>,
    output: Option<Type>,
    /// An `async` signal handler, which takes the context instead of `&mut self`.
    asynchronous: bool,
}

pub fn expand_impl(args: Args, item: ItemImpl) -> TokenStream {
    let krate = args.krate();
    let mut errors = Errors::default();
    if let Some(name) = &args.name {
        errors.push(Error::new(
            name.span(),
            "the workflow's `name` goes on the struct: `#[workflow(name = \"..\")] struct MyWorkflow;`",
        ));
    }
    let mut item = item;
    let self_ty = (*item.self_ty).clone();
    let Type::Path(self_path) = &self_ty else {
        return Error::new_spanned(&self_ty, "`#[workflow]` goes on `impl MyWorkflow { .. }`")
            .to_compile_error();
    };
    let struct_ident = self_path
        .path
        .segments
        .last()
        .map(|s| s.ident.clone())
        .expect("a type path has a segment");
    if !item.generics.params.is_empty() {
        errors.push(Error::new_spanned(
            &item.generics,
            "generic workflows are not supported: a workflow type has one name and fixed input and output types",
        ));
    }
    if let Some((_, path, _)) = &item.trait_ {
        errors.push(Error::new_spanned(
            path,
            "`#[workflow]` goes on the workflow's own impl block, not a trait impl",
        ));
    }

    let mut run: Option<(syn::Ident, Vec<Type>, Option<Type>)> = None;
    let mut run_vis = syn::Visibility::Inherited;
    let mut init: Option<syn::Ident> = None;
    let mut signals = Vec::new();
    let mut queries = Vec::new();
    let mut update_handlers = Vec::new();
    let mut validators = Vec::new();
    // Findings of the determinism checks leave the workflow's shape intact, so the full
    // expansion is still emitted beside them.
    let mut nondeterminism = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        nondeterminism.extend(determinism::check(method));
        let Some(role) = take_role(method, &mut errors) else {
            continue;
        };
        let sig = &method.sig;
        match role {
            Role::Run => {
                if let Some((first, _, _)) = &run {
                    errors.push(Error::new_spanned(
                        &sig.ident,
                        format!("a workflow has one `#[run]` method; `{first}` is already it"),
                    ));
                    continue;
                }
                if sig.asyncness.is_none() {
                    errors.push(Error::new(
                        sig.fn_token.span(),
                        "the `#[run]` method must be an `async fn`",
                    ));
                }
                if let Some(r) = receiver(method) {
                    errors.push(Error::new_spanned(
                        r,
                        "the `#[run]` method takes no `self`: it gets `ctx: WorkflowContext<Self>` and reaches the state with `ctx.state(..)` / `ctx.state_mut(..)`",
                    ));
                }
                let mut inputs = params(method);
                if inputs
                    .first()
                    .is_some_and(|t| is_type_named(t, "WorkflowContext"))
                {
                    inputs.remove(0);
                } else {
                    errors.push(Error::new(
                        inputs.first().map_or(sig.paren_token.span.join(), |t| t.span()),
                        "the `#[run]` method takes `ctx: WorkflowContext<Self>` as its first parameter",
                    ));
                }
                let output = match &sig.output {
                    ReturnType::Type(_, ty) => {
                        let ok = result_ok_type(ty, &["WorkflowResult", "Result"]);
                        if ok.is_none() {
                            errors.push(Error::new_spanned(
                                ty,
                                "the `#[run]` method returns `WorkflowResult<T>`",
                            ));
                        }
                        ok
                    }
                    ReturnType::Default => {
                        errors.push(Error::new(
                            sig.paren_token.span.close(),
                            "the `#[run]` method returns `WorkflowResult<T>`",
                        ));
                        None
                    }
                };
                run_vis = method.vis.clone();
                run = Some((sig.ident.clone(), inputs, output));
            }
            Role::Init => {
                if receiver(method).is_some() {
                    errors.push(Error::new_spanned(&sig.inputs, "the `#[init]` method takes the run method's inputs by reference and returns `Self`"));
                }
                init = Some(sig.ident.clone());
            }
            Role::Signal(args) => {
                let asynchronous = sig.asyncness.is_some();
                let inputs = if asynchronous {
                    match updates::check_async_handler(
                        method,
                        "an async signal handler",
                        (
                            "WorkflowResult<()>",
                            "signals cannot answer (an `#[update]` can)",
                        ),
                        &mut errors,
                    ) {
                        Some((inputs, output)) => {
                            if !matches!(&output, Type::Tuple(t) if t.elems.is_empty()) {
                                errors.push(Error::new_spanned(&output, "a signal handler returns nothing: signals cannot answer (return `WorkflowResult<()>`; use an `#[update]` to answer)"));
                            }
                            inputs
                        }
                        None => continue,
                    }
                } else {
                    match receiver(method) {
                        Some(r) if r.reference.is_some() && r.mutability.is_some() => {}
                        Some(r) => errors.push(Error::new_spanned(
                            r,
                            "a signal handler takes `&mut self` (or, when `async`, `ctx: WorkflowContext<Self>`)",
                        )),
                        None => errors.push(Error::new(
                            sig.paren_token.span.join(),
                            "a signal handler takes `&mut self` (or, when `async`, `ctx: WorkflowContext<Self>`)",
                        )),
                    }
                    if let ReturnType::Type(_, ty) = &sig.output {
                        errors.push(Error::new_spanned(ty, "a signal handler returns nothing: signals cannot answer (read state with a `#[query]`)"));
                    }
                    params(method)
                };
                signals.push(Handler {
                    vis: method.vis.clone(),
                    method: sig.ident.clone(),
                    wire_name: args
                        .name
                        .map(|n| n.value())
                        .unwrap_or_else(|| sig.ident.to_string()),
                    marker: format_ident!("__{}_signal_{}", struct_ident, sig.ident),
                    inputs,
                    output: None,
                    asynchronous,
                });
            }
            Role::Update(args) => {
                update_handlers.extend(updates::check_update(
                    method,
                    args,
                    &struct_ident,
                    &mut errors,
                ));
            }
            Role::Validator(target) => {
                validators.extend(updates::check_validator(method, target, &mut errors));
            }
            Role::Query(args) => {
                if let Some(a) = &sig.asyncness {
                    errors.push(Error::new_spanned(
                        a,
                        "query handlers are synchronous: they answer from the current state",
                    ));
                }
                match receiver(method) {
                    Some(r) if r.reference.is_some() && r.mutability.is_none() => {}
                    Some(r) => errors.push(Error::new_spanned(
                        r,
                        "a query must not change the state: take `&self`",
                    )),
                    None => errors.push(Error::new(
                        sig.paren_token.span.join(),
                        "a query handler takes `&self`",
                    )),
                }
                let output = match &sig.output {
                    ReturnType::Type(_, ty) => Some((**ty).clone()),
                    ReturnType::Default => {
                        errors.push(Error::new(
                            sig.paren_token.span.close(),
                            "a query handler returns the answer",
                        ));
                        None
                    }
                };
                queries.push(Handler {
                    vis: method.vis.clone(),
                    method: sig.ident.clone(),
                    wire_name: args
                        .name
                        .map(|n| n.value())
                        .unwrap_or_else(|| sig.ident.to_string()),
                    marker: format_ident!("__{}_query_{}", struct_ident, sig.ident),
                    inputs: params(method),
                    output,
                    asynchronous: false,
                });
            }
        }
    }
    updates::attach_validators(&mut update_handlers, validators, &mut errors);
    if run.is_none() {
        errors.push(Error::new_spanned(
            &item.self_ty,
            "a workflow needs a `#[run]` method: `#[run] async fn run(ctx: WorkflowContext<Self>, input: T) -> WorkflowResult<U>`",
        ));
    }
    if let Err(e) = errors.finish() {
        let compile_errors = e.to_compile_error();
        // A stand-in implementation, so uses of the type (registering it with a worker) do
        // not add errors of their own to the one that matters.
        let stand_in = (item.generics.params.is_empty() && item.trait_.is_none()).then(|| {
            quote! {
                impl #krate::__private::workflow::Workflow for #self_ty {
                    const NAME: &'static str = "";
                    type Input = ();
                    type Output = ();
                    fn new(_: &#krate::__private::workflow::WorkflowInfo, _: &()) -> Self {
                        ::core::unreachable!()
                    }
                    fn run(
                        _: #krate::__private::workflow::WorkflowContext<Self>,
                        _: (),
                    ) -> impl ::core::future::Future<
                        Output = #krate::__private::workflow::WorkflowResult<()>,
                    > + 'static {
                        async { ::core::unreachable!() }
                    }
                }
            }
        });
        let nondeterminism = nondeterminism.iter().map(Error::to_compile_error);
        return quote!(#item #compile_errors #(#nondeterminism)* #stand_in);
    }
    let nondeterminism = nondeterminism.iter().map(Error::to_compile_error);
    let (run_ident, run_inputs, run_output) = run.expect("checked above");
    let run_output = run_output.expect("checked above");

    // The methods keep their code under hidden names; the public names become typed stubs.
    let hidden = |ident: &syn::Ident| format_ident!("__workflow_{}", ident);
    for impl_item in &mut item.items {
        if let ImplItem::Fn(method) = impl_item {
            let ident = &method.sig.ident;
            if *ident == run_ident
                || signals.iter().any(|s| s.method == *ident)
                || queries.iter().any(|q| q.method == *ident)
                || update_handlers.iter().any(|u| u.method == *ident)
            {
                method.sig.ident = hidden(ident);
                method.attrs.push(syn::parse_quote!(#[doc(hidden)]));
            }
        }
    }

    let run_stub = quote! {
        #[allow(non_upper_case_globals)]
        /// Typed stub of the run method, for `execute_workflow` and child workflows.
        #run_vis const #run_ident: #krate::__private::workflow::WorkflowRun<#self_ty> = #krate::__private::workflow::WorkflowRun::new();
    };
    let run_input = input_type(&krate, &run_inputs);
    let (run_bind, run_names) = destructure(&krate, run_inputs.len());
    let run_hidden = hidden(&run_ident);
    let new_body = match &init {
        Some(init) => {
            let refs: Vec<_> = (0..run_inputs.len())
                .map(|i| match run_inputs.len() {
                    1 => quote!(input),
                    _ => {
                        let index = syn::Index::from(i);
                        quote!(&input.0.#index)
                    }
                })
                .collect();
            quote!(Self::#init(#(#refs),*))
        }
        None => quote!(<Self as ::core::default::Default>::default()),
    };

    let mut stubs = Vec::new();
    let mut markers = Vec::new();
    let mut signal_arms = Vec::new();
    let mut async_signal_arms = Vec::new();
    for s in &signals {
        let (vis, method, marker, wire) = (&s.vis, &s.method, &s.marker, &s.wire_name);
        let input = input_type(&krate, &s.inputs);
        let (bind, names) = destructure(&krate, s.inputs.len());
        let hidden_method = hidden(method);
        stubs.push(quote! {
            #[allow(non_upper_case_globals)]
            /// Typed stub of the signal.
            #vis const #method: #marker = #marker;
        });
        markers.push(quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
            #vis struct #marker;
            impl #krate::__private::definition::SignalDefinition for #marker {
                type Workflow = #krate::__private::workflow::WorkflowRun<#self_ty>;
                type Input = #input;
                fn name(&self) -> &str { #wire }
            }
        });
        if s.asynchronous {
            async_signal_arms.push(quote! {
                #wire => {
                    let input: #input = signal.input()?;
                    #bind
                    ::core::result::Result::Ok(::std::boxed::Box::pin(async move {
                        #krate::__private::workflow::handler_outcome(
                            Self::#hidden_method(ctx, #(#names),*).await,
                        )
                    }))
                }
            });
            continue;
        }
        signal_arms.push(quote! {
            #wire => {
                let input: #input = signal.input()?;
                #bind
                self.#hidden_method(#(#names),*);
                ::core::result::Result::Ok(())
            }
        });
    }
    let mut query_arms = Vec::new();
    for q in &queries {
        let (vis, method, marker, wire) = (&q.vis, &q.method, &q.marker, &q.wire_name);
        let input = input_type(&krate, &q.inputs);
        let output = q.output.as_ref().expect("checked above");
        let (bind, names) = destructure(&krate, q.inputs.len());
        let hidden_method = hidden(method);
        stubs.push(quote! {
            #[allow(non_upper_case_globals)]
            /// Typed stub of the query.
            #vis const #method: #marker = #marker;
        });
        let output_decl = quote_spanned!(output.span()=> type Output = #output;);
        markers.push(quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
            #vis struct #marker;
            impl #krate::__private::definition::QueryDefinition for #marker {
                type Workflow = #krate::__private::workflow::WorkflowRun<#self_ty>;
                type Input = #input;
                #output_decl
                fn name(&self) -> &str { #wire }
            }
        });
        query_arms.push(quote! {
            #wire => {
                let input: #input = query.input()?;
                #bind
                #krate::__private::workflow::Invocation::reply(&self.#hidden_method(#(#names),*))
            }
        });
    }
    let updates::Expansion {
        stubs: update_stubs,
        markers: update_markers,
        validate_arms,
        handle_arms,
    } = updates::expand(&krate, &self_ty, &update_handlers, hidden);
    let update_names = update_handlers.iter().map(|u| &u.wire_name);
    let signal_names = signals.iter().map(|s| &s.wire_name);
    let query_names = queries.iter().map(|q| &q.wire_name);
    let input_decl = quote_spanned!(run_inputs.first().map_or(run_ident.span(), |t| t.span())=> type Input = #run_input;);
    let output_decl = quote_spanned!(run_output.span()=> type Output = #run_output;);

    quote! {
        #item
        #(#nondeterminism)*

        impl #self_ty {
            #run_stub
            #(#stubs)*
            #(#update_stubs)*
        }

        #(#markers)*
        #(#update_markers)*

        #krate::__private::inventory::submit! {
            #krate::__private::registry::Registration::workflow::<#self_ty>(
                <#self_ty>::__WORKFLOW_NAME,
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
            )
        }

        impl #krate::__private::workflow::Workflow for #self_ty {
            const NAME: &'static str = <#self_ty>::__WORKFLOW_NAME;
            const SIGNALS: &'static [&'static str] = &[#(#signal_names),*];
            const QUERIES: &'static [&'static str] = &[#(#query_names),*];
            const UPDATES: &'static [&'static str] = &[#(#update_names),*];
            #input_decl
            #output_decl

            fn new(
                _info: &#krate::__private::workflow::WorkflowInfo,
                input: &<Self as #krate::__private::workflow::Workflow>::Input,
            ) -> Self {
                let _ = input;
                #new_body
            }

            fn run(
                ctx: #krate::__private::workflow::WorkflowContext<Self>,
                input: <Self as #krate::__private::workflow::Workflow>::Input,
            ) -> impl ::core::future::Future<
                Output = #krate::__private::workflow::WorkflowResult<<Self as #krate::__private::workflow::Workflow>::Output>,
            > + 'static {
                #run_bind
                Self::#run_hidden(ctx, #(#run_names),*)
            }

            fn handle_signal(
                &mut self,
                signal: &#krate::__private::workflow::Invocation,
            ) -> ::core::result::Result<(), #krate::__private::workflow::HandlerError> {
                match signal.name.as_str() {
                    #(#signal_arms)*
                    _ => ::core::result::Result::Err(#krate::__private::workflow::HandlerError::Unknown),
                }
            }

            fn handle_query(
                &self,
                query: &#krate::__private::workflow::Invocation,
            ) -> ::core::result::Result<
                ::std::vec::Vec<#krate::__private::payload::Payload>,
                #krate::__private::workflow::HandlerError,
            > {
                match query.name.as_str() {
                    #(#query_arms)*
                    _ => ::core::result::Result::Err(#krate::__private::workflow::HandlerError::Unknown),
                }
            }

            fn handle_async_signal(
                ctx: #krate::__private::workflow::WorkflowContext<Self>,
                signal: &#krate::__private::workflow::Invocation,
            ) -> ::core::result::Result<
                #krate::__private::workflow::HandlerFuture,
                #krate::__private::workflow::HandlerError,
            > {
                let _ = &ctx;
                match signal.name.as_str() {
                    #(#async_signal_arms)*
                    _ => ::core::result::Result::Err(#krate::__private::workflow::HandlerError::Unknown),
                }
            }

            fn validate_update(
                &self,
                update: &#krate::__private::workflow::Invocation,
            ) -> ::core::result::Result<(), #krate::__private::workflow::HandlerError> {
                match update.name.as_str() {
                    #(#validate_arms)*
                    _ => ::core::result::Result::Err(#krate::__private::workflow::HandlerError::Unknown),
                }
            }

            fn handle_update(
                ctx: #krate::__private::workflow::WorkflowContext<Self>,
                update: &#krate::__private::workflow::Invocation,
            ) -> ::core::result::Result<
                #krate::__private::workflow::HandlerFuture,
                #krate::__private::workflow::HandlerError,
            > {
                let _ = &ctx;
                match update.name.as_str() {
                    #(#handle_arms)*
                    _ => ::core::result::Result::Err(#krate::__private::workflow::HandlerError::Unknown),
                }
            }
        }
    }
}

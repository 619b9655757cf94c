//! `#[update]` and `#[validator(update)]` methods of a `#[workflow]` impl block: their
//! checks, typed stubs, and the `validate_update` / `handle_update` dispatch.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, FnArg, ImplItemFn, ReturnType, Type};

use crate::activity::{destructure, input_type, is_type_named, result_ok_type};
use crate::attrs::{Args, Errors};
use crate::workflow::params;

/// An `#[update]` method, checked.
pub struct Update {
    vis: syn::Visibility,
    pub method: syn::Ident,
    pub wire_name: String,
    marker: syn::Ident,
    inputs: Vec<Type>,
    output: Type,
    validator: Option<Validator>,
}

/// A `#[validator(update)]` method, checked.
pub struct Validator {
    target: syn::Ident,
    method: syn::Ident,
    /// The referenced types of its parameters after `&self`.
    params: Vec<Type>,
    span: proc_macro2::Span,
}

/// Checks an async handler (`what`: "an update handler", "an async signal handler"): an
/// `async fn` that takes `ctx: WorkflowContext<Self>` and its arguments and returns
/// `WorkflowResult<T>` (`returns`: which, and why), as the run method does. Answers its argument
/// types and `T`.
pub fn check_async_handler(
    method: &ImplItemFn,
    what: &str,
    returns: (&str, &str),
    errors: &mut Errors,
) -> Option<(Vec<Type>, Type)> {
    let sig = &method.sig;
    let mut ok = true;
    if sig.asyncness.is_none() {
        errors.push(Error::new(
            sig.fn_token.span(),
            format!("{what} must be an `async fn`: it takes `ctx: WorkflowContext<Self>` and may run activities, timers and children"),
        ));
        ok = false;
    }
    if let Some(FnArg::Receiver(r)) = sig.inputs.first() {
        errors.push(Error::new_spanned(
            r,
            format!("{what} takes no `self`: it gets `ctx: WorkflowContext<Self>` and reaches the state with `ctx.state(..)` / `ctx.state_mut(..)`"),
        ));
        ok = false;
    }
    let mut inputs = params(method);
    if inputs
        .first()
        .is_some_and(|t| is_type_named(t, "WorkflowContext"))
    {
        inputs.remove(0);
    } else {
        errors.push(Error::new(
            inputs
                .first()
                .map_or(sig.paren_token.span.join(), |t| t.span()),
            format!("{what} takes `ctx: WorkflowContext<Self>` as its first parameter"),
        ));
        ok = false;
    }
    let output = match &sig.output {
        ReturnType::Type(_, ty) => result_ok_type(ty, &["WorkflowResult", "Result"]),
        ReturnType::Default => None,
    };
    let Some(output) = output else {
        errors.push(Error::new(
            match &sig.output {
                ReturnType::Type(_, ty) => ty.span(),
                ReturnType::Default => sig.paren_token.span.close(),
            },
            format!("{what} returns `{}`: {}", returns.0, returns.1),
        ));
        return None;
    };
    ok.then_some((inputs, output))
}

/// Checks an `#[update]` method (see `check_async_handler`).
pub fn check_update(
    method: &ImplItemFn,
    args: Args,
    workflow: &syn::Ident,
    errors: &mut Errors,
) -> Option<Update> {
    let (inputs, output) = check_async_handler(
        method,
        "an update handler",
        (
            "WorkflowResult<T>",
            "its result, or the failure the caller gets",
        ),
        errors,
    )?;
    let sig = &method.sig;
    Some(Update {
        vis: method.vis.clone(),
        method: sig.ident.clone(),
        wire_name: args
            .name
            .map(|n| n.value())
            .unwrap_or_else(|| sig.ident.to_string()),
        marker: format_ident!("__{}_update_{}", workflow, sig.ident),
        inputs,
        output,
        validator: None,
    })
}

/// Checks a `#[validator(update)]` method: synchronous, `&self`, the update's arguments
/// by reference, returning `Result<(), E>` where `E: Display` is the rejection.
pub fn check_validator(
    method: &ImplItemFn,
    target: syn::Ident,
    errors: &mut Errors,
) -> Option<Validator> {
    let sig = &method.sig;
    let mut ok = true;
    if let Some(a) = &sig.asyncness {
        errors.push(Error::new_spanned(
            a,
            "a validator is synchronous: it decides from the current state, before the update is accepted",
        ));
        ok = false;
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        Some(FnArg::Receiver(r)) => {
            errors.push(Error::new_spanned(
                r,
                "a validator must not change the state: take `&self`",
            ));
            ok = false;
        }
        _ => {
            errors.push(Error::new(
                sig.paren_token.span.join(),
                "a validator takes `&self` and the update's arguments by reference",
            ));
            ok = false;
        }
    }
    let mut referenced = Vec::new();
    for ty in params(method) {
        match ty {
            Type::Reference(r) if r.mutability.is_none() => referenced.push((*r.elem).clone()),
            other => {
                errors.push(Error::new_spanned(
                    &other,
                    "a validator takes each of the update's arguments by reference: `&T`",
                ));
                ok = false;
            }
        }
    }
    if matches!(sig.output, ReturnType::Default) {
        errors.push(Error::new(
            sig.paren_token.span.close(),
            "a validator returns `Result<(), E>`: `Err` rejects the update with `E`'s message",
        ));
        ok = false;
    }
    ok.then(|| Validator {
        target,
        method: sig.ident.clone(),
        params: referenced,
        span: sig.inputs.span(),
    })
}

/// Gives each update its validator; a validator must name an update, at most one each.
pub fn attach_validators(updates: &mut [Update], validators: Vec<Validator>, errors: &mut Errors) {
    for validator in validators {
        let names: Vec<String> = updates.iter().map(|u| u.method.to_string()).collect();
        let Some(update) = updates.iter_mut().find(|u| u.method == validator.target) else {
            errors.push(Error::new_spanned(
                &validator.target,
                format!(
                    "no `#[update]` method is named `{}`; updates: [{}]",
                    validator.target,
                    names.join(", ")
                ),
            ));
            continue;
        };
        if update.validator.is_some() {
            errors.push(Error::new_spanned(
                &validator.method,
                format!("`{}` already has a validator", update.method),
            ));
            continue;
        }
        if validator.params.len() != update.inputs.len() {
            errors.push(Error::new(
                validator.span,
                format!(
                    "the validator of `{}` takes its {} argument(s) by reference, after `&self`",
                    update.method,
                    update.inputs.len()
                ),
            ));
            continue;
        }
        update.validator = Some(validator);
    }
}

/// What the updates add to the expansion.
pub struct Expansion {
    pub stubs: Vec<TokenStream>,
    pub markers: Vec<TokenStream>,
    pub validate_arms: Vec<TokenStream>,
    pub handle_arms: Vec<TokenStream>,
}

pub fn expand(
    krate: &TokenStream,
    self_ty: &Type,
    updates: &[Update],
    hidden: impl Fn(&syn::Ident) -> syn::Ident,
) -> Expansion {
    let mut out = Expansion {
        stubs: Vec::new(),
        markers: Vec::new(),
        validate_arms: Vec::new(),
        handle_arms: Vec::new(),
    };
    for u in updates {
        let (vis, method, marker, wire) = (&u.vis, &u.method, &u.marker, &u.wire_name);
        let input = input_type(krate, &u.inputs);
        let output = &u.output;
        let (bind, names) = destructure(krate, u.inputs.len());
        let hidden_method = hidden(method);
        out.stubs.push(quote! {
            #[allow(non_upper_case_globals)]
            /// Typed stub of the update.
            #vis const #method: #marker = #marker;
        });
        let output_decl = quote_spanned!(output.span()=> type Output = #output;);
        out.markers.push(quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
            #vis struct #marker;
            impl #krate::__private::definition::UpdateDefinition for #marker {
                type Workflow = #krate::__private::workflow::WorkflowRun<#self_ty>;
                type Input = #input;
                #output_decl
                fn name(&self) -> &str { #wire }
            }
        });
        let check = match &u.validator {
            Some(v) => {
                let validator = &v.method;
                // Each argument is passed where the validator's parameter is, so a type
                // that does not match the update's points there.
                let refs = names.iter().zip(&v.params).map(|(name, ty)| {
                    let name = format_ident!("{}", name, span = ty.span());
                    quote_spanned!(ty.span()=> &#name)
                });
                quote! {
                    self.#validator(#(#refs),*)
                        .map_err(#krate::__private::workflow::update_rejected)
                }
            }
            None => quote! {
                let _ = (#(#names,)*);
                ::core::result::Result::Ok(())
            },
        };
        out.validate_arms.push(quote! {
            #wire => {
                let input: #input = update.input()?;
                #bind
                #check
            }
        });
        out.handle_arms.push(quote! {
            #wire => {
                let input: #input = update.input()?;
                #bind
                ::core::result::Result::Ok(::std::boxed::Box::pin(async move {
                    #krate::__private::workflow::handler_outcome(
                        Self::#hidden_method(ctx, #(#names),*).await,
                    )
                }))
            }
        });
    }
    out
}

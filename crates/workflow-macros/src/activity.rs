//! `#[activity]` on an `async fn`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, FnArg, ItemFn, ReturnType, Type};

use crate::attrs::{Args, Errors};

/// The `T` of `Result<T, E>`.
pub fn result_ok_type(ty: &Type, names: &[&str]) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if !names.iter().any(|n| last.ident == n) {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

/// Whether `ty` names `name` (its last path segment).
pub fn is_type_named(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == name),
        Type::Reference(r) => is_type_named(&r.elem, name),
        _ => false,
    }
}

/// The input type of a list of parameters: `()`, the one type, or `Args<(A, B, ..)>`.
pub fn input_type(krate: &TokenStream, types: &[Type]) -> TokenStream {
    match types {
        [] => quote!(()),
        [one] => quote!(#one),
        many => quote!(#krate::__private::payload::Args<(#(#many,)*)>),
    }
}

/// Binds the parameters out of `input` and returns their names.
pub fn destructure(krate: &TokenStream, count: usize) -> (TokenStream, Vec<syn::Ident>) {
    let names: Vec<_> = (0..count).map(|i| format_ident!("__arg{i}")).collect();
    let bind = match count {
        0 => quote!(let () = input;),
        1 => {
            let n = &names[0];
            quote!(let #n = input;)
        }
        _ => quote!(let #krate::__private::payload::Args((#(#names,)*)) = input;),
    };
    (bind, names)
}

pub fn expand(args: Args, item: ItemFn) -> TokenStream {
    let krate = args.krate();
    let mut errors = Errors::default();
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        errors.push(Error::new(
            sig.fn_token.span(),
            "an activity must be an `async fn`",
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(Error::new_spanned(
            &sig.generics,
            "generic activities are not supported: an activity type has one name and fixed input and output types",
        ));
    }
    let mut params = Vec::new();
    let mut saw_context = false;
    for (i, arg) in sig.inputs.iter().enumerate() {
        match arg {
            FnArg::Receiver(r) => errors.push(Error::new_spanned(
                r,
                "an `#[activity]` function takes no `self`",
            )),
            FnArg::Typed(t) if is_type_named(&t.ty, "ActivityContext") => {
                if i != 0 {
                    errors.push(Error::new_spanned(
                        &t.ty,
                        "the `ActivityContext` must be the first parameter",
                    ));
                }
                saw_context = true;
            }
            FnArg::Typed(t) => {
                if i == 0 {
                    errors.push(Error::new_spanned(
                        &t.ty,
                        "an activity takes its `ActivityContext` as its first parameter: `ctx: ActivityContext`",
                    ));
                }
                params.push((*t.ty).clone());
            }
        }
    }
    if sig.inputs.is_empty() && !saw_context {
        errors.push(Error::new(
            sig.paren_token.span.join(),
            "an activity takes its `ActivityContext` as its first parameter: `ctx: ActivityContext`",
        ));
    }
    let output = match &sig.output {
        ReturnType::Type(_, ty) => match result_ok_type(ty, &["Result"]) {
            Some(ok) => Some(ok),
            None => {
                errors.push(Error::new_spanned(
                    ty,
                    "an activity returns `Result<T, ActivityError>` (or any error that converts into `ActivityError`)",
                ));
                None
            }
        },
        ReturnType::Default => {
            errors.push(Error::new(
                sig.paren_token.span.close(),
                "an activity returns `Result<T, ActivityError>`",
            ));
            None
        }
    };

    let ident = &sig.ident;
    let vis = &item.vis;
    let docs: Vec<_> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    let name = args
        .name
        .as_ref()
        .map(|n| n.value())
        .unwrap_or_else(|| ident.to_string());
    let mut body_fn = item.clone();
    body_fn.sig.ident = format_ident!("run");
    body_fn.vis = vis.clone();

    let definition = quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
        #vis struct #ident;

        impl #ident {
            /// The activity's code, callable directly (e.g. in unit tests).
            #body_fn
        }
    };
    if let Err(e) = errors.finish() {
        // The type still exists, so uses of it do not cascade into more errors.
        let compile_errors = e.to_compile_error();
        return quote! {
            #(#docs)*
            #[allow(non_camel_case_types)]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
            #vis struct #ident;
            #compile_errors
        };
    }
    let output = output.expect("checked above");
    let input = input_type(&krate, &params);
    let (bind, names) = destructure(&krate, params.len());
    let input_span = params.first().map_or(sig.ident.span(), |t| t.span());
    let input_decl = quote_spanned!(input_span=> type Input = #input;);
    let output_decl = quote_spanned!(output.span()=> type Output = #output;);
    quote! {
        #definition

        impl #krate::__private::definition::ActivityDefinition for #ident {
            #input_decl
            #output_decl
            fn name(&self) -> &str {
                #name
            }
        }

        #krate::__private::inventory::submit! {
            #krate::__private::registry::Registration::activity::<#ident>(
                #name,
                ::core::module_path!(),
                ::core::file!(),
                ::core::line!(),
            )
        }

        impl #krate::__private::activity::Activity for #ident {
            fn execute(
                &self,
                ctx: #krate::__private::activity::ActivityContext,
                input: <Self as #krate::__private::definition::ActivityDefinition>::Input,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<
                    <Self as #krate::__private::definition::ActivityDefinition>::Output,
                    #krate::__private::activity::ActivityError,
                >,
            > + ::core::marker::Send {
                #bind
                async move {
                    ::core::result::Result::map_err(
                        #ident::run(ctx, #(#names),*).await,
                        ::core::convert::Into::into,
                    )
                }
            }
        }
    }
}

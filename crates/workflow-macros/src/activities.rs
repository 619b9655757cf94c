//! `#[activities]` on an impl block whose `#[activity]` methods share the struct's state.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, FnArg, ImplItem, ItemImpl, ReturnType, Type};

use crate::activity::{destructure, input_type, is_type_named, result_ok_type};
use crate::attrs::{Args, Errors};

struct Method {
    vis: syn::Visibility,
    ident: syn::Ident,
    wire_name: String,
    inputs: Vec<Type>,
    output: Type,
}

pub fn expand(args: Args, item: ItemImpl) -> TokenStream {
    let krate = args.krate();
    let mut errors = Errors::default();
    let mut item = item;
    if let Some(name) = &args.name {
        errors.push(Error::new(
            name.span(),
            "`name` goes on each `#[activity(name = \"..\")]` method",
        ));
    }
    let self_ty = (*item.self_ty).clone();
    let Type::Path(self_path) = &self_ty else {
        return Error::new_spanned(&self_ty, "`#[activities]` goes on `impl MyState { .. }`")
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
            "generic activity groups are not supported: an activity type has fixed input and output types",
        ));
    }
    let mut methods = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let Some(position) = method
            .attrs
            .iter()
            .position(|a| a.path().is_ident("activity"))
        else {
            continue;
        };
        let attr = method.attrs.remove(position);
        let method_args = match &attr.meta {
            syn::Meta::Path(_) => Args::default(),
            _ => match attr.parse_args::<Args>() {
                Ok(a) => a,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            },
        };
        let sig = &method.sig;
        if sig.asyncness.is_none() {
            errors.push(Error::new(
                sig.fn_token.span(),
                "an activity must be an `async fn`",
            ));
        }
        let mut typed = sig.inputs.iter();
        match typed.next() {
            Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
            Some(FnArg::Receiver(r)) => errors.push(Error::new_spanned(
                r,
                "an activity method takes `&self`: the state is shared by concurrent activities",
            )),
            _ => errors.push(Error::new(
                sig.paren_token.span.join(),
                "an activity method takes `&self` (the shared state), then `ctx: ActivityContext`",
            )),
        }
        let mut inputs = Vec::new();
        for (i, arg) in typed.enumerate() {
            let FnArg::Typed(t) = arg else { continue };
            let is_context = is_type_named(&t.ty, "ActivityContext");
            match (i, is_context) {
                (0, true) => {}
                (0, false) => errors.push(Error::new_spanned(
                    &t.ty,
                    "an activity method takes `ctx: ActivityContext` right after `&self`",
                )),
                (_, true) => errors.push(Error::new_spanned(
                    &t.ty,
                    "the `ActivityContext` must come right after `&self`",
                )),
                (_, false) => inputs.push((*t.ty).clone()),
            }
        }
        let output = match &sig.output {
            ReturnType::Type(_, ty) => result_ok_type(ty, &["Result"]).or_else(|| {
                errors.push(Error::new_spanned(
                    ty,
                    "an activity returns `Result<T, ActivityError>`",
                ));
                None
            }),
            ReturnType::Default => {
                errors.push(Error::new(
                    sig.paren_token.span.close(),
                    "an activity returns `Result<T, ActivityError>`",
                ));
                None
            }
        };
        let ident = sig.ident.clone();
        let wire_name = method_args
            .name
            .map(|n| n.value())
            .unwrap_or_else(|| ident.to_string());
        method.sig.ident = format_ident!("__activity_{}", ident);
        method.attrs.push(syn::parse_quote!(#[doc(hidden)]));
        if let Some(output) = output {
            methods.push(Method {
                vis: method.vis.clone(),
                ident,
                wire_name,
                inputs,
                output,
            });
        }
    }
    if methods.is_empty() {
        errors.push(Error::new_spanned(
            &item.self_ty,
            "`#[activities]` needs at least one method marked `#[activity]`",
        ));
    }
    if let Err(e) = errors.finish() {
        let compile_errors = e.to_compile_error();
        return quote!(#item #compile_errors);
    }

    let mut stubs = Vec::new();
    let mut types = Vec::new();
    let mut registrations = Vec::new();
    for m in &methods {
        let (vis, ident, wire) = (&m.vis, &m.ident, &m.wire_name);
        let marker = format_ident!("__{}_activity_{}", struct_ident, ident);
        let bound = format_ident!("__{}_activity_{}_bound", struct_ident, ident);
        let hidden = format_ident!("__activity_{}", ident);
        let input = input_type(&krate, &m.inputs);
        let output = &m.output;
        let (bind, names) = destructure(&krate, m.inputs.len());
        let input_decl = quote_spanned!(m.inputs.first().map_or(ident.span(), |t| t.span())=> type Input = #input;);
        let output_decl = quote_spanned!(output.span()=> type Output = #output;);
        stubs.push(quote! {
            #[allow(non_upper_case_globals)]
            /// Typed stub of the activity, for `ctx.execute_activity`.
            #vis const #ident: #marker = #marker;
        });
        types.push(quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
            #vis struct #marker;
            impl #krate::__private::definition::ActivityDefinition for #marker {
                #input_decl
                #output_decl
                fn name(&self) -> &str { #wire }
            }

            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            #vis struct #bound(::std::sync::Arc<#self_ty>);
            impl #krate::__private::definition::ActivityDefinition for #bound {
                type Input = <#marker as #krate::__private::definition::ActivityDefinition>::Input;
                type Output = <#marker as #krate::__private::definition::ActivityDefinition>::Output;
                fn name(&self) -> &str { #wire }
            }
            impl #krate::__private::activity::Activity for #bound {
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
                    let state = ::std::sync::Arc::clone(&self.0);
                    #bind
                    async move {
                        ::core::result::Result::map_err(
                            state.#hidden(ctx, #(#names),*).await,
                            ::core::convert::Into::into,
                        )
                    }
                }
            }
        });
        registrations.push(quote! {
            let sink = #krate::__private::activity::ActivitySink::add_activity(
                sink,
                #bound(::std::sync::Arc::clone(&self)),
            );
        });
    }
    quote! {
        #item

        impl #self_ty {
            #(#stubs)*
        }

        #(#types)*

        impl #krate::__private::activity::Activities for #self_ty {
            fn register<S: #krate::__private::activity::ActivitySink>(self: ::std::sync::Arc<Self>, sink: S) -> S {
                #(#registrations)*
                sink
            }
        }
    }
}

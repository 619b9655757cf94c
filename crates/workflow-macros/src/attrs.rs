//! Attribute arguments: `name = "..."`.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Error, LitStr, Token};

/// The arguments every attribute of this crate accepts.
#[derive(Default)]
pub struct Args {
    pub name: Option<LitStr>,
    /// Path of `workflow_core` when the dependency is renamed.
    pub krate: Option<syn::Path>,
}

const VALID: &str = "valid keys: `name`, `crate`";

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut errors: Option<Error> = None;
        while !input.is_empty() {
            // `crate` is a keyword, so any identifier is accepted here.
            let key = syn::Ident::parse_any(input)?;
            input.parse::<Token![=]>()?;
            let value: syn::Expr = input.parse()?;
            let error = match key.to_string().as_str() {
                "name" => match value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => {
                        if s.value().is_empty() {
                            Some(Error::new(s.span(), "the name must not be empty"))
                        } else {
                            args.name = Some(s);
                            None
                        }
                    }
                    other => Some(Error::new_spanned(
                        other,
                        "`name` must be a string literal, e.g. `name = \"MyWorkflow\"`",
                    )),
                },
                "crate" => match value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => match s.parse::<syn::Path>() {
                        Ok(path) => {
                            args.krate = Some(path);
                            None
                        }
                        Err(_) => Some(Error::new(
                            s.span(),
                            "`crate` must name a path, e.g. `crate = \"wf\"`",
                        )),
                    },
                    other => Some(Error::new_spanned(
                        other,
                        "`crate` must be a string literal, e.g. `crate = \"wf\"`",
                    )),
                },
                other => Some(Error::new(
                    key.span(),
                    format!("unknown attribute key `{other}`; {VALID}"),
                )),
            };
            if let Some(e) = error {
                match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(args),
        }
    }
}

impl Args {
    /// The path generated code uses for `workflow_core`; everything it names is under its
    /// `__private` module, so the public API can change without breaking generated code.
    pub fn krate(&self) -> proc_macro2::TokenStream {
        match &self.krate {
            Some(path) => quote::quote!(::#path),
            None => quote::quote!(::workflow_core),
        }
    }
}

/// Collects errors so all are reported at once.
#[derive(Default)]
pub struct Errors(Option<Error>);

impl Errors {
    pub fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

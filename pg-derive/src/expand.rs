//! The `FromRow` impl of a struct.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Literal, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericParam, Path};

use crate::attrs::{Container, Errors, FieldAttrs};

/// The crates that re-export pg-types' `FromRow`, and the path to pg-types in each.
const HOMES: &[(&str, &str)] = &[
    ("pg-types", ""),
    ("pg-driver", "::__pg_types"),
    ("postgresql", "::types"),
    ("pg-session", "::__pg_types"),
];

/// pg-types as the calling crate names it: through the first of [`HOMES`] it depends on
/// (under whatever name it gave the dependency), else `::pg_types`.
fn pg_types_path() -> Path {
    for (package, inner) in HOMES {
        let root = match crate_name(package) {
            // The derive in pg-types' own crate, its tests and doctests: pg-types declares
            // `extern crate self as pg_types`, so one name serves all of them.
            Ok(FoundCrate::Itself) => package.replace('-', "_"),
            Ok(FoundCrate::Name(name)) => name,
            Err(_) => continue,
        };
        let text = format!("::{root}{inner}");
        return syn::parse_str(&text).expect("a crate path parses");
    }
    syn::parse_quote!(::pg_types)
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let container = Container::parse(&input.attrs, &mut errors);
    let data = match &input.data {
        Data::Struct(data) => data,
        Data::Enum(data) => {
            return Err(syn::Error::new(
                data.enum_token.span(),
                "FromRow can be derived for structs only, not enums: a row is one set of \
                 columns (read a discriminating column into a field instead)",
            ));
        }
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span(),
                "FromRow can be derived for structs only, not unions",
            ));
        }
    };
    for param in &input.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            errors.push(syn::Error::new(
                lifetime.span(),
                "FromRow reads owned values: a struct with a lifetime parameter cannot borrow \
                 from the row (use String for text, Vec<u8> for bytea)",
            ));
        }
    }
    let krate = container.krate.clone().unwrap_or_else(pg_types_path);
    let support = quote!(#krate::__derive);
    let target = input.ident.unraw().to_string();

    let mut bounds = Vec::new();
    let body = match &data.fields {
        Fields::Named(fields) => {
            let mut inits = Vec::new();
            for field in &fields.named {
                let attrs = FieldAttrs::parse(&field.attrs, &mut errors);
                let ident = field.ident.as_ref().expect("a named field");
                let name = ident.unraw().to_string();
                let column = match (&attrs.rename, container.rename_all) {
                    (Some(rename), _) => rename.value(),
                    (None, Some(case)) => case.apply(&name),
                    (None, None) => name.clone(),
                };
                let read = read_field(&support, &target, &name, &field.ty, &attrs, quote!(#column));
                bounds.extend(field_bounds(&krate, &field.ty, &attrs));
                inits.push(quote!(#ident: #read));
            }
            quote!(Self { #(#inits,)* })
        }
        Fields::Unnamed(fields) => {
            let mut inits = Vec::new();
            for (index, field) in fields.unnamed.iter().enumerate() {
                let attrs = FieldAttrs::parse(&field.attrs, &mut errors);
                if let Some(rename) = &attrs.rename {
                    errors.push(syn::Error::new(
                        rename.span(),
                        "a tuple struct's fields are read by position: `rename` has no column \
                         to name",
                    ));
                }
                if let Some(span) = attrs.flatten {
                    errors.push(syn::Error::new(
                        span,
                        "`flatten` needs a named field: a tuple struct's fields are read by \
                         position",
                    ));
                }
                let position = Literal::usize_suffixed(index);
                let read = read_field(
                    &support,
                    &target,
                    &index.to_string(),
                    &field.ty,
                    &attrs,
                    quote!(#position),
                );
                bounds.extend(field_bounds(&krate, &field.ty, &attrs));
                inits.push(read);
            }
            quote!(Self(#(#inits,)*))
        }
        Fields::Unit => quote!(Self),
    };
    errors.finish()?;

    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // Each field's needs, for a generic struct (a concrete field's are checked at its read).
    let mut where_clause = where_clause.cloned();
    if input.generics.type_params().next().is_some() {
        let clause = where_clause.get_or_insert_with(|| syn::parse_quote!(where));
        for bound in bounds {
            clause.predicates.push(bound);
        }
    }
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::FromRow for #ident #ty_generics #where_clause {
            fn from_row(row: &#krate::Row) -> ::core::result::Result<Self, #support::Error> {
                ::core::result::Result::Ok(#body)
            }
        }
    })
}

/// The expression reading one field from `row`; `column` is its name or position.
fn read_field(
    support: &TokenStream,
    target: &str,
    name: &str,
    ty: &syn::Type,
    attrs: &FieldAttrs,
    column: TokenStream,
) -> TokenStream {
    let rust_type = type_text(ty);
    let span = ty.span();
    if attrs.flatten.is_some() {
        return quote_spanned! {span=>
            #support::flatten::<#ty>(row, #target, #name, #rust_type)?
        };
    }
    match (&attrs.try_from, attrs.default) {
        (None, false) => quote_spanned! {span=>
            #support::field::<#ty, _>(row, #target, #name, #rust_type, #column)?
        },
        (None, true) => quote_spanned! {span=>
            #support::field_or_default::<#ty, _>(row, #target, #name, #rust_type, #column)?
        },
        (Some(source), default) => {
            let source_text = type_text(source);
            let function = match default {
                false => quote!(field_try_from),
                true => quote!(field_try_from_or_default),
            };
            quote_spanned! {source.span()=>
                #support::#function::<#source, #ty, _>(
                    row, #target, #name, #rust_type, #source_text, #column,
                )?
            }
        }
    }
}

/// What a generic struct's field needs of its type.
fn field_bounds(krate: &Path, ty: &syn::Type, attrs: &FieldAttrs) -> Vec<syn::WherePredicate> {
    let support = quote!(#krate::__derive);
    if attrs.flatten.is_some() {
        return vec![syn::parse_quote!(#ty: #krate::FromRow)];
    }
    let mut bounds: Vec<syn::WherePredicate> = match &attrs.try_from {
        None => vec![syn::parse_quote!(#ty: #support::FromSqlOwned)],
        Some(source) => vec![
            syn::parse_quote!(#source: #support::FromSqlOwned),
            syn::parse_quote!(#ty: ::core::convert::TryFrom<#source>),
            syn::parse_quote!(
                <#ty as ::core::convert::TryFrom<#source>>::Error: ::core::fmt::Display
            ),
        ],
    };
    if attrs.default {
        bounds.push(syn::parse_quote!(#ty: ::core::default::Default));
    }
    bounds
}

/// A type as written, for error messages: `Option<i32>`, `Vec<u8>`.
fn type_text(ty: &syn::Type) -> String {
    let text = ty.to_token_stream().to_string();
    // Token spacing (`Option < i32 >`) made readable.
    text.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace(" ;", ";")
        .replace(" :: ", "::")
        .replace("& ", "&")
}

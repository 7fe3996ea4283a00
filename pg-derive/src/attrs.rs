//! The `#[pg(...)]` attributes of a struct and of its fields.

use heck::{ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use syn::spanned::Spanned;
use syn::{Attribute, LitStr, Path, Type};

/// The struct's attributes.
#[derive(Default)]
pub(crate) struct Container {
    /// `rename_all = "..."`: how field names become column names.
    pub rename_all: Option<Case>,
    /// `crate = "path"`: where pg-types is, when the calling crate names it otherwise.
    pub krate: Option<Path>,
}

/// A field's attributes.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    /// `rename = "column"`.
    pub rename: Option<LitStr>,
    /// `default`: a column the row lacks gives `Default::default()`.
    pub default: bool,
    /// `flatten`: a nested `FromRow` read from the same row.
    pub flatten: Option<proc_macro2::Span>,
    /// `try_from = "Type"`: read as that type, then `TryFrom` into the field's.
    pub try_from: Option<Type>,
}

/// The cases of `rename_all`.
#[derive(Clone, Copy)]
pub(crate) enum Case {
    Lower,
    Upper,
    Snake,
    ScreamingSnake,
    Camel,
    Pascal,
    Kebab,
}

const CASES: &str = "\"lowercase\", \"UPPERCASE\", \"snake_case\", \"SCREAMING_SNAKE_CASE\", \
                     \"camelCase\", \"PascalCase\", \"kebab-case\"";

impl Case {
    fn parse(lit: &LitStr) -> syn::Result<Case> {
        Ok(match lit.value().as_str() {
            "lowercase" => Case::Lower,
            "UPPERCASE" => Case::Upper,
            "snake_case" => Case::Snake,
            "SCREAMING_SNAKE_CASE" => Case::ScreamingSnake,
            "camelCase" => Case::Camel,
            "PascalCase" => Case::Pascal,
            "kebab-case" => Case::Kebab,
            other => {
                return Err(syn::Error::new(
                    lit.span(),
                    format!("unknown rename_all case {other:?}: expected one of {CASES}"),
                ));
            }
        })
    }

    /// The column name for field `name`.
    pub(crate) fn apply(self, name: &str) -> String {
        match self {
            Case::Lower => name.to_lowercase(),
            Case::Upper => name.to_uppercase(),
            Case::Snake => name.to_snake_case(),
            Case::ScreamingSnake => name.to_shouty_snake_case(),
            Case::Camel => name.to_lower_camel_case(),
            Case::Pascal => name.to_upper_camel_case(),
            Case::Kebab => name.to_kebab_case(),
        }
    }
}

/// Keeps the first error and adds the others to it, so every mistake shows at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

fn is_pg(attr: &Attribute) -> bool {
    attr.path().is_ident("pg")
}

impl Container {
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> Container {
        let mut container = Container::default();
        for attr in attrs.iter().filter(|a| is_pg(a)) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    let lit: LitStr = meta.value()?.parse()?;
                    container.rename_all = Some(Case::parse(&lit)?);
                } else if meta.path.is_ident("crate") {
                    let lit: LitStr = meta.value()?.parse()?;
                    container.krate = Some(lit.parse()?);
                } else {
                    return Err(meta.error(format!(
                        "unknown #[pg] attribute `{}` on a struct: expected `rename_all = \"...\"` \
                         or `crate = \"...\"`",
                        path_text(&meta.path)
                    )));
                }
                Ok(())
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        container
    }
}

impl FieldAttrs {
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
        let mut field = FieldAttrs::default();
        for attr in attrs.iter().filter(|a| is_pg(a)) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    field.rename = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("default") {
                    field.default = true;
                } else if meta.path.is_ident("flatten") {
                    field.flatten = Some(meta.path.span());
                } else if meta.path.is_ident("try_from") {
                    let lit: LitStr = meta.value()?.parse()?;
                    let ty = lit.parse::<Type>().map_err(|e| {
                        syn::Error::new(
                            lit.span(),
                            format!("try_from = {:?} is not a Rust type: {e}", lit.value()),
                        )
                    })?;
                    field.try_from = Some(ty);
                } else {
                    return Err(meta.error(format!(
                        "unknown #[pg] attribute `{}` on a field: expected `rename = \"...\"`, \
                         `default`, `flatten` or `try_from = \"...\"`",
                        path_text(&meta.path)
                    )));
                }
                Ok(())
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        if let Some(span) = field.flatten
            && (field.rename.is_some() || field.default || field.try_from.is_some())
        {
            errors.push(syn::Error::new(
                span,
                "#[pg(flatten)] reads a nested FromRow from the whole row: it takes no \
                 `rename`, `default` or `try_from`",
            ));
        }
        field
    }
}

fn path_text(path: &Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

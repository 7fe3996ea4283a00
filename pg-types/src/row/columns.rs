//! Column descriptors, shared by every row of a result.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use indexmap::IndexMap;
use postgres_types::Type;

use crate::registry::{TypeRegistry, holds_records};

/// One column of a result (a field of RowDescription) or an attribute of a composite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The column's type.
    pub type_: Type,
    /// The format of its values: 0 text, 1 binary.
    pub format: i16,
    /// The OID of the table the column comes from, or 0.
    pub table_oid: u32,
    /// The column's attribute number in that table, or 0.
    pub column_id: i16,
    /// The type modifier (`atttypmod`), -1 when none.
    pub type_modifier: i32,
    /// The type's size (`typlen`), negative for variable-width types.
    pub type_size: i16,
}

impl Column {
    /// A binary-format column `name` of type `type_`, from no table.
    pub fn new(name: impl Into<String>, type_: Type) -> Column {
        Column {
            name: name.into(),
            type_,
            format: 1,
            table_oid: 0,
            column_id: 0,
            type_modifier: -1,
            type_size: -1,
        }
    }

    /// The same column with values in `format` (0 text, 1 binary).
    pub fn with_format(mut self, format: i16) -> Column {
        self.format = format;
        self
    }

    /// Whether the column's values are in text format.
    pub fn is_text(&self) -> bool {
        self.format == 0
    }
}

/// The columns of a result, shared (as `Arc<Columns>`) by all of its rows, with a
/// name → position index (the first column of a name wins, as in py-postgresql).
///
/// Columns made by a session carry its [`TypeRegistry`] ([`Columns::with_types`]), which
/// the anonymous records in its rows decode named types with. Equality compares the
/// columns only.
#[derive(Clone)]
pub struct Columns {
    columns: Vec<Column>,
    index: IndexMap<String, usize>,
    /// Bit `i`: whether column `i` (of the first 64) is plain, see [`Columns::plain`]. Made
    /// from `columns`, which never change.
    plain: u64,
    /// The session's types, for the attributes of records.
    types: Option<TypeRegistry>,
    /// The positions of the columns whose values can hold anonymous records.
    records: Vec<usize>,
}

impl PartialEq for Columns {
    fn eq(&self, other: &Columns) -> bool {
        self.columns == other.columns
    }
}

impl Eq for Columns {}

/// See [`Columns::plain`].
fn plain(column: &Column) -> bool {
    !column.is_text() && !super::typed::claims_counts(&column.type_)
}

impl std::fmt::Debug for Columns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Columns")
            .field("columns", &self.columns)
            .field("index", &self.index)
            .finish()
    }
}

impl Columns {
    /// The shared descriptor of `columns`.
    pub fn new(columns: Vec<Column>) -> Arc<Columns> {
        Columns::build(columns, None)
    }

    /// The shared descriptor of `columns`, whose records decode the types in `types`.
    pub fn with_types(columns: Vec<Column>, types: TypeRegistry) -> Arc<Columns> {
        Columns::build(columns, Some(types))
    }

    fn build(columns: Vec<Column>, types: Option<TypeRegistry>) -> Arc<Columns> {
        let records = (columns.iter().enumerate())
            .filter(|(_, c)| !c.is_text() && holds_records(&c.type_))
            .map(|(i, _)| i)
            .collect();
        let mut index = IndexMap::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            index.entry(c.name.clone()).or_insert(i);
        }
        let plain = (columns.iter().take(64).enumerate())
            .filter(|(_, c)| plain(c))
            .fold(0, |bits, (i, _)| bits | 1 << i);
        Arc::new(Columns {
            columns,
            index,
            plain,
            types,
            records,
        })
    }

    /// The types the records of these columns' rows decode named types with.
    pub fn types_registry(&self) -> Option<&TypeRegistry> {
        self.types.as_ref()
    }

    /// The positions of the columns whose values can hold anonymous records (binary
    /// `record`, `record[]`, …): those [`Row::unknown_record_types`](crate::Row::unknown_record_types)
    /// looks into.
    pub fn record_columns(&self) -> &[usize] {
        &self.records
    }

    /// Whether a typed read hands column `i`'s bytes to `FromSql` as they are: the column is
    /// binary, and of a type whose decoders reserve room for no count a value claims (see
    /// `typed::claims_counts`). `false` when there is no such column.
    #[inline]
    pub(super) fn plain(&self, i: usize) -> bool {
        match u32::try_from(i) {
            Ok(bit @ 0..64) => self.plain >> bit & 1 != 0,
            _ => self.columns.get(i).is_some_and(plain),
        }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The column at `index`.
    pub fn get(&self, index: usize) -> Option<&Column> {
        self.columns.get(index)
    }

    /// The position of the first column named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The columns, in order.
    pub fn as_slice(&self) -> &[Column] {
        &self.columns
    }

    /// The columns, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Column> {
        self.columns.iter()
    }

    /// The column names, in order (duplicates included).
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// The column names made unique, in order: a repeated name gets the first free suffix
    /// `_2`, `_3`, … (the first of a name keeps it: `?column?`, `?column?_2`), so that a
    /// map keyed by them loses no column. Serialized rows use these keys. Borrowed when no
    /// name repeats.
    pub fn unique_names(&self) -> Vec<Cow<'_, str>> {
        if self.index.len() == self.columns.len() {
            return self.names().map(Cow::Borrowed).collect();
        }
        let mut keys: Vec<Cow<'_, str>> = Vec::with_capacity(self.columns.len());
        let mut taken = HashSet::with_capacity(self.columns.len());
        for name in self.names() {
            let mut key = Cow::Borrowed(name);
            let mut n = 1;
            while taken.contains(&key) {
                n += 1;
                key = Cow::Owned(format!("{name}_{n}"));
            }
            taken.insert(key.clone());
            keys.push(key);
        }
        keys
    }

    /// The column types, in order.
    pub fn types(&self) -> impl ExactSizeIterator<Item = &Type> + '_ {
        self.columns.iter().map(|c| &c.type_)
    }
}

impl std::ops::Index<usize> for Columns {
    type Output = Column;

    /// The column at `index`; panics when out of range, as slices do.
    fn index(&self, index: usize) -> &Column {
        &self.columns[index]
    }
}

impl<'a> IntoIterator for &'a Columns {
    type Item = &'a Column;
    type IntoIter = std::slice::Iter<'a, Column>;

    fn into_iter(self) -> Self::IntoIter {
        self.columns.iter()
    }
}

//! Arrays: n-dimensional, with lower bounds and NULL elements.

use postgres_types::Type;

use crate::Value;
use crate::error::type_io_error;
use pg_exceptions::Error;

/// One dimension of an array: its length and the index of its first element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dim {
    /// The number of elements along this dimension.
    pub len: i32,
    /// The index of the first element (PostgreSQL's default is 1).
    pub lower_bound: i32,
}

impl Dim {
    /// A dimension of `len` elements starting at index 1.
    pub fn new(len: i32) -> Dim {
        Dim {
            len,
            lower_bound: 1,
        }
    }
}

/// An array value: its element type, its dimensions (none for an empty array) and its
/// elements in row-major order (NULL elements are [`Value::Null`]).
///
/// Equality compares dimensions and elements, not the element type: an array built in
/// Rust (whose element type is guessed from its elements) equals the same array read
/// from the server. When encoding, the target type's element type is the one sent.
#[derive(Debug, Clone)]
pub struct Array {
    /// The type of the elements.
    pub element_type: Type,
    /// The dimensions, outermost first; empty for an empty array.
    pub dims: Vec<Dim>,
    /// The elements, row-major (the last dimension varies fastest).
    pub elements: Vec<Value>,
}

impl PartialEq for Array {
    fn eq(&self, other: &Array) -> bool {
        self.dims == other.dims && self.elements == other.elements
    }
}

impl Array {
    /// An array of `elements` shaped by `dims`; an error unless the dimensions' lengths
    /// multiply to the number of elements (zero dimensions: no elements).
    pub fn new(element_type: Type, dims: Vec<Dim>, elements: Vec<Value>) -> Result<Array, Error> {
        let count = element_count(&dims)
            .ok_or_else(|| type_io_error("array dimensions are negative or too large"))?;
        if count != elements.len() {
            return Err(type_io_error(format!(
                "array dimensions {dims:?} hold {count} elements, not {}",
                elements.len()
            )));
        }
        Ok(Array {
            element_type,
            dims,
            elements,
        })
    }

    /// A one-dimensional array (lower bound 1) of `elements`; no dimensions when empty.
    pub fn from_values(element_type: Type, elements: Vec<Value>) -> Array {
        let dims = match i32::try_from(elements.len()) {
            Ok(0) => Vec::new(),
            Ok(len) => vec![Dim::new(len)],
            // Beyond what PostgreSQL can hold; the server will say so.
            Err(_) => vec![Dim::new(i32::MAX)],
        };
        Array {
            element_type,
            dims,
            elements,
        }
    }

    /// An array from nested items: when every item is itself a non-empty array of the
    /// same dimensions, they become the sub-arrays of one more dimension (PostgreSQL has
    /// no arrays of arrays); otherwise a one-dimensional array of the items. Arrays mixed
    /// with other values, or of different shapes, are an error. The element type is the
    /// one given or else guessed from the first non-NULL element.
    pub fn from_nested(element_type: Option<Type>, items: Vec<Value>) -> Result<Array, Error> {
        let shapes: Vec<Option<&Vec<Dim>>> = items
            .iter()
            .map(|v| match v {
                Value::Array(a) => Some(&a.dims),
                _ => None,
            })
            .collect();
        let arrays = shapes.iter().filter(|s| s.is_some()).count();
        if arrays == 0 {
            let ty = element_type.unwrap_or_else(|| guess_element_type(&items));
            return Ok(Array::from_values(ty, items));
        }
        let first = shapes[0].filter(|d| !d.is_empty());
        let Some(inner_dims) =
            first.filter(|d| arrays == items.len() && shapes.iter().all(|s| *s == Some(d)))
        else {
            return Err(type_io_error(
                "nested arrays must all be non-empty arrays of the same dimensions",
            ));
        };
        let len = i32::try_from(items.len()).map_err(|_| type_io_error("too many array items"))?;
        let mut dims = vec![Dim::new(len)];
        dims.extend_from_slice(inner_dims);
        let mut inner_type = None;
        let mut elements = Vec::new();
        for item in items {
            if let Value::Array(a) = item {
                inner_type.get_or_insert(a.element_type);
                elements.extend(a.elements);
            }
        }
        let ty = element_type
            .or(inner_type)
            .unwrap_or_else(|| guess_element_type(&elements));
        Array::new(ty, dims, elements)
    }

    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        self.dims.len()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The element at PostgreSQL subscripts `index` (one per dimension, each counted from
    /// that dimension's lower bound).
    pub fn get(&self, index: &[i32]) -> Option<&Value> {
        if index.len() != self.dims.len() || self.dims.is_empty() {
            return None;
        }
        let mut offset = 0usize;
        for (dim, &i) in self.dims.iter().zip(index) {
            let pos = i64::from(i) - i64::from(dim.lower_bound);
            if pos < 0 || pos >= i64::from(dim.len) {
                return None;
            }
            offset = offset
                .checked_mul(usize::try_from(dim.len).ok()?)?
                .checked_add(pos as usize)?;
        }
        self.elements.get(offset)
    }

    /// The elements as nested values: for one dimension, the elements; for more, one
    /// [`Value::Array`] per sub-array of the outermost dimension.
    pub fn sub_arrays(&self) -> Vec<Value> {
        if self.dims.len() <= 1 {
            return self.elements.clone();
        }
        let inner = self.dims[1..].to_vec();
        let step = element_count(&inner).unwrap_or(0).max(1);
        self.elements
            .chunks(step)
            .map(|chunk| {
                Value::Array(Array {
                    element_type: self.element_type.clone(),
                    dims: inner.clone(),
                    elements: chunk.to_vec(),
                })
            })
            .collect()
    }
}

/// The number of elements `dims` describe, if valid.
pub(crate) fn element_count(dims: &[Dim]) -> Option<usize> {
    if dims.is_empty() {
        return Some(0);
    }
    dims.iter().try_fold(1usize, |acc, d| {
        acc.checked_mul(usize::try_from(d.len).ok()?)
    })
}

/// The type of the first non-NULL element, else `unknown`.
pub(crate) fn guess_element_type(elements: &[Value]) -> Type {
    elements
        .iter()
        .find_map(Value::natural_type)
        .unwrap_or(Type::UNKNOWN)
}

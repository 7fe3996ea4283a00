//! Error classes: the SQLSTATE hierarchy and the lookups over it.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::table::{self, CLASSES, ERROR_CODES, WARNING_CODES};

/// Where an error or message was raised: by the server, or by the client (the driver).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Sent by the server in an ErrorResponse or NoticeResponse.
    Server,
    /// Raised by the client side: the driver, a type codec, the connector.
    Client,
}

impl Source {
    /// `"SERVER"` or `"CLIENT"`, as the reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Server => "SERVER",
            Source::Client => "CLIENT",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One class of the error (or warning) hierarchy, such as [`UniqueError`](crate::UniqueError).
///
/// Every class is a `static` of this crate: compare an error against one with
/// [`is_a`](ErrorClass::is_a), which follows the parent links, so that a unique violation
/// `is_a(&UniqueError)`, `is_a(&ICVError)` and `is_a(&Error)`.
///
/// ```
/// use pg_exceptions::{lookup, ICVError, UniqueError};
///
/// let class = lookup("23505");
/// assert_eq!(class, &UniqueError);
/// assert!(class.is_a(&ICVError));
/// assert_eq!(class.parent(), Some(&ICVError));
/// ```
pub struct ErrorClass {
    pub(crate) name: &'static str,
    pub(crate) code: &'static str,
    pub(crate) condition: &'static str,
    pub(crate) parent: Option<&'static ErrorClass>,
    pub(crate) disconnection: bool,
}

impl ErrorClass {
    /// The class name, such as `"UniqueError"`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The SQLSTATE the class stands for, such as `"23505"`; a driver pseudo-code such as
    /// `"--TIO"`; the parent's code for a grouping class such as `TypeError`; `""` for the
    /// root [`Error`](static@crate::Error).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The condition name `errcodes.txt` gives the code (the PL/pgSQL exception name), such
    /// as `"unique_violation"`; `None` for classes that are not in `errcodes.txt`.
    pub fn condition(&self) -> Option<&'static str> {
        (!self.condition.is_empty()).then_some(self.condition)
    }

    /// The class this one specialises; `None` for the roots `Error`, `Warning` and `Notice`.
    pub fn parent(&self) -> Option<&'static ErrorClass> {
        self.parent
    }

    /// The parents of the class, nearest first, up to and including the root.
    /// The class itself is not included.
    pub fn ancestors(&self) -> Ancestors {
        Ancestors { next: self.parent }
    }

    /// The top of the class's hierarchy: `Error`, `Warning` or `Notice`.
    pub fn root(&self) -> &ErrorClass {
        self.ancestors().last().unwrap_or(self)
    }

    /// Whether the class is `class` or descends from it.
    pub fn is_a(&self, class: &ErrorClass) -> bool {
        self == class || self.ancestors().any(|ancestor| ancestor == class)
    }

    /// Whether an error of this class means the connection is gone (a broken link, a
    /// server shutdown, a failed authentication, a connect timeout, …).
    pub fn is_disconnection(&self) -> bool {
        self.disconnection
    }

    /// Whether the class belongs to the warning family (`Warning`, classes 01 and 02) or is
    /// the `Notice` class of code 00000, rather than to the errors.
    pub fn is_warning(&self) -> bool {
        let root = self.root();
        root == &table::Warning || root == &table::Notice
    }

    /// Where errors of this class come from by nature: [`Source::Client`] for the driver's
    /// pseudo-codes (`--…`, `01-…`), [`Source::Server`] for real SQLSTATEs.
    pub fn source(&self) -> Source {
        if self.code.contains('-') {
            Source::Client
        } else {
            Source::Server
        }
    }
}

impl PartialEq for ErrorClass {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || (self.name == other.name && self.code == other.code)
    }
}

impl Eq for ErrorClass {}

impl Hash for ErrorClass {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.code.hash(state);
    }
}

impl fmt::Debug for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorClass")
            .field("name", &self.name)
            .field("code", &self.code)
            .field("parent", &self.parent.map(ErrorClass::name))
            .field("disconnection", &self.disconnection)
            .finish()
    }
}

/// Prints the class name.
impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The iterator returned by [`ErrorClass::ancestors`].
#[derive(Clone, Debug)]
pub struct Ancestors {
    next: Option<&'static ErrorClass>,
}

impl Iterator for Ancestors {
    type Item = &'static ErrorClass;

    fn next(&mut self) -> Option<Self::Item> {
        let current = self.next?;
        self.next = current.parent;
        Some(current)
    }
}

fn exact(
    index: &'static [(&'static str, &'static ErrorClass)],
    code: &str,
) -> Option<&'static ErrorClass> {
    index
        .binary_search_by(|(key, _)| (*key).cmp(code))
        .ok()
        .map(|at| index[at].1)
}

/// Finds `code`, else its class code (the first two characters and `000`).
fn find(
    index: &'static [(&'static str, &'static ErrorClass)],
    code: &str,
) -> Option<&'static ErrorClass> {
    exact(index, code).or_else(|| {
        let prefix = code.as_bytes().get(..2)?;
        let mut class_code = *b"00000";
        class_code[..2].copy_from_slice(prefix);
        exact(index, std::str::from_utf8(&class_code).ok()?)
    })
}

/// The most specific error class for an SQLSTATE: the class of the exact code, else the
/// class of its class code (`XX444` → `InternalError`), else the root `Error`.
///
/// Driver pseudo-codes (`--000`, `--TIO`, …) resolve the same way. Warning codes belong to
/// [`lookup_warning`]; given one, `lookup` answers `Error`, as py-postgresql's `ErrorLookup`.
///
/// ```
/// use pg_exceptions::{lookup, DataError, Error, InternalError, UniqueError};
///
/// assert_eq!(lookup("23505"), &UniqueError);
/// assert_eq!(lookup("XX444"), &InternalError);
/// assert_eq!(lookup("22P99"), &DataError);
/// assert_eq!(lookup("ZZ999"), &Error); // the root class `Error`
/// ```
pub fn lookup(code: &str) -> &'static ErrorClass {
    find(ERROR_CODES, code).unwrap_or(&table::Error)
}

/// The most specific warning class for a code of class 00, 01 or 02 (or a driver warning
/// pseudo-code such as `01-TP`), falling back to the class code and then to `Warning`.
///
/// ```
/// use pg_exceptions::{lookup_warning, NoDataWarning, Warning};
///
/// assert_eq!(lookup_warning("02000"), &NoDataWarning);
/// assert_eq!(lookup_warning("01888"), &Warning);
/// ```
pub fn lookup_warning(code: &str) -> &'static ErrorClass {
    find(WARNING_CODES, code).unwrap_or(&table::Warning)
}

/// The class of any code: [`lookup_warning`] for the codes of classes 00, 01 and 02 and
/// the warning pseudo-codes (`-Cwrn`, [`ClusterWarning`](crate::ClusterWarning)), [`lookup`]
/// for every other.
pub fn lookup_any(code: &str) -> &'static ErrorClass {
    if is_warning_code(code) || exact(WARNING_CODES, code).is_some() {
        lookup_warning(code)
    } else {
        lookup(code)
    }
}

/// The class named `name`, such as `"UniqueError"`, among every class of the crate.
pub fn lookup_name(name: &str) -> Option<&'static ErrorClass> {
    CLASSES.iter().copied().find(|class| class.name == name)
}

/// Every class of the crate: the roots, the grouping classes, each code of `errcodes.txt`
/// and the driver's pseudo-codes.
pub fn classes() -> impl ExactSizeIterator<Item = &'static ErrorClass> + Clone {
    CLASSES.iter().copied()
}

/// Whether `code` is of class 00 (successful completion), 01 (warning) or 02 (no data):
/// the codes that come with notices and warnings rather than with errors.
pub fn is_warning_code(code: &str) -> bool {
    ["00", "01", "02"]
        .iter()
        .any(|class| code.starts_with(class))
}

/// Whether `code` is a well-formed SQLSTATE (five characters of `0-9`, `A-Z` or `-`) or one
/// of the driver's pseudo-codes as they are spelled (`--cIO` has a lower-case letter).
pub fn is_valid_code(code: &str) -> bool {
    let plain = code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'-');
    plain || exact(ERROR_CODES, code).is_some() || exact(WARNING_CODES, code).is_some()
}

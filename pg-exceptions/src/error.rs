//! The one error type of the project.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::class::{ErrorClass, Source, lookup};
use crate::context::Context;
use crate::fields::{Fields, field};
use crate::report;

/// A cause attached to an [`Error`]: any error that can cross threads.
pub type Cause = dyn StdError + Send + Sync + 'static;

/// An error from the server or from the client, with its class in the SQLSTATE hierarchy,
/// every field the server sent, and the context it happened in.
///
/// Every crate of the project returns this type. Test what went wrong through the class
/// hierarchy ([`is_a`](Error::is_a)), read the server's fields through the accessors, and
/// print it: one line by default (`CLASS: message (SQLSTATE code)`), the layered report with
/// the alternate form (`{:#}`):
///
/// ```
/// use pg_exceptions::{Error, ICVError, UniqueError};
///
/// let fields = [
///     (b'S', "ERROR"),
///     (b'C', "23505"),
///     (b'M', "duplicate key value violates unique constraint \"t_pkey\""),
///     (b'D', "Key (id)=(1) already exists."),
///     (b'P', "13"),
/// ];
/// let err = Error::from_fields(fields.map(|(ty, value)| (ty, value.to_string())))
///     .with_statement("INSERT INTO t VALUES (1)");
/// assert!(err.is_a(&UniqueError) && err.is_a(&ICVError));
/// assert_eq!(err.detail(), Some("Key (id)=(1) already exists."));
///
/// assert_eq!(
///     err.to_string(),
///     "UniqueError: duplicate key value violates unique constraint \"t_pkey\" (SQLSTATE 23505)"
/// );
/// let report = format!("{err:#}");
/// assert!(report.starts_with("UniqueError: duplicate key value"));
/// assert!(report.contains("\n  CODE: 23505\n"));
/// assert!(report.contains("\n  INSERT INTO t VALUES (1)\n              ^"));
/// ```
#[derive(Clone)]
pub struct Error {
    // Boxed, so that `Result<T, Error>` stays one pointer wide.
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    class: &'static ErrorClass,
    source: Source,
    fields: Fields,
    contexts: Vec<Context>,
    cause: Option<Arc<Cause>>,
}

impl Error {
    /// An error of `class` with `message`, its source being the class's own
    /// ([`Source::Client`] for the driver's pseudo-code classes, else [`Source::Server`]).
    pub fn new(class: &'static ErrorClass, message: impl Into<String>) -> Error {
        let mut fields = Fields::new();
        fields.set(field::MESSAGE, message);
        Error {
            inner: Box::new(Inner {
                class,
                source: class.source(),
                fields,
                contexts: Vec::new(),
                cause: None,
            }),
        }
    }

    /// An error raised by the client side (the driver, a codec, …) of `class`.
    pub fn client(class: &'static ErrorClass, message: impl Into<String>) -> Error {
        let mut error = Error::new(class, message);
        error.inner.source = Source::Client;
        error
    }

    /// The error an ErrorResponse describes, from its `(field type, value)` pairs.
    ///
    /// The class is [`lookup`] of the `C` field; every field is kept, including types this
    /// crate does not know.
    pub fn from_fields(fields: impl IntoIterator<Item = (u8, String)>) -> Error {
        let fields: Fields = fields.into_iter().collect();
        let class = lookup(fields.get(field::CODE).unwrap_or_default());
        Error {
            inner: Box::new(Inner {
                class,
                source: Source::Server,
                fields,
                contexts: Vec::new(),
                cause: None,
            }),
        }
    }

    /// Sets the DETAIL field.
    pub fn with_detail(self, detail: impl Into<String>) -> Error {
        self.with_field(field::DETAIL, detail)
    }

    /// Sets the HINT field.
    pub fn with_hint(self, hint: impl Into<String>) -> Error {
        self.with_field(field::HINT, hint)
    }

    /// Sets any field (see [`field`](crate::field)). Setting the code does not change the
    /// class.
    pub fn with_field(mut self, field_type: u8, value: impl Into<String>) -> Error {
        self.inner.fields.set(field_type, value);
        self
    }

    /// Attaches the error that caused this one (an `io::Error`, a parse error, …); it is
    /// what [`source`](StdError::source) returns.
    pub fn with_cause(self, cause: impl StdError + Send + Sync + 'static) -> Error {
        self.with_boxed_cause(Box::new(cause))
    }

    /// Attaches an already boxed cause.
    pub fn with_boxed_cause(mut self, cause: Box<Cause>) -> Error {
        self.inner.cause = Some(Arc::from(cause));
        self
    }

    /// Adds a layer of context, shown in reports.
    pub fn with_context(self, label: impl Into<String>, text: impl Into<String>) -> Error {
        self.with_layer(Context::new(label, text))
    }

    /// Adds a layer of context that is kept for the program but never shown.
    pub fn with_secret_context(self, label: impl Into<String>, text: impl Into<String>) -> Error {
        self.with_layer(Context::secret(label, text))
    }

    /// Adds the statement the error happened in; reports mark the error position under it.
    pub fn with_statement(self, sql: impl Into<String>) -> Error {
        self.with_context(Context::STATEMENT, sql)
    }

    /// Adds a description of the connection the error happened on.
    pub fn with_connection(self, description: impl Into<String>) -> Error {
        self.with_context(Context::CONNECTION, description)
    }

    /// Adds the connector's IRI or conninfo string, its password hidden.
    pub fn with_connector(self, iri: &str) -> Error {
        self.with_layer(Context::connector(iri))
    }

    /// Adds a layer of context.
    pub fn with_layer(mut self, layer: Context) -> Error {
        self.push_context(layer);
        self
    }

    /// Adds a layer of context in place.
    pub fn push_context(&mut self, layer: Context) {
        self.inner.contexts.push(layer);
    }

    /// The class, from the SQLSTATE table.
    pub fn class(&self) -> &'static ErrorClass {
        self.inner.class
    }

    /// The SQLSTATE: the server's own, which may be more specific than the class's (a
    /// server's `XX444` is an [`InternalError`](crate::InternalError), code `XX444`), else the
    /// class's code.
    pub fn code(&self) -> &str {
        self.field(field::CODE).unwrap_or(self.inner.class.code())
    }

    /// The primary message.
    pub fn message(&self) -> &str {
        self.field(field::MESSAGE).unwrap_or_default()
    }

    /// Where the error came from.
    pub fn source_kind(&self) -> Source {
        self.inner.source
    }

    /// Whether the error's class is `class` or descends from it.
    pub fn is_a(&self, class: &ErrorClass) -> bool {
        self.inner.class.is_a(class)
    }

    /// Whether the severity is FATAL or PANIC: the server ends the session after it.
    pub fn is_fatal(&self) -> bool {
        let severity = self.severity_nonlocalized().or(self.severity());
        matches!(severity, Some("FATAL" | "PANIC"))
    }

    /// Whether the connection is gone: the class says so (connection failures, shutdowns,
    /// authentication failures, connect timeouts, …) or the error is [fatal](Error::is_fatal).
    pub fn is_disconnection(&self) -> bool {
        self.inner.class.is_disconnection() || self.is_fatal()
    }

    /// The layers of context, in the order they were added (innermost first).
    pub fn contexts(&self) -> &[Context] {
        &self.inner.contexts
    }

    /// The text of the first statement layer.
    pub fn statement(&self) -> Option<&str> {
        self.inner
            .contexts
            .iter()
            .find(|layer| layer.label() == Context::STATEMENT)
            .map(Context::text)
    }

    /// The attached cause, if any.
    pub fn cause(&self) -> Option<&Cause> {
        self.inner.cause.as_deref()
    }

    /// Every field, as received or set.
    pub fn fields(&self) -> &Fields {
        &self.inner.fields
    }

    /// One field by type (see [`field`](crate::field)), such as `b'D'`.
    pub fn field(&self, field_type: u8) -> Option<&str> {
        self.inner.fields.get(field_type)
    }

    /// Where in the server's source the error was raised (its `F`, `L` and `R` fields);
    /// None for an error without them, as the client's own.
    pub fn location(&self) -> Option<crate::Location<'_>> {
        crate::Location::of(&self.inner.fields)
    }

    /// The severity, possibly localized (`ERROR`, `FATAL`, `PANIC`).
    pub fn severity(&self) -> Option<&str> {
        self.field(field::SEVERITY)
    }

    /// The severity, never localized.
    pub fn severity_nonlocalized(&self) -> Option<&str> {
        self.field(field::SEVERITY_NONLOCALIZED)
    }

    /// The secondary message.
    pub fn detail(&self) -> Option<&str> {
        self.field(field::DETAIL)
    }

    /// The suggestion of what to do.
    pub fn hint(&self) -> Option<&str> {
        self.field(field::HINT)
    }

    /// The 1-based character position of the error in the statement.
    pub fn position(&self) -> Option<usize> {
        self.inner.fields.number(field::POSITION)
    }

    /// The 1-based character position of the error in the internal query.
    pub fn internal_position(&self) -> Option<usize> {
        self.inner.fields.number(field::INTERNAL_POSITION)
    }

    /// The internally generated command that failed.
    pub fn internal_query(&self) -> Option<&str> {
        self.field(field::INTERNAL_QUERY)
    }

    /// The server's context: where the error happened, one call stack entry per line
    /// (the `W` field; not to be confused with [`contexts`](Error::contexts)).
    pub fn context(&self) -> Option<&str> {
        self.field(field::WHERE)
    }

    /// The schema of the object the error is about.
    pub fn schema(&self) -> Option<&str> {
        self.field(field::SCHEMA)
    }

    /// The table the error is about.
    pub fn table(&self) -> Option<&str> {
        self.field(field::TABLE)
    }

    /// The column the error is about.
    pub fn column(&self) -> Option<&str> {
        self.field(field::COLUMN)
    }

    /// The data type the error is about.
    pub fn datatype(&self) -> Option<&str> {
        self.field(field::DATATYPE)
    }

    /// The constraint the error is about.
    pub fn constraint(&self) -> Option<&str> {
        self.field(field::CONSTRAINT)
    }

    /// The server source file that reported the error.
    pub fn file(&self) -> Option<&str> {
        self.field(field::FILE)
    }

    /// The line of the server source file that reported the error.
    pub fn line(&self) -> Option<usize> {
        self.inner.fields.number(field::LINE)
    }

    /// The server source routine that reported the error.
    pub fn routine(&self) -> Option<&str> {
        self.field(field::ROUTINE)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .cause
            .as_deref()
            .map(|cause| cause as &(dyn StdError + 'static))
    }
}

/// One line, `CLASS: message (SQLSTATE code)`, as errors print in logs and chains (the
/// message's own line breaks become spaces; the cause is [`source`](StdError::source)'s).
///
/// The alternate form (`{:#}`) is the layered report: `CLASS: message`, the error's elements
/// indented below it, then each shown context layer (the statement with a caret under the
/// error position) and the causes.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return self.report(f);
        }
        write!(f, "{}: ", self.inner.class.name())?;
        for (index, line) in self.message().lines().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str(line.trim())?;
        }
        if !self.code().is_empty() {
            write!(f, " (SQLSTATE {})", self.code())?;
        }
        Ok(())
    }
}

impl Error {
    /// The layered report (the alternate form of Display).
    fn report(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.inner.class.name())?;
        report::continued(f, 2, self.message())?;
        if !self.code().is_empty() {
            report::field(f, 2, "CODE", self.code())?;
        }
        if let Some(severity) = self.severity().or(self.severity_nonlocalized()) {
            report::field(f, 2, "SEVERITY", severity)?;
        }
        let statement = self
            .inner
            .contexts
            .iter()
            .any(|layer| layer.label() == Context::STATEMENT && !layer.is_secret());
        let position_drawn = statement && self.position().is_some();
        report::details(f, &self.inner.fields, self.inner.source, !position_drawn)?;
        let mut caret = self.position().filter(|_| statement);
        for layer in self
            .inner
            .contexts
            .iter()
            .filter(|layer| !layer.is_secret())
        {
            if layer.label() == Context::STATEMENT {
                report::block(f, 0, layer.label(), layer.text(), caret.take())?;
            } else {
                report::block(f, 0, layer.label(), layer.text(), None)?;
            }
        }
        let mut cause = self.source();
        while let Some(current) = cause {
            if let Some(error) = current.downcast_ref::<Error>() {
                // Its own report lists the causes behind it.
                return report::field(f, 0, "CAUSE", &format!("{error:#}"));
            }
            report::field(f, 0, "CAUSE", &current.to_string())?;
            cause = current.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("class", &self.inner.class.name())
            .field("code", &self.code())
            .field("source", &self.inner.source)
            .field("fields", &self.inner.fields)
            .field("contexts", &self.inner.contexts)
            .field("cause", &self.inner.cause)
            .finish()
    }
}

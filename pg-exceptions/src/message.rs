//! Messages that are not errors: NOTICE, WARNING, INFO, LOG and DEBUG.

use std::fmt;

use crate::class::{ErrorClass, Source, lookup_any};
use crate::fields::{Fields, field};
use crate::location::Location;
use crate::report;

/// A NOTICE, WARNING, INFO, LOG or DEBUG message, as the server sends it in a
/// NoticeResponse or as the driver raises it; the driver hands them to the message hooks.
///
/// ```
/// use pg_exceptions::{DuplicateTableError, Message, Notice};
///
/// let skipped = Message::from_fields([
///     (b'S', "NOTICE".to_string()),
///     (b'C', "42P07".to_string()),
///     (b'M', "relation \"t\" already exists, skipping".to_string()),
/// ]);
/// assert_eq!(skipped.severity(), "NOTICE");
/// assert_eq!(skipped.class(), &DuplicateTableError);
///
/// let info = Message::new("INFO", "00000", "vacuuming");
/// assert_eq!(info.class(), &Notice);
/// assert_eq!(info.to_string(), "INFO: vacuuming\n  LOCATION: CLIENT");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    fields: Fields,
    source: Source,
}

impl Message {
    /// A message raised by the client side, such as a driver warning (code `01-00`).
    pub fn new(severity: &str, code: &str, message: impl Into<String>) -> Message {
        let mut fields = Fields::new();
        fields.set(field::SEVERITY, severity);
        fields.set(field::CODE, code);
        fields.set(field::MESSAGE, message);
        Message {
            fields,
            source: Source::Client,
        }
    }

    /// The message a NoticeResponse describes, from its `(field type, value)` pairs; every
    /// field is kept, including types this crate does not know.
    pub fn from_fields(fields: impl IntoIterator<Item = (u8, String)>) -> Message {
        Message {
            fields: fields.into_iter().collect(),
            source: Source::Server,
        }
    }

    /// Sets the DETAIL field.
    pub fn with_detail(self, detail: impl Into<String>) -> Message {
        self.with_field(field::DETAIL, detail)
    }

    /// Sets the HINT field.
    pub fn with_hint(self, hint: impl Into<String>) -> Message {
        self.with_field(field::HINT, hint)
    }

    /// Sets any field (see [`field`](crate::field)).
    pub fn with_field(mut self, field_type: u8, value: impl Into<String>) -> Message {
        self.fields.set(field_type, value);
        self
    }

    /// The severity as sent (possibly localized), else the non-localized one, else
    /// `"MESSAGE"`.
    pub fn severity(&self) -> &str {
        self.fields
            .get(field::SEVERITY)
            .or(self.fields.get(field::SEVERITY_NONLOCALIZED))
            .unwrap_or("MESSAGE")
    }

    /// The severity, never localized, when the server sent it.
    pub fn severity_nonlocalized(&self) -> Option<&str> {
        self.fields.get(field::SEVERITY_NONLOCALIZED)
    }

    /// The SQLSTATE; `"00000"` (successful completion) when absent.
    pub fn code(&self) -> &str {
        self.fields.get(field::CODE).unwrap_or("00000")
    }

    /// The primary message.
    pub fn message(&self) -> &str {
        self.fields.get(field::MESSAGE).unwrap_or_default()
    }

    /// The secondary message.
    pub fn detail(&self) -> Option<&str> {
        self.fields.get(field::DETAIL)
    }

    /// The suggestion of what to do.
    pub fn hint(&self) -> Option<&str> {
        self.fields.get(field::HINT)
    }

    /// Every field other than the severities, the code and the message.
    pub fn details(&self) -> impl Iterator<Item = (u8, &str)> + '_ {
        self.fields.iter().filter(|(ty, _)| {
            ![
                field::SEVERITY,
                field::SEVERITY_NONLOCALIZED,
                field::CODE,
                field::MESSAGE,
            ]
            .contains(ty)
        })
    }

    /// Every field.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// One field by type, such as `b'H'`.
    pub fn field(&self, field_type: u8) -> Option<&str> {
        self.fields.get(field_type)
    }

    /// Where in the server's source the message was raised (its `F`, `L` and `R`
    /// fields); None when it carries none of them, as messages the client raises.
    pub fn location(&self) -> Option<Location<'_>> {
        Location::of(&self.fields)
    }

    /// Where the message came from.
    pub fn source_kind(&self) -> Source {
        self.source
    }

    /// The class of the code: the warning family for classes 00, 01 and 02 (`00000` is
    /// [`Notice`](crate::Notice)), the error table for any other (a NOTICE may carry one, such
    /// as 42P07 for `CREATE TABLE IF NOT EXISTS`).
    pub fn class(&self) -> &'static ErrorClass {
        lookup_any(self.code())
    }
}

/// `SEVERITY: message`, then the code (unless 00000) and the other fields indented below.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity())?;
        report::continued(f, 2, self.message())?;
        if self.code() != "00000" {
            report::field(f, 2, "CODE", self.code())?;
        }
        report::details(f, &self.fields, self.source, true)
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("class", &self.class().name())
            .field("source", &self.source)
            .field("fields", &self.fields)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeprecationWarning, DriverWarning, NoDataWarning, Notice, Warning};

    fn server(fields: &[(u8, &str)]) -> Message {
        Message::from_fields(fields.iter().map(|(ty, value)| (*ty, value.to_string())))
    }

    #[test]
    fn warning_from_the_server() {
        let message = server(&[
            (b'S', "WARNUNG"),
            (b'V', "WARNING"),
            (b'C', "01P01"),
            (b'M', "old syntax"),
            (b'D', "use the new one"),
            (b'H', "see the manual"),
            (b'Z', "future field"),
            (b'F', "gram.y"),
            (b'L', "42"),
            (b'R', "base_yyparse"),
        ]);
        assert_eq!(message.severity(), "WARNUNG");
        assert_eq!(message.severity_nonlocalized(), Some("WARNING"));
        assert_eq!(message.code(), "01P01");
        assert_eq!(message.message(), "old syntax");
        assert_eq!(message.detail(), Some("use the new one"));
        assert_eq!(message.hint(), Some("see the manual"));
        assert_eq!(message.field(b'Z'), Some("future field"));
        assert_eq!(message.source_kind(), Source::Server);
        assert_eq!(message.class(), &DeprecationWarning);
        let details: Vec<u8> = message.details().map(|(ty, _)| ty).collect();
        assert_eq!(details, b"DHZFLR");
        assert_eq!(message.fields().len(), 10);
        let at = message.location().unwrap();
        assert_eq!(
            (at.file, at.line, at.function),
            (Some("gram.y"), Some(42), Some("base_yyparse"))
        );
        assert_eq!(
            message.to_string(),
            "WARNUNG: old syntax\n  CODE: 01P01\n  DETAIL: use the new one\n  \
             HINT: see the manual\n  FIELD 'Z': future field\n  \
             LOCATION: File \"gram.y\", line 42, in base_yyparse from SERVER"
        );
        let debug = format!("{message:?}");
        assert!(debug.starts_with("Message { class: \"DeprecationWarning\", source: Server"));
        assert!(debug.contains("'Z': \"future field\""), "{debug}");
    }

    #[test]
    fn classes_of_notices() {
        assert_eq!(server(&[(b'S', "NOTICE")]).class(), &Notice);
        assert_eq!(server(&[(b'C', "02000")]).class(), &NoDataWarning);
        assert_eq!(server(&[(b'C', "01999")]).class(), &Warning);
        assert_eq!(server(&[]).severity(), "MESSAGE");
        assert_eq!(server(&[(b'V', "LOG")]).severity(), "LOG");
        assert_eq!(server(&[]).message(), "");
        let driver = Message::new("WARNING", "01-00", "careful")
            .with_detail("more")
            .with_hint("do this")
            .with_field(b'W', "somewhere");
        assert_eq!(driver.class(), &DriverWarning);
        assert_eq!(driver.source_kind(), Source::Client);
        assert_eq!(
            driver.to_string(),
            "WARNING: careful\n  CODE: 01-00\n  DETAIL: more\n  HINT: do this\n  \
             CONTEXT: somewhere\n  LOCATION: CLIENT"
        );
        assert_eq!(driver.clone(), driver);
    }
}

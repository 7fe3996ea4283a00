//! The examples of py-postgresql's own string tests, checked against this
//! port. Where the port deliberately differs, the case says so.

use pg_string::{Part, Quote, split, split_sql_str, unsplit};

fn u(text: &str) -> Part {
    Part::unquoted(text)
}

fn single(body: &str) -> Part {
    Part::quoted(Quote::Single, body)
}

fn double(body: &str) -> Part {
    Part::quoted(Quote::Double, body)
}

fn escape(body: &str) -> Part {
    Part::quoted(Quote::Escape { lowercase: false }, body)
}

fn dollar(tag: &str, body: &str) -> Part {
    Part::quoted(Quote::Dollar(tag.into()), body)
}

#[test]
fn split_samples() {
    let samples: Vec<(&str, Vec<Part>)> = vec![
        ("", vec![u("")]),
        ("one-to-one", vec![u("one-to-one")]),
        ("\"one-to-one\"", vec![u(""), double("one-to-one"), u("")]),
        (
            "$$one-to-one$$",
            vec![u(""), dollar("", "one-to-one"), u("")],
        ),
        ("E'one-to-one'", vec![u(""), escape("one-to-one"), u("")]),
        (
            "E'on''e-to-one'",
            vec![u(""), escape("on''e-to-one"), u("")],
        ),
        (
            "E'on''e-to-\\'one'",
            vec![u(""), escape("on''e-to-\\'one"), u("")],
        ),
        (
            "'one\\'-to-one'",
            vec![u(""), single("one\\"), u("-to-one"), single("")],
        ),
        ("\"foo\"\"\"", vec![u(""), double("foo\"\""), u("")]),
        ("\"\"\"foo\"", vec![u(""), double("\"\"foo"), u("")]),
        ("'''foo'", vec![u(""), single("''foo"), u("")]),
        ("'foo'''", vec![u(""), single("foo''"), u("")]),
        ("E'foo\\''", vec![u(""), escape("foo\\'"), u("")]),
        (
            r"E'foo\\' '",
            vec![u(""), escape(r"foo\\"), u(" "), single("")],
        ),
        (r"E'foo\\'' '", vec![u(""), escape(r"foo\\'' "), u("")]),
        (
            "select 'foo' as \"one\"",
            vec![u("select "), single("foo"), u(" as "), double("one"), u("")],
        ),
        (
            "select $$foo$$ as \"one\"",
            vec![
                u("select "),
                dollar("", "foo"),
                u(" as "),
                double("one"),
                u(""),
            ],
        ),
        (
            "select $b$foo$b$ as \"one\"",
            vec![
                u("select "),
                dollar("b", "foo"),
                u(" as "),
                double("one"),
                u(""),
            ],
        ),
        ("select $b$", vec![u("select "), dollar("b", "")]),
        ("select $1", vec![u("select $1")]),
        ("select $1$", vec![u("select $1$")]),
    ];
    for (sql, expected) in samples {
        let parts = split(sql);
        assert_eq!(parts, expected, "split({sql:?})");
        assert_eq!(unsplit(&parts), sql);
    }
}

#[test]
fn split_sql_str_docstring() {
    assert_eq!(
        split_sql_str("select $$1$$ AS \"foo;\"; select 2;"),
        ["select $$1$$ AS \"foo;\"", " select 2", ""]
    );
}

#[test]
fn departures_from_py_postgresql() {
    // py-postgresql: ['', ("'", "foo'"), ''] — a runaway quote taken for a
    // closed one because the text ends in a quote.
    assert_eq!(split("'foo''"), [u(""), single("foo''")]);
    assert_eq!(split("E'foo\\'"), [u(""), escape("foo\\'")]);
    // py-postgresql: ['', ('$a$', ''), ''], whose unsplit is "$a$$a$".
    assert_eq!(split("$a$a$"), [u(""), dollar("a", "a$")]);
    // py-postgresql does not match a dollar quote across a line break.
    assert_eq!(split("$$\n$$"), [u(""), dollar("", "\n"), u("")]);
    // py-postgresql takes `$ $` for a dollar quote with the tag " ".
    assert_eq!(split("$ $ a $ $"), [u("$ $ a $ $")]);
    // py-postgresql opens dollar and escape quotes inside identifiers.
    assert_eq!(split("a$b$c$"), [u("a$b$c$")]);
    assert_eq!(split("SOME'x'"), [u("SOME"), single("x"), u("")]);
    // py-postgresql does not know the lower-case escape prefix.
    let lower = Part::quoted(Quote::Escape { lowercase: true }, "it\\'s");
    assert_eq!(split("e'it\\'s'"), [u(""), lower, u("")]);
}

//! Cutting a script into statements, comments included.
//!
//! [`pg_string::split_sql_str`] knows quotes and comments (a `;` inside `'…'`, `"…"`,
//! `$$…$$`, `-- …` or `/* … */` ends nothing), so the statements are its pieces, sent with
//! their comments; [`pg_string::strip_comments`] tells the pieces that hold nothing else.

/// The statements of a script, in order: split at each `;` outside quotes and comments
/// (by [`pg_string::split_sql_str`]), each trimmed of surrounding white space, comments
/// kept; pieces holding nothing but white space and comments are left out.
///
/// ```
/// let script = "-- setup; nothing here\nselect 1; /* a; b */ select $$;$$;\n-- done;";
/// assert_eq!(
///     pg_cli::split::statements(script),
///     ["-- setup; nothing here\nselect 1", "/* a; b */ select $$;$$"]
/// );
/// ```
pub fn statements(sql: &str) -> Vec<String> {
    pg_string::split_sql_str(sql)
        .into_iter()
        .filter(|piece| !pg_string::strip_comments(piece).trim().is_empty())
        .map(|piece| piece.trim().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_around_quotes_and_comments() {
        let script = "create function f() returns int language plpgsql as $body$\n\
                      begin -- a comment; inside the body\n  return 1;\nend $body$;\n\
                      select 'a;b', \"c;d\" from t; -- trailing; comment\n\
                      select e'it\\'s;' /* don't; */ ; ;";
        let got = statements(script);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(got[0].ends_with("end $body$"), "{}", got[0]);
        assert_eq!(got[1], "select 'a;b', \"c;d\" from t");
        assert_eq!(
            got[2],
            "-- trailing; comment\nselect e'it\\'s;' /* don't; */"
        );
    }

    #[test]
    fn keeps_parameters_and_identifiers_with_dollars() {
        assert_eq!(
            statements("select $1; select a$$b; x"),
            ["select $1", "select a$$b", "x"]
        );
        assert_eq!(
            statements("select $a$ -- $a$; select 2"),
            ["select $a$ -- $a$", "select 2"]
        );
        assert_eq!(
            statements("select 1 -- $a$; select 2\n; select 3"),
            ["select 1 -- $a$; select 2", "select 3"]
        );
        assert_eq!(statements("somee'--x'; y"), ["somee'--x'", "y"]);
        assert!(statements("  ;\n-- only a comment\n;/* and */").is_empty());
    }
}

//! Comments in SQL text, found the way PostgreSQL's lexer finds them.

use std::ops::Range;

use crate::split::scan;

/// The byte ranges of the comments in `sql`, outside quotes: `--` to the end of its line
/// (the newline not included) and `/* … */` with the comments nested in it (to the end of
/// the text when it is never closed). Markers inside quoted sections are text, and quotes
/// inside comments open nothing.
///
/// ```
/// let sql = "select '--' -- it's\n/* a /* b */ */ 1";
/// let found: Vec<&str> = pg_string::comment_ranges(sql).into_iter().map(|r| &sql[r]).collect();
/// assert_eq!(found, ["-- it's", "/* a /* b */ */"]);
/// ```
pub fn comment_ranges(sql: &str) -> Vec<Range<usize>> {
    let mut comments = Vec::new();
    scan(sql, Some(&mut comments));
    comments
}

/// `sql` with each comment replaced by one space, which is what the lexer reads a comment
/// as; everything else, quoted sections included, is kept as written.
///
/// ```
/// assert_eq!(pg_string::strip_comments("a/* x */b -- y\n'--z'"), "a b  \n'--z'");
/// ```
pub fn strip_comments(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut from = 0;
    for comment in comment_ranges(sql) {
        out.push_str(&sql[from..comment.start]);
        out.push(' ');
        from = comment.end;
    }
    out.push_str(&sql[from..]);
    out
}

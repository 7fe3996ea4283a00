//! Meta-commands: a backslash outside quotes, then a name and its arguments to the end of
//! the line (`\x on`, `\i file.sql`, `\dt+ public.*`).

use std::path::Path;

use pg_driver::params::Keywords;

use super::scan::{Scanner, interpolate};
use super::vars::{Vars, parse_bool, valid_name};
use super::{Flow, Inline, Session, Source};
use crate::Failure;
use crate::backslash_copy::Endpoint;
use crate::describe::{self, Described};
use crate::print::{Expanded, Layout, Settings};

/// The help of `\?`: every meta-command pgapi knows.
pub const HELP: &str = "\
General
  \\q                     quit pgapi (in a script: end that script)
  \\? or \\help            show this help
  \\copyright             (not here: pgapi is MIT or Apache-2.0)

Query Buffer
  \\g [FILE|'|'COMMAND]   send the query buffer (or the last query) to the server,
                         its result to the file or the command if one is given
  \\gset [PREFIX]         send the query buffer; its one row's columns set variables
  \\p                     show the query buffer (or the last query)
  \\r                     reset (clear) the query buffer

Input/Output
  \\copy ...              client-side COPY (files on this machine, progress)
  \\echo [-n] [STRING]    write a string to standard output (-n: no line break)
  \\qecho [-n] [STRING]   write a string to the query output (\\o)
  \\warn [-n] [STRING]    write a string to standard error
  \\i FILE                run the commands of a file
  \\ir FILE               as \\i, relative to the file being read
  \\o [FILE|'|'COMMAND]   send results to a file or a command, or back to standard
                         output

Informational (modifiers: S = system objects, + = more detail)
  \\d[S+] [NAME]          list tables, views and sequences, or describe NAME
  \\df[S+] [PATTERN]      list functions
  \\di[S+] [PATTERN]      list indexes
  \\dn[S+] [PATTERN]      list schemas
  \\ds[S+] [PATTERN]      list sequences
  \\dt[S+] [PATTERN]      list tables
  \\du[S+] [PATTERN]      list roles
  \\dv[S+] [PATTERN]      list views
  \\l[+] [PATTERN]        list databases

Formatting
  \\a                     toggle between unaligned and aligned output
  \\pset [NAME [VALUE]]   set a printing option (format, null, tuples_only, fieldsep,
                         recordsep, footer, pager, expanded), or show them all
  \\t [on|off]            show only rows
  \\x [on|off|auto]       toggle expanded output

Connection
  \\c[onnect] [DBNAME|- USER|- HOST|- PORT|-]
                         connect to another database (on failure a script stops;
                         the prompt keeps the current one)
  \\conninfo              show the connection

Operating System
  \\timing [on|off]       show how long each statement takes

Conditionals
  \\if EXPR               begin a block run only when EXPR is true (on, true, 1, yes)
  \\elif EXPR             another branch of the block
  \\else                  the branch run when no other was
  \\endif                 end the block

Variables
  \\set [NAME [VALUE]]    set a variable, or list them all
  \\unset NAME            remove a variable
  :NAME, :'NAME', :\"NAME\"  a variable's value, as a literal, as an identifier

Special variables: ON_ERROR_STOP, QUIET, ECHO (all, queries), HISTFILE; DBNAME, USER,
HOST, PORT are set after connecting.
";

/// Splits a meta-command's arguments as psql does: white space separates them, `'…'` is a
/// quoted argument (`''` a quote), `\"…\"` keeps its quotes (an identifier for a pattern),
/// and `:name`, `:'name'`, `:\"name\"` interpolate variables.
pub fn arguments(text: &str, vars: &Vars) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut arg = String::new();
        while i < chars.len() && !chars[i].is_whitespace() {
            match chars[i] {
                '\'' => {
                    i += 1;
                    while i < chars.len() {
                        if chars[i] == '\'' {
                            if chars.get(i + 1) == Some(&'\'') {
                                arg.push('\'');
                                i += 2;
                                continue;
                            }
                            i += 1;
                            break;
                        }
                        if chars[i] == '\\' {
                            match chars.get(i + 1) {
                                Some('n') => arg.push('\n'),
                                Some('t') => arg.push('\t'),
                                Some(&c) => arg.push(c),
                                None => {}
                            }
                            i += 2;
                            continue;
                        }
                        arg.push(chars[i]);
                        i += 1;
                    }
                }
                '"' => {
                    arg.push('"');
                    i += 1;
                    while i < chars.len() {
                        arg.push(chars[i]);
                        i += 1;
                        if chars[i - 1] == '"' {
                            break;
                        }
                    }
                }
                ':' => match interpolate(&chars[i..], vars) {
                    Some((value, used)) => {
                        arg.push_str(&value);
                        i += used;
                    }
                    None => {
                        arg.push(':');
                        i += 1;
                    }
                },
                c => {
                    arg.push(c);
                    i += 1;
                }
            }
        }
        args.push(arg);
    }
    args
}

/// Runs the meta-command `text` (what follows the backslash).
pub async fn run(
    session: &mut Session<'_>,
    scanner: &mut Scanner,
    text: &str,
    source: &Source,
    inline: Option<&mut Inline<'_>>,
) -> Result<Flow, Failure> {
    let text = text.trim_end();
    let name_end = text.find(char::is_whitespace).unwrap_or(text.len());
    let (name, rest) = text.split_at(name_end);
    let rest = rest.trim_start();
    let args = arguments(rest, &session.vars);
    let first = args.first().map(String::as_str);
    match name {
        "q" | "quit" => return Ok(Flow::Quit),
        "?" | "help" => write!(session.out(), "{HELP}")?,
        // \echo to standard output (also with \o), \qecho to the query output, \warn to
        // standard error; `-n` leaves out the line break.
        "echo" | "qecho" | "warn" => {
            let (newline, words) = match args.first().map(String::as_str) {
                Some("-n") => (false, &args[1..]),
                _ => (true, &args[..]),
            };
            let text = words.join(" ") + if newline { "\n" } else { "" };
            match name {
                "echo" => {
                    session.out().flush()?;
                    session.stdout.write_all(text.as_bytes())?;
                }
                "qecho" => session.out().write_all(text.as_bytes())?,
                _ => {
                    session.flush()?;
                    eprint!("{text}");
                }
            }
        }
        "set" => match first {
            None => {
                let listing: String = session
                    .vars
                    .iter()
                    .map(|(n, v)| format!("{n} = '{v}'\n"))
                    .collect();
                write!(session.out(), "{listing}")?;
            }
            Some(variable) => {
                check_name(variable)?;
                let value: String = args[1..].concat();
                session.vars.set(variable, &value);
            }
        },
        "unset" => match first {
            Some(variable) => session.vars.unset(variable),
            None => return Err(Failure::message("\\unset: missing required argument")),
        },
        "r" | "reset" => {
            scanner.reset();
            session.say("Query buffer reset (cleared).")?;
        }
        "p" | "print" => {
            let shown = match scanner.is_empty() {
                false => Some(scanner.buffer().to_owned()),
                true => session.last_query().map(str::to_owned),
            };
            match shown {
                Some(text) => writeln!(session.out(), "{text}")?,
                None => session.say("Query buffer is empty.")?,
            }
        }
        "g" => {
            let sql = match scanner.take() {
                Some((sql, line)) => Some((sql, line)),
                None => session.last_query().map(|q| (q.to_owned(), 0)),
            };
            if let Some((sql, line)) = sql {
                return match output_target(rest, first) {
                    Some(target) => session.statement_to(&target, &sql, line, source).await,
                    None => Ok(session.statement(&sql, line, source, None).await),
                };
            }
            return Err(Failure::message("\\g: the query buffer is empty"));
        }
        "gset" => {
            let Some((sql, _)) = scanner.take() else {
                return Err(Failure::message("\\gset: the query buffer is empty"));
            };
            session.gset(&sql, first.unwrap_or("")).await?;
        }
        "x" => {
            let expanded = match first {
                None => match session.settings.expanded {
                    Expanded::Off => Expanded::On,
                    _ => Expanded::Off,
                },
                Some(value) => expanded(value)?,
            };
            session.settings.expanded = expanded;
            let message = expanded_message(expanded);
            session.say(&message)?;
        }
        "t" => {
            session.settings.tuples_only = toggle(first, session.settings.tuples_only, "\\t")?;
            let message = on_off("Tuples only is", session.settings.tuples_only);
            session.say(&message)?;
        }
        "a" => {
            session.settings.layout = match session.settings.layout {
                Layout::Aligned => Layout::Unaligned,
                _ => Layout::Aligned,
            };
            let message = format!("Output format is {}.", layout_name(session.settings.layout));
            session.say(&message)?;
        }
        "timing" => {
            session.timing = toggle(first, session.timing, "\\timing")?;
            let message = on_off("Timing is", session.timing);
            session.say(&message)?;
        }
        "pset" => match first {
            None => {
                let listing = pset_listing(&session.settings);
                write!(session.out(), "{listing}")?;
            }
            Some(option) => {
                let message = pset(&mut session.settings, option, args.get(1).map(|s| &**s))?;
                session.say(&message)?;
            }
        },
        "o" | "out" => {
            let target = output_target(rest, first);
            session.redirect(target.as_deref().map(Path::new))?;
        }
        "i" | "include" | "ir" | "include_relative" => {
            let Some(file) = first else {
                return Err(Failure::message(format!(
                    "\\{name}: missing required argument"
                )));
            };
            let mut path = crate::backslash_copy::expand_tilde(file);
            let relative = name.starts_with("ir") || name == "include_relative";
            if relative && path.is_relative() {
                path = session.current_dir().join(path);
            }
            // psql: `\q` in a file ends that file only.
            return match session.run_file(&path).await? {
                Flow::Quit => Ok(Flow::Continue),
                flow => Ok(flow),
            };
        }
        "c" | "connect" => {
            // psql takes a double-quoted name without its quotes (`\c "My DB"`), and a
            // quoted `-` as a name; a connection string or IRI as written.
            let conninfo = first.filter(|text| text.contains("://") || text.contains('='));
            let names: Vec<(String, bool)> = args
                .iter()
                .map(|a| (unquote_name(a), a.contains('"')))
                .collect();
            let keep = |index: usize| {
                names
                    .get(index)
                    .filter(|(a, quoted)| *quoted || a.as_str() != "-")
                    .map(|(a, _)| a)
            };
            let mut keywords = match keep(0) {
                Some(_) if let Some(text) = conninfo => Keywords::parse(text)
                    .map_err(|e| Failure::message(format!("\\connect: {e}")))?,
                Some(database) => Keywords::new().database(database.clone()),
                None => Keywords::new(),
            };
            if let Some(user) = keep(1) {
                keywords = keywords.user(user.clone());
            }
            if let Some(host) = keep(2) {
                keywords = keywords.host(host.clone());
            }
            if let Some(port) = keep(3) {
                let port = port
                    .parse()
                    .map_err(|_| Failure::message(format!("\\connect: invalid port {port:?}")))?;
                keywords = keywords.port(port);
            }
            session.reconnect(keywords).await?;
        }
        "conninfo" => {
            let database = session.vars.get("DBNAME").unwrap_or("").to_owned();
            let user = session.vars.get("USER").unwrap_or("").to_owned();
            let host = session.vars.get("HOST").unwrap_or("").to_owned();
            let port = session.vars.get("PORT").unwrap_or("").to_owned();
            let place = match host.starts_with('/') {
                true => format!("via socket in \"{host}\""),
                false => format!("on host \"{host}\""),
            };
            writeln!(
                session.out(),
                "You are connected to database \"{database}\" as user \"{user}\" {place} \
                 at port \"{port}\"."
            )?;
        }
        "copy" => {
            let progress = !session.quiet() && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let copy = crate::backslash_copy::parse(rest)?;
            // psql's `stdin` is where the commands come from: in a script file, its lines
            // after the `\copy` up to `\.`.
            let tag = match inline {
                Some(inline) if copy.reads_script() && matches!(source, Source::File(_)) => {
                    let data = inline.data()?;
                    crate::backslash_copy::copy_in_data(&session.db, &copy, data).await?
                }
                // `to stdout`: the query output, after which psql prints no tag.
                _ if copy.endpoint == Endpoint::Output => {
                    let db = session.db.clone();
                    crate::backslash_copy::copy_out_to(&db, &copy, session.out(), progress).await?;
                    return Ok(Flow::Continue);
                }
                _ => crate::backslash_copy::run(&session.db, rest, progress).await?,
            };
            // No tag after data on standard output (`pstdout`), unless `\o` takes it.
            if !copy.to_standard_output() || session.redirect.is_some() {
                session.say(&tag)?;
            }
        }
        _ if name.starts_with('d') || matches!(name, "l" | "l+" | "list" | "list+") => {
            let command = match name {
                "list" => "l",
                "list+" => "l+",
                other => other,
            };
            let guard = session.guard();
            let described = guard
                .run(describe::run(&session.db, command, first))
                .await?;
            match described {
                None => return Err(invalid(name)),
                Some(Described::NotFound(message)) => {
                    session.flush()?;
                    eprintln!("{message}");
                }
                Some(Described::Tables(tables)) => {
                    let mut text = Vec::new();
                    for table in &tables {
                        crate::print::render(
                            table,
                            &session.settings,
                            crate::pager::terminal_width(),
                            &mut text,
                        )?;
                    }
                    session.emit(&String::from_utf8_lossy(&text))?;
                }
            }
        }
        _ => return Err(invalid(name)),
    }
    session.flush()?;
    Ok(Flow::Continue)
}

/// The output of `\o` and `\g`: `|COMMAND` (the whole rest of the line), else the file
/// its first argument names (`~` the home directory).
fn output_target(rest: &str, first: Option<&str>) -> Option<String> {
    match rest.strip_prefix('|') {
        Some(_) => Some(rest.to_owned()),
        None => first.map(|file| {
            crate::backslash_copy::expand_tilde(file)
                .to_string_lossy()
                .into_owned()
        }),
    }
}

/// A `\connect` argument as psql reads it: double quotes removed (`""` inside them is
/// a quote), no case folding.
fn unquote_name(text: &str) -> String {
    let mut name = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                name.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c => name.push(c),
        }
    }
    name
}

fn invalid(name: &str) -> Failure {
    Failure::message(format!("invalid command \\{name}\nTry \\? for help."))
}

/// A variable name `\set` accepts: letters, digits and underscores.
fn check_name(name: &str) -> Result<(), Failure> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(Failure::message(format!(
            "\\set: invalid variable name: \"{name}\""
        )))
    }
}

/// A toggle's new value: the argument read as a boolean, else the opposite of `now`.
fn toggle(argument: Option<&str>, now: bool, command: &str) -> Result<bool, Failure> {
    match argument {
        None => Ok(!now),
        Some(text) => parse_bool(text).ok_or_else(|| {
            Failure::message(format!(
                "{command}: unrecognized value \"{text}\": Boolean expected"
            ))
        }),
    }
}

fn on_off(what: &str, on: bool) -> String {
    format!("{what} {}.", if on { "on" } else { "off" })
}

fn expanded(value: &str) -> Result<Expanded, Failure> {
    if value.eq_ignore_ascii_case("auto") {
        return Ok(Expanded::Auto);
    }
    match parse_bool(value) {
        Some(true) => Ok(Expanded::On),
        Some(false) => Ok(Expanded::Off),
        None => Err(Failure::message(format!(
            "\\pset: unrecognized value \"{value}\" for \"expanded\": on, off or auto expected"
        ))),
    }
}

fn expanded_message(expanded: Expanded) -> String {
    match expanded {
        Expanded::On => "Expanded display is on.".to_owned(),
        Expanded::Off => "Expanded display is off.".to_owned(),
        Expanded::Auto => "Expanded display is used automatically.".to_owned(),
    }
}

fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Aligned => "aligned",
        Layout::Unaligned => "unaligned",
        Layout::Csv => "csv",
        Layout::Json => "json",
        Layout::Box => "box",
    }
}

/// `\pset` with no argument: every option and its value.
fn pset_listing(settings: &Settings) -> String {
    let expanded = match settings.expanded {
        Expanded::On => "on",
        Expanded::Off => "off",
        Expanded::Auto => "auto",
    };
    let bool_text = |b: bool| if b { "on" } else { "off" };
    format!(
        "expanded                 {expanded}\n\
         fieldsep                 '{}'\n\
         footer                   {}\n\
         format                   {}\n\
         null                     '{}'\n\
         pager                    {}\n\
         recordsep                {}\n\
         tuples_only              {}\n",
        settings.field_separator,
        bool_text(settings.footer),
        layout_name(settings.layout),
        settings.null,
        bool_text(settings.pager),
        match settings.record_separator.as_str() {
            "\n" => "<newline>".to_owned(),
            other => format!("'{other}'"),
        },
        bool_text(settings.tuples_only),
    )
}

/// `\pset NAME [VALUE]` (also `-P NAME=VALUE`): sets the option, returns psql's message.
pub fn pset(settings: &mut Settings, name: &str, value: Option<&str>) -> Result<String, Failure> {
    let bad = |value: &str| {
        Failure::message(format!(
            "\\pset: unrecognized value \"{value}\" for \"{name}\""
        ))
    };
    match name {
        "format" => {
            if let Some(value) = value {
                settings.layout = match value.to_ascii_lowercase().as_str() {
                    "aligned" | "a" | "al" => Layout::Aligned,
                    "unaligned" | "u" | "un" => Layout::Unaligned,
                    "csv" => Layout::Csv,
                    "json" => Layout::Json,
                    "box" => Layout::Box,
                    _ => {
                        return Err(Failure::message(format!(
                            "\\pset: allowed formats are aligned, unaligned, csv, json, box \
                             (not \"{value}\")"
                        )));
                    }
                };
            }
            Ok(format!(
                "Output format is {}.",
                layout_name(settings.layout)
            ))
        }
        "null" => {
            if let Some(value) = value {
                settings.null = value.to_owned();
            }
            Ok(format!("Null display is \"{}\".", settings.null))
        }
        "tuples_only" | "t" => {
            settings.tuples_only = toggle(value, settings.tuples_only, "\\pset")?;
            Ok(on_off("Tuples only is", settings.tuples_only))
        }
        "fieldsep" => {
            if let Some(value) = value {
                settings.field_separator = value.to_owned();
            }
            Ok(format!(
                "Field separator is \"{}\".",
                settings.field_separator
            ))
        }
        "recordsep" => {
            if let Some(value) = value {
                settings.record_separator = value.to_owned();
            }
            Ok(match settings.record_separator.as_str() {
                "\n" => "Record separator is <newline>.".to_owned(),
                other => format!("Record separator is \"{other}\"."),
            })
        }
        "footer" => {
            settings.footer = toggle(value, settings.footer, "\\pset")?;
            Ok(on_off("Default footer is", settings.footer))
        }
        "pager" => {
            settings.pager = match value {
                Some(v) if v.eq_ignore_ascii_case("always") => true,
                other => toggle(other, settings.pager, "\\pset")?,
            };
            Ok(match settings.pager {
                true => "Pager is used for long output.".to_owned(),
                false => "Pager usage is off.".to_owned(),
            })
        }
        "expanded" | "x" => {
            settings.expanded = match value {
                None => match settings.expanded {
                    Expanded::Off => Expanded::On,
                    _ => Expanded::Off,
                },
                Some(value) => expanded(value).map_err(|_| bad(value))?,
            };
            Ok(expanded_message(settings.expanded))
        }
        _ => Err(Failure::message(format!("\\pset: unknown option: {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_arguments_with_quotes_and_variables() {
        let mut vars = Vars::default();
        vars.set("who", "world");
        assert_eq!(
            arguments(
                "hello  :who 'two words' 'it''s' \"Mixed Case\" :'who' :nope",
                &vars
            ),
            [
                "hello",
                "world",
                "two words",
                "it's",
                "\"Mixed Case\"",
                "'world'",
                ":nope"
            ]
        );
        assert!(arguments("   ", &vars).is_empty());
    }

    #[test]
    fn sets_printing_options() {
        let mut settings = Settings::default();
        assert_eq!(
            pset(&mut settings, "format", Some("unaligned")).unwrap(),
            "Output format is unaligned."
        );
        assert_eq!(settings.layout, Layout::Unaligned);
        assert_eq!(
            pset(&mut settings, "null", Some("(null)")).unwrap(),
            "Null display is \"(null)\"."
        );
        assert_eq!(
            pset(&mut settings, "expanded", Some("auto")).unwrap(),
            "Expanded display is used automatically."
        );
        assert_eq!(
            pset(&mut settings, "tuples_only", None).unwrap(),
            "Tuples only is on."
        );
        assert!(pset(&mut settings, "format", Some("nope")).is_err());
        assert!(pset(&mut settings, "colour", None).is_err());
    }
}

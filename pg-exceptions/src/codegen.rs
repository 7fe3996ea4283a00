//! The core of the SQLSTATE table generator.
//!
//! This file is not a module of the library: `examples/generate_table.rs` includes it to write
//! `src/table.rs`, and `tests/generator.rs` includes it to check that the committed table is
//! exactly what the generator makes of the installed `errcodes.txt`.
//!
//! The names and the shape of the hierarchy follow py-postgresql's `postgresql.exceptions`
//! where it has a class for a code; every other code gets a CamelCase name built from its
//! condition name in `errcodes.txt`, and sits under the class of its two-character class code.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

#[path = "codegen_overrides.rs"]
mod overrides;

use overrides::{
    ACRONYMS, ALIASES, DISCONNECTIONS, DRIVER, Extra, Family, GROUPINGS, NAMES, PARENTS, ROOTS,
};

/// One code of `errcodes.txt`, merged over its lines (a code may be listed under several
/// macro names; only one of them carries the condition name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The five-character SQLSTATE.
    pub code: String,
    /// `S` (success), `W` (warning) or `E` (error).
    pub kind: char,
    /// The first `ERRCODE_*` macro listed for the code.
    pub macro_name: String,
    /// The PL/pgSQL condition name, when one of the code's lines has it.
    pub condition: Option<String>,
    /// The title of the section the code is listed in, such as `Class 23 - …`.
    pub section: String,
}

/// Parses `errcodes.txt`: every code once, in the file's order.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut section = String::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(title) = line.strip_prefix("Section:") {
            section = title.trim().to_string();
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (code, kind, macro_name) = match words.as_slice() {
            [code, kind, macro_name, ..] => (*code, *kind, *macro_name),
            _ => {
                return Err(format!(
                    "line {}: expected CODE KIND MACRO [NAME]",
                    number + 1
                ));
            }
        };
        if code.len() != 5
            || !code
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(format!("line {}: malformed SQLSTATE {code:?}", number + 1));
        }
        let kind = match kind {
            "S" => 'S',
            "W" => 'W',
            "E" => 'E',
            other => return Err(format!("line {}: unknown kind {other:?}", number + 1)),
        };
        let condition = words.get(3).map(|name| name.to_string());
        match index.get(code) {
            Some(&at) => {
                let entry = &mut entries[at];
                if entry.condition.is_none() {
                    entry.condition = condition;
                }
            }
            None => {
                index.insert(code.to_string(), entries.len());
                entries.push(Entry {
                    code: code.to_string(),
                    kind,
                    macro_name: macro_name.to_string(),
                    condition,
                    section: section.clone(),
                });
            }
        }
    }
    if entries.is_empty() {
        return Err("no SQLSTATE codes found; is this errcodes.txt?".to_string());
    }
    Ok(entries)
}

/// A class as the generator sees it before rendering.
struct Class {
    name: String,
    code: String,
    condition: String,
    parent: Option<String>,
    family: Family,
    /// Whether the class is found by its code (grouping classes are not).
    indexed: bool,
    marked: bool,
    doc: String,
}

/// Builds the CamelCase class name of a condition name.
fn derive_name(condition: &str, family: Family) -> String {
    let mut name = String::new();
    for word in condition.split('_').filter(|word| !word.is_empty()) {
        if ACRONYMS.contains(&word) {
            name.push_str(&word.to_ascii_uppercase());
        } else {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                name.push(first.to_ascii_uppercase());
                name.push_str(chars.as_str());
            }
        }
    }
    let suffix = match family {
        Family::Error => "Error",
        Family::Warning => "Warning",
    };
    if !name.ends_with(suffix) {
        name.push_str(suffix);
    }
    name
}

fn from_extra(extra: &Extra) -> Class {
    Class {
        name: extra.name.to_string(),
        code: extra.code.unwrap_or_default().to_string(),
        condition: String::new(),
        parent: extra.parent.map(str::to_string),
        family: extra.family,
        indexed: extra.code.is_some(),
        marked: extra
            .code
            .is_some_and(|code| DISCONNECTIONS.contains(&code)),
        doc: match extra.code {
            Some(code) if !code.is_empty() => format!("Driver pseudo-code `{code}`: {}", extra.doc),
            _ => extra.doc.to_string(),
        },
    }
}

fn from_entry(entry: &Entry, names: &HashMap<&str, &str>) -> Class {
    let family = if entry.kind == 'E' {
        Family::Error
    } else {
        Family::Warning
    };
    let condition = entry.condition.clone().unwrap_or_else(|| {
        let bare = entry.macro_name.trim_start_matches("ERRCODE_");
        bare.to_ascii_lowercase()
    });
    let name = names
        .get(entry.code.as_str())
        .map_or_else(|| derive_name(&condition, family), ToString::to_string);
    let class_code = format!("{}000", &entry.code[..2]);
    let parent = if entry.code == "00000" || entry.code == "01000" {
        None
    } else if let Some((_, parent)) = PARENTS.iter().find(|(code, _)| *code == entry.code) {
        Some(parent.to_string())
    } else if entry.code != class_code {
        // Resolved to the class code's class once every class has its name.
        Some(format!("@{class_code}"))
    } else {
        Some(root_name(family).to_string())
    };
    let doc = format!(
        "SQLSTATE `{}`, condition `{condition}` ({}).",
        entry.code, entry.section
    );
    Class {
        name,
        code: entry.code.clone(),
        condition,
        parent,
        family,
        indexed: true,
        marked: DISCONNECTIONS.contains(&entry.code.as_str()),
        doc,
    }
}

/// Generates the Rust source of `src/table.rs` from the text of `errcodes.txt`.
pub fn generate(errcodes: &str) -> Result<String, String> {
    let entries = parse(errcodes)?;
    let names: HashMap<&str, &str> = NAMES.iter().copied().collect();
    let mut classes: Vec<Class> = ROOTS.iter().map(from_extra).collect();
    classes.extend(GROUPINGS.iter().map(from_extra));
    classes.extend(entries.iter().map(|entry| from_entry(entry, &names)));
    classes.extend(DRIVER.iter().map(from_extra));

    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut by_code: HashMap<String, usize> = HashMap::new();
    for (at, class) in classes.iter().enumerate() {
        if by_name.insert(class.name.clone(), at).is_some() {
            return Err(format!("two classes are named {}", class.name));
        }
        if class.indexed {
            by_code.insert(class.code.clone(), at);
        }
    }
    let parents = resolve_parents(&classes, &by_name, &by_code)?;
    for (class, parent) in classes.iter_mut().zip(parents) {
        class.parent = parent;
    }
    let mut disconnection = vec![false; classes.len()];
    for (at, flag) in disconnection.iter_mut().enumerate() {
        let mut cursor = Some(at);
        let mut steps = 0;
        while let Some(current) = cursor {
            if classes[current].marked {
                *flag = true;
                break;
            }
            steps += 1;
            if steps > classes.len() {
                return Err(format!("the parents of {} form a cycle", classes[at].name));
            }
            cursor = classes[current].parent.as_ref().map(|name| by_name[name]);
        }
    }
    // Grouping classes carry their parent's code, as they do in py-postgresql.
    for at in 0..classes.len() {
        if !classes[at].indexed {
            let mut cursor = classes[at].parent.as_ref().map(|name| by_name[name]);
            while let Some(current) = cursor {
                if classes[current].indexed {
                    let code = classes[current].code.clone();
                    classes[at].code = code;
                    break;
                }
                cursor = classes[current].parent.as_ref().map(|name| by_name[name]);
            }
        }
    }
    Ok(render(&classes, &disconnection, &by_name))
}

/// Turns every parent reference (a class name, or `@CODE` for a class code) into a name.
fn resolve_parents(
    classes: &[Class],
    by_name: &HashMap<String, usize>,
    by_code: &HashMap<String, usize>,
) -> Result<Vec<Option<String>>, String> {
    classes
        .iter()
        .map(|class| match class.parent.as_deref() {
            None => Ok(None),
            // A class code missing from the file leaves its members under the family root.
            Some(reference) => match reference.strip_prefix('@') {
                Some(code) => Ok(Some(match by_code.get(code) {
                    Some(&at) => classes[at].name.clone(),
                    None => root_name(class.family).to_string(),
                })),
                None if by_name.contains_key(reference) => Ok(Some(reference.to_string())),
                None => Err(format!("{}: unknown parent {reference}", class.name)),
            },
        })
        .collect()
}

fn root_name(family: Family) -> &'static str {
    match family {
        Family::Error => "Error",
        Family::Warning => "Warning",
    }
}

fn render(classes: &[Class], disconnection: &[bool], by_name: &HashMap<String, usize>) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    for (class, &disconnects) in classes.iter().zip(disconnection) {
        out.push('\n');
        let _ = writeln!(out, "/// {}", class.doc);
        if disconnects {
            out.push_str(
                "///\n/// Marks a lost connection: the session cannot be used any more.\n",
            );
        }
        let _ = writeln!(out, "pub static {}: ErrorClass = ErrorClass {{", class.name);
        let _ = writeln!(out, "    name: {:?},", class.name);
        let _ = writeln!(out, "    code: {:?},", class.code);
        let _ = writeln!(out, "    condition: {:?},", class.condition);
        match &class.parent {
            Some(parent) => {
                let _ = writeln!(out, "    parent: Some(&{parent}),");
            }
            None => out.push_str("    parent: None,\n"),
        }
        let _ = writeln!(out, "    disconnection: {disconnects},");
        out.push_str("};\n");
    }

    out.push_str("\n/// Every class, roots first, then in `errcodes.txt` order.\n");
    out.push_str("pub(crate) static CLASSES: &[&ErrorClass] = &[\n");
    for class in classes {
        let _ = writeln!(out, "    &{},", class.name);
    }
    out.push_str("];\n");

    for (family, table, what) in [
        (Family::Error, "ERROR_CODES", "error"),
        (Family::Warning, "WARNING_CODES", "warning and notice"),
    ] {
        let mut index: BTreeMap<&str, &str> = classes
            .iter()
            .filter(|class| class.indexed && class.family == family && !class.code.is_empty())
            .map(|class| (class.code.as_str(), class.name.as_str()))
            .collect();
        for (code, name) in ALIASES {
            if by_name
                .get(*name)
                .is_some_and(|&at| classes[at].family == family)
            {
                index.entry(code).or_insert(name);
            }
        }
        let _ = writeln!(
            out,
            "\n/// The {what} codes, sorted for binary search.\n\
             pub(crate) static {table}: &[(&str, &ErrorClass)] = &["
        );
        for (code, name) in index {
            // rustfmt's layout: a tuple wider than 60 columns goes one element per line.
            if code.len() + name.len() + 5 > 60 {
                let _ = writeln!(out, "    (\n        {code:?},\n        &{name},\n    ),");
            } else {
                let _ = writeln!(out, "    ({code:?}, &{name}),");
            }
        }
        out.push_str("];\n");
    }
    out
}

const HEADER: &str = "\
// @generated by pg-exceptions/examples/generate_table.rs from PostgreSQL's errcodes.txt.
// Do not edit by hand; regenerate with
//
//     cargo run -p pg-exceptions --example generate_table -- \\
//         \"$(pg_config --sharedir)/errcodes.txt\" > pg-exceptions/src/table.rs
//
// The names and parents taken from py-postgresql are kept in
// pg-exceptions/src/codegen_overrides.rs.

//! The SQLSTATE classes, one `static` per class.

#![allow(non_upper_case_globals)]

use crate::class::ErrorClass;
";

//! The types a fuzzed value is decoded as: every builtin type postgres-types knows (arrays,
//! ranges, multiranges and `record` included), plus user-defined shapes the catalog reader
//! makes — a composite, an enum, a domain, a range over a domain, an array of the composite,
//! `hstore` and `hstore[]`.

use std::sync::OnceLock;

use postgres_types::{Field, Kind, Type};

/// The OIDs of the user-defined types below (outside PostgreSQL's builtin range).
pub const COMPOSITE: u32 = 0x7000_0001;
/// An enum of three labels.
pub const ENUM: u32 = 0x7000_0002;
/// A domain over `int4[]`.
pub const DOMAIN: u32 = 0x7000_0003;
/// A range of a domain over `numeric`.
pub const RANGE: u32 = 0x7000_0004;
/// An array of [`COMPOSITE`].
pub const COMPOSITE_ARRAY: u32 = 0x7000_0005;
/// `hstore`, the extension type known by name.
pub const HSTORE: u32 = 0x7000_0007;
/// An array of [`HSTORE`].
pub const HSTORE_ARRAY: u32 = 0x7000_0008;

fn custom() -> &'static [Type] {
    static CUSTOM: OnceLock<Vec<Type>> = OnceLock::new();
    CUSTOM.get_or_init(|| {
        let composite = Type::new(
            "fz_composite".into(),
            COMPOSITE,
            Kind::Composite(vec![
                Field::new("id".into(), Type::INT8),
                Field::new("name".into(), Type::TEXT),
                Field::new("tags".into(), Type::TEXT_ARRAY),
                Field::new("amount".into(), Type::NUMERIC),
                Field::new("at".into(), Type::TIMESTAMPTZ),
            ]),
            "public".into(),
        );
        let hstore = Type::new("hstore".into(), HSTORE, Kind::Simple, "public".into());
        let labels = vec!["red".into(), "green".into(), "blue".into()];
        let numeric_domain = Type::new(
            "fz_amount".into(),
            0x7000_0006,
            Kind::Domain(Type::NUMERIC),
            "public".into(),
        );
        vec![
            composite.clone(),
            Type::new("fz_enum".into(), ENUM, Kind::Enum(labels), "public".into()),
            Type::new(
                "fz_domain".into(),
                DOMAIN,
                Kind::Domain(Type::INT4_ARRAY),
                "public".into(),
            ),
            Type::new(
                "fz_range".into(),
                RANGE,
                Kind::Range(numeric_domain),
                "public".into(),
            ),
            Type::new(
                "_fz_composite".into(),
                COMPOSITE_ARRAY,
                Kind::Array(composite),
                "public".into(),
            ),
            hstore.clone(),
            Type::new(
                "_hstore".into(),
                HSTORE_ARRAY,
                Kind::Array(hstore),
                "public".into(),
            ),
        ]
    })
}

/// Every OID `Type::from_oid` knows.
pub fn builtin_oids() -> &'static [u32] {
    static OIDS: OnceLock<Vec<u32>> = OnceLock::new();
    OIDS.get_or_init(|| {
        (0..20_000)
            .filter(|&oid| Type::from_oid(oid).is_some())
            .collect()
    })
}

/// The type for `oid`: a builtin, one of the user-defined types above, or — for an OID
/// neither knows — one chosen from them by the OID, so every input decodes as something.
pub fn type_for(oid: u32) -> Type {
    if let Some(ty) = Type::from_oid(oid) {
        return ty;
    }
    if let Some(ty) = custom().iter().find(|ty| ty.oid() == oid) {
        return ty.clone();
    }
    let builtin = builtin_oids();
    let index = oid as usize % (builtin.len() + custom().len());
    match builtin.get(index) {
        Some(&oid) => Type::from_oid(oid).expect("a known OID"),
        None => custom()[index - builtin.len()].clone(),
    }
}

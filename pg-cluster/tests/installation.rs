//! The installation found on this machine, as pg_config describes it.

use pg_cluster::Installation;

#[test]
fn the_default_installation_describes_itself() {
    let installation = Installation::default().expect("a PostgreSQL installation (run .ci/setup)");
    let info = installation.version_info();
    assert!(info.major >= 10, "{info:?}");
    assert!(installation.version().contains(&info.major.to_string()));
    // py-postgresql's `type`: the product, the first word of the version.
    assert_eq!(installation.product_type(), "PostgreSQL");
    assert_eq!(
        installation.pg_config().get("VERSION").map(String::as_str),
        Some(installation.version())
    );
    for program in ["initdb", "postgres", "pg_ctl", "pg_basebackup"] {
        let path = installation
            .program(program)
            .unwrap_or_else(|| panic!("{program}"));
        assert!(
            path.starts_with(installation.bindir().unwrap()),
            "{}",
            path.display()
        );
        assert!(path.is_file());
    }
    assert!(installation.initdb().is_some() && installation.postgres().is_some());
    assert!(
        installation
            .sharedir()
            .unwrap()
            .join("errcodes.txt")
            .is_file()
    );
    // Debian builds the server with OpenSSL.
    assert!(installation.ssl());
}

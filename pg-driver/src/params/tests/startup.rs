//! What the startup packet carries beyond the user's settings.

use super::params;

fn startup(text: &str) -> Vec<(String, String)> {
    let p = params(text);
    p.startup_settings()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

#[test]
fn client_min_messages_is_lowered_to_warning_unless_the_user_sets_it() {
    assert_eq!(
        startup("pq://u@h/db?application_name=app"),
        [
            pair("application_name", "app"),
            pair("client_min_messages", "warning")
        ]
    );
    // The default is the driver's: it is not one of the user's settings.
    assert_eq!(params("pq://u@h/db").setting("client_min_messages"), None);
    assert_eq!(
        startup("pq://u@h/db?client_min_messages=notice"),
        [pair("client_min_messages", "notice")]
    );
    // A server option in `options` counts too, or the startup setting would override it.
    for options in [
        "-c client_min_messages=notice",
        "-cclient_min_messages=debug1",
        "--client-min-messages=log",
        "-c CLIENT_MIN_MESSAGES=info",
    ] {
        let text = format!("host=h options='{options}'");
        assert_eq!(startup(&text), [pair("options", options)], "{options}");
    }
    // Another setting that merely mentions the name does not.
    assert_eq!(
        startup("host=h application_name=client_min_messages"),
        [
            pair("application_name", "client_min_messages"),
            pair("client_min_messages", "warning")
        ]
    );
}

#[test]
fn the_drivers_level_can_be_changed_or_left_out() {
    assert_eq!(
        startup("pq://u@h/db?[default_client_min_messages]=notice"),
        [pair("client_min_messages", "notice")]
    );
    assert!(startup("host=h default_client_min_messages=").is_empty());
    // The user's own setting still wins.
    assert_eq!(
        startup("host=h default_client_min_messages=notice options='-c client_min_messages=log'"),
        [pair("options", "-c client_min_messages=log")]
    );
    let p = crate::params::Keywords::new()
        .default_client_min_messages("notice")
        .build_with(&super::defaults())
        .unwrap();
    assert_eq!(p.driver_client_min_messages(), Some("notice"));
    assert!(p.ignored_parameters().is_empty());
    assert_eq!(params(&p.to_iri(false)), p);
    assert!(crate::params::Keywords::parse("host=h default_client_min_messages='x; y'").is_err());
}

//! The `pg-exceptions` binary.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pg-exceptions"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn prints_one_line_per_code() {
    let output = run(&[
        "23505", "XX444", "01P01", "02001", "--cIO", "--TOE", "ZZ999",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "UniqueError [23505] < ICVError < Error\n\
         InternalError [XX000] < Error\n\
         DeprecationWarning [01P01] < Warning\n\
         NoMoreSetsReturned [02001] < NoDataWarning < Warning\n\
         CompositeError [--cIO] < TypeIOError < DriverError < Error\n\
         ConnectTimeoutError [--TOE] < DriverError < Error\n\
         Error\n"
    );
    assert_eq!(stderr(&output), "");
}

#[test]
fn malformed_codes_fail_with_a_message() {
    let output = run(&["23505", "2350", "xx000"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "UniqueError [23505] < ICVError < Error\n");
    let errors = stderr(&output);
    assert!(errors.contains("malformed SQLSTATE \"2350\""), "{errors}");
    assert!(errors.contains("malformed SQLSTATE \"xx000\""), "{errors}");
    assert_eq!(errors.lines().count(), 2, "{errors}");
}

#[test]
fn usage() {
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("usage: pg-exceptions CODE..."));
    let output = run(&["--help"]);
    assert!(output.status.success());
    assert!(stdout(&output).starts_with("usage: pg-exceptions CODE..."));
    // "--" ends the options, so codes that start with dashes can follow it.
    let output = run(&["--", "--000"]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "DriverError [--000] < Error\n");
}

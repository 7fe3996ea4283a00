//! The derive's compile errors for bad input (`ui/fail`, each with the `.stderr` rustc must
//! print: regenerate with `TRYBUILD=overwrite` and read them), and input it must take
//! (`ui/pass`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}

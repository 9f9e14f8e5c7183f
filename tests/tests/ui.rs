//! Compile-time behaviour of the app DSL: every rejected construct has a `ui/fail/<area>/`
//! case with its reviewed `.stderr`, every accepted form a `ui/pass/` case (which also runs,
//! asserting what the macro generated). Regenerate stderr with `TRYBUILD=overwrite` and
//! review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*/*.rs");
    t.pass("ui/pass/*.rs");
}

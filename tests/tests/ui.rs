//! Compile-time checks of the macros and typed stubs: `tests/ui/pass` must compile,
//! `tests/ui/fail` must fail with the messages in the `.stderr` files next to each case.

#[test]
fn macros_accept_valid_code_and_reject_mistakes_with_clear_errors() {
    // Compiler messages change between releases; the expectations are for this one.
    const TOOLCHAIN: &str = "rustc 1.95.";
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !version.starts_with(TOOLCHAIN) {
        eprintln!("skipped: the UI expectations are for {TOOLCHAIN}x, this is {version}");
        return;
    }
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}

//! The `promostack` binary: all behaviour lives in the library so tests drive the same code.
fn main() -> std::process::ExitCode {
    promostack::cli::main()
}

//! The `promostack` binary: all behaviour lives in the library so tests drive the same code.

/// See the workspace Cargo.toml: glibc malloc was a sixth of the CPU under webhook load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    promostack::cli::main()
}

fn main() -> std::process::ExitCode {
    senim::cli::main()
}

fn main() -> std::process::ExitCode {
    yichuang::cli::run()
}

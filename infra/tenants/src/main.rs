//! `cargo run -p tenants -- <command>`: see the library's documentation, or `--help`.

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = tenants::Cli::parse();
    let outcome = match tenants::Clients::from_env().await {
        Ok(clients) => tenants::run(cli, &clients).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(text) => {
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tenants: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

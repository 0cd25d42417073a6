//! `opsconductor completions bash|zsh|fish`: the shell completion script of
//! every command, generated from the command line's own definition.

use std::io;

use clap::{Args, CommandFactory as _};
use clap_complete::Shell;

/// `completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script of `args.shell` to standard output.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<()> {
    let mut command = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut command, "opsconductor", &mut io::stdout());
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use crate::cli::{Cli, Command};

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn server_settings_belong_to_the_server_commands_only() {
        let cli = Cli::try_parse_from(["opsconductor", "server", "api", "--config", "c.toml"]);
        let Ok(Cli {
            command: Command::Server(args),
            ..
        }) = cli
        else {
            panic!("server api --config did not parse");
        };
        assert_eq!(args.settings.config.unwrap().to_str(), Some("c.toml"));
        assert!(Cli::try_parse_from(["opsconductor", "keys", "rotate", "--nats-url", "n"]).is_ok());
        assert!(Cli::try_parse_from(["opsconductor", "migrate", "--database-url", "d"]).is_ok());
        assert!(Cli::try_parse_from(["opsconductor", "dev", "--log-level", "debug"]).is_ok());
        for client in [["targets", "list"], ["workers", "list"]] {
            let mut argv = vec!["opsconductor"];
            argv.extend(client);
            argv.extend(["--nats-url", "n"]);
            assert!(Cli::try_parse_from(&argv).is_err(), "{argv:?}");
        }
    }
}

//! What the three services' settings share. Each service has the same shape: `cli.rs` holds
//! the command line (`Cli`, its `Command`s, `run`), `config.rs` holds `ServeArgs` (the server's
//! flags, each with its environment variable and its default written once, in its clap
//! attribute) and `Settings` (what `Application::build` takes: `ServeArgs` plus what is not a
//! server flag, such as the database URL). `ServeArgs::default()` is [`defaults`], so a
//! default is never written twice.

/// The value of every flag of `T` when none is given and no environment variable is read:
/// each clap attribute's default. Fails only if `T` has a required flag without a default,
/// which the services' unit tests rule out (each calls its `ServeArgs::default()`).
pub fn defaults<T: clap::Args + clap::FromArgMatches>() -> Result<T, clap::Error> {
    let command = T::augment_args(clap::Command::new("defaults"))
        // The environment is the deployment's, not a default.
        .mut_args(|arg| arg.env(None));
    let matches = command.try_get_matches_from(["defaults"])?;
    T::from_arg_matches(&matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Args)]
    struct Example {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Bound to a variable every process has, to show that it is not read.
        #[arg(long, env = "PATH", default_value = "unset")]
        search_path: String,
        #[arg(long)]
        name: Option<String>,
    }

    #[test]
    fn defaults_come_from_the_attributes_and_never_from_the_environment() {
        assert!(std::env::var_os("PATH").is_some());
        let example: Example = defaults().unwrap();
        assert_eq!(example.port, 8080);
        assert_eq!(example.search_path, "unset");
        assert_eq!(example.name, None);
    }
}

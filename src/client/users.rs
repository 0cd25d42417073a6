//! `opsconductor users`: list, show, create, change and delete users (admins only).

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::output::{self, OutputArgs, OutputFormat, Table, or_dash, yes_no};
use super::{ClientEnv, prompt};

/// `users` arguments.
#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(subcommand)]
    pub action: UsersAction,
}

/// What to do with users.
#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// List users, one page at a time (`-o json` prints the whole page object).
    List(ListArgs),
    /// Show one user.
    Get {
        /// The user's id.
        id: String,
    },
    /// Create a user; asks for the password twice unless --password-stdin.
    Create(CreateArgs),
    /// Change a user; only the options given change.
    Update(UpdateArgs),
    /// Delete a user (with `-o json`, prints nothing on success).
    Delete {
        /// The user's id.
        id: String,
    },
}

/// `users list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Most users to show (the api caps it).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Users to skip, for the next page.
    #[arg(long)]
    pub offset: Option<u32>,
}

/// A user's role.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UserRole {
    /// Manages users, credentials and settings.
    Admin,
    /// Runs and edits jobs.
    Operator,
    /// Reads.
    Viewer,
}

impl UserRole {
    fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
        }
    }
}

/// `users create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Login name.
    #[arg(long)]
    pub username: String,
    /// Role.
    #[arg(long, value_enum)]
    pub role: UserRole,
    /// Contact address.
    #[arg(long)]
    pub email: Option<String>,
    /// Name shown in the console.
    #[arg(long)]
    pub display_name: Option<String>,
    /// IANA time zone, e.g. Europe/Berlin.
    #[arg(long)]
    pub timezone: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `users update` arguments.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The user's id.
    pub id: String,
    /// New contact address.
    #[arg(long)]
    pub email: Option<String>,
    /// New name shown in the console.
    #[arg(long)]
    pub display_name: Option<String>,
    /// New role.
    #[arg(long, value_enum)]
    pub role: Option<UserRole>,
    /// New IANA time zone.
    #[arg(long)]
    pub timezone: Option<String>,
    /// Allow (true) or block (false) logging in.
    #[arg(long, value_name = "true|false")]
    pub active: Option<bool>,
    /// Set a new password, read from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

/// A user as the api shows it.
#[derive(Debug, Deserialize)]
struct User {
    id: String,
    username: String,
    email: Option<String>,
    display_name: Option<String>,
    role: String,
    timezone: Option<String>,
    active: bool,
    #[serde(default)]
    mfa_enabled: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
}

/// One page of users.
#[derive(Debug, Deserialize)]
struct Page {
    items: Vec<User>,
    total: u64,
    offset: u64,
}

/// Runs a `users` command.
pub async fn run(env: &ClientEnv, args: UsersArgs) -> anyhow::Result<()> {
    let format = args.output.format;
    match args.action {
        UsersAction::List(a) => {
            let mut query = Vec::new();
            query.extend(a.limit.map(|l| ("limit", l.to_string())));
            query.extend(a.offset.map(|o| ("offset", o.to_string())));
            let mut api = super::connect(env)?;
            let page: Value = api
                .get(&["api", "v1", "users"], &query)
                .await
                .context("listing users")?;
            show_page(format, page)
        }
        UsersAction::Get { id } => {
            let mut api = super::connect(env)?;
            let user = api
                .get(&user_path(&id), &[])
                .await
                .context("getting the user")?;
            show_user(format, user)
        }
        UsersAction::Create(a) => {
            let body = create_body(&a)?;
            let mut api = super::connect(env)?;
            let user = api
                .send(Method::POST, &["api", "v1", "users"], &body)
                .await
                .with_context(|| format!("creating user {}", output::sanitize(&a.username)))?;
            show_user(format, user)
        }
        UsersAction::Update(a) => {
            let body = update_body(&a, || prompt::secret_from_stdin("password"))?;
            let mut api = super::connect(env)?;
            let user = api
                .send(Method::PUT, &user_path(&a.id), &body)
                .await
                .context("updating the user")?;
            show_user(format, user)
        }
        UsersAction::Delete { id } => {
            let mut api = super::connect(env)?;
            api.delete(&user_path(&id))
                .await
                .context("deleting the user")?;
            if format == OutputFormat::Table {
                output::print(&format!("Deleted user {}.\n", output::sanitize(&id)))?;
            }
            Ok(())
        }
    }
}

fn user_path(id: &str) -> [&str; 4] {
    ["api", "v1", "users", id]
}

fn create_body(a: &CreateArgs) -> anyhow::Result<Value> {
    let password = if a.password_stdin {
        prompt::secret_from_stdin("password")?
    } else {
        prompt::new_password()?
    };
    let mut body = Map::new();
    body.insert("username".into(), a.username.clone().into());
    body.insert("password".into(), password.expose_secret().into());
    body.insert("role".into(), a.role.as_str().into());
    let optional = [
        ("email", &a.email),
        ("display_name", &a.display_name),
        ("timezone", &a.timezone),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            body.insert(key.into(), v.clone().into());
        }
    }
    Ok(Value::Object(body))
}

/// The PUT body: only the fields given. `password` is called only with --password-stdin.
fn update_body(
    a: &UpdateArgs,
    password: impl FnOnce() -> anyhow::Result<SecretString>,
) -> anyhow::Result<Value> {
    let mut body = Map::new();
    let text = [
        ("email", &a.email),
        ("display_name", &a.display_name),
        ("timezone", &a.timezone),
    ];
    for (key, value) in text {
        if let Some(v) = value {
            body.insert(key.into(), v.clone().into());
        }
    }
    if let Some(role) = a.role {
        body.insert("role".into(), role.as_str().into());
    }
    if let Some(active) = a.active {
        body.insert("active".into(), active.into());
    }
    if a.password_stdin {
        body.insert("password".into(), password()?.expose_secret().into());
    }
    if body.is_empty() {
        bail!(
            "nothing to change: give at least one of --email, --display-name, --role, --timezone, --active, --password-stdin"
        );
    }
    Ok(Value::Object(body))
}

fn show_page(format: OutputFormat, page: Value) -> anyhow::Result<()> {
    if format == OutputFormat::Json {
        return Ok(output::print(&output::json(&page))?);
    }
    let page: Page = serde_json::from_value(page).context("reading the list of users")?;
    output::print(&users_table(&page.items).render())?;
    let shown = page.offset + page.items.len() as u64;
    if shown < page.total {
        eprintln!(
            "Showing {}-{shown} of {}; use --offset {shown} for more.",
            page.offset + 1,
            page.total
        );
    }
    Ok(())
}

fn users_table(users: &[User]) -> Table {
    let mut table = Table::new(&[
        "ID",
        "USERNAME",
        "DISPLAY NAME",
        "ROLE",
        "ACTIVE",
        "MFA",
        "EMAIL",
    ]);
    for u in users {
        table.row(vec![
            u.id.clone(),
            u.username.clone(),
            or_dash(u.display_name.as_deref()),
            u.role.clone(),
            yes_no(u.active),
            yes_no(u.mfa_enabled),
            or_dash(u.email.as_deref()),
        ]);
    }
    table
}

fn show_user(format: OutputFormat, user: Value) -> anyhow::Result<()> {
    if format == OutputFormat::Json {
        return Ok(output::print(&output::json(&user))?);
    }
    let u: User = serde_json::from_value(user).context("reading the user")?;
    output::print(&output::details(&[
        ("id", u.id),
        ("username", u.username),
        ("display name", or_dash(u.display_name.as_deref())),
        ("email", or_dash(u.email.as_deref())),
        ("role", u.role),
        ("timezone", or_dash(u.timezone.as_deref())),
        ("active", yes_no(u.active)),
        ("mfa", yes_no(u.mfa_enabled)),
        ("created", or_dash(u.created_at.as_deref())),
        ("updated", or_dash(u.updated_at.as_deref())),
    ]))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(args: &[&str]) -> UpdateArgs {
        use clap::Parser as _;
        #[derive(Debug, clap::Parser)]
        struct T {
            #[command(flatten)]
            a: UpdateArgs,
        }
        let mut argv = vec!["t", "7"];
        argv.extend_from_slice(args);
        T::try_parse_from(argv).unwrap().a
    }

    #[test]
    fn update_sends_only_the_fields_given() {
        let body = update_body(&update(&["--role", "viewer", "--active", "false"]), || {
            panic!("no password asked")
        })
        .unwrap();
        assert_eq!(body, serde_json::json!({"role": "viewer", "active": false}));
    }

    #[test]
    fn update_reads_a_password_only_when_asked_and_needs_a_change() {
        let body = update_body(&update(&["--password-stdin"]), || {
            Ok(SecretString::from("n3w-pass-word"))
        })
        .unwrap();
        assert_eq!(body, serde_json::json!({"password": "n3w-pass-word"}));
        let e = update_body(&update(&[]), || panic!("no password asked")).unwrap_err();
        assert!(e.to_string().starts_with("nothing to change"), "{e}");
    }

    #[test]
    fn the_list_table_shows_absent_values_as_dashes() {
        let page: Page = serde_json::from_value(serde_json::json!({
            "items": [{
                "id": "0193", "username": "ann", "email": null, "display_name": "Ann",
                "role": "operator", "timezone": "UTC", "active": true, "mfa_enabled": false,
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
            }],
            "total": 1, "limit": 50, "offset": 0
        }))
        .unwrap();
        assert_eq!(
            users_table(&page.items).render(),
            "ID    USERNAME  DISPLAY NAME  ROLE      ACTIVE  MFA  EMAIL\n\
             0193  ann       Ann           operator  yes     no   -\n"
        );
    }
}

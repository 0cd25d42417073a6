//! `opsconductor tokens`: your API tokens (`OPSC_TOKEN`): list, create (the
//! secret is printed once) and revoke.

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::ClientEnv;
use super::output::{self, OutputFormat, Table, ViewArgs, or_dash, sanitize};
use super::resolve::{self, Kind};

/// `tokens` arguments.
#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(subcommand)]
    pub action: TokensAction,
}

/// A role a token grants.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TokenRole {
    /// Everything.
    Admin,
    /// Runs and edits jobs.
    Operator,
    /// Reads.
    Viewer,
}

/// What to do with API tokens.
#[derive(Debug, Subcommand)]
pub enum TokensAction {
    /// Your API tokens (never their secrets).
    List,
    /// Create a token; its secret is printed once (`-q`: only the secret).
    Create {
        /// A name to recognise it by.
        #[arg(long)]
        name: String,
        /// The role it grants, at most yours (default: yours).
        #[arg(long, value_enum)]
        role: Option<TokenRole>,
        /// Days until it expires, 1 to 3650 (default: the api's, 90 unless configured).
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
        /// Never expires (admins only).
        #[arg(long, conflicts_with = "expires_in_days")]
        never_expires: bool,
    },
    /// Revoke a token: id or exact name.
    Revoke {
        /// The token: id or exact name.
        token: String,
    },
}

/// Runs a `tokens` command.
pub async fn run(env: &ClientEnv, args: TokensArgs) -> anyhow::Result<()> {
    let view = args.view.view();
    let mut api = super::connect(env)?;
    match args.action {
        TokensAction::List => {
            let page: Value = api
                .get(&["api", "v1", "api-tokens"], &[])
                .await
                .context("listing your API tokens")?;
            view.render(&page, table)?;
        }
        TokensAction::Create {
            name,
            role,
            expires_in_days,
            never_expires,
        } => {
            let mut body = Map::new();
            body.insert("name".into(), json!(name));
            if let Some(r) = role {
                let r = match r {
                    TokenRole::Admin => "admin",
                    TokenRole::Operator => "operator",
                    TokenRole::Viewer => "viewer",
                };
                body.insert("role".into(), json!(r));
            }
            if let Some(d) = expires_in_days {
                body.insert("expires_in_days".into(), json!(d));
            }
            if never_expires {
                body.insert("never_expires".into(), json!(true));
            }
            let created: Value = api
                .send(
                    Method::POST,
                    &["api", "v1", "api-tokens"],
                    &Value::Object(body),
                )
                .await
                .with_context(|| format!("creating API token {}", sanitize(&name)))?;
            let secret = created["secret"].as_str().unwrap_or_default();
            if view.quiet {
                output::print(&format!("{}\n", sanitize(secret)))?;
            } else if view.format == OutputFormat::Table {
                let t = &created["token"];
                output::print(&format!(
                    "Created API token {} ({}), role {}, expires {}.\n\
                     Its secret, shown only now (use it as OPSC_TOKEN):\n{}\n",
                    sanitize(&name),
                    sanitize(t["id"].as_str().unwrap_or("?")),
                    sanitize(t["role"].as_str().unwrap_or("?")),
                    sanitize(t["expires_at"].as_str().unwrap_or("never")),
                    sanitize(secret)
                ))?;
            } else {
                view.render(&created, |_| String::new())?;
            }
        }
        TokensAction::Revoke { token } => {
            let id = resolve::id(&mut api, Kind::Token, &token).await?;
            api.delete(&["api", "v1", "api-tokens", &id])
                .await
                .with_context(|| format!("revoking API token {}", sanitize(&token)))?;
            view.done(&json!({"id": id}), &format!("Revoked API token {token}."))?;
        }
    }
    Ok(())
}

fn table(page: &Value) -> String {
    let mut t = Table::new(&[
        "ID",
        "NAME",
        "ROLE",
        "PREFIX",
        "EXPIRES",
        "LAST USED",
        "REVOKED",
    ]);
    for i in page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        t.row(vec![
            i["id"].as_str().unwrap_or_default().to_owned(),
            i["name"].as_str().unwrap_or_default().to_owned(),
            i["role"].as_str().unwrap_or_default().to_owned(),
            i["prefix"].as_str().unwrap_or_default().to_owned(),
            or_dash(i["expires_at"].as_str()),
            or_dash(i["last_used_at"].as_str()),
            or_dash(i["revoked_at"].as_str()),
        ]);
    }
    t.render()
}

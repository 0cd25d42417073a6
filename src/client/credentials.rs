//! `opsconductor credentials`: list, show, create, update and delete stored
//! credentials. Secrets come from files or standard input, never from an
//! argument, and the api never shows them back.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value, json};

use super::ClientEnv;
use super::http::ApiClient;
use super::output::{Table, View, ViewArgs, details, or_dash, sanitize};
use super::resolve::{self, Kind};
use super::targets::doc;

/// `credentials` arguments.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(subcommand)]
    pub action: CredentialsAction,
}

/// What to do with credentials.
#[derive(Debug, Subcommand)]
pub enum CredentialsAction {
    /// List credentials (metadata only; operators and admins).
    List {
        /// Most to show (1 to 500, default 50).
        #[arg(long)]
        limit: Option<u32>,
        /// How many to skip, for the next page.
        #[arg(long)]
        offset: Option<u32>,
    },
    /// Show a credential's metadata (never its secrets).
    Show {
        /// The credential: id or exact name.
        credential: String,
    },
    /// Store a credential (admins): `--type` and its flags, or `-f FILE`.
    Create(CreateArgs),
    /// Change a credential (admins): name, description, scope, or its whole
    /// content (secrets again; the type stays).
    Update(UpdateArgs),
    /// Delete a credential (admins).
    Delete {
        /// The credential: id or exact name.
        credential: String,
    },
}

/// Credential types the flags build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredType {
    /// SSH with a private key: --username, --private-key-file [--passphrase-file].
    SshKey,
    /// SSH with a password: --username, --password-file|--password-stdin.
    SshPassword,
    /// WinRM: --username, --password-…, --winrm-auth [--domain].
    Winrm,
    /// HTTP: --http-scheme bearer|api-key (--token-…, --header) or basic (--username, --password-…).
    HttpAuth,
    /// A database login: --engine, --host, --port, --username, --password-… [--database].
    Database,
}

impl CredType {
    fn as_str(self) -> &'static str {
        match self {
            Self::SshKey => "ssh_key",
            Self::SshPassword => "ssh_password",
            Self::Winrm => "winrm",
            Self::HttpAuth => "http_auth",
            Self::Database => "database",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::SshKey,
            Self::SshPassword,
            Self::Winrm,
            Self::HttpAuth,
            Self::Database,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

/// The content flags of a credential.
#[derive(Debug, Args)]
pub struct Content {
    /// User name.
    #[arg(long)]
    pub username: Option<String>,
    /// The private key, from this file.
    #[arg(long, value_name = "FILE")]
    pub private_key_file: Option<PathBuf>,
    /// The private key's passphrase, from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// The password, from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,
    /// The password, from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The token or API key, from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "token_stdin")]
    pub token_file: Option<PathBuf>,
    /// The token or API key, from the first line of standard input.
    #[arg(long, conflicts_with = "password_stdin")]
    pub token_stdin: bool,
    /// WinRM authentication: basic, ntlm or kerberos.
    #[arg(long, value_name = "AUTH")]
    pub winrm_auth: Option<String>,
    /// Windows domain.
    #[arg(long)]
    pub domain: Option<String>,
    /// HTTP scheme: basic, bearer or api_key.
    #[arg(long, value_name = "SCHEME")]
    pub http_scheme: Option<String>,
    /// HTTP api_key: the header carrying it.
    #[arg(long)]
    pub header: Option<String>,
    /// Database engine (postgres, mysql, mariadb, mssql, oracle, mongodb, redis).
    #[arg(long)]
    pub engine: Option<String>,
    /// Database host.
    #[arg(long)]
    pub host: Option<String>,
    /// Database port.
    #[arg(long)]
    pub port: Option<u16>,
    /// Database name.
    #[arg(long)]
    pub database: Option<String>,
}

/// Where a credential may be used.
#[derive(Debug, Args)]
pub struct ScopeFlags {
    /// Scope: a host it may be sent to (name, `*.domain`, network, `*`; repeatable).
    #[arg(long = "scope-host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Scope: a worker pool that may receive it (repeatable).
    #[arg(long = "scope-pool", value_name = "POOL")]
    pub pools: Vec<String>,
    /// Scope: only this target (id or exact name; repeatable).
    #[arg(long = "scope-target", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Scope: only members of this group (id or exact name; repeatable).
    #[arg(long = "scope-group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Scope: only targets with this tag (repeatable).
    #[arg(long = "scope-tag", value_name = "TAG")]
    pub tags: Vec<String>,
}

/// `credentials create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The whole request from a file (JSON or YAML: name, description, spec
    /// with its `type`, scope); flags given as well override its fields.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The name.
    #[arg(long)]
    pub name: Option<String>,
    /// The type.
    #[arg(long = "type", value_enum)]
    pub kind: Option<CredType>,
    /// Free text.
    #[arg(long)]
    pub description: Option<String>,
    #[command(flatten)]
    pub content: Content,
    #[command(flatten)]
    pub scope: ScopeFlags,
}

/// `credentials update` arguments.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The credential: id or exact name.
    pub credential: String,
    /// A new name.
    #[arg(long)]
    pub rename: Option<String>,
    /// A new description.
    #[arg(long)]
    pub description: Option<String>,
    #[command(flatten)]
    pub content: Content,
    #[command(flatten)]
    pub scope: ScopeFlags,
}

/// The first line of `path`, for a secret.
fn secret_line(path: &Path, what: &str) -> anyhow::Result<String> {
    let text = doc::read_text(path)?;
    let line = text.lines().next().unwrap_or_default().to_owned();
    if line.is_empty() {
        bail!("{} holds no {what}", path.display());
    }
    Ok(line)
}

impl Content {
    fn any(&self) -> bool {
        self.username.is_some()
            || self.private_key_file.is_some()
            || self.passphrase_file.is_some()
            || self.password_file.is_some()
            || self.password_stdin
            || self.token_file.is_some()
            || self.token_stdin
            || self.winrm_auth.is_some()
            || self.domain.is_some()
            || self.http_scheme.is_some()
            || self.header.is_some()
            || self.engine.is_some()
            || self.host.is_some()
            || self.port.is_some()
            || self.database.is_some()
    }

    fn password(&self) -> anyhow::Result<Option<String>> {
        if let Some(p) = &self.password_file {
            return secret_line(p, "password").map(Some);
        }
        if self.password_stdin {
            let s = super::prompt::secret_from_stdin("password")?;
            return Ok(Some(s.expose_secret().to_owned()));
        }
        Ok(None)
    }

    fn token(&self) -> anyhow::Result<Option<String>> {
        if let Some(p) = &self.token_file {
            return secret_line(p, "token").map(Some);
        }
        if self.token_stdin {
            let s = super::prompt::secret_from_stdin("token")?;
            return Ok(Some(s.expose_secret().to_owned()));
        }
        Ok(None)
    }

    /// The `spec` of type `kind`; `public` (the stored non-secret fields)
    /// fills what the flags leave out.
    fn spec(&self, kind: CredType, public: &Value) -> anyhow::Result<Value> {
        let from = |flag: &Option<String>, key: &str| {
            flag.clone()
                .or_else(|| public[key].as_str().map(str::to_owned))
        };
        let need = |v: Option<String>, flag: &str| {
            v.with_context(|| format!("a {} credential needs {flag}", kind.as_str()))
        };
        let username = from(&self.username, "username");
        let mut spec = Map::new();
        spec.insert("type".into(), json!(kind.as_str()));
        match kind {
            CredType::SshKey => {
                let path = need(
                    self.private_key_file
                        .as_ref()
                        .map(|p| p.display().to_string()),
                    "--private-key-file",
                )?;
                spec.insert("username".into(), json!(need(username, "--username")?));
                spec.insert(
                    "private_key".into(),
                    json!(doc::read_text(Path::new(&path))?),
                );
                if let Some(p) = &self.passphrase_file {
                    spec.insert("passphrase".into(), json!(secret_line(p, "passphrase")?));
                }
            }
            CredType::SshPassword | CredType::Winrm => {
                spec.insert("username".into(), json!(need(username, "--username")?));
                let pw = need(self.password()?, "--password-file or --password-stdin")?;
                spec.insert("password".into(), json!(pw));
                if kind == CredType::Winrm {
                    let auth = need(from(&self.winrm_auth, "auth"), "--winrm-auth")?;
                    spec.insert("auth".into(), json!(auth));
                    if let Some(d) = from(&self.domain, "domain") {
                        spec.insert("domain".into(), json!(d));
                    }
                }
            }
            CredType::HttpAuth => {
                let scheme = need(from(&self.http_scheme, "scheme"), "--http-scheme")?;
                if scheme == "basic" {
                    spec.insert("username".into(), json!(need(username, "--username")?));
                    let pw = need(self.password()?, "--password-file or --password-stdin")?;
                    spec.insert("password".into(), json!(pw));
                } else {
                    let token = need(self.token()?, "--token-file or --token-stdin")?;
                    spec.insert("token".into(), json!(token));
                }
                if let Some(h) = from(&self.header, "header") {
                    spec.insert("header".into(), json!(h));
                }
                spec.insert("scheme".into(), json!(scheme));
            }
            CredType::Database => {
                spec.insert(
                    "engine".into(),
                    json!(need(from(&self.engine, "engine"), "--engine")?),
                );
                spec.insert(
                    "host".into(),
                    json!(need(from(&self.host, "host"), "--host")?),
                );
                let port = self
                    .port
                    .or_else(|| public["port"].as_u64().and_then(|p| u16::try_from(p).ok()));
                spec.insert(
                    "port".into(),
                    json!(port.context("a database credential needs --port")?),
                );
                if let Some(d) = from(&self.database, "database") {
                    spec.insert("database".into(), json!(d));
                }
                spec.insert("username".into(), json!(need(username, "--username")?));
                let pw = need(self.password()?, "--password-file or --password-stdin")?;
                spec.insert("password".into(), json!(pw));
            }
        }
        Ok(Value::Object(spec))
    }
}

impl ScopeFlags {
    fn any(&self) -> bool {
        !(self.hosts.is_empty()
            && self.pools.is_empty()
            && self.targets.is_empty()
            && self.groups.is_empty()
            && self.tags.is_empty())
    }

    /// `base` with each list given replaced.
    async fn apply(&self, api: &mut ApiClient, base: &Value) -> anyhow::Result<Value> {
        let mut scope = base.as_object().cloned().unwrap_or_default();
        if !self.hosts.is_empty() {
            scope.insert("hosts".into(), json!(self.hosts));
        }
        if !self.pools.is_empty() {
            scope.insert("pools".into(), json!(self.pools));
        }
        if !self.tags.is_empty() {
            scope.insert("tags".into(), json!(self.tags));
        }
        if !self.targets.is_empty() {
            let mut ids = Vec::new();
            for t in &self.targets {
                ids.push(resolve::id(api, Kind::Target, t).await?);
            }
            scope.insert("targets".into(), json!(ids));
        }
        if !self.groups.is_empty() {
            let mut ids = Vec::new();
            for g in &self.groups {
                ids.push(resolve::id(api, Kind::Group, g).await?);
            }
            scope.insert("groups".into(), json!(ids));
        }
        Ok(Value::Object(scope))
    }
}

/// Runs a `credentials` command.
pub async fn run(env: &ClientEnv, args: CredentialsArgs) -> anyhow::Result<()> {
    let view = args.view.view();
    let mut api = super::connect(env)?;
    let api = &mut api;
    match args.action {
        CredentialsAction::List { limit, offset } => {
            let mut q = Vec::new();
            q.extend(limit.map(|l| ("limit", l.to_string())));
            q.extend(offset.map(|o| ("offset", o.to_string())));
            let page: Value = api
                .get(&["api", "v1", "credentials"], &q)
                .await
                .context("listing credentials")?;
            view.render(&page, table)?;
        }
        CredentialsAction::Show { credential } => {
            let c = get(api, &credential).await?;
            view.render(&c, show)?;
        }
        CredentialsAction::Create(a) => create(api, view, a).await?,
        CredentialsAction::Update(a) => update(api, view, a).await?,
        CredentialsAction::Delete { credential } => {
            let id = resolve::id(api, Kind::Credential, &credential).await?;
            api.delete(&["api", "v1", "credentials", &id])
                .await
                .with_context(|| format!("deleting credential {}", sanitize(&credential)))?;
            view.done(
                &json!({"id": id}),
                &format!("Deleted credential {credential}."),
            )?;
        }
    }
    Ok(())
}

async fn get(api: &mut ApiClient, key: &str) -> anyhow::Result<Value> {
    let id = resolve::id(api, Kind::Credential, key).await?;
    api.get(&["api", "v1", "credentials", &id], &[])
        .await
        .with_context(|| format!("getting credential {}", sanitize(key)))
}

async fn create(api: &mut ApiClient, view: View, a: CreateArgs) -> anyhow::Result<()> {
    let mut body = match &a.file {
        Some(path) => match doc::read(path)? {
            Value::Object(m) => m,
            _ => bail!("{}: a credential document is a mapping", path.display()),
        },
        None => Map::new(),
    };
    if let Some(n) = &a.name {
        body.insert("name".into(), json!(n));
    }
    if let Some(d) = &a.description {
        body.insert("description".into(), json!(d));
    }
    match a.kind {
        Some(kind) => {
            body.insert("spec".into(), a.content.spec(kind, &Value::Null)?);
        }
        None if !body.contains_key("spec") => {
            bail!("give the credential's --type (and its flags), or -f FILE with a spec")
        }
        None => {}
    }
    if a.scope.any() {
        let base = body.get("scope").cloned().unwrap_or(Value::Null);
        body.insert("scope".into(), a.scope.apply(api, &base).await?);
    }
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        bail!("a credential needs a name: --name, or `name` in the file");
    }
    let created: Value = api
        .send(
            Method::POST,
            &["api", "v1", "credentials"],
            &Value::Object(body),
        )
        .await
        .with_context(|| format!("creating credential {}", sanitize(&name)))?;
    let id = created["id"].as_str().unwrap_or("?");
    view.done(&created, &format!("Created credential {name} ({id})."))?;
    Ok(())
}

async fn update(api: &mut ApiClient, view: View, a: UpdateArgs) -> anyhow::Result<()> {
    let current = get(api, &a.credential).await?;
    let id = current["id"].as_str().unwrap_or_default().to_owned();
    let mut body = Map::new();
    if let Some(n) = &a.rename {
        body.insert("name".into(), json!(n));
    }
    if let Some(d) = &a.description {
        body.insert("description".into(), json!(d));
    }
    if a.content.any() {
        let kind_text = current["type"].as_str().unwrap_or_default();
        let kind = CredType::parse(kind_text).with_context(|| {
            format!(
                "a {} credential cannot be changed by flags: use the api with its whole spec",
                sanitize(kind_text)
            )
        })?;
        body.insert("spec".into(), a.content.spec(kind, &current["public"])?);
    }
    if a.scope.any() {
        body.insert("scope".into(), a.scope.apply(api, &current["scope"]).await?);
    }
    if body.is_empty() {
        bail!("nothing to change: give the fields to set");
    }
    let saved: Value = api
        .send(
            Method::PUT,
            &["api", "v1", "credentials", &id],
            &Value::Object(body),
        )
        .await
        .with_context(|| format!("updating credential {}", sanitize(&a.credential)))?;
    let name = saved["name"].as_str().unwrap_or_default().to_owned();
    view.done(&saved, &format!("Updated credential {name}."))?;
    Ok(())
}

fn list_of(v: &Value) -> String {
    let items: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(",")
    }
}

fn table(page: &Value) -> String {
    let mut t = Table::new(&["NAME", "TYPE", "USERNAME", "SCOPE HOSTS", "LAST USED"]);
    for c in page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        t.row(vec![
            c["name"].as_str().unwrap_or_default().to_owned(),
            c["type"].as_str().unwrap_or_default().to_owned(),
            or_dash(c["public"]["username"].as_str()),
            list_of(&c["scope"]["hosts"]),
            or_dash(c["last_used_at"].as_str()),
        ]);
    }
    t.render()
}

fn show(c: &Value) -> String {
    let mut pairs = vec![
        ("id", c["id"].as_str().unwrap_or_default().to_owned()),
        ("name", c["name"].as_str().unwrap_or_default().to_owned()),
        ("type", c["type"].as_str().unwrap_or_default().to_owned()),
        ("description", or_dash(c["description"].as_str())),
    ];
    let public = c["public"].as_object().cloned().unwrap_or_default();
    let facts: Vec<(String, String)> = public
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    pairs.extend(facts.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let s = &c["scope"];
    for (label, key) in [
        ("scope hosts", "hosts"),
        ("scope pools", "pools"),
        ("scope targets", "targets"),
        ("scope groups", "groups"),
        ("scope tags", "tags"),
    ] {
        pairs.push((label, list_of(&s[key])));
    }
    pairs.push(("last used", or_dash(c["last_used_at"].as_str())));
    pairs.push((
        "created",
        c["created_at"].as_str().unwrap_or_default().to_owned(),
    ));
    pairs.push((
        "updated",
        c["updated_at"].as_str().unwrap_or_default().to_owned(),
    ));
    details(&pairs)
}

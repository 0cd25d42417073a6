//! Session path resolution and the file's mode.

use std::os::unix::fs::PermissionsExt as _;

use super::*;

fn env(session: Option<&str>, xdg: Option<&str>, home: Option<&str>) -> ClientEnv {
    ClientEnv {
        session_file: session.map(PathBuf::from),
        xdg_config_home: xdg.map(PathBuf::from),
        home: home.map(PathBuf::from),
        ..ClientEnv::default()
    }
}

fn sample(now: DateTime<Utc>) -> Session {
    let tokens: Tokens = serde_json::from_str(
        r#"{"access_token":"acc-secret","refresh_token":"ref-secret","token_type":"Bearer","expires_in":900}"#,
    )
    .unwrap();
    Session::new("http://127.0.0.1:8080".into(), "admin".into(), tokens, now)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_path_prefers_the_override_then_xdg_then_home() {
    let p = |e: &ClientEnv| resolve_path(e).unwrap();
    assert_eq!(
        p(&env(Some("/s/x.json"), Some("/xdg"), Some("/home/u"))),
        PathBuf::from("/s/x.json")
    );
    assert_eq!(
        p(&env(None, Some("/xdg"), Some("/home/u"))),
        PathBuf::from("/xdg/opsconductor/session.json")
    );
    assert_eq!(
        p(&env(None, None, Some("/home/u"))),
        PathBuf::from("/home/u/.config/opsconductor/session.json")
    );
    // A relative XDG_CONFIG_HOME is invalid by the spec and ignored.
    assert_eq!(
        p(&env(None, Some("rel"), Some("/home/u"))),
        PathBuf::from("/home/u/.config/opsconductor/session.json")
    );
    assert!(matches!(
        resolve_path(&env(None, Some("rel"), None)),
        Err(SessionError::NoPath)
    ));
}

#[test]
fn save_creates_the_file_0600_in_a_0700_folder_and_loads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("cfg")
        .join("opsconductor")
        .join("session.json");
    let file = SessionFile::new(path.clone());
    assert!(file.load().unwrap().is_none(), "no file yet");

    let now = Utc::now();
    file.save(&sample(now)).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert!(!file.too_open());

    let loaded = file.load().unwrap().unwrap();
    assert_eq!(loaded.url, "http://127.0.0.1:8080");
    assert_eq!(loaded.username, "admin");
    assert_eq!(loaded.access_token.expose_secret(), "acc-secret");
    assert_eq!(loaded.refresh_token.expose_secret(), "ref-secret");
    assert_eq!(
        loaded.access_expires_at.timestamp(),
        (now + Duration::seconds(900)).timestamp()
    );

    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_expires_at",
            "access_token",
            "refresh_token",
            "url",
            "username"
        ]
    );
}

#[test]
fn saving_over_a_too_open_file_narrows_it_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    fs::write(&path, "{}").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let file = SessionFile::new(path.clone());
    assert!(file.too_open());

    file.save(&sample(Utc::now())).unwrap();
    assert_eq!(mode(&path), 0o600);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["session.json"]);
}

#[test]
fn a_damaged_file_says_to_log_in_and_remove_reports_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    fs::write(&path, "not json").unwrap();
    let file = SessionFile::new(path);
    let e = file.load().unwrap_err();
    assert!(e.to_string().contains("opsconductor login"), "{e}");
    assert!(file.remove().unwrap());
    assert!(!file.remove().unwrap());
}

#[test]
fn expiry_has_a_margin_and_debug_hides_the_tokens() {
    let now = Utc::now();
    let s = sample(now);
    assert!(!s.access_expired(now));
    assert!(s.access_expired(now + Duration::seconds(880)));
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("acc-secret") && !shown.contains("ref-secret"),
        "{shown}"
    );
}

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;

use super::client::{Kind, Meta};
use super::copy::{Receive, touch_stamp};
use super::hash::{Hashing, hex, parse_sha256sum};
use super::plan::{Plan, Touch, Tree, Why, plan};
use super::single::remote_dest;
use super::spec::{Direction, GetSpec, PutSource, PutSpec, SyncSpec, parse, parse_mode};
use super::{TransferError, paths};
use crate::ssh::as_user;
use crate::template::shell_quote;

fn with(v: Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).unwrap()
}

fn file(size: u64, mtime: u32, mode: u32) -> Meta {
    Meta {
        kind: Kind::File,
        size,
        mode,
        mtime,
    }
}

fn dir(mode: u32) -> Meta {
    Meta {
        kind: Kind::Dir,
        size: 0,
        mode,
        mtime: 0,
    }
}

fn tree(entries: &[(&str, Meta)]) -> Tree {
    entries.iter().map(|(p, m)| ((*p).to_owned(), *m)).collect()
}

#[test]
fn modes_are_octal_text() {
    assert_eq!(parse_mode("0640").unwrap(), 0o640);
    assert_eq!(parse_mode("640").unwrap(), 0o640);
    assert_eq!(parse_mode("0o755").unwrap(), 0o755);
    assert_eq!(parse_mode("1777").unwrap(), 0o1777);
    for bad in ["", "0689", "rw-r--r--", "17777", "-1", "0x1ff"] {
        assert!(parse_mode(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn settings_are_strict_and_defaulted() {
    let s: PutSpec = parse(&with(json!({"source": "/a", "dest": "/b"}))).unwrap();
    assert!(s.preserve_mtime && s.create_dirs && s.overwrite && !s.sudo);
    assert_eq!(s.mode, None);
    let s: PutSpec = parse(&with(
        json!({"content": "x", "dest": "/b", "mode": "0600", "overwrite": "false"}),
    ))
    .unwrap();
    assert_eq!(s.mode, Some(0o600));
    assert!(!s.overwrite, "a rendered \"false\" is false");
    assert!(matches!(s.put_source().unwrap(), PutSource::Content("x")));

    let e = parse::<PutSpec>(&with(json!({"source": "/a", "dest": "/b", "mdoe": "0600"})))
        .unwrap_err()
        .to_string();
    assert!(e.contains("mdoe"), "{e}");
    let e = parse::<PutSpec>(&with(json!({"source": "/a", "dest": "/b", "mode": 640})))
        .unwrap_err()
        .to_string();
    assert!(e.contains("octal"), "{e}");
    let both: PutSpec =
        parse(&with(json!({"source": "/a", "content": "x", "dest": "/b"}))).unwrap();
    assert!(both.put_source().is_err());
    let neither: PutSpec = parse(&with(json!({"dest": "/b"}))).unwrap();
    assert!(neither.put_source().is_err());
    assert!(
        parse::<GetSpec>(&with(json!({"source": "/a", "dest": "/b", "content": "x"}))).is_err()
    );

    let s: SyncSpec = parse(&with(json!({"source": "a", "dest": "b"}))).unwrap();
    assert_eq!(s.direction, Direction::Upload);
    assert!(!s.delete && !s.checksum);
    let s: SyncSpec = parse(&with(
        json!({"source": "a", "dest": "b", "direction": "download", "delete": true}),
    ))
    .unwrap();
    assert_eq!(s.direction, Direction::Download);
    assert!(s.delete);
    assert!(
        parse::<SyncSpec>(&with(
            json!({"source": "a", "dest": "b", "direction": "up"})
        ))
        .is_err()
    );
}

#[test]
fn target_paths() {
    assert_eq!(paths::parent("/srv/app/a.conf"), "/srv/app");
    assert_eq!(paths::parent("/a"), "/");
    assert_eq!(paths::parent("a.conf"), ".");
    assert_eq!(paths::parent("dir/a/"), "dir");
    assert_eq!(paths::file_name("/srv/app/a.conf"), "a.conf");
    assert_eq!(paths::file_name("/srv/app/"), "app");
    assert_eq!(paths::join("/srv", "a"), "/srv/a");
    assert_eq!(paths::join("/", "a"), "/a");
    assert_eq!(paths::join(".", "a"), "a");
    assert_eq!(paths::trim("/"), "/");
    assert_eq!(paths::ancestors("/a/b/c"), vec!["/a", "/a/b"]);
    assert_eq!(paths::ancestors("a/b/c"), vec!["a", "a/b"]);
    assert!(paths::ancestors("/a").is_empty());
    let tmp = paths::temp_beside("/srv/app/a.conf");
    assert!(tmp.starts_with("/srv/app/.a.conf.opsc-"), "{tmp}");
    assert!(paths::is_temp(paths::file_name(&tmp)));
    assert_ne!(tmp, paths::temp_beside("/srv/app/a.conf"), "unique");
    assert!(!paths::is_temp("a.conf"));
}

#[test]
fn a_directory_destination_takes_the_source_name() {
    assert_eq!(
        remote_dest("/srv/", false, Some("a.txt")).unwrap(),
        "/srv/a.txt"
    );
    assert_eq!(
        remote_dest("/srv", true, Some("a.txt")).unwrap(),
        "/srv/a.txt"
    );
    assert_eq!(
        remote_dest("/srv/b.txt", false, Some("a.txt")).unwrap(),
        "/srv/b.txt"
    );
    assert!(matches!(
        remote_dest("/srv/", false, None),
        Err(TransferError::Spec(_))
    ));
}

#[test]
fn sha256sum_output_is_parsed() {
    let h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(
        parse_sha256sum(&format!("{h}  /tmp/x\n")).as_deref(),
        Some(h)
    );
    assert_eq!(
        parse_sha256sum(&format!("\\{h}  /tmp/a\\nb\n")).as_deref(),
        Some(h)
    );
    assert_eq!(parse_sha256sum(&h.to_uppercase()).as_deref(), Some(h));
    assert_eq!(parse_sha256sum(""), None);
    assert_eq!(
        parse_sha256sum("sha256sum: /x: No such file or directory"),
        None
    );
    assert_eq!(parse_sha256sum(&format!("{h}0  x")), None, "65 hex digits");
}

#[tokio::test]
async fn the_hashing_reader_hashes_what_passes() {
    let data = vec![7_u8; 100_000];
    let mut r = Hashing::new(&data[..]);
    let mut out = Vec::new();
    r.read_to_end(&mut out).await.unwrap();
    assert_eq!(out, data);
    assert_eq!(r.bytes, 100_000);
    assert_eq!(r.finish(), hex(&Sha256::digest(&data)));
}

#[test]
fn the_copy_script_quotes_every_path_and_cleans_up() {
    let r = Receive {
        tmp: "/srv/it's/.a.opsc-1.tmp",
        mkdir: Some("/srv/it's"),
        mode: 0o640,
        mtime: Some(1_700_000_000),
    };
    let trap = |tmp: &str| {
        let rm = format!("rm -f -- {}; exit 143", shell_quote(tmp));
        format!("trap {} TERM HUP\n", shell_quote(&rm))
    };
    let script = r.script();
    let body = script
        .strip_prefix(&trap(r.tmp))
        .expect("the TERM trap first");
    assert_eq!(
        body,
        "mkdir -p -- '/srv/it'\\''s' && umask 077 && cat > '/srv/it'\\''s/.a.opsc-1.tmp' \
         && chmod 0640 '/srv/it'\\''s/.a.opsc-1.tmp' \
         && TZ=UTC0 touch -m -t 202311142213.20 '/srv/it'\\''s/.a.opsc-1.tmp' \
         && sha256sum -- '/srv/it'\\''s/.a.opsc-1.tmp' \
         || { rc=$?; rm -f -- '/srv/it'\\''s/.a.opsc-1.tmp'; exit $rc; }"
    );
    let plain = Receive {
        tmp: "t",
        mkdir: None,
        mode: 0o600,
        mtime: None,
    };
    assert_eq!(
        plain.script(),
        "trap 'rm -f -- '\\''t'\\''; exit 143' TERM HUP\numask 077 && cat > 't' && chmod 0600 't' && sha256sum -- 't' || { rc=$?; rm -f -- 't'; exit $rc; }"
    );
    assert_eq!(touch_stamp(0).as_deref(), Some("197001010000.00"));
    assert_eq!(as_user("rm -f -- 'a'", false), "rm -f -- 'a'");
    assert_eq!(
        as_user("rm -f -- 'a'", true),
        "sudo -n -- sh -c 'rm -f -- '\\''a'\\'''"
    );
}

#[test]
fn sync_copies_only_what_differs() {
    let src = tree(&[
        ("new.txt", file(3, 10, 0o644)),
        ("same.txt", file(5, 20, 0o644)),
        ("bigger.txt", file(9, 30, 0o644)),
        ("touched.txt", file(5, 41, 0o644)),
        ("chmod.txt", file(5, 50, 0o600)),
        ("sub", dir(0o755)),
        ("sub/deep.txt", file(1, 1, 0o644)),
        (
            "link",
            Meta {
                kind: Kind::Other,
                size: 0,
                mode: 0o777,
                mtime: 0,
            },
        ),
    ]);
    let dst = tree(&[
        ("same.txt", file(5, 20, 0o644)),
        ("bigger.txt", file(8, 30, 0o644)),
        ("touched.txt", file(5, 40, 0o644)),
        ("chmod.txt", file(5, 50, 0o644)),
        ("extra.txt", file(1, 1, 0o644)),
    ]);
    let p = plan(&src, &dst, false, false);
    assert_eq!(
        p,
        Plan {
            remove: vec![],
            mkdir: vec![("sub".to_owned(), 0o755)],
            compare: vec![],
            copy: vec![
                ("bigger.txt".to_owned(), Why::Size),
                ("new.txt".to_owned(), Why::New),
                ("sub/deep.txt".to_owned(), Why::New),
                ("touched.txt".to_owned(), Why::Mtime),
            ],
            touch: vec![Touch {
                path: "chmod.txt".to_owned(),
                mode: Some(0o600),
                mtime: None
            }],
            up_to_date: vec!["chmod.txt".to_owned(), "same.txt".to_owned()],
            ignored: vec!["link".to_owned()],
            conflicts: vec![],
        }
    );
    // The same trees after the copy: nothing to do.
    let p = plan(&src, &src, true, false);
    assert!(p.copy.is_empty() && p.remove.is_empty() && p.mkdir.is_empty() && p.touch.is_empty());
}

#[test]
fn checksum_mode_compares_same_size_files_by_content() {
    let src = tree(&[("a", file(5, 1, 0o644)), ("b", file(6, 1, 0o644))]);
    let dst = tree(&[("a", file(5, 99, 0o644)), ("b", file(5, 1, 0o644))]);
    let p = plan(&src, &dst, false, true);
    assert_eq!(p.compare, vec!["a"]);
    assert_eq!(p.copy, vec![("b".to_owned(), Why::Size)]);
}

#[test]
fn delete_removes_extras_deepest_first() {
    let src = tree(&[("keep", file(1, 1, 0o644))]);
    let dst = tree(&[
        ("keep", file(1, 1, 0o644)),
        ("old", dir(0o755)),
        ("old/x", dir(0o755)),
        ("old/x/f", file(1, 1, 0o644)),
        ("z", file(1, 1, 0o644)),
    ]);
    assert!(
        plan(&src, &dst, false, false).remove.is_empty(),
        "only with delete"
    );
    let p = plan(&src, &dst, true, false);
    assert_eq!(
        p.remove,
        vec![
            ("old/x/f".to_owned(), Kind::File),
            ("old/x".to_owned(), Kind::Dir),
            ("old".to_owned(), Kind::Dir),
            ("z".to_owned(), Kind::File),
        ]
    );
}

#[test]
fn another_kind_in_the_way_needs_delete() {
    let src = tree(&[("a", file(1, 1, 0o644)), ("b", dir(0o755))]);
    let dst = tree(&[
        ("a", dir(0o755)),
        ("a/inner", file(1, 1, 0o644)),
        ("b", file(1, 1, 0o644)),
    ]);
    let p = plan(&src, &dst, false, false);
    assert_eq!(p.conflicts, vec!["a", "b"]);
    assert!(p.copy.is_empty() && p.mkdir.is_empty());
    let p = plan(&src, &dst, true, false);
    assert!(p.conflicts.is_empty());
    assert_eq!(
        p.remove,
        vec![
            ("a/inner".to_owned(), Kind::File),
            ("a".to_owned(), Kind::Dir),
            ("b".to_owned(), Kind::File),
        ]
    );
    assert_eq!(p.copy, vec![("a".to_owned(), Why::Kind)]);
    assert_eq!(p.mkdir, vec![("b".to_owned(), 0o755)]);
}

#[test]
fn rendered_content_keeps_its_last_line_end() {
    let ctx = crate::template::TemplateContext::default();
    let text = crate::template::render("line\n", &ctx, crate::template::Quoting::None).unwrap();
    assert_eq!(text, "line\n");
}

#[test]
fn names_a_target_lists_may_not_lead_out_of_their_directory() {
    for ok in ["a.txt", ".hidden", "..x", "x..", "a b", "ünïcode"] {
        assert!(paths::safe_name(ok).is_ok(), "{ok:?}");
    }
    for bad in ["", ".", "..", "../x", "a/b", "/etc", "a\\b", "x\0y"] {
        let e = paths::safe_name(bad).unwrap_err();
        assert!(e.contains("unsafe file name"), "{bad:?}: {e}");
    }
}

#[test]
fn the_settings_read_are_the_catalogue_keys() {
    use crate::steps::tests::{schema_keys, serde_keys};
    let put = serde_keys(|w| parse::<PutSpec>(w).unwrap_err().to_string());
    assert_eq!(put, schema_keys("ssh.copy"));
    // sftp.upload reads `sudo` only to refuse it (SFTP writes as the login user).
    let mut upload = schema_keys("sftp.upload");
    upload.push("sudo".to_owned());
    upload.sort();
    assert_eq!(put, upload);
    let get = serde_keys(|w| parse::<GetSpec>(w).unwrap_err().to_string());
    assert_eq!(get, schema_keys("sftp.download"));
    let sync = serde_keys(|w| parse::<SyncSpec>(w).unwrap_err().to_string());
    assert_eq!(sync, schema_keys("sftp.sync"));
}

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::fs::{Fs, resolve};
use crate::host::{Host, PeerFacts};
use crate::process::{Chunk, Process};

fn host() -> Host {
    Host {
        hostname: "WIN-T".into(),
        domain: None,
        facts: PeerFacts::default(),
        fs: Arc::new(Mutex::new(Fs::new(&["ops".into()]))),
    }
}

/// Runs a script; stdout, decoded stderr records, exit code.
async fn run(host: &Host, script: &str) -> (String, String, i32) {
    let h = host.clone();
    let script = script.to_owned();
    let ctx = host.context("ops");
    let p = Process::spawn(CancellationToken::new(), move |c| {
        super::run(&h, ctx, c, &script)
    });
    let (mut out, mut err) = (Vec::new(), Vec::new());
    loop {
        match p.receive(Duration::from_secs(10)).await {
            Some(Chunk::Output { stdout, stderr }) => {
                out.extend(stdout);
                err.extend(stderr);
            }
            Some(Chunk::Done(code)) => {
                let err = String::from_utf8_lossy(&err)
                    .replace("_x000D_", "\r")
                    .replace("_x000A_", "\n")
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&");
                return (String::from_utf8_lossy(&out).into_owned(), err, code);
            }
            None => panic!("the script did not finish"),
        }
    }
}

fn file(host: &Host, path: &str) -> Option<Vec<u8>> {
    let p = resolve("C:\\", path)?;
    host.fs.lock().unwrap().read(&p).ok()
}

#[tokio::test]
async fn strings_variables_and_environment() {
    let h = host();
    let (out, err, code) = run(
        &h,
        "$env:GREETING = 'it''s \"here\"; $(no)'\nWrite-Output $env:GREETING\n$n = 'x'; Write-Output \"[$n`t$($env:COMPUTERNAME)]\" 42\n$env:GREETING.Length",
    )
    .await;
    assert_eq!(err, "");
    assert_eq!(code, 0);
    assert_eq!(out, "it's \"here\"; $(no)\r\n[x\tWIN-T]\r\n42\r\n18\r\n");
}

#[tokio::test]
async fn files_are_written_in_chunks_moved_and_hashed() {
    let h = host();
    let script = "$ErrorActionPreference = 'Stop'
$null = [IO.Directory]::CreateDirectory('C:\\Data\\In')
[IO.File]::WriteAllBytes('C:\\Data\\In\\f.part', [Convert]::FromBase64String('aGVs'))
$b = [Convert]::FromBase64String('bG8=')
$s = [IO.File]::Open('C:\\Data\\In\\f.part', [IO.FileMode]::Append)
$s.Write($b, 0, $b.Length)
$s.Close()
Move-Item -LiteralPath 'C:\\Data\\In\\f.part' -Destination 'C:\\Data\\In\\f.txt' -Force
(Get-FileHash -Algorithm SHA256 -LiteralPath 'C:\\Data\\In\\f.txt').Hash
[IO.File]::Exists('C:\\Data\\In\\f.part')";
    let (out, err, code) = run(&h, script).await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert_eq!(
        out,
        "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824\r\nFalse\r\n"
    );
    assert_eq!(file(&h, "c:\\data\\in\\F.TXT").unwrap(), b"hello");
}

#[tokio::test]
async fn errors_continue_unless_stop_and_set_the_exit_code() {
    let h = host();
    let (out, err, code) = run(&h, "Get-Nothing\nWrite-Output 'after'").await;
    assert_eq!((out.as_str(), code), ("after\r\n", 0));
    assert!(
        err.contains("The term 'Get-Nothing' is not recognized"),
        "{err}"
    );

    let (out, err, code) = run(
        &h,
        "Set-Location -LiteralPath 'C:\\nope' -ErrorAction Stop\nWrite-Output 'after'",
    )
    .await;
    assert_eq!((out.as_str(), code), ("", 1));
    assert!(
        err.contains("Cannot find path 'C:\\nope' because it does not exist."),
        "{err}"
    );

    let (out, err, code) = run(
        &h,
        "$ErrorActionPreference = 'Stop'\n[IO.File]::WriteAllBytes('C:\\no\\x', [Convert]::FromBase64String(''))\n'after'",
    )
    .await;
    assert_eq!((out.as_str(), code), ("", 1));
    assert!(
        err.contains("Exception calling \"WriteAllBytes\" with \"2\" argument(s): \"Could not find a part of the path 'C:\\no\\x'.\""),
        "{err}"
    );

    let (_, _, code) = run(&h, "Write-Output 'x'; exit 7").await;
    assert_eq!(code, 7);
}

#[tokio::test]
async fn what_is_not_interpreted_fails_loudly() {
    let h = host();
    for script in [
        "Get-Location | Out-Null",
        "if ($true) { 'x' }",
        "Write-Output (1 + 1)",
        "[int]'5'",
        "& 'C:\\tool.exe'",
        "Get-FileHash -Algorithm MD5 C:\\x",
        "Write-Output 'unclosed",
    ] {
        let (out, err, code) = run(&h, script).await;
        assert_eq!((out.as_str(), code), ("", 1), "{script}");
        assert!(
            err.contains("not supported by this WinRM test peer") || err.contains("ParseError"),
            "{script}: {err}"
        );
    }
    let (_, err, code) = run(&h, "Start-Sleep -Minutes 1").await;
    assert_eq!(code, 1);
    assert!(
        err.contains("A parameter cannot be found that matches parameter name 'Minutes'."),
        "{err}"
    );
}

#[tokio::test]
async fn locations_and_items() {
    let h = host();
    let script = "New-Item -ItemType Directory -Path 'C:\\Work\\A' -Force
Set-Location 'C:\\Work\\A'
(Get-Location).Path
New-Item -Path 'note.txt' -Value 'hi' -Force
Get-Content -Raw 'note.txt'
Test-Path -LiteralPath 'C:\\Work\\A\\note.txt'
Remove-Item 'note.txt'
Test-Path 'C:\\Work\\A\\note.txt'";
    let (out, err, code) = run(&h, script).await;
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(
        out.contains("C:\\Work\\A\r\n") && out.ends_with("hi\r\nTrue\r\nFalse\r\n"),
        "{out}"
    );
}

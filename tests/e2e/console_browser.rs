//! The console's journeys in a real browser: Playwright (`console/e2e/`)
//! drives Debian's `chromium` against a real installation started here —
//! the api serving the freshly built console from `console/dist`
//! (`OPSC_HTTP_CONSOLE_DIR`), a worker, the scheduler and the notifier on real
//! NATS and PostgreSQL, the test sshd and an SMTP server.
//!
//! One test runs every journey (an installation per spec file would cost
//! more than the journeys). `OPSC_CONSOLE_SPECS=shell,jobs` runs only
//! `e2e/shell.spec.ts` and `e2e/jobs.spec.ts`. What the journeys know of
//! the installation (addresses, accounts, peers) is the JSON file named by
//! `OPSC_E2E_FIXTURE`, read by `console/e2e/fixtures.ts`.
//!
//! For console development, `OPSC_CONSOLE_HOLD=<file>` makes the test start
//! the installation, write its fixture to `<file>` and wait (up to three
//! hours) until the file is deleted, running no journey: point a Vite dev
//! server (`OPSC_API=<base_url> npx vite`) and `npx playwright test` at it.
//!
//! Missing prerequisites (the built console, its `node_modules`, Chromium)
//! fail the test saying how to get them; `deploy/test.sh` provides them all.

mod inbox;
mod playwright;
mod stack;

use self::playwright::{Prerequisites, Specs};
use self::stack::Stack;

#[tokio::test]
async fn the_console_journeys_pass_in_a_real_browser() {
    let pre = Prerequisites::check().unwrap_or_else(|e| panic!("{e}"));
    let specs = Specs::from_env(&pre.console).unwrap_or_else(|e| panic!("{e}"));
    let stack = Stack::start(&pre.console.join("dist")).await;
    if let Ok(hold) = std::env::var("OPSC_CONSOLE_HOLD") {
        hold_for_development(&stack, std::path::Path::new(&hold)).await;
        stack.stop().await;
        return;
    }
    let dir = tempfile::tempdir().expect("fixture dir");
    let fixture = dir.path().join("stack.json");
    std::fs::write(&fixture, stack.fixture().to_string()).expect("write the fixture");

    let outcome = playwright::run(&pre, &specs, &fixture).await;
    if !outcome.passed {
        let logs = stack.logs();
        stack.stop().await;
        panic!(
            "the browser journeys failed ({}); traces in console/test-results/.\n\
             --- the last lines of playwright ---\n{}\n\
             --- the last lines of the installation's logs ---\n{logs}",
            outcome.status, outcome.tail
        );
    }
    stack.stop().await;
}

/// Writes the fixture to `file` and waits until someone deletes it.
async fn hold_for_development(stack: &Stack, file: &std::path::Path) {
    let next = file.with_extension("writing");
    std::fs::write(&next, stack.fixture().to_string()).expect("write the fixture");
    std::fs::rename(&next, file).expect("publish the fixture");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3 * 3600);
    while file.exists() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

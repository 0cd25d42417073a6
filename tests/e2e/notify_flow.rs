//! Notifications end to end, every role a real process on the real bus:
//! a job fails on a worker, the api records it and publishes the notice,
//! the notifier decides with the rules the api mirrored and delivers to a
//! real SMTP server (STARTTLS, authentication), a Slack Web API and a
//! Teams webhook reached by the real client libraries, and a webhook
//! receiver that verifies the signature. Also: channel tests that really
//! send, a failing channel that ends in the dead-letter list and a resend
//! that delivers it, the slower-than-usual trigger, a `notify.webhook`
//! step, and a canary secret that appears nowhere.

mod helpers;
mod stack;

use std::time::Duration;

use opsc_notify_peers::{SlackPeer, SmtpPeer, SmtpTls, TeamsPeer, WebhookPeer};
use reqwest::Method;
use serde_json::json;

use self::helpers::{channel, failing_job, rule_to, webhook_channel};
use crate::harness::runs::{create_job, run_job, steps, wait_end};
use crate::harness::{ApiServer, wait_until};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_failed_run_reaches_email_slack_teams_and_a_signed_webhook() {
    let api = ApiServer::start(&[("OPSC_HTTP_PUBLIC_URL", "https://ops.example.test")]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let notifier = stack::start_notifier(&api, &[]).await;

    let smtp = SmtpPeer::start(SmtpTls::Starttls, Some(("mailer", "smtp-canary-pass-9f3")))
        .await
        .expect("smtp");
    let slack = SlackPeer::start().await.expect("slack");
    let teams = TeamsPeer::start().await.expect("teams");
    let hook = WebhookPeer::start("hook-canary-secret-77a")
        .await
        .expect("webhook");

    let email = channel(&api, &admin, json!({
        "name": "mail",
        "settings": {"kind": "email", "host": smtp.host(), "port": smtp.port(), "tls": "starttls",
                     "username": "mailer", "from": "OpsConductor <ops@example.test>",
                     "ca_pem": smtp.ca_pem().expect("ca")},
        "secrets": {"password": "smtp-canary-pass-9f3"}, "max_attempts": 3
    }))
    .await;
    let slack_ch = channel(&api, &admin, json!({
        "name": "slack",
        "settings": {"kind": "slack", "mode": "bot", "default_channel": "#ops", "api_url": slack.api_url()},
        "secrets": {"token": slack.token()}, "max_attempts": 3
    }))
    .await;
    let teams_ch = channel(
        &api,
        &admin,
        json!({
            "name": "teams", "settings": {"kind": "teams"},
            "secrets": {"webhook_url": teams.webhook_url()}, "max_attempts": 3
        }),
    )
    .await;
    let hook_ch = webhook_channel(
        &api,
        &admin,
        "hook",
        &hook.url(),
        "hook-canary-secret-77a",
        3,
    )
    .await;

    // Each channel's test really sends.
    for (id, what) in [
        (&email, "email"),
        (&slack_ch, "slack"),
        (&teams_ch, "teams"),
        (&hook_ch, "webhook"),
    ] {
        let to = if what == "email" {
            json!({"to": [{"type": "email", "address": "test@example.test"}]})
        } else {
            json!({})
        };
        let (code, body) = api
            .call(
                Method::POST,
                &format!("/api/v1/notifications/channels/{id}/test"),
                Some(&admin),
                Some(to),
            )
            .await;
        assert_eq!(code, 200, "{what} test: {body}\n{}", notifier.output());
        assert_eq!(body["status"], "delivered", "{what} test: {body}");
    }
    assert_eq!(smtp.wait_for(1, WAIT).await.expect("mail").len(), 1);
    slack.wait_for(1, WAIT).await;
    teams.wait_for(1, WAIT).await;
    hook.wait_for(1, WAIT).await;

    rule_to(
        &api,
        &admin,
        "failures everywhere",
        &["run_failed"],
        json!([
            {"channel_id": email, "to": [{"type": "email", "address": "oncall@example.test"}]},
            {"channel_id": slack_ch},
            {"channel_id": teams_ch},
            {"channel_id": hook_ch}
        ]),
    )
    .await;
    let job = failing_job(&api, &admin, "nightly-backup").await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "failed");

    let mails = smtp.wait_for(2, WAIT).await.expect("mail");
    let mail = &mails[1];
    assert!(mail.tls, "STARTTLS was used");
    assert_eq!(mail.auth_user.as_deref(), Some("mailer"));
    assert_eq!(mail.rcpt_to, vec!["oncall@example.test".to_owned()]);
    let subject = mail.subject.clone().unwrap_or_default();
    assert!(
        subject.contains("nightly-backup") && subject.contains("FAILED"),
        "{subject}"
    );
    let text = mail.text.clone().unwrap_or_default();
    assert!(text.contains("exit 3"), "the exit code: {text}");
    assert!(
        text.contains("disk full"),
        "the last lines of output: {text}"
    );
    assert!(
        text.contains(&format!("https://ops.example.test/runs/{run}")),
        "a link: {text}"
    );
    assert!(
        mail.html
            .as_deref()
            .unwrap_or_default()
            .contains("nightly-backup")
    );

    let posts = slack.wait_for(2, WAIT).await;
    assert_eq!(posts[1].channel.as_deref(), Some("#ops"));
    assert!(
        posts[1].blocks.to_string().contains("nightly-backup"),
        "{:?}",
        posts[1].blocks
    );
    let cards = teams.wait_for(2, WAIT).await;
    assert!(cards[1].card.to_string().contains("nightly-backup"));
    let hooks = hook.wait_for(2, WAIT).await;
    assert!(
        hooks[1].body.to_string().contains(&run),
        "{}",
        hooks[1].body
    );

    // The history records each delivery, and no secret is anywhere.
    let (code, history) = api
        .call(
            Method::GET,
            &format!("/api/v1/notifications?run_id={run}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(code, 200, "{history}");
    wait_until("four deliveries recorded", WAIT, || async {
        let (_, h) = api
            .call(
                Method::GET,
                &format!("/api/v1/notifications?run_id={run}&status=delivered"),
                Some(&admin),
                None,
            )
            .await;
        h["items"].as_array().map_or(0, Vec::len) >= 4
    })
    .await;
    stack::assert_nowhere(
        &api,
        &admin,
        &notifier,
        &[
            "smtp-canary-pass-9f3",
            "hook-canary-secret-77a",
            slack.token(),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_channel_that_keeps_failing_ends_in_the_dead_letter_list_and_a_resend_delivers() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let notifier = stack::start_notifier(&api, &[]).await;
    let hook = WebhookPeer::start("dl-secret").await.expect("webhook");
    hook.fail_next(2);
    let ch = webhook_channel(&api, &admin, "flaky", &hook.url(), "dl-secret", 2).await;
    rule_to(
        &api,
        &admin,
        "to flaky",
        &["run_failed"],
        json!([{"channel_id": ch}]),
    )
    .await;
    let job = failing_job(&api, &admin, "flaky-job").await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    wait_end(&api, &admin, &run).await;

    wait_until("the dead letter", WAIT, || async {
        let (_, d) = api
            .call(
                Method::GET,
                "/api/v1/notifications/dead-letters",
                Some(&admin),
                None,
            )
            .await;
        d["items"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    let (_, dead) = api
        .call(
            Method::GET,
            "/api/v1/notifications/dead-letters",
            Some(&admin),
            None,
        )
        .await;
    let item = &dead["items"][0];
    assert_eq!(item["attempts"], 2, "{item}\n{}", notifier.output());
    assert_eq!(hook.requests(), 2, "two attempts, no more");
    assert!(hook.deliveries().is_empty());
    let id = item["id"]
        .as_str()
        .or_else(|| item["notification_id"].as_str())
        .expect("id")
        .to_owned();
    // Acknowledging it keeps it a dead letter with what was sent.
    let (code, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/notifications/{id}/ack"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, again) = api
        .call(
            Method::GET,
            "/api/v1/notifications/dead-letters",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(again["items"][0]["status"], "dead_lettered", "{again}");
    assert_eq!(again["items"][0]["text"], item["text"], "{again}");
    let (code, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/notifications/dead-letters/{id}/resend"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    let got = hook.wait_for(1, WAIT).await;
    assert!(got[0].body.to_string().contains("flaky-job"));
    // A viewer cannot see or resend dead letters.
    api.user(&admin, "vera", "viewer", "viewer-password-1")
        .await;
    let (viewer, _) = api.login("vera", "viewer-password-1").await;
    let (code, _) = api
        .call(
            Method::GET,
            "/api/v1/notifications/dead-letters",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(code, 403);
    let (code, _) = api
        .call(
            Method::POST,
            &format!("/api/v1/notifications/dead-letters/{id}/resend"),
            Some(&viewer),
            Some(json!({})),
        )
        .await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn a_run_slower_than_its_baseline_is_its_own_trigger() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let _notifier = stack::start_notifier(&api, &[]).await;
    let hook = WebhookPeer::start("slow-secret").await.expect("webhook");
    let ch = webhook_channel(&api, &admin, "slow", &hook.url(), "slow-secret", 3).await;
    rule_to(
        &api,
        &admin,
        "slow runs",
        &["run_slow"],
        json!([{"channel_id": ch}]),
    )
    .await;
    let job = create_job(&api, &admin, json!({
        "name": "sometimes-slow",
        "parameters": {"secs": {"type": "string", "default": "0"}},
        "steps": [{"id": "work", "type": "local.exec", "with": {"command": "sleep {{ params.secs }}"}}]
    }))
    .await;
    for _ in 0..5 {
        let run = run_job(&api, &admin, &job, json!({})).await;
        assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        hook.deliveries().is_empty(),
        "runs as fast as usual say nothing"
    );
    let run = run_job(&api, &admin, &job, json!({"parameters": {"secs": "3"}})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");
    let got = hook.wait_for(1, WAIT).await;
    let body = got[0].body.to_string();
    assert!(body.contains(&run), "{body}");
    assert!(body.contains("usually"), "the baseline is said: {body}");
}

#[tokio::test]
async fn a_notify_step_delivers_through_the_notifier() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let notifier = stack::start_notifier(&api, &[]).await;
    let hook = WebhookPeer::start("step-secret").await.expect("webhook");
    let ch = webhook_channel(&api, &admin, "steps-hook", &hook.url(), "step-secret", 3).await;
    let job = create_job(&api, &admin, json!({
        "name": "notify-from-a-step",
        "steps": [
            {"id": "check", "type": "local.exec", "with": {"command": "echo all-good"}},
            {"id": "tell", "type": "notify.webhook",
             "with": {"channel": "steps-hook", "subject": "check said {{ steps.check.stdout | trim }}",
                      "text": "run {{ run.id }}", "data": {"source": "step"}}}
        ]
    }))
    .await;
    // The channel does not allow steps yet: the step fails with the reason.
    let run = run_job(&api, &admin, &job, json!({})).await;
    let ended = wait_end(&api, &admin, &run).await;
    assert_eq!(ended["status"], "failed", "{ended}\n{}", notifier.output());
    assert!(hook.deliveries().is_empty());
    let (code, body) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/notifications/channels/{ch}"),
            Some(&admin),
            Some(json!({"allow_steps": true})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    let ended = wait_end(&api, &admin, &run).await;
    assert_eq!(
        ended["status"],
        "succeeded",
        "{ended}\n{}",
        notifier.output()
    );
    let got = hook.wait_for(1, WAIT).await;
    assert!(
        got[0].body.to_string().contains("check said all-good"),
        "{}",
        got[0].body
    );
    let items = steps(&api, &admin, &run).await;
    let tell = items.iter().find(|s| s["step_id"] == "tell").expect("step");
    assert_eq!(tell["status"], "succeeded", "{tell}");
}

#[tokio::test]
async fn secrets_do_not_follow_a_channel_elsewhere_and_users_cannot_claim_a_slack_channel() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let hook = WebhookPeer::start("moving-secret").await.expect("webhook");
    let ch = webhook_channel(&api, &admin, "moving", &hook.url(), "moving-secret", 3).await;
    let path = format!("/api/v1/notifications/channels/{ch}");
    let elsewhere = json!({"settings": {"kind": "webhook", "url": "http://127.0.0.1:9/elsewhere"}});
    let (code, body) = api
        .call(Method::PATCH, &path, Some(&admin), Some(elsewhere))
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["errors"][0]["path"], "/secrets", "{body}");
    let (_, still) = api.call(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(still["settings"]["url"], hook.url(), "nothing changed");
    let (code, body) = api
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({
                "settings": {"kind": "webhook", "url": "http://127.0.0.1:9/elsewhere"},
                "secrets": {"signing_secret": "a-new-secret"}
            })),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = api
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"secrets": {"signing_secret": 987_654_321}})),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        !body.to_string().contains("987654321"),
        "a refused secret is not echoed: {body}"
    );
    // A member id, never a channel id.
    for (slack_user, ok) in [("C0OPS123", false), ("U012AB3CD", true), ("u012", false)] {
        let (code, body) = api
            .call(
                Method::PUT,
                "/api/v1/notifications/preferences/me",
                Some(&admin),
                Some(json!({
                    "time_zone": "UTC", "slack_user": slack_user
                })),
            )
            .await;
        assert_eq!(code == 200, ok, "{slack_user}: {code} {body}");
    }
}

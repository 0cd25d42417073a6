//! The shipped Grafana dashboard and Prometheus alert rules
//! (`helm/opsconductor/files/`, linked from `deploy/observability/`) against
//! what the roles really export: every role runs, one job runs so the
//! series exist, every role's `/metrics` is scraped, and every metric any
//! panel, variable or alert names must be a family one of them declares,
//! with the suffix its type has (`_total`, `_bucket`…) and, where samples
//! exist, the labels its matchers use. The dashboard must also be loadable
//! Grafana dashboard JSON, and each alert complete.

mod dashboard;
mod promql;
mod stack;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, wait_end};

fn shipped(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[tokio::test]
async fn every_dashboard_and_alert_query_names_a_metric_the_roles_export() {
    let api = ApiServer::start(&[]).await;
    let worker = stack::worker(&api, "default").await;
    let scheduler = stack::scheduler(&api).await;
    let notifier = stack::notifier(&api).await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "observed", "steps": [
            {"id": "hello", "type": "local.exec", "with": {"command": "echo observed"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");

    // Every role's families, merged (a family some role declares is exported).
    let mut families: BTreeMap<String, promql::Family> = BTreeMap::new();
    let mut scraped = Vec::new();
    let api_metrics = format!("{}/metrics", api.base);
    for (role, url) in [
        ("api", api_metrics.as_str()),
        (worker.name, worker.metrics.as_str()),
        (scheduler.name, scheduler.metrics.as_str()),
        (notifier.name, notifier.metrics.as_str()),
    ] {
        let text = stack::scrape(url).await;
        let own = promql::families(&text);
        assert!(own.contains_key("opsc_build_info"), "{role}: {text}");
        scraped.push(format!("{role}: {} families", own.len()));
        for (name, f) in own {
            let e = families.entry(name).or_default();
            e.kind = f.kind;
            e.samples += f.samples;
            e.labels.extend(f.labels);
        }
    }
    // The job left the series the run panels read.
    for name in [
        "opsc_runs_finished",
        "opsc_step_duration_seconds",
        "opsc_worker_slots",
    ] {
        assert!(
            families.get(name).is_some_and(|f| f.samples > 0),
            "{name} has samples: {scraped:?}"
        );
    }

    let board: Value = serde_json::from_str(&shipped(
        "helm/opsconductor/files/grafana/opsconductor.json",
    ))
    .expect("the dashboard is JSON");
    let (mut bad, mut exprs) = dashboard::check_dashboard(&board);
    let rules: Value =
        serde_norway::from_str(&shipped("helm/opsconductor/files/prometheus/rules.yaml"))
            .expect("the rules are YAML");
    let (rule_bad, rule_exprs) = dashboard::check_rules(&rules);
    bad.extend(rule_bad);
    let panels = exprs.len();
    exprs.extend(rule_exprs);
    assert!(
        panels > 20 && exprs.len() > panels + 10,
        "{panels} panel queries, {} in all",
        exprs.len()
    );
    for e in &exprs {
        bad.extend(
            promql::problems(&e.expr, &families)
                .into_iter()
                .map(|p| format!("{}: {p}", e.at)),
        );
    }
    assert!(bad.is_empty(), "{}\n(scraped {scraped:?})", bad.join("\n"));

    // The files deploy/ ships are the chart's.
    for (link, target) in [
        (
            "deploy/observability/opsconductor.json",
            "helm/opsconductor/files/grafana/opsconductor.json",
        ),
        (
            "deploy/observability/rules.yaml",
            "helm/opsconductor/files/prometheus/rules.yaml",
        ),
    ] {
        assert_eq!(shipped(link), shipped(target), "{link}");
    }
    for mut p in [worker.process, scheduler.process, notifier.process] {
        let _ = p.terminate().await;
    }
    api.stop().await;
}

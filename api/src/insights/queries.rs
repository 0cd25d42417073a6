//! The SQL of the insights: four aggregate queries over `runs`, each an
//! index range scan of the period (`idx_runs_created`, or `idx_runs_job`
//! for one job) and, for the baselines, of the 30 days before it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};
use uuid::Uuid;

use super::{BucketCounts, Insights, JobStats, Period, SlowRun, Totals};

/// Statuses counted as failures.
const FAILED: &str = "('failed', 'timed_out', 'worker_lost')";

/// Jobs listed at most in `jobs` (the top lists consider every job).
pub const MAX_JOBS: usize = 1000;

/// Top lists' length.
const TOP: usize = 10;

/// Accept-to-finish milliseconds of a run row, as SQL.
const DURATION: &str = "(extract(epoch FROM finished_at - created_at)::float8 * 1000)";

fn values(p: &Period) -> Vec<Value> {
    vec![p.from.into(), p.to.into(), p.job_id.into()]
}

/// The runs of the period, as a SQL condition on `$1`, `$2`, `$3`.
const IN_PERIOD: &str =
    "created_at >= $1 AND created_at < $2 AND ($3::uuid IS NULL OR job_id = $3::uuid)";

fn rate(succeeded: i64, failed: i64) -> Option<f64> {
    let decided = succeeded + failed;
    // Counts of one period stay far below 2^52: exact as floats.
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    (decided > 0).then(|| succeeded as f64 / decided as f64)
}

async fn all(
    db: &impl ConnectionTrait,
    sql: String,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await
}

async fn series(db: &impl ConnectionTrait, p: &Period) -> Result<Vec<BucketCounts>, DbErr> {
    let mut v = values(p);
    v.push(p.bucket.unit().into());
    let rows = all(
        db,
        format!(
            "SELECT date_trunc($4, created_at AT TIME ZONE 'UTC') AS start, status, count(*) AS n \
             FROM runs WHERE {IN_PERIOD} GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        v,
    )
    .await?;
    let mut out: Vec<BucketCounts> = Vec::new();
    for r in rows {
        let start = r.try_get::<NaiveDateTime>("", "start")?.and_utc();
        let status: String = r.try_get("", "status")?;
        let n: i64 = r.try_get("", "n")?;
        match out.last_mut() {
            Some(b) if b.start == start => {
                b.total += n;
                b.by_status.insert(status, n);
            }
            _ => out.push(BucketCounts {
                start,
                total: n,
                by_status: BTreeMap::from([(status, n)]),
            }),
        }
    }
    Ok(out)
}

async fn per_job(db: &impl ConnectionTrait, p: &Period) -> Result<Vec<JobStats>, DbErr> {
    let rows = all(
        db,
        format!(
            "SELECT job_id, (array_agg(job_name ORDER BY created_at DESC))[1] AS job_name, \
               count(*) AS runs, \
               count(*) FILTER (WHERE status = 'succeeded') AS succeeded, \
               count(*) FILTER (WHERE status IN {FAILED}) AS failed, \
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {DURATION}) FILTER (WHERE finished_at IS NOT NULL) AS p50, \
               percentile_cont(0.95) WITHIN GROUP (ORDER BY {DURATION}) FILTER (WHERE finished_at IS NOT NULL) AS p95 \
             FROM runs WHERE {IN_PERIOD} GROUP BY job_id ORDER BY 2, 1"
        ),
        values(p),
    )
    .await?;
    rows.iter()
        .map(|r| {
            let succeeded: i64 = r.try_get("", "succeeded")?;
            let failed: i64 = r.try_get("", "failed")?;
            Ok(JobStats {
                job_id: r.try_get::<Uuid>("", "job_id")?,
                job_name: r.try_get("", "job_name")?,
                runs: r.try_get("", "runs")?,
                succeeded,
                failed,
                success_rate: rate(succeeded, failed),
                p50_ms: r.try_get("", "p50")?,
                p95_ms: r.try_get("", "p95")?,
            })
        })
        .collect()
}

async fn totals(db: &impl ConnectionTrait, p: &Period) -> Result<Totals, DbErr> {
    let rows = all(
        db,
        format!(
            "SELECT count(*) AS runs, \
               count(*) FILTER (WHERE status = 'succeeded') AS succeeded, \
               count(*) FILTER (WHERE status IN {FAILED}) AS failed, \
               count(*) FILTER (WHERE status = 'cancelled') AS cancelled, \
               count(*) FILTER (WHERE status IN ('waiting', 'queued', 'running')) AS in_progress, \
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {DURATION}) FILTER (WHERE finished_at IS NOT NULL) AS p50, \
               percentile_cont(0.95) WITHIN GROUP (ORDER BY {DURATION}) FILTER (WHERE finished_at IS NOT NULL) AS p95 \
             FROM runs WHERE {IN_PERIOD}"
        ),
        values(p),
    )
    .await?;
    let r = rows
        .first()
        .ok_or_else(|| DbErr::RecordNotFound("totals".to_owned()))?;
    let succeeded: i64 = r.try_get("", "succeeded")?;
    let failed: i64 = r.try_get("", "failed")?;
    Ok(Totals {
        runs: r.try_get("", "runs")?,
        succeeded,
        failed,
        cancelled: r.try_get("", "cancelled")?,
        in_progress: r.try_get("", "in_progress")?,
        success_rate: rate(succeeded, failed),
        p50_ms: r.try_get("", "p50")?,
        p95_ms: r.try_get("", "p95")?,
    })
}

async fn slower(db: &impl ConnectionTrait, p: &Period) -> Result<Vec<SlowRun>, DbErr> {
    let rows = all(
        db,
        format!(
            "WITH base AS ( \
               SELECT job_id, count(*) AS n, \
                 percentile_cont(0.95) WITHIN GROUP (ORDER BY {DURATION}) AS p95, \
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY {DURATION}) AS p50 \
               FROM runs \
               WHERE finished_at IS NOT NULL AND created_at >= $1 - interval '30 days' \
                 AND created_at < $1 AND ($3::uuid IS NULL OR job_id = $3::uuid) \
               GROUP BY job_id HAVING count(*) >= 3 \
             ), lim AS ( \
               SELECT job_id, \
                 CASE WHEN n >= 20 THEN p95 ELSE 2 * p50 END AS baseline, \
                 CASE WHEN n >= 20 THEN 'p95' ELSE '2x_median' END AS how \
               FROM base \
             ) \
             SELECT r.id, r.job_id, r.job_name, r.status, r.created_at, \
               (extract(epoch FROM r.finished_at - r.created_at)::float8 * 1000) AS d, \
               l.baseline, l.how \
             FROM runs r JOIN lim l ON l.job_id = r.job_id \
             WHERE r.finished_at IS NOT NULL AND r.created_at >= $1 AND r.created_at < $2 \
               AND (extract(epoch FROM r.finished_at - r.created_at)::float8 * 1000) > l.baseline \
             ORDER BY (extract(epoch FROM r.finished_at - r.created_at)::float8 * 1000) \
               / GREATEST(l.baseline, 1) DESC, r.id \
             LIMIT 50"
        ),
        values(p),
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SlowRun {
                run_id: r.try_get("", "id")?,
                job_id: r.try_get("", "job_id")?,
                job_name: r.try_get("", "job_name")?,
                status: r.try_get("", "status")?,
                created_at: r
                    .try_get::<DateTime<chrono::FixedOffset>>("", "created_at")?
                    .to_utc(),
                duration_ms: r.try_get("", "d")?,
                baseline_ms: r.try_get("", "baseline")?,
                baseline: r.try_get("", "how")?,
            })
        })
        .collect()
}

fn top(jobs: &[JobStats], key: impl Fn(&JobStats) -> Option<f64>) -> Vec<JobStats> {
    let mut ranked: Vec<(f64, &JobStats)> =
        jobs.iter().filter_map(|j| key(j).map(|k| (k, j))).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.job_name.cmp(&b.1.job_name)));
    ranked
        .into_iter()
        .take(TOP)
        .map(|(_, j)| JobStats {
            job_id: j.job_id,
            job_name: j.job_name.clone(),
            ..*j
        })
        .collect()
}

/// The insights of `p`.
pub async fn insights(db: &impl ConnectionTrait, p: &Period) -> Result<Insights, DbErr> {
    let mut jobs = per_job(db, p).await?;
    let slowest = top(&jobs, |j| j.p95_ms);
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let most_failing = top(&jobs, |j| (j.failed > 0).then_some(j.failed as f64));
    jobs.truncate(MAX_JOBS);
    Ok(Insights {
        from: p.from,
        to: p.to,
        bucket: p.bucket,
        job_id: p.job_id,
        series: series(db, p).await?,
        jobs,
        slowest,
        most_failing,
        slower_than_baseline: slower(db, p).await?,
        totals: totals(db, p).await?,
    })
}

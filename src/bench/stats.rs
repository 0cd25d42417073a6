//! Percentiles and medians of measured values.

use serde_json::{Value, json};

/// The nearest-rank percentile `p` (0-100) of `values`; 0 when empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// `{p50, p90, p99, max, mean}` of `values`, rounded to 0.1.
pub fn summary(values: &[f64]) -> Value {
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let mean = if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    };
    json!({
        "p50": round(percentile(values, 50.0)),
        "p90": round(percentile(values, 90.0)),
        "p99": round(percentile(values, 99.0)),
        "max": round(percentile(values, 100.0)),
        "mean": round(mean),
        "n": values.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), 2.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        assert_eq!(summary(&[1.0, 3.0])["mean"], 2.0);
    }
}

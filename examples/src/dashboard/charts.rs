//! The dashboard's charts and tables, computed from [`Data`]: plain series that the page hands to
//! Chart.js as they are.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::data::{Data, Run};

/// Projects (or stages) drawn per chart at most: the busiest ones.
const SERIES: usize = 8;
/// Bars of the ranked charts.
const RANKED: usize = 10;
/// Two runs this close with different results are a flip even without a revision to compare.
const FLIP_WINDOW_MS: i64 = 24 * 3_600_000;

/// A chart, as Chart.js draws it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Chart {
    /// The canvas id.
    pub id: &'static str,
    /// Its heading.
    pub title: String,
    /// What it shows, in a sentence.
    pub note: String,
    /// `line` or `bar`.
    pub kind: &'static str,
    /// Bars drawn sideways (long names).
    pub horizontal: bool,
    /// Bars stacked.
    pub stacked: bool,
    /// The value axis.
    pub y_label: &'static str,
    /// The category axis.
    pub labels: Vec<String>,
    /// The series.
    pub datasets: Vec<Dataset>,
    /// Shown instead of the chart when it has no point.
    pub empty: &'static str,
}

impl Chart {
    /// The values drawn (non-null), which the page's test counts on the canvas.
    pub fn points(&self) -> usize {
        self.datasets
            .iter()
            .map(|d| d.data.iter().filter(|v| v.is_some()).count())
            .sum()
    }
}

/// A series.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dataset {
    /// Its legend.
    pub label: String,
    /// One value per label (`None`: nothing that day, week or bar).
    pub data: Vec<Option<f64>>,
}

/// A run of the "running or queued now" table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Current {
    /// Source.
    pub source: String,
    /// Project.
    pub project: String,
    /// Number.
    pub number: Option<i64>,
    /// `running` or `queued`.
    pub status: String,
    /// The source's status.
    pub source_status: Option<String>,
    /// Start, RFC 3339.
    pub started: Option<String>,
    /// Link.
    pub url: Option<String>,
}

/// A flaky job: results that alternate on one revision or within a day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Flaky {
    /// `source: project (name)`.
    pub job: String,
    /// Result changes between neighbouring final runs.
    pub flips: usize,
    /// Final runs with a success or a failure.
    pub runs: usize,
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dashboard {
    /// Runs per source: `(source, runs, final, failures)`.
    pub sources: Vec<(String, usize, usize, usize)>,
    /// The charts, in page order.
    pub charts: Vec<Chart>,
    /// Runs not final, newest first.
    pub current: Vec<Current>,
    /// The flakiest jobs, most flips first.
    pub flaky: Vec<Flaky>,
}

/// The dashboard of `data`.
pub fn dashboard(data: &Data) -> Dashboard {
    let mut sources: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for run in &data.runs {
        let s = sources.entry(&run.source).or_default();
        s.0 += 1;
        s.1 += usize::from(run.is_final);
        s.2 += usize::from(run.status == "failure");
    }
    let flaky = flaky_jobs(&data.runs);
    Dashboard {
        sources: sources
            .into_iter()
            .map(|(s, (runs, finals, failures))| (s.to_owned(), runs, finals, failures))
            .collect(),
        charts: vec![
            success_rate_per_week(&data.runs),
            durations_per_day(&data.runs),
            slowest_jobs(&data.runs),
            flakiest_chart(&flaky),
            stage_durations(data),
            running_now(&data.runs),
            bitbucket_activity(data),
        ],
        current: current(&data.runs),
        flaky,
    }
}

fn day_of(ms: i64) -> Option<jiff::civil::Date> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    Some(ts.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// The Monday of a run's week, `YYYY-MM-DD`.
fn week_of(ms: i64) -> Option<String> {
    let day = day_of(ms)?;
    let back = i64::from(day.weekday().to_monday_zero_offset());
    let monday = day.checked_sub(jiff::Span::new().days(back)).ok()?;
    Some(monday.to_string())
}

fn job_key(run: &Run) -> String {
    match &run.name {
        Some(name) if name != &run.project => format!("{}: {} ({name})", run.source, run.project),
        _ => format!("{}: {}", run.source, run.project),
    }
}

/// Nearest-rank percentile of sorted values (as `ci_daily` computes it).
fn percentile(sorted: &[i64], pct: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn seconds(ms: Option<i64>) -> Option<f64> {
    ms.map(|ms| (ms as f64 / 100.0).round() / 10.0)
}

/// The `n` keys with the most entries.
fn busiest<K: Ord + Clone>(counts: &BTreeMap<K, usize>, n: usize) -> Vec<K> {
    let mut ranked: Vec<(&K, &usize)> = counts.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    ranked.into_iter().take(n).map(|(k, _)| k.clone()).collect()
}

fn success_rate_per_week(runs: &[Run]) -> Chart {
    // (project, week) -> (successes, decided)
    let mut cells: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut per_project: BTreeMap<String, usize> = BTreeMap::new();
    let mut weeks = BTreeSet::new();
    for run in runs
        .iter()
        .filter(|r| r.status == "success" || r.status == "failure")
    {
        let Some(week) = run.started_ms.and_then(week_of) else {
            continue;
        };
        let project = format!("{}: {}", run.source, run.project);
        let cell = cells.entry((project.clone(), week.clone())).or_default();
        cell.0 += usize::from(run.status == "success");
        cell.1 += 1;
        *per_project.entry(project).or_default() += 1;
        weeks.insert(week);
    }
    let projects = busiest(&per_project, SERIES);
    let labels: Vec<String> = weeks.into_iter().collect();
    let datasets = projects
        .into_iter()
        .map(|project| Dataset {
            data: labels
                .iter()
                .map(|week| {
                    let (ok, all) = cells.get(&(project.clone(), week.clone()))?;
                    Some((*ok as f64 * 1000.0 / *all as f64).round() / 10.0)
                })
                .collect(),
            label: project,
        })
        .collect();
    Chart {
        id: "success-rate",
        title: "Success rate per week".into(),
        note: format!(
            "Successes over successes and failures, per week (from Monday), for the {SERIES} busiest projects."
        ),
        kind: "line",
        horizontal: false,
        stacked: false,
        y_label: "% successful",
        labels,
        datasets,
        empty: "No finished run yet.",
    }
}

/// Durations per series and UTC day: what the per-day charts draw.
#[derive(Default)]
struct PerDay {
    cells: BTreeMap<(String, String), Vec<i64>>,
    days: BTreeSet<String>,
    /// Entries per series (to pick the busiest).
    counts: BTreeMap<String, usize>,
}

impl PerDay {
    fn add(&mut self, series: String, started_ms: i64, duration_ms: i64) {
        let Some(day) = day_of(started_ms).map(|d| d.to_string()) else {
            return;
        };
        *self.counts.entry(series.clone()).or_default() += 1;
        self.cells
            .entry((series, day.clone()))
            .or_default()
            .push(duration_ms);
        self.days.insert(day);
    }

    /// The days, in order (the charts' labels), with every cell sorted for its percentiles.
    fn labels(&mut self) -> Vec<String> {
        for values in self.cells.values_mut() {
            values.sort_unstable();
        }
        self.days.iter().cloned().collect()
    }

    /// One series' percentile per day of `labels`, in seconds.
    fn series(&self, labels: &[String], series: &str, pct: usize) -> Vec<Option<f64>> {
        labels
            .iter()
            .map(|day| {
                let cell = self.cells.get(&(series.to_owned(), day.clone()))?;
                seconds(percentile(cell, pct))
            })
            .collect()
    }
}

fn durations_per_day(runs: &[Run]) -> Chart {
    let mut per_day = PerDay::default();
    for run in runs.iter().filter(|r| r.is_final) {
        if let (Some(ms), Some(duration)) = (run.started_ms, run.duration_ms) {
            per_day.add(run.source.clone(), ms, duration);
        }
    }
    let labels = per_day.labels();
    let mut datasets = Vec::new();
    for source in per_day.counts.keys() {
        for (pct, name) in [(50, "median"), (90, "p90")] {
            datasets.push(Dataset {
                label: format!("{source} {name}"),
                data: per_day.series(&labels, source, pct),
            });
        }
    }
    Chart {
        id: "durations",
        title: "Run durations per day".into(),
        note: "Median and 90th percentile of finished runs' durations, per source and day (UTC)."
            .into(),
        kind: "line",
        horizontal: false,
        stacked: false,
        y_label: "seconds",
        labels,
        datasets,
        empty: "No finished run with a duration yet.",
    }
}

fn slowest_jobs(runs: &[Run]) -> Chart {
    let mut per_job: HashMap<String, Vec<i64>> = HashMap::new();
    for run in runs.iter().filter(|r| r.is_final) {
        if let Some(d) = run.duration_ms {
            per_job.entry(job_key(run)).or_default().push(d);
        }
    }
    let mut ranked: Vec<(String, i64, i64)> = per_job
        .into_iter()
        .filter_map(|(job, mut d)| {
            d.sort_unstable();
            Some((job, percentile(&d, 50)?, percentile(&d, 90)?))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(RANKED);
    Chart {
        id: "slowest",
        title: "Slowest jobs".into(),
        note: format!("The {RANKED} jobs with the longest median duration of finished runs."),
        kind: "bar",
        horizontal: true,
        stacked: false,
        y_label: "seconds",
        labels: ranked.iter().map(|r| r.0.clone()).collect(),
        datasets: vec![
            Dataset {
                label: "median".into(),
                data: ranked.iter().map(|r| seconds(Some(r.1))).collect(),
            },
            Dataset {
                label: "p90".into(),
                data: ranked.iter().map(|r| seconds(Some(r.2))).collect(),
            },
        ],
        empty: "No finished run with a duration yet.",
    }
}

/// Jobs whose result flips between neighbouring final runs of one branch, on the same revision
/// (when both have one) or within a day.
pub fn flaky_jobs(runs: &[Run]) -> Vec<Flaky> {
    let mut lines: BTreeMap<(String, Option<&str>), Vec<&Run>> = BTreeMap::new();
    for run in runs
        .iter()
        .filter(|r| r.is_final && (r.status == "success" || r.status == "failure"))
    {
        if run.started_ms.is_some() {
            lines
                .entry((job_key(run), run.branch.as_deref()))
                .or_default()
                .push(run);
        }
    }
    let mut per_job: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((job, _), mut line) in lines {
        line.sort_by_key(|r| (r.started_ms, r.number));
        let entry = per_job.entry(job).or_default();
        entry.1 += line.len();
        for pair in line.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.status == b.status {
                continue;
            }
            let same_revision = matches!((&a.revision, &b.revision), (Some(x), Some(y)) if x == y);
            let close = match (a.started_ms, b.started_ms) {
                (Some(x), Some(y)) => y - x <= FLIP_WINDOW_MS,
                _ => false,
            };
            if same_revision || (a.revision.is_none() || b.revision.is_none()) && close {
                entry.0 += 1;
            }
        }
    }
    let mut flaky: Vec<Flaky> = per_job
        .into_iter()
        .filter(|(_, (flips, _))| *flips > 0)
        .map(|(job, (flips, runs))| Flaky { job, flips, runs })
        .collect();
    flaky.sort_by(|a, b| b.flips.cmp(&a.flips).then_with(|| a.job.cmp(&b.job)));
    flaky
}

fn flakiest_chart(flaky: &[Flaky]) -> Chart {
    let top = &flaky[..flaky.len().min(RANKED)];
    Chart {
        id: "flakiest",
        title: "Flakiest jobs".into(),
        note: "Result changes (success to failure or back) between neighbouring finished runs of a branch, on the same revision or within a day.".into(),
        kind: "bar",
        horizontal: true,
        stacked: false,
        y_label: "flips",
        labels: top.iter().map(|f| f.job.clone()).collect(),
        datasets: vec![Dataset {
            label: "flips".into(),
            data: top.iter().map(|f| Some(f.flips as f64)).collect(),
        }],
        empty: "No job flipped between success and failure.",
    }
}

fn stage_durations(data: &Data) -> Chart {
    let mut per_day = PerDay::default();
    for step in &data.steps {
        let series = format!("{}: {}", step.source, step.name);
        per_day.add(series, step.started_ms, step.duration_ms);
    }
    let labels = per_day.labels();
    let datasets = busiest(&per_day.counts, SERIES)
        .into_iter()
        .map(|stage| Dataset {
            data: per_day.series(&labels, &stage, 50),
            label: stage,
        })
        .collect();
    Chart {
        id: "stages",
        title: "Stage durations over time".into(),
        note: format!(
            "Median duration per day of the {SERIES} most frequent steps: Jenkins Pipeline stages, CircleCI jobs, Bitbucket steps."
        ),
        kind: "line",
        horizontal: false,
        stacked: false,
        y_label: "seconds",
        labels,
        datasets,
        empty: "No finished stage or job yet.",
    }
}

fn running_now(runs: &[Run]) -> Chart {
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut sources = BTreeSet::new();
    for run in runs.iter().filter(|r| !r.is_final) {
        let status = if run.status == "queued" {
            "queued"
        } else {
            "running"
        };
        *counts
            .entry((run.source.clone(), status.to_owned()))
            .or_default() += 1;
        sources.insert(run.source.clone());
    }
    let labels: Vec<String> = sources.into_iter().collect();
    let datasets = ["running", "queued"]
        .into_iter()
        .map(|status| Dataset {
            label: status.to_owned(),
            data: labels
                .iter()
                .map(|s| {
                    counts
                        .get(&(s.clone(), status.to_owned()))
                        .map(|n| *n as f64)
                })
                .collect(),
        })
        .collect();
    Chart {
        id: "now",
        title: "Running or queued now".into(),
        note: "Runs not finished when the database was last synced, per source.".into(),
        kind: "bar",
        horizontal: false,
        stacked: true,
        y_label: "runs",
        labels,
        datasets,
        empty: "Nothing running or queued.",
    }
}

fn bitbucket_activity(data: &Data) -> Chart {
    let mut per_repo: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    for run in data.runs.iter().filter(|r| r.source == "bitbucket") {
        let slot = match run.status.as_str() {
            "success" => 0,
            "failure" => 1,
            _ => 2,
        };
        per_repo.entry(run.project.clone()).or_default()[slot] += 1;
        *totals.entry(run.project.clone()).or_default() += 1;
    }
    let prs: HashMap<&str, i64> = data
        .pull_requests
        .iter()
        .map(|(repo, _, all)| (repo.as_str(), *all))
        .collect();
    for (repo, _, all) in &data.pull_requests {
        *totals.entry(repo.clone()).or_default() += usize::try_from(*all).unwrap_or(0);
    }
    let labels = busiest(&totals, 15);
    let count = |n: usize| (n > 0).then_some(n as f64);
    let pipelines = |slot: usize, label: &str| Dataset {
        label: label.to_owned(),
        data: labels
            .iter()
            .map(|repo| count(per_repo.get(repo).map_or(0, |c| c[slot])))
            .collect(),
    };
    let mut datasets = vec![
        pipelines(0, "pipelines succeeded"),
        pipelines(1, "pipelines failed"),
        pipelines(2, "other pipelines"),
    ];
    if !data.pull_requests.is_empty() {
        datasets.push(Dataset {
            label: "pull requests".into(),
            data: labels
                .iter()
                .map(|repo| {
                    prs.get(repo.as_str())
                        .and_then(|n| count(usize::try_from(*n).unwrap_or(0)))
                })
                .collect(),
        });
    }
    Chart {
        id: "bitbucket",
        title: "Bitbucket activity per repository".into(),
        note: "Pipelines by result and pull requests (every state) of the 15 busiest repositories."
            .into(),
        kind: "bar",
        horizontal: true,
        stacked: true,
        y_label: "pipelines and pull requests",
        labels,
        datasets,
        empty: "No Bitbucket repository synced.",
    }
}

fn current(runs: &[Run]) -> Vec<Current> {
    let mut now: Vec<&Run> = runs.iter().filter(|r| !r.is_final).collect();
    now.sort_by_key(|r| std::cmp::Reverse(r.started_ms));
    now.into_iter()
        .take(50)
        .map(|r| Current {
            source: r.source.clone(),
            project: r.project.clone(),
            number: r.number,
            status: r.status.clone(),
            source_status: r.source_status.clone(),
            started: r.started_ms.map(cidata_sync::format_timestamp),
            url: r.url.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: &str, started_ms: i64, revision: Option<&str>) -> Run {
        Run {
            source: "jenkins".into(),
            project: "app".into(),
            name: None,
            branch: Some("main".into()),
            revision: revision.map(str::to_owned),
            status: status.into(),
            source_status: None,
            started_ms: Some(started_ms),
            duration_ms: Some(1_000),
            is_final: true,
            number: None,
            url: None,
        }
    }

    #[test]
    fn flips_count_on_one_revision_or_within_a_day() {
        let day = FLIP_WINDOW_MS;
        let runs = vec![
            run("success", 0, Some("a")),
            run("failure", 3 * day, Some("a")), // same revision, days apart: a flip
            run("success", 6 * day, Some("b")), // another revision: a fix, not a flip
            run("failure", 6 * day + 60_000, None), // no revision, a minute later: a flip
            run("failure", 7 * day, None),      // same result: nothing
        ];
        let flaky = flaky_jobs(&runs);
        assert_eq!(
            flaky,
            vec![Flaky {
                job: "jenkins: app".into(),
                flips: 2,
                runs: 5
            }]
        );
    }

    #[test]
    fn percentiles_are_nearest_rank_like_ci_daily() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&values, 50), Some(5));
        assert_eq!(percentile(&values, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-02 is a Wednesday.
        let wednesday = "2026-12-02T10:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(week_of(wednesday).as_deref(), Some("2026-11-30"));
    }

    #[test]
    fn an_empty_database_gives_empty_charts() {
        let board = dashboard(&Data::default());
        assert!(board.charts.iter().all(|c| c.points() == 0));
        assert_eq!(board.charts.len(), 7);
    }
}

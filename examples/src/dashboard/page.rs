//! The dashboard as one self-contained HTML page: styles, Chart.js (MIT, its license inlined)
//! and the data inlined, so that the file opens anywhere without a network.

use std::fmt::Write as _;

use super::charts::Dashboard;

const CHART_JS: &str = include_str!("../../assets/chart-4.6.1.umd.min.js");
const CHART_JS_LICENSE: &str = include_str!("../../assets/chart-4.6.1.LICENSE.md");

/// The mark of a page ci-sync wrote: a file that holds it may be replaced by the next one.
pub const GENERATOR_MARK: &str = "<meta name=\"generator\" content=\"ci-sync dashboard\">";

/// How the page is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// A file: no reload.
    Never,
    /// `ci-sync serve`: the page reloads itself every so many seconds.
    Every(u32),
}

/// Text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that cannot end the `<script>` element it sits in.
fn script_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "{}".to_owned())
        .replace('<', "\\u003c")
}

/// The page for `board`, read from `described` at `generated_at` (RFC 3339), over the last
/// `days` days of each source (`None`: all).
pub fn render(
    board: &Dashboard,
    described: &str,
    generated_at: &str,
    refresh: Refresh,
    days: Option<u32>,
) -> String {
    let mut html = String::with_capacity(CHART_JS.len() + 64 * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(GENERATOR_MARK);
    html.push('\n');
    if let Refresh::Every(seconds) = refresh {
        let _ = writeln!(html, "<meta http-equiv=\"refresh\" content=\"{seconds}\">");
    }
    html.push_str("<title>CI dashboard</title>\n<style>\n");
    html.push_str(STYLE);
    html.push_str("</style>\n");
    // Before any other script: errors of Chart.js or of the drawing are recorded for the page's
    // test (and shown on the page).
    html.push_str("<script>window.dashboardErrors = []; addEventListener('error', function (e) { window.dashboardErrors.push(String(e.message)); });</script>\n");
    let _ = write!(
        html,
        "<script>\n/*!\n{}\n*/\n",
        CHART_JS_LICENSE.replace("*/", "* /")
    );
    html.push_str(CHART_JS);
    html.push_str("\n</script>\n</head>\n<body>\n<header>\n<h1>CI dashboard</h1>\n");
    let _ = writeln!(
        html,
        "<p class=\"meta\">{} &middot; {} &middot; generated {}{}</p>",
        escape(described),
        match days {
            Some(days) => format!("the last {days} days of each source, and what runs now"),
            None => "all history".to_owned(),
        },
        escape(generated_at),
        match refresh {
            Refresh::Never => String::new(),
            Refresh::Every(s) => format!(" &middot; refreshes every {s} s"),
        }
    );
    html.push_str("<div class=\"cards\">\n");
    if board.sources.is_empty() {
        html.push_str("<p class=\"empty\">No run synced yet: run <code>ci-sync run</code> or <code>ci-sync demo</code>.</p>\n");
    }
    for (source, runs, finals, failures) in &board.sources {
        let _ = writeln!(
            html,
            "<div class=\"card\"><h3>{}</h3><b>{runs}</b> runs<br>{finals} finished, {failures} failed</div>",
            escape(source)
        );
    }
    html.push_str("</div>\n</header>\n<main>\n");
    for chart in &board.charts {
        let _ = writeln!(
            html,
            "<section><h2>{}</h2><p class=\"note\">{}</p>",
            escape(&chart.title),
            escape(&chart.note)
        );
        if chart.points() == 0 {
            let _ = writeln!(
                html,
                "<p class=\"empty\" id=\"{}-empty\">{}</p>",
                chart.id,
                escape(chart.empty)
            );
        } else {
            let height = if chart.horizontal {
                80 + 28 * chart.labels.len()
            } else {
                320
            };
            let _ = writeln!(
                html,
                "<div class=\"chart\" style=\"height:{height}px\"><canvas id=\"{}\" data-points=\"{}\"></canvas></div>",
                chart.id,
                chart.points()
            );
        }
        html.push_str("</section>\n");
        if chart.id == "now" {
            current_table(&mut html, board);
        }
        if chart.id == "flakiest" {
            flaky_table(&mut html, board);
        }
    }
    html.push_str("</main>\n");
    let _ = writeln!(
        html,
        "<script id=\"dashboard-data\" type=\"application/json\">{}</script>",
        script_json(&board.charts)
    );
    html.push_str("<script>\n");
    html.push_str(DRAW);
    html.push_str("</script>\n</body>\n</html>\n");
    html
}

fn current_table(html: &mut String, board: &Dashboard) {
    if board.current.is_empty() {
        return;
    }
    html.push_str("<section><h2>Not finished</h2><table><tr><th>source</th><th>project</th><th>#</th><th>status</th><th>since</th></tr>\n");
    for run in &board.current {
        let number = run.number.map(|n| n.to_string()).unwrap_or_default();
        let number = match &run.url {
            Some(url) => format!("<a href=\"{}\">{number}</a>", escape(url)),
            None => number,
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{number}</td><td>{} <span class=\"raw\">{}</span></td><td>{}</td></tr>",
            escape(&run.source),
            escape(&run.project),
            escape(&run.status),
            escape(run.source_status.as_deref().unwrap_or("")),
            escape(run.started.as_deref().unwrap_or(""))
        );
    }
    html.push_str("</table></section>\n");
}

fn flaky_table(html: &mut String, board: &Dashboard) {
    if board.flaky.is_empty() {
        return;
    }
    html.push_str("<section><h2>Flaky jobs</h2><table><tr><th>job</th><th>flips</th><th>finished runs</th></tr>\n");
    for f in board.flaky.iter().take(20) {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&f.job),
            f.flips,
            f.runs
        );
    }
    html.push_str("</table></section>\n");
}

const STYLE: &str = "
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
header { background: #1d2330; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
.meta { margin: 0 0 12px; color: #b8bfcc; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: #2c3444; border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card h3 { margin: 0; font-size: 13px; color: #b8bfcc; text-transform: uppercase; }
.card b { font-size: 20px; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; padding: 16px 24px; }
section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
section h2 { margin: 0; font-size: 16px; }
.note { margin: 2px 0 8px; color: #5b6475; font-size: 12px; }
.chart { position: relative; }
.empty { color: #5b6475; font-style: italic; padding: 24px 0; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e4e7ec; }
.raw { color: #8a93a5; }
";

/// Draws every chart from the inlined data, then records on `<body>` how many points each chart
/// drew and the script errors, for the page's test.
const DRAW: &str = r#"
(function () {
  var drawn = {};
  try {
    var charts = JSON.parse(document.getElementById('dashboard-data').textContent);
    charts.forEach(function (c) {
      var canvas = document.getElementById(c.id);
      if (!canvas) { drawn[c.id] = 0; return; }
      var chart = new Chart(canvas, {
        type: c.kind,
        data: {
          labels: c.labels,
          datasets: c.datasets.map(function (d) {
            return { label: d.label, data: d.data, spanGaps: true, pointRadius: 3 };
          })
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          indexAxis: c.horizontal ? 'y' : 'x',
          scales: c.horizontal
            ? { x: { stacked: c.stacked, title: { display: true, text: c.y_label }, beginAtZero: true }, y: { stacked: c.stacked } }
            : { x: { stacked: c.stacked }, y: { stacked: c.stacked, title: { display: true, text: c.y_label }, beginAtZero: true } }
        }
      });
      var points = 0;
      chart.data.datasets.forEach(function (d, i) {
        chart.getDatasetMeta(i).data.forEach(function (element, j) {
          if (d.data[j] !== null && d.data[j] !== undefined && !element.skip) { points += 1; }
        });
      });
      drawn[c.id] = points;
    });
  } catch (e) {
    window.dashboardErrors.push(String(e && e.message || e));
  }
  document.body.setAttribute('data-drawn', JSON.stringify(drawn));
  document.body.setAttribute('data-errors', JSON.stringify(window.dashboardErrors));
})();
"#;

//! Warehouse queries: the SQL kept beside the templates (`templates/sql/<template>.<dialect>.sql`)
//! that selects, inside the company's warehouse, only the billing rows a template reads, with
//! exactly the columns it maps, summed by day. A billing table too large for a laptop then comes
//! down as a small CSV or Parquet file that `report` and `import` read like the export itself
//! (docs/warehouse.md). This module renders a query with its parameters (table, period, whether
//! to filter on the table's partitions); it never runs one, and knows no vendor: what each query
//! selects is in its file. The marker columns the queries write are read back by the
//! normaliser (`normalise::origin`).
//!
//! Placeholders in a query file: `{{table=DEFAULT}}`, `{{from}}` and `{{to}}` (first and last
//! day, `YYYY-MM-DD`), `{{to_next}}` (the day after the last), `{{from_month}}` and
//! `{{to_month}}` (`YYYY-MM`), `{{query}}` (the text of the marker column). Without a period,
//! the lines holding a period placeholder are left out (the whole table is read); without the
//! partition filter, the lines whose comment starts with `-- partition` are left out.

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};

/// The SQL dialects the queries are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Amazon Athena (Trino SQL), where AWS's CUR 2.0 tables are queried.
    Athena,
    /// Google BigQuery, where the Cloud Billing export lives.
    Bigquery,
    /// DuckDB, over the Parquet or CSV files themselves (and the offline tests).
    Duckdb,
}

impl Dialect {
    /// The dialect's name, as in file names and `--dialect`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Athena => "athena",
            Dialect::Bigquery => "bigquery",
            Dialect::Duckdb => "duckdb",
        }
    }

    fn from_name(s: &str) -> Option<Dialect> {
        match s {
            "athena" => Some(Dialect::Athena),
            "bigquery" => Some(Dialect::Bigquery),
            "duckdb" => Some(Dialect::Duckdb),
            _ => None,
        }
    }
}

/// What to render.
#[derive(Debug, Clone)]
pub struct QueryRequest<'a> {
    /// Template id (`aws-cur`).
    pub template: &'a str,
    /// SQL dialect.
    pub dialect: Dialect,
    /// The table (or, in DuckDB, any table expression such as `read_parquet('...')`);
    /// `None` for the query's placeholder name.
    pub table: Option<&'a str>,
    /// First and last day (inclusive); `None` reads every date.
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// Filter on the table's partitions (CUR 2.0 `billing_period`, BigQuery `_PARTITIONTIME`)
    /// as well as on the usage dates, so that only the period's partitions are scanned.
    pub partition_filter: bool,
}

/// A rendered query.
#[derive(Debug, Clone)]
pub struct Query {
    /// The SQL, ready to paste into the warehouse's console.
    pub text: String,
    /// The query file (`aws-cur.athena.sql`).
    pub file: &'static str,
    /// The first 12 hex digits of the query file's SHA-256 (before its parameters are filled
    /// in): which query, exactly.
    pub sha256: String,
    /// The table the query reads.
    pub table: String,
    /// The table is the query's placeholder name, not one given.
    pub table_is_placeholder: bool,
    /// The text of the result's `llm_scope3_query` column.
    pub marker: String,
}

/// Every query: (template id, dialect), in file-name order.
pub fn available() -> Vec<(&'static str, Dialect)> {
    crate::embedded::SQL_QUERIES
        .iter()
        .filter_map(|(file, _)| split_name(file))
        .collect()
}

/// `aws-cur.athena.sql` -> (`aws-cur`, Athena).
fn split_name(file: &'static str) -> Option<(&'static str, Dialect)> {
    let stem = file.strip_suffix(".sql")?;
    let (template, dialect) = stem.rsplit_once('.')?;
    Some((template, Dialect::from_name(dialect)?))
}

/// What queries exist, for messages: `aws-cur (athena, duckdb), gcp-billing (...)`.
pub fn available_text() -> String {
    let mut out: Vec<(String, Vec<&str>)> = vec![];
    for (t, d) in available() {
        match out.iter_mut().find(|(name, _)| name == t) {
            Some((_, ds)) => ds.push(d.name()),
            None => out.push((t.to_string(), vec![d.name()])),
        }
    }
    out.iter()
        .map(|(t, ds)| format!("{t} ({})", ds.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders the query of a template in a dialect.
///
/// Errors (as plain messages for the command line): no query for the template or dialect, a
/// period whose end is before its start, a table name that would break the query (`;`, a line
/// break, a backquote in BigQuery).
pub fn render(req: &QueryRequest<'_>) -> Result<Query, String> {
    let Some((file, sql)) = crate::embedded::SQL_QUERIES
        .iter()
        .find(|(f, _)| split_name(f) == Some((req.template, req.dialect)))
    else {
        let dialects: Vec<&str> = available()
            .into_iter()
            .filter(|(t, _)| *t == req.template)
            .map(|(_, d)| d.name())
            .collect();
        return Err(if dialects.is_empty() {
            format!(
                "no warehouse query for the template '{}'; there are queries for {}",
                req.template,
                available_text()
            )
        } else {
            format!(
                "the template '{}' has no {} query, only {}",
                req.template,
                req.dialect.name(),
                dialects.join(", ")
            )
        });
    };
    if let Some((from, to)) = req.period {
        if to < from {
            return Err(format!("--to {to} is before --from {from}"));
        }
    }
    let (placeholder, default_table) = table_placeholder(sql)
        .ok_or_else(|| format!("{file}: no {{{{table=...}}}} placeholder (a bug)"))?;
    let table = match req.table {
        Some(t) => checked_table(t, req.dialect)?,
        None => default_table.to_string(),
    };
    let digest = Sha256::digest(sql.as_bytes());
    let sha256: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let marker = marker(req, &table, &sha256);

    let mut text = String::with_capacity(sql.len() + 256);
    for line in sql.lines() {
        let periodic = PERIOD_PLACEHOLDERS.iter().any(|p| line.contains(p));
        if periodic && req.period.is_none() {
            continue;
        }
        if !req.partition_filter && is_partition_line(line) {
            continue;
        }
        let mut line = line.replace(placeholder, &table);
        if let Some((from, to)) = req.period {
            let next = to.succ_opt().unwrap_or(to);
            line = line
                .replace("{{from}}", &from.to_string())
                .replace("{{to}}", &to.to_string())
                .replace("{{to_next}}", &next.to_string())
                .replace("{{from_month}}", &month(from))
                .replace("{{to_month}}", &month(to));
        }
        line = line.replace("{{query}}", &marker.replace('\'', "''"));
        text.push_str(&line);
        text.push('\n');
    }
    if let Some(at) = text.find("{{") {
        let rest: String = text[at..].chars().take(40).collect();
        return Err(format!(
            "{file}: an unknown placeholder at '{rest}' (a bug)"
        ));
    }
    Ok(Query {
        text,
        file,
        sha256,
        table,
        table_is_placeholder: req.table.is_none(),
        marker,
    })
}

/// The placeholders that carry the period.
const PERIOD_PLACEHOLDERS: [&str; 5] = [
    "{{from}}",
    "{{to}}",
    "{{to_next}}",
    "{{from_month}}",
    "{{to_month}}",
];

/// A line of the partition filter: its comment starts with `-- partition`.
fn is_partition_line(line: &str) -> bool {
    line.split_once("--")
        .is_some_and(|(_, comment)| comment.trim_start().starts_with("partition"))
}

/// The `{{table=DEFAULT}}` placeholder and its default.
fn table_placeholder(sql: &str) -> Option<(&str, &str)> {
    let start = sql.find("{{table=")?;
    let end = start + sql[start..].find("}}")? + 2;
    let whole = &sql[start..end];
    Some((whole, &whole["{{table=".len()..whole.len() - 2]))
}

/// A table name as given, if it cannot break the query around it.
fn checked_table(t: &str, dialect: Dialect) -> Result<String, String> {
    let mut t = t.trim();
    if dialect == Dialect::Bigquery {
        // The query quotes the name itself: `project.dataset.table`.
        t = t.trim_matches('`');
    }
    if t.is_empty() {
        return Err("--table is empty".into());
    }
    if t.contains(';') || t.contains('\n') || t.contains('\r') || t.contains("--") {
        return Err(format!(
            "--table '{t}' holds a ';', a line break or '--': name a table (or, in DuckDB, a table function such as read_parquet('...'))"
        ));
    }
    if dialect == Dialect::Bigquery && t.contains('`') {
        return Err(format!(
            "--table '{t}': a BigQuery table name holds no backquote inside"
        ));
    }
    Ok(t.to_string())
}

fn month(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The marker: the command that prints this query, and which query file.
fn marker(req: &QueryRequest<'_>, table: &str, sha256: &str) -> String {
    let mut m = format!(
        "llm-scope3 sql {} --dialect {} --table {}",
        req.template,
        req.dialect.name(),
        shell_word(table)
    );
    if let Some((from, to)) = req.period {
        m.push_str(&format!(" --from {from} --to {to}"));
    }
    if !req.partition_filter {
        m.push_str(" --no-partition-filter");
    }
    m.push_str(&format!(" (query {sha256})"));
    m
}

/// A word as a shell reads it back: as it is when it holds only plain characters, else in
/// double quotes.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c))
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn every_query_file_is_named_template_dot_dialect() {
        assert_eq!(crate::embedded::SQL_QUERIES.len(), available().len());
        let names: Vec<String> = available()
            .iter()
            .map(|(t, d)| format!("{t}.{}", d.name()))
            .collect();
        for want in [
            "aws-cur.athena",
            "aws-cur.duckdb",
            "azure-cost-export.duckdb",
            "gcp-billing.bigquery",
            "gcp-billing.duckdb",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
    }

    #[test]
    fn the_period_fills_dates_and_months_and_its_absence_drops_their_lines() {
        let req = QueryRequest {
            template: "aws-cur",
            dialect: Dialect::Athena,
            table: Some("billing.cur2"),
            period: Some((d("2026-01-01"), d("2026-03-31"))),
            partition_filter: true,
        };
        let q = render(&req).unwrap();
        assert!(q.text.contains("FROM billing.cur2\n"), "{}", q.text);
        assert!(q
            .text
            .contains("billing_period BETWEEN '2026-01' AND '2026-03'"));
        // The last day is inclusive: the bound is the day after it.
        assert!(q.text.contains("< TIMESTAMP '2026-04-01 00:00:00'"));
        assert!(q.text.contains(">= TIMESTAMP '2026-01-01 00:00:00'"));
        assert_eq!(
            q.marker,
            format!(
                "llm-scope3 sql aws-cur --dialect athena --table billing.cur2 --from 2026-01-01 --to 2026-03-31 (query {})",
                q.sha256
            )
        );
        assert!(!q.text.contains("{{"));

        let whole = render(&QueryRequest {
            period: None,
            table: None,
            ..req.clone()
        })
        .unwrap();
        assert!(!whole.text.contains("billing_period"));
        assert!(!whole.text.contains("TIMESTAMP '"));
        assert!(whole.text.contains("FROM cur2\n"));
        assert!(whole.table_is_placeholder);

        let no_partition = render(&QueryRequest {
            partition_filter: false,
            ..req
        })
        .unwrap();
        assert!(!no_partition.text.contains("billing_period"));
        assert!(no_partition
            .text
            .contains("< TIMESTAMP '2026-04-01 00:00:00'"));
        assert!(no_partition.marker.contains("--no-partition-filter"));
    }

    #[test]
    fn missing_queries_and_bad_tables_are_refused_with_what_exists() {
        let req = QueryRequest {
            template: "aws-cur",
            dialect: Dialect::Bigquery,
            table: None,
            period: None,
            partition_filter: true,
        };
        let e = render(&req).unwrap_err();
        assert!(e.contains("no bigquery query, only athena, duckdb"), "{e}");
        let e = render(&QueryRequest {
            template: "openai-usage",
            ..req.clone()
        })
        .unwrap_err();
        assert!(e.contains("aws-cur (athena, duckdb)"), "{e}");
        let e = render(&QueryRequest {
            template: "gcp-billing",
            table: Some("t; DROP TABLE x"),
            ..req.clone()
        })
        .unwrap_err();
        assert!(e.contains("';'"), "{e}");
        let q = render(&QueryRequest {
            template: "gcp-billing",
            table: Some("`acme-billing.exports.gcp_billing_export_v1_01A2B3`"),
            ..req.clone()
        })
        .unwrap();
        assert!(q
            .text
            .contains("FROM `acme-billing.exports.gcp_billing_export_v1_01A2B3`\n"));
        let e = render(&QueryRequest {
            template: "gcp-billing",
            period: Some((d("2026-03-31"), d("2026-01-01"))),
            ..req
        })
        .unwrap_err();
        assert!(e.contains("before"), "{e}");
    }

    #[test]
    fn a_table_expression_with_quotes_is_written_back_quoted() {
        let q = render(&QueryRequest {
            template: "aws-cur",
            dialect: Dialect::Duckdb,
            table: Some("read_parquet('cur/data/*/*.parquet', hive_partitioning = true)"),
            period: None,
            partition_filter: true,
        })
        .unwrap();
        assert!(q.marker.contains(
            "--table \"read_parquet('cur/data/*/*.parquet', hive_partitioning = true)\""
        ));
        // In the SQL string literal, the quotes are doubled.
        assert!(q.text.contains("read_parquet(''cur/data/*/*.parquet''"));
    }
}

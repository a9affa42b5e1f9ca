//! `llm-scope3 sql`: prints the warehouse query of a template (`warehouse::render`) on standard
//! output, and on standard error what the user still has to do: name the table, expect a whole
//! table scanned without a period, download the result and report on it.

use crate::cli::{SqlArgs, SqlDialect};
use crate::config::period_named;
use crate::error::{Error, Result};
use crate::warehouse::{self, Dialect, QueryRequest};

pub(crate) fn run(args: &SqlArgs) -> Result<()> {
    if args.list {
        for (template, dialect) in warehouse::available() {
            crate::outln!("{template}\t{}", dialect.name());
        }
        return Ok(());
    }
    let (Some(template), Some(dialect)) = (&args.template, args.dialect) else {
        return Err(Error::Usage(
            "name the template and the dialect: llm-scope3 sql aws-cur --dialect athena".into(),
        ));
    };
    let dialect = match dialect {
        SqlDialect::Athena => Dialect::Athena,
        SqlDialect::Bigquery => Dialect::Bigquery,
        SqlDialect::Duckdb => Dialect::Duckdb,
    };
    let period = period_named(&(&args.period).into(), args.config.as_deref())?;
    let query = warehouse::render(&QueryRequest {
        template,
        dialect,
        table: args.table.as_deref(),
        period: period.as_ref().map(|p| (p.start, p.end)),
        partition_filter: !args.no_partition_filter,
    })
    .map_err(Error::Usage)?;
    crate::out::text(&query.text);
    if query.table_is_placeholder {
        eprintln!(
            "note: the query reads the placeholder table {}: replace it, or name yours with --table",
            query.table
        );
    }
    match &period {
        Some(p) => eprintln!(
            "note: rows of {} to {} only ({}).",
            p.start,
            p.end,
            if args.no_partition_filter {
                "the whole table is scanned: --no-partition-filter"
            } else {
                "only the partitions of the period are scanned"
            }
        ),
        None => eprintln!(
            "note: no period given (--quarter, --year or --from/--to): the query reads every row of the table, and scans all of it"
        ),
    }
    eprintln!(
        "then: run it, download the result as CSV or Parquet, and give that file to llm-scope3 report or import (docs/warehouse.md)."
    );
    Ok(())
}

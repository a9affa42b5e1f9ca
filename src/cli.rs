//! The command line, as clap derive types. The doc comments are the `--help` text.
//! Parsing only: validation into a [`crate::config::Config`] happens once, in `config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turn LLM API usage exports into an auditable Scope 3 (ESRS E1-6) workbook.
///
/// Reads the usage exports your vendors' portals hand out (OpenAI, Anthropic, ...), estimates
/// energy, greenhouse-gas emissions and water for each line with low / central / high bounds
/// from cited factors, and writes a quarterly workbook and a JSON summary.
///
/// Exit codes: 0 success, 2 usage error, 3 input data error (nothing written), 1 internal error.
#[derive(Debug, Parser)]
#[command(name = "llm-scope3", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the Scope 3 workbook (and JSON) for a period from export files or folders.
    ///
    /// Every file is read; rows that cannot be used are listed with file, row, column and
    /// reason in the "Rejected Rows" sheet. If any named file cannot be used at all (unknown
    /// format, unreadable), nothing is written and the exit code is 3. So is a period in which
    /// no usage row falls (the message names the quarter the files hold; --allow-empty for a
    /// real zero).
    ///
    /// Every file's rows and money are reconciled and printed. Gaps are warnings, printed last
    /// and written on the Cover and Coverage sheets and in the JSON: months of the period
    /// without data, skipped rows that name an AI service (with their spend), models the factor
    /// set does not know, numbers with mixed separators. --final refuses gaps unless
    /// --accept-gaps says why.
    ///
    /// Examples:
    ///   llm-scope3 report samples/ --quarter 2026Q1 --out report.xlsx
    ///   llm-scope3 report usage.csv --year 2026 --json summary.json --as-of 2027-01-15
    ///   llm-scope3 report samples/ --quarter 2026Q1 --format csv --out q1-tables
    ///   llm-scope3 report samples/ --quarter 2026Q1 --format csv --csv-delimiter semicolon --out q1-tables
    ///   llm-scope3 report --ledger l.db --quarter 2026Q1 --final --accept-gaps "no AI use in February"
    ///   llm-scope3 report --ledger group.db --quarter 2026Q1 --entity "Acme France SAS" --final
    ///   llm-scope3 report --ledger group.db --quarter 2026Q1 --group --final
    ///   llm-scope3 report q1-2026/ --quarter 2026Q1 --prior summary-2025Q1.json --json summary-2026Q1.json
    #[command(verbatim_doc_comment)]
    Report(Box<ReportArgs>),
    /// Show how files are read: detected format, column mapping, first records, rejections.
    ///
    /// Examples:
    ///   llm-scope3 inspect samples/openai_completions_usage_2026-01-01_2026-03-31.csv
    ///   llm-scope3 inspect export.csv --template my-vendor.toml --rows 10
    #[command(verbatim_doc_comment)]
    Inspect(InspectArgs),
    /// Print the warehouse query (Athena, BigQuery, DuckDB) for billing data too large to
    /// download whole.
    ///
    /// The query selects, in the warehouse, only the rows a template reads, with exactly the
    /// columns it maps, summed by day, and filters on the table's monthly (CUR 2.0
    /// `billing_period`) or daily (BigQuery `_PARTITIONTIME`) partitions so that only the
    /// period is scanned.
    ///
    /// Run the query in the warehouse's console (Athena, BigQuery) or in DuckDB, download the
    /// result as CSV or Parquet, and give that file to `report` or `import` like the export
    /// itself: every line and total is the same, and the Imports sheet says which query the
    /// file came from (its `llm_scope3_query` column). The query goes to standard output,
    /// remarks to standard error. Queries: aws-cur (athena, duckdb), gcp-billing (bigquery,
    /// duckdb), azure-cost-export (duckdb, over the export files); they are files in
    /// templates/sql/. See docs/warehouse.md.
    ///
    /// Examples:
    ///   llm-scope3 sql aws-cur --dialect athena --table billing.cur2 --quarter 2026Q1 > q1.sql
    ///   llm-scope3 sql gcp-billing --dialect bigquery --from 2026-01-01 --to 2026-03-31 \
    ///       --table acme-billing.exports.gcp_billing_export_v1_01A2B3_C4D5E6_F70819
    ///   llm-scope3 sql aws-cur --dialect duckdb --year 2026 \
    ///       --table "read_parquet('cur2/data/*/*.parquet', hive_partitioning = true)"
    ///   llm-scope3 sql --list
    ///   llm-scope3 report bedrock-2026Q1.csv --quarter 2026Q1   # the downloaded result
    #[command(verbatim_doc_comment)]
    Sql(SqlArgs),
    /// Import export files into the ledger (default ./llm-scope3.db, or $LLM_SCOPE3_LEDGER; a
    /// postgres:// URL names a PostgreSQL ledger), one transaction per file.
    ///
    /// The same file twice changes nothing. Records identical to ones already imported are
    /// duplicates; differing ones for the same key are the vendor's restatement and the newer
    /// import wins (see the Change Log sheet). An export of another granularity over a period
    /// already imported is refused unless --replace names the import it supersedes.
    ///
    /// Examples:
    ///   llm-scope3 import exports/january/*.csv
    ///   llm-scope3 import exports/          # every month's subfolder
    ///   llm-scope3 import usage_daily_2026-02.csv --replace 3 --ledger finance.db
    ///   llm-scope3 import exports/ --ledger postgres://preparer@db.internal/llm_scope3
    ///   llm-scope3 import exports/france/ --entity "Acme France SAS" --ledger group.db
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Write a commented example configuration file (./llm-scope3.toml, or the path given).
    ///
    /// Examples:
    ///   llm-scope3 init
    ///   llm-scope3 init config/acme.toml
    #[command(verbatim_doc_comment)]
    Init {
        /// Where to write it.
        #[arg(default_value = crate::config::DEFAULT_CONFIG)]
        path: PathBuf,
    },
    /// List, show or remove the ledger's imports; verify the ledger file.
    ///
    /// Examples:
    ///   llm-scope3 imports list
    ///   llm-scope3 imports show 3
    ///   llm-scope3 imports remove 3 --yes
    ///   llm-scope3 imports verify --ledger finance.db
    #[command(verbatim_doc_comment)]
    Imports(ImportsArgs),
    /// Move a whole ledger: `ledger copy` copies every import, record, rejected row, vendor
    /// carbon row, change-log entry, final statement, user of the upload page and audit-log
    /// entry, with their numbers, into a new or empty ledger, from an SQLite file to a
    /// PostgreSQL database or back (docs/postgres.md).
    ///
    /// Examples:
    ///   llm-scope3 ledger copy --from finance.db --to postgres://preparer@db.internal/llm_scope3
    ///   llm-scope3 ledger copy --from postgres://auditor@db.internal/llm_scope3 --to audit-2026Q1.db
    #[command(verbatim_doc_comment)]
    Ledger(LedgerArgs),
    /// The factor set: list models, show a model's factors, export, check, diff, validate.
    ///
    /// Examples:
    ///   llm-scope3 factors list
    ///   llm-scope3 factors show gpt-4o-2024-08-06
    ///   llm-scope3 factors export my-factors && llm-scope3 factors check my-factors/2026.3
    ///   llm-scope3 factors diff 2026.2 2026.3
    ///   llm-scope3 factors validate
    #[command(verbatim_doc_comment)]
    Factors(FactorsArgs),
    /// The people who may use the upload page, with their roles, kept in the ledger.
    ///
    /// Roles: viewer (read reports), preparer (also upload and import exports), approver
    /// (also record final statements), admin (also manage users). Once the ledger has a user,
    /// `serve --ledger` asks everybody to sign in. Passwords are stored as Argon2id hashes,
    /// never as given; they are read from the terminal without echo, or from the first line
    /// of standard input with --password-stdin, never from the command line. A user without
    /// a password (--no-password) can come in only through a single-sign-on proxy
    /// (`serve --trusted-proxy`). Every change is in the audit log, as the operating-system
    /// user ($USER).
    ///
    /// Examples:
    ///   llm-scope3 users add ann --role preparer --ledger finance.db
    ///   printf '%s\n' "$PASS" | llm-scope3 users add bob --role approver --password-stdin
    ///   llm-scope3 users add carol@example.com --role viewer --no-password
    ///   llm-scope3 users passwd ann
    ///   llm-scope3 users role ann approver
    ///   llm-scope3 users remove ann
    ///   llm-scope3 users list
    #[command(verbatim_doc_comment)]
    Users(UsersArgs),
    /// The audit log: every import, removal, final statement, sign-in (and failed sign-in)
    /// and change of users, with who, when, how and what. Also on the workbook's Change Log.
    ///
    /// Examples:
    ///   llm-scope3 audit list --ledger finance.db
    ///   llm-scope3 audit list --last 20
    #[command(verbatim_doc_comment)]
    Audit(AuditArgs),
    /// Serve the upload page: drop exports in a browser, download the workbook.
    ///
    /// Loopback only by default; the page and its JSON API (docs/api.md) answer only to the
    /// bound address. Without --ledger nothing is kept between requests; reports can be
    /// downloaded for an hour. With --bind 127.0.0.1:0 the system picks a free port; the
    /// address is printed on the first line of standard output.
    ///
    /// Sign-in: when the --ledger has users (`llm-scope3 users add`), everybody signs in and
    /// may do what their role allows; with --trusted-proxy, a single-sign-on proxy in front
    /// (oauth2-proxy before Entra ID or Okta, say) names the user in a header and the role
    /// comes from the ledger. Without either, the page is open to whoever can reach it, so the
    /// server refuses to listen beyond loopback then (exit 2).
    ///
    /// Examples:
    ///   llm-scope3 serve
    ///   llm-scope3 serve --bind 127.0.0.1:9000 --ledger finance.db
    ///   llm-scope3 serve --bind 0.0.0.0:8080 --ledger finance.db --trusted-proxy 10.0.0.5
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
}

/// `serve` arguments.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on. Anything but a loopback address exposes the page to
    /// the network (a warning is printed).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
    /// Ledger file, or a postgres:// URL: uploads are imported into it and reports made from
    /// it. Without it, nothing is kept between requests (LLM_SCOPE3_LEDGER is not read here).
    #[arg(long, value_name = "FILE|URL")]
    pub ledger: Option<PathBuf>,
    /// Largest upload (all files of one request together), in MiB.
    #[arg(long, value_name = "MiB", default_value_t = 200)]
    pub max_upload_mib: usize,
    /// Longest a request may take, upload and processing included, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
    /// Uploads admitted at once (received, waiting or being built); past it the server
    /// answers 503 with Retry-After. Each costs memory while its report is built.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub queue: usize,
    /// Slowest upload kept, in KiB/s, averaged over --rate-window once --upload-grace has
    /// passed: a slower upload is answered 408, and while the queue is full one under half of
    /// it gives its place to a new upload. 0: no minimum.
    #[arg(long, value_name = "KiB/s", default_value_t = 64)]
    pub min_upload_rate: u64,
    /// Seconds after an upload starts before --min-upload-rate applies.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub upload_grace: u64,
    /// Seconds the upload rate is averaged over.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub rate_window: u64,
    /// Seconds an upload waits for another program writing the --ledger (an import from the
    /// command line) before it is answered 503 with Retry-After.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub ledger_wait: u64,
    /// Address (or network, IP/CIDR) of the reverse proxy in front of the page (TLS, single
    /// sign-on); repeatable. Its X-Forwarded-Proto, -Host and -For are believed (the site the
    /// browser sees, the client's address), and with --proxy-user-header the user it names.
    /// Sign-in applies from the start. Needs --ledger (docs/deploy.md).
    #[arg(long = "trusted-proxy", value_name = "IP/CIDR")]
    pub trusted_proxies: Vec<String>,
    /// The header in which a --trusted-proxy doing single sign-on names the signed-in user,
    /// whose role is then read from the --ledger's users (oauth2-proxy with
    /// --pass-user-headers sends X-Forwarded-Email and X-Forwarded-User). Without it, users
    /// sign in with their passwords, and no header can name one. The proxy must set this
    /// header itself on every request, replacing any the browser sent.
    #[arg(long, value_name = "NAME")]
    pub proxy_user_header: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub read: ReadArgs,
}

/// `users` arguments.
#[derive(Debug, Clone, Args)]
pub struct UsersArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub action: Option<UsersAction>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub ledger: LedgerArg,
}

/// How a new password is given.
#[derive(Debug, Clone, Args)]
pub struct PasswordArgs {
    /// Read the password from the first line of standard input (for scripts) instead of
    /// asking for it on the terminal.
    #[arg(long, conflicts_with = "no_password")]
    pub password_stdin: bool,
    /// No password: the user can come in only through a single-sign-on proxy (serve
    /// --trusted-proxy), named by it.
    #[arg(long)]
    pub no_password: bool,
}

/// `users` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum UsersAction {
    /// Every user: name, role, whether they have a password, when added and changed.
    List,
    /// Add a user (creates the ledger when it does not exist). Asks for the password twice
    /// on the terminal unless --password-stdin or --no-password.
    Add {
        /// The user's name (kept in lower case): what they type to sign in, or the e-mail
        /// address the single-sign-on proxy sends.
        name: String,
        /// viewer, preparer, approver or admin.
        #[arg(long, value_name = "ROLE")]
        role: String,
        #[command(flatten)]
        #[allow(missing_docs)]
        password: PasswordArgs,
    },
    /// Set a user's password (asked twice on the terminal unless --password-stdin), or
    /// remove it (--no-password: single sign-on only).
    Passwd {
        /// The user's name.
        name: String,
        #[command(flatten)]
        #[allow(missing_docs)]
        password: PasswordArgs,
    },
    /// Give a user another role.
    Role {
        /// The user's name.
        name: String,
        /// viewer, preparer, approver or admin.
        role: String,
    },
    /// Remove a user: they can no longer sign in (a session of theirs ends at its next
    /// request). What they did stays in the audit log.
    Remove {
        /// The user's name.
        name: String,
    },
}

/// `audit` arguments.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: AuditAction,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub ledger: LedgerArg,
}

/// `audit` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditAction {
    /// The audit log, oldest first: when (UTC), who, how (command line, page, single
    /// sign-on, with the client's address), what, and the details.
    List {
        /// Only the last N entries.
        #[arg(long, value_name = "N")]
        last: Option<usize>,
    },
}

/// The reporting period: exactly one of --quarter, --year or --from/--to.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// Calendar quarter to report, e.g. 2026Q1.
    #[arg(long, value_name = "YYYYQn", conflicts_with_all = ["year", "from", "to"])]
    pub quarter: Option<String>,
    /// Calendar year to report, e.g. 2026.
    #[arg(long, value_name = "YYYY", conflicts_with_all = ["from", "to"])]
    pub year: Option<String>,
    /// First day of a custom period (with --to).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "to")]
    pub from: Option<String>,
    /// Last day of a custom period, inclusive (with --from).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "from")]
    pub to: Option<String>,
}

/// Options shared by commands that read export files.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Extra import template (TOML) for a format the tool does not know; repeatable.
    /// See docs/formats.md for how to write one.
    #[arg(long = "template", value_name = "FILE")]
    pub templates: Vec<PathBuf>,
    /// Factor set: an embedded version (e.g. 2026.1) or a folder in the same layout.
    /// Default: the config file's, else the default embedded version (2026.3; 2026.1
    /// reproduces reports made with it).
    #[arg(long, value_name = "VERSION|DIR")]
    pub factors: Option<String>,
    /// Configuration file (entity, fiscal year, regions, cost centres, exclusions, factor
    /// overrides). Default: ./llm-scope3.toml when it exists. `llm-scope3 init` writes one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Most distinct AI Services lines a report may hold (provider × model × region × month ×
    /// cost centre ...); memory grows with them. A file that makes more stops with an error
    /// naming the column with the most distinct values. Default: the config file's
    /// `[limits] max_lines`, else 100000.
    #[arg(long, value_name = "N")]
    pub max_lines: Option<usize>,
}

impl From<&PeriodArgs> for crate::config::PeriodRequest {
    fn from(p: &PeriodArgs) -> Self {
        crate::config::PeriodRequest {
            quarter: p.quarter.clone(),
            year: p.year.clone(),
            from: p.from.clone(),
            to: p.to.clone(),
        }
    }
}

impl From<&ReadArgs> for crate::config::ReadRequest {
    fn from(r: &ReadArgs) -> Self {
        crate::config::ReadRequest {
            templates: r.templates.clone(),
            factors: r.factors.clone(),
            config: r.config.clone(),
            max_lines: r.max_lines,
        }
    }
}

/// What `report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The workbook.
    Xlsx,
    /// summary.csv and the workbook's tables as CSV files in a folder.
    Csv,
}

/// How `--format csv` separates fields and writes decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsvDelimiter {
    /// `,` between fields and a decimal point in numbers: 12.5 (the default).
    Comma,
    /// `;` between fields and a decimal comma in numbers: 12,5 (for spreadsheets set to a
    /// European locale).
    Semicolon,
}

/// `report` arguments.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Export files, or folders to read every export in, subfolders included (hidden files and
    /// other files are listed as not read, with the reason). Without any, the report is made
    /// from the ledger (--ledger, default ./llm-scope3.db).
    #[arg(value_name = "FILES|DIRS")]
    pub inputs: Vec<PathBuf>,
    /// Ledger file, or a postgres:// URL: with FILES, import them into it first and report
    /// from it; without FILES, report from it (default ./llm-scope3.db, or $LLM_SCOPE3_LEDGER).
    /// Without this option and with FILES, no ledger is read or written.
    #[arg(long, value_name = "FILE|URL")]
    pub ledger: Option<PathBuf>,
    /// Record this report's totals in the ledger as the final statement of the period (#1,
    /// #2 ...): the workbook says Final with the statement's number and date, and its sheets
    /// are protected but for the sign-off cells. Later reports of the period say whether their
    /// figure matches the statement or differs, by how much and why (a warning).
    #[arg(long = "final")]
    pub final_: bool,
    /// With --final: state the period although its coverage has gaps (a month without data,
    /// a period reaching past the data), giving the reason. Recorded in the ledger and shown
    /// on the Cover.
    #[arg(long, value_name = "REASON", requires = "final_")]
    pub accept_gaps: Option<String>,
    /// Write the report even when no usage row falls in the period (a real zero). Without it,
    /// such a report is refused (exit 3) with the dates the files hold.
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub period: PeriodArgs,
    /// Workbook to write (with --format csv: the folder to write the CSV files in). Default:
    /// llm-scope3-<period>.xlsx (the folder llm-scope3-<period>) in the current folder.
    #[arg(long, short, value_name = "FILE.xlsx|DIR")]
    pub out: Option<PathBuf>,
    /// Output format: `xlsx` (the workbook) or `csv`: summary.csv (the disclosure figures,
    /// one per row: name, value, unit, low, high, note) and the workbook's tables as CSV files
    /// in the folder named by --out, for BI tools. Numbers in full, never with thousands
    /// separators.
    #[arg(long, value_name = "xlsx|csv", value_enum, default_value_t = OutputFormat::Xlsx)]
    pub format: OutputFormat,
    /// With --format csv: `comma` (default; `,` between fields, 12.5) or `semicolon` (`;`
    /// between fields and a decimal comma in every number, 12,5, for spreadsheets set to a
    /// European locale; text is left as it is). Fields holding the delimiter, a quote or a
    /// line break are quoted (RFC 4180).
    /// Example: --format csv --csv-delimiter semicolon --out q1-tables
    #[arg(long, value_name = "comma|semicolon", value_enum)]
    pub csv_delimiter: Option<CsvDelimiter>,
    /// Also write the JSON summary (schema in docs/summary.schema.json).
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
    /// Date to print as "generated at" (UTC midnight); makes the output reproducible.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Reporting entity named on the Cover. From a ledger that holds reporting entities
    /// (subsidiaries: `import --entity NAME`, or `[[entities]]` rules in the config file), the
    /// report of that entity alone: only its records, its N-1 and trend, and --final records
    /// the entity's statement. With FILES and --ledger, the files are imported as that
    /// entity's first. A ledger without entities reports every record, as before.
    /// Example: --ledger group.db --quarter 2026Q1 --entity "Acme France SAS"
    #[arg(long, value_name = "NAME", conflicts_with = "group")]
    pub entity: Option<String>,
    /// From a ledger: the group's consolidated report, every record of every entity (and
    /// those of none), with an Entities sheet giving each entity's tCO2e, energy, tokens and
    /// spend, adding up to the group's total; --final records the group's statement. Without
    /// --entity or --group, a ledger that holds entities is reported as the group.
    #[arg(long)]
    pub group: bool,
    /// The preparer's commentary on the period (what changed, why), printed on the Cover
    /// under "Commentary" and in the JSON summary (`note`).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// A what-if scenario for the Levers sheet and the JSON summary's `what_if` (repeat for
    /// more; added to `[levers] what_if` of the config file): `move 50% gpt-4o to
    /// gpt-4o-mini` (another model of the same provider, or `to PROVIDER/MODEL`), `region
    /// anthropic eu-north-1` (a provider's usage served from another region), `cache 30% of
    /// input [for PROVIDER|MODEL]` (more input read from the prompt cache). Never changes the
    /// reported figure.
    #[arg(long = "what-if", value_name = "SCENARIO")]
    pub what_if: Vec<String>,
    /// The comparative period (N-1) of a run without a ledger: an earlier JSON summary written
    /// by `report --json` for the same period a year earlier (same length, ending one year
    /// before; anything else is refused). Its totals fill the E1-6 Summary's "Comparative
    /// (N-1)" and "% change" columns, summary.csv and the JSON's `comparative_period`. With a
    /// ledger the N-1 comes from the ledger; --prior is used only when the ledger holds no
    /// data for the period a year earlier.
    /// Example: --quarter 2026Q1 --prior summary-2025Q1.json
    #[arg(long, value_name = "FILE.json")]
    pub prior: Option<PathBuf>,
    /// Print how long reading, building the workbook and writing took (stderr); used by
    /// benches/compare.sh.
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub read: ReadArgs,
}

/// The ledger option shared by ledger commands.
#[derive(Debug, Clone, Args)]
pub struct LedgerArg {
    /// Ledger: an SQLite file, or a PostgreSQL database as postgres://USER@HOST[:PORT]/DATABASE
    /// (the password from PGPASSWORD; never shown). Default: $LLM_SCOPE3_LEDGER when set,
    /// else ./llm-scope3.db.
    #[arg(long, global = true, value_name = "FILE|URL")]
    pub ledger: Option<PathBuf>,
}

/// `ledger` arguments.
#[derive(Debug, Clone, Args)]
pub struct LedgerArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: LedgerAction,
}

/// `ledger` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum LedgerAction {
    /// Copy a ledger into a new or empty one (a file is made when it does not exist; a
    /// PostgreSQL database must exist). Refuses a destination that holds anything; on failure
    /// nothing is copied.
    Copy {
        /// The ledger to copy: a file or a postgres:// URL.
        #[arg(long, value_name = "FILE|URL")]
        from: PathBuf,
        /// The new ledger: a file or a postgres:// URL.
        #[arg(long, value_name = "FILE|URL")]
        to: PathBuf,
    },
}

/// `import` arguments.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Export files, or folders to read every export in, subfolders included (hidden files and
    /// other files are listed as not read, with the reason).
    #[arg(value_name = "FILES|DIRS", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Supersede this import (by id): for an export of another granularity over its period.
    #[arg(long, value_name = "ID")]
    pub replace: Option<i64>,
    /// The reporting entity (subsidiary) every record of these files belongs to; `report
    /// --entity NAME` reports it alone, `report --group` the group. Without it, the config
    /// file's `[[entities]]` rules assign records by billing account or cost centre; a record
    /// no rule matches belongs to no entity (the group's report only).
    #[arg(long, value_name = "NAME")]
    pub entity: Option<String>,
    /// Configuration file whose `[[entities]]` rules assign records to reporting entities.
    /// Default: ./llm-scope3.toml when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub ledger: LedgerArg,
    /// Extra import template (TOML); repeatable.
    #[arg(long = "template", value_name = "FILE")]
    pub templates: Vec<PathBuf>,
}

/// `imports` arguments.
#[derive(Debug, Clone, Args)]
pub struct ImportsArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub action: Option<ImportsAction>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub ledger: LedgerArg,
}

/// `imports` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum ImportsAction {
    /// Every import: id, file, format, dates, rows, duplicates, restatements.
    List,
    /// One import's row accounting and rejections.
    Show {
        /// Import id.
        id: i64,
    },
    /// Withdraw an import: its records stop counting (recorded in the change log).
    Remove {
        /// Import id.
        id: i64,
        /// Confirm the removal (required).
        #[arg(long)]
        yes: bool,
    },
    /// Check the whole ledger for damage (a file: SQLite's full integrity check and foreign
    /// key check; PostgreSQL: the ledger's own consistency checks) and count what it holds;
    /// changes nothing. Every command already runs a quicker check when it opens a ledger
    /// file; this one reads every page and index. Exit 3 when damage is found: restore the
    /// ledger from a backup.
    ///
    /// Example:
    ///   llm-scope3 imports verify --ledger finance.db
    #[command(verbatim_doc_comment)]
    Verify,
}

/// The SQL dialect of a warehouse query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlDialect {
    /// Amazon Athena (Trino SQL): AWS CUR 2.0 / Data Exports tables.
    Athena,
    /// Google BigQuery: the Cloud Billing export.
    Bigquery,
    /// DuckDB: the exports' Parquet or CSV files themselves.
    Duckdb,
}

/// `sql` arguments.
#[derive(Debug, Clone, Args)]
pub struct SqlArgs {
    /// The template whose rows the query selects: aws-cur, gcp-billing or azure-cost-export.
    #[arg(value_name = "TEMPLATE", required_unless_present = "list")]
    pub template: Option<String>,
    /// The warehouse's SQL dialect.
    #[arg(long, value_enum, required_unless_present = "list")]
    pub dialect: Option<SqlDialect>,
    /// The billing table: Athena `database.table`, BigQuery `project.dataset.table`, or in
    /// DuckDB a table or a table function such as read_parquet('...'). Default: a placeholder
    /// name to replace.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub period: PeriodArgs,
    /// Leave out the filter on the table's partitions (for a table without the
    /// `billing_period` partition column). The query then scans the whole table, and costs
    /// what scanning it costs.
    #[arg(long)]
    pub no_partition_filter: bool,
    /// Configuration file, for the fiscal year of --quarter and --year. Default:
    /// ./llm-scope3.toml when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// List the queries there are (template and dialects) instead.
    #[arg(long)]
    pub list: bool,
}

/// `inspect` arguments.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Files to inspect.
    #[arg(value_name = "FILES", required = true)]
    pub files: Vec<PathBuf>,
    /// How many records to show per file.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub rows: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub read: ReadArgs,
}

/// `factors` arguments.
#[derive(Debug, Clone, Args)]
pub struct FactorsArgs {
    /// What to show.
    #[command(subcommand)]
    pub action: FactorsAction,
    /// Factor set: an embedded version or a folder. Default: the default embedded version (2026.3).
    #[arg(long, global = true, value_name = "VERSION|DIR")]
    pub factors: Option<String>,
}

/// `factors` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum FactorsAction {
    /// List the models of the factor set with their parameter estimates.
    List,
    /// Show how a model id resolves and its per-token energy, low / central / high.
    Show {
        /// The model id as an export writes it, e.g. gpt-4o-2024-08-06.
        model: String,
        /// Provider whose data-centre factors to show.
        #[arg(long, default_value = "openai")]
        provider: String,
    },
    /// Write an embedded factor set (the default, or --factors VERSION) into DIR/<version>/,
    /// byte for byte, to keep beside a report or to edit. Refuses a non-empty folder.
    ///
    /// Examples:
    ///   llm-scope3 factors export audit/factors
    ///   llm-scope3 factors export audit/factors --factors 2026.1
    #[command(verbatim_doc_comment)]
    Export {
        /// Folder to write DIR/<version>/ in (created when missing).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Check a factor-set folder and list every problem (exit 3 when there is one).
    ///
    /// Checks the files and columns, ids unique, source ids known, low <= central <= high,
    /// parameter ranges, constant units, years, alias targets, the default class and each
    /// provider's default geography.
    ///
    /// Examples:
    ///   llm-scope3 factors check audit/factors/2026.3
    #[command(verbatim_doc_comment)]
    Check {
        /// The set's folder (or an embedded version).
        #[arg(value_name = "DIR")]
        set: String,
    },
    /// List what changed between two factor sets: rows added, removed and changed per file,
    /// with old -> new values, and both SHA-256s.
    ///
    /// Examples:
    ///   llm-scope3 factors diff 2026.2 2026.3
    ///   llm-scope3 factors diff 2026.3 audit/factors/2026.3
    #[command(verbatim_doc_comment)]
    Diff {
        /// The older set: an embedded version or a folder.
        #[arg(value_name = "A")]
        a: String,
        /// The newer set: an embedded version or a folder.
        #[arg(value_name = "B")]
        b: String,
    },
    /// Compare the tool's energy per request with published figures (METHODOLOGY §6);
    /// exit 3 when a checked figure is not within the tool's range.
    ///
    /// Examples:
    ///   llm-scope3 factors validate
    ///   llm-scope3 factors validate --markdown
    #[command(verbatim_doc_comment)]
    Validate {
        /// Print the table as Markdown (as docs/methodology.md shows it).
        #[arg(long)]
        markdown: bool,
    },
}

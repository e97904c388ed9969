//! `kavach-store`: migrations, schema checks, copying between backends and
//! expiry purges for kavach-store databases.
//!
//! Every failure is one line on stderr (`error: …`) and a non-zero exit code.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kavach_store::prelude::*;
use kavach_store::{ConnectOptions, connect};
use kavach_store_cli::{copy, schema_check};

#[derive(Parser)]
#[command(
    name = "kavach-store",
    version,
    about = "Manage kavach-store databases (KavachOS data model)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (adopting a database created by KavachOS) and show what ran.
    Migrate {
        /// Store URL: sqlite://file.db, postgres://…, mysql://…, mariadb://…, memory://
        url: String,
    },
    /// Schema version, pending migrations, row counts per table, and columns missing or unexpected against the spec.
    Status {
        /// Store URL.
        url: String,
    },
    /// Check that every table, column and hot-path index the library needs exists; non-zero exit otherwise.
    Verify {
        /// Store URL.
        url: String,
    },
    /// Copy every row of every table from one store to another (parents first, in batches, idempotent), then compare counts.
    Copy {
        /// Source store URL.
        from: String,
        /// Target store URL (migrated first).
        to: String,
    },
    /// Run every expiry purge and print the rows deleted per table.
    PurgeExpired {
        /// Store URL.
        url: String,
    },
}

/// A failure of a command, printed as one line.
#[derive(Debug)]
struct Failure(String);

impl<E: std::error::Error> From<E> for Failure {
    /// Joins the error and its sources into one line, skipping what an
    /// earlier part already says (drivers often repeat their source).
    fn from(e: E) -> Self {
        let mut line = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !line.contains(&text) {
                line = format!("{line}: {text}");
            }
            source = s.source();
        }
        let mut segments: Vec<&str> = Vec::new();
        for segment in line.split(": ") {
            if segments.last() != Some(&segment) {
                segments.push(segment);
            }
        }
        Failure(segments.join(": ").replace('\n', " "))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn open(url: &str, migrate: bool) -> Result<Arc<dyn KavachStore>, Failure> {
    let options = ConnectOptions::default().skip_migrations(!migrate);
    Ok(connect(url, &options).await?)
}

async fn run(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Migrate { url } => {
            let store = open(&url, false).await?;
            let Some(admin) = store.admin() else {
                println!("{}: no schema to migrate", store.backend_name());
                return Ok(ExitCode::SUCCESS);
            };
            let applied = admin.migrate().await?;
            if applied.is_empty() {
                println!("schema is up to date");
            }
            for m in &applied {
                println!("applied {:>4}  {}", m.version, m.name);
            }
            let status = admin.migration_status().await?;
            println!(
                "schema version: {}",
                status
                    .current_version()
                    .map_or("none".into(), |v| v.to_string())
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { url } => status(&url).await,
        Command::Verify { url } => verify(&url).await,
        Command::Copy { from, to } => copy(&from, &to).await,
        Command::PurgeExpired { url } => {
            let store = open(&url, false).await?;
            let report = store.purge_expired(chrono::Utc::now()).await?;
            for (table, n) in &report.purged {
                println!("{table:<36} {n:>10}");
            }
            println!("{:<36} {:>10}", "total", report.total());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn status(url: &str) -> Result<ExitCode, Failure> {
    let store = open(url, false).await?;
    println!("backend: {}", store.backend_name());
    let Some(admin) = store.admin() else {
        print_counts(store.as_ref(), all_tables().iter().map(|t| t.name)).await?;
        return Ok(ExitCode::SUCCESS);
    };
    let migrations = admin.migration_status().await?;
    println!(
        "schema version: {}",
        migrations
            .current_version()
            .map_or("none (not migrated by kavach-store)".into(), |v| v
                .to_string())
    );
    if migrations.pending.is_empty() {
        println!("pending migrations: none");
    } else {
        for m in &migrations.pending {
            println!("pending migration {:>4}  {}", m.version, m.name);
        }
    }
    let tables = admin.inspect_tables().await?;
    let present: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    print_counts(
        store.as_ref(),
        all_tables()
            .iter()
            .map(|t| t.name)
            .filter(|n| present.contains(n)),
    )
    .await?;
    for problem in schema_check::check_schema(admin, &tables) {
        if !matches!(problem, schema_check::Problem::MissingIndex(_)) {
            println!("{problem}");
        }
    }
    for (table, column) in schema_check::unexpected_columns(&tables) {
        println!("unexpected column {table}.{column} (kept, not used)");
    }
    Ok(ExitCode::SUCCESS)
}

async fn print_counts(
    store: &dyn KavachStore,
    tables: impl Iterator<Item = &'static str>,
) -> Result<(), Failure> {
    println!("{:<36} {:>10}", "table", "rows");
    for name in tables {
        let def = table_by_name(name).expect("spec table");
        println!(
            "{name:<36} {:>10}",
            store.count_rows(def, &Cond::All).await?
        );
    }
    Ok(())
}

async fn verify(url: &str) -> Result<ExitCode, Failure> {
    let store = open(url, false).await?;
    let Some(admin) = store.admin() else {
        println!(
            "{}: schema is defined by the library itself; nothing to verify",
            store.backend_name()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let tables = admin.inspect_tables().await?;
    let problems = schema_check::check_schema(admin, &tables);
    if problems.is_empty() {
        println!(
            "ok: {} tables, every column and hot-path index present",
            all_tables().len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} problem(s):", problems.len());
    for problem in &problems {
        println!("  {problem}");
    }
    println!("run `kavach-store migrate <url>` to add what is missing");
    Ok(ExitCode::FAILURE)
}

async fn copy(from_url: &str, to_url: &str) -> Result<ExitCode, Failure> {
    let from = open(from_url, false).await?;
    let to = open(to_url, true).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:<36} [{bar:30}] {pos}/{len}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let report = copy::copy_all(from.as_ref(), to.as_ref(), |table, done, total| {
        bar.set_message(table);
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    let mismatches = report.mismatches();
    for (table, source, target) in &report.tables {
        let mark = if source == target { "ok" } else { "MISMATCH" };
        println!("{table:<36} {source:>10} -> {target:>10}  {mark}");
    }
    if mismatches.is_empty() {
        println!(
            "copied {} rows in {} tables",
            report.tables.iter().map(|t| t.1).sum::<u64>(),
            report.tables.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: {} table(s) differ after the copy (the target had rows the source lacks?)",
            mismatches.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

//! `streamlib`: see a running pipeline from outside.
//!
//! Reads the inspection API of runtimes built with `Runtime::builder().inspect(..)` (cargo
//! feature `inspect` of `streamlib`), found through their discovery files or given by `--addr`:
//!
//! - `streamlib ls`: running runtimes and their actors;
//! - `streamlib top [--once]`: a live table per actor (fps, late and skipped ticks, errors,
//!   panics, process p50/p99, share of a core); `q` quits, `s` changes the sort;
//! - `streamlib graph [--format dot|json|svg]`: the live graph, payload types on the edges;
//! - `streamlib tap actor://local/Camera/cam0.video`: each new value of a port, rate-limited.

mod client;
mod render;
mod top;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use streamlib::inspect::discovery;

use client::{encode, Client};
use render::SortKey;

#[derive(Parser, Debug)]
#[command(
    name = "streamlib",
    version,
    about = "See a running streamlib pipeline from outside"
)]
struct Cli {
    /// The runtime's inspection address (host:port); default: the only one running.
    #[arg(long, global = true)]
    addr: Option<String>,
    /// Among the runtimes found, the one of this process.
    #[arg(long, global = true)]
    pid: Option<u32>,
    /// Bearer token, for a runtime serving beyond loopback.
    #[arg(long, global = true, env = "STREAMLIB_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Running runtimes and their actors.
    Ls,
    /// A live table of the actors.
    Top {
        /// Print one plain-text snapshot and exit.
        #[arg(long)]
        once: bool,
        /// Sort by this column (largest first).
        #[arg(long, value_enum, default_value = "core")]
        sort: SortKey,
        /// Seconds between refreshes (and between the two samples of --once; rates need 0.2).
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
    },
    /// The live graph.
    Graph {
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
    },
    /// Prints each new value of a port: `<actor URI>.<port>`.
    Tap {
        port: String,
        /// Most values printed per second (newer ones replace older ones in between).
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        /// Exit after this many values.
        #[arg(long)]
        count: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GraphFormat {
    Dot,
    Json,
    Svg,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("streamlib: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    if let Command::Ls = cli.command {
        return ls(&cli);
    }
    let client = Client::choose(cli.addr.as_deref(), cli.pid, cli.token.clone())?;
    match cli.command {
        Command::Ls => unreachable!("handled above"),
        Command::Top {
            once,
            sort,
            interval,
        } => {
            let interval = Duration::from_secs_f64(interval.clamp(0.2, 3600.0));
            if once {
                top::once(&client, sort, interval)
            } else {
                top::live(&client, sort, interval)
            }
        }
        Command::Graph { format } => {
            let graph = client.get("/api/graph")?;
            let text = match format {
                GraphFormat::Dot => render::dot(&graph),
                GraphFormat::Json => format!("{graph:#}\n"),
                GraphFormat::Svg => render::svg(&graph),
            };
            print(&text)
        }
        Command::Tap { port, rate, count } => tap(&client, &port, rate, count),
    }
}

/// Prints to stdout; a closed pipe (`| head`) ends quietly.
fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}

fn ls(cli: &Cli) -> Result<(), String> {
    let clients: Vec<Client> = match cli.addr.as_deref() {
        Some(_) => vec![Client::choose(
            cli.addr.as_deref(),
            None,
            cli.token.clone(),
        )?],
        None => discovery::list()
            .into_iter()
            .filter(|r| cli.pid.is_none_or(|pid| r.pid == pid))
            .map(|r| Client::new(r.address, Some(r.pid), cli.token.clone()))
            .collect(),
    };
    if clients.is_empty() {
        return print(&format!(
            "no running runtime with inspection (looked in {})\n",
            discovery::directory().display()
        ));
    }
    let mut out = String::new();
    for client in clients {
        let pid = client.pid.map_or("?".to_owned(), |p| p.to_string());
        match client.get("/api/graph") {
            Ok(graph) => {
                let actors = graph["actors"].as_array().cloned().unwrap_or_default();
                out.push_str(&format!(
                    "runtime pid {pid} at {}: {} actors\n",
                    client.address,
                    actors.len()
                ));
                for actor in actors {
                    out.push_str(&format!(
                        "  {}  [{}]\n",
                        actor["uri"].as_str().unwrap_or("?"),
                        actor["clock"].as_str().unwrap_or("?")
                    ));
                }
            }
            Err(e) => out.push_str(&format!("runtime pid {pid}: {e}\n")),
        }
    }
    print(&out)
}

fn tap(client: &Client, port: &str, rate: f64, count: Option<u64>) -> Result<(), String> {
    let pause = Duration::from_secs_f64(1.0 / rate.clamp(0.01, 1000.0));
    let path = format!("/api/tap?port={}", encode(port));
    let first = client.get(&path)?;
    if first["debug"] == false && first["connected"] == true {
        eprintln!(
            "{port}: {} is not Debug; printing sequence numbers only",
            first["payload"].as_str().unwrap_or("the payload")
        );
    }
    let mut after = 0u64;
    let mut printed = 0u64;
    let mut answer = first;
    loop {
        let seq = answer["seq"].as_u64().unwrap_or(0);
        if seq > after {
            let text = match answer["text"].as_str() {
                Some(text) => text.to_owned(),
                None if answer["connected"] == false => "(not connected)".to_owned(),
                None => "(value)".to_owned(),
            };
            let skipped = if after > 0 && seq > after + 1 {
                format!("  (+{} unseen)", seq - after - 1)
            } else {
                String::new()
            };
            print(&format!("#{seq} {text}{skipped}\n"))?;
            after = seq;
            printed += 1;
            if count.is_some_and(|c| printed >= c) {
                return Ok(());
            }
        }
        std::thread::sleep(pause);
        answer = client.get(&format!("{path}&after={after}"))?;
    }
}

//! What `streamlib top` costs a runtime: process CPU of 10,000 near-idle actors at 60 Hz with
//! inspection served, alone and with a client asking `/api/stats?ports=0&sort=core&limit=40` once
//! a second (what `top` in a 46-line terminal asks), measured in alternating windows of one run so drift and neighbours hit both alike.
//!
//! The client runs in this process (it reads the response and drops it, parsing nothing), so
//! its own socket work is counted against inspection: the figure is an upper bound.
//!
//! Run: `cargo bench -p streamlib --features inspect --bench inspect`

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use streamlib::prelude::*;
use streamlib::{Rate, SoftwareClock};

const ACTORS: usize = 10_000;
const WINDOW: Duration = Duration::from_secs(3);
const ROUNDS: usize = 5;
/// What `streamlib top` asks each second: its visible rows, sorted by the server.
const TOP_REQUEST: &str =
    "GET /api/stats?ports=0&sort=core&limit=40 HTTP/1.1\r\nHost: bench\r\n\r\n";

/// An actor with the least work a real one does: write one value per tick.
#[actor]
#[derive(Default)]
struct Idle {
    #[output]
    value: Output<u64>,
}

impl Process for Idle {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number);
        Ok(())
    }
}

#[path = "support/cpu.rs"]
mod cpu;
use cpu::{cpu_time, threads_cpu_time};

/// Share of one core (percent) the process used over one window.
fn window_load() -> f64 {
    let (cpu, wall) = (cpu_time(), Instant::now());
    std::thread::sleep(WINDOW);
    (cpu_time() - cpu).as_secs_f64() / wall.elapsed().as_secs_f64() * 100.0
}

/// GET `/api/stats` and return the size of the response.
fn fetch_stats(address: SocketAddr) -> usize {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.write_all(TOP_REQUEST.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    response.len()
}

/// Asks like `top` does, once a second, until `stop`.
fn top_client(address: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    let client = std::thread::Builder::new().name("top-client".into());
    client
        .spawn(move || {
            let mut bytes = 0;
            while !stop.load(Ordering::Relaxed) {
                bytes = fetch_stats(address);
                let next = Instant::now() + Duration::from_secs(1);
                while !stop.load(Ordering::Relaxed) && Instant::now() < next {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            bytes
        })
        .expect("client thread")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and `cargo test --benches` ask this
    }
    let rt = Runtime::builder()
        .inspect("127.0.0.1:0")
        .build()
        .expect("runtime");
    let address = rt.inspect_addr().expect("serving");
    let clock = SoftwareClock::new(Rate::fps(60).expect("rate"));
    for i in 0..ACTORS {
        rt.spawn_on(Idle::default(), &format!("a{i}"), &clock)
            .expect("spawn");
    }
    std::thread::sleep(Duration::from_secs(1));
    let (mut alone, mut with_top) = (Vec::new(), Vec::new());
    let mut response = 0;
    let started = Instant::now();
    let (mut served, mut top_time) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..ROUNDS {
        alone.push(window_load());
        let stop = Arc::new(AtomicBool::new(false));
        let (server, wall) = (threads_cpu_time("streamlib-inspe"), Instant::now());
        let client = top_client(address, stop.clone());
        with_top.push(window_load());
        stop.store(true, Ordering::Relaxed);
        response = client.join().expect("client");
        served += threads_cpu_time("streamlib-inspe") - server;
        top_time += wall.elapsed();
    }
    let one = (cpu_time(), Instant::now());
    let request = fetch_stats(address);
    let request_cpu = cpu_time() - one.0;
    let ticks: u64 = rt.registry().list().iter().map(|a| a.stats().ticks).sum();
    let skipped: u64 = rt
        .registry()
        .list()
        .iter()
        .map(|a| a.stats().skipped_ticks)
        .sum();
    rt.shutdown();
    let (a, b) = (median(&mut alone), median(&mut with_top));
    println!(
        "{ACTORS} actors at 60 Hz, inspection served, {ROUNDS} alternating windows of {WINDOW:?}:"
    );
    println!("  alone:          {alone:.1?} % of one core (median {a:.2} %)");
    println!("  top attached:   {with_top:.1?} % of one core (median {b:.2} %)");
    println!("  difference:     {:+.2} % of one core (medians)", b - a);
    println!(
        "  server threads: {:.2} % of one core while top was attached (their own CPU time)",
        served.as_secs_f64() / top_time.as_secs_f64() * 100.0
    );
    println!(
        "  one /api/stats: {request} bytes ({response} in the last window), {:.1} ms of CPU (server and client)",
        request_cpu.as_secs_f64() * 1000.0
    );
    println!(
        "  {ticks} actor-ticks run, {skipped} skipped, over {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

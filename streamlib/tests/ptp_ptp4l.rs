//! Interoperability with a real grandmaster: linuxptp's `ptp4l` runs as master with software
//! timestamping on one end of a veth pair inside a network namespace this test creates; the
//! in-process streamlib slave listens on the other end (in the root namespace). The slave must
//! reach Locked with |offset| < 50 µs, go to holdover and lost when the grandmaster dies while
//! ticking on, relock when it returns, and count malformed packets without harm.
//!
//! Needs root (or CAP_NET_ADMIN) for the namespace and `ptp4l` (Debian: `apt-get install
//! linuxptp`). Without namespaces it is skipped with a message; without ptp4l it is skipped,
//! except when `CI=true`, where that is a failure. The machine's clock is never touched: ptp4l
//! only reads `CLOCK_REALTIME` (it is the grandmaster, and `free_running 1` forbids it to adjust
//! its clock in any state), no phc2sys runs, and the slave steers only its private time line.
#![cfg(feature = "ptp")]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use streamlib::clock::{PtpClock, PtpClockIdentity, PtpNetworkConfig, PtpSource, PtpState};
use streamlib::{Clock, Interrupt, Rate, Tick};

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|err| format!("{program}: {err}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn find_ptp4l() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = ["/usr/sbin/ptp4l", "/sbin/ptp4l", "/usr/local/sbin/ptp4l"]
        .iter()
        .map(PathBuf::from)
        .collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("ptp4l")));
    }
    candidates.into_iter().find(|path| path.is_file())
}

/// The namespace, the veth pair and ptp4l; all removed on drop, even after a failed assertion.
struct Testbed {
    netns: String,
    veth_slave: String,
    veth_master: String,
    slave_address: String,
    ptp4l_path: PathBuf,
    dir: PathBuf,
    ptp4l: Option<Child>,
}

impl Testbed {
    /// Errors only when the namespace cannot be made (the one reason to skip).
    fn create(ptp4l_path: PathBuf) -> Result<Testbed, String> {
        let id = std::process::id() % 10_000;
        let subnet = 64 + std::process::id() % 128;
        let dir = std::env::temp_dir().join(format!("streamlib-ptp4l-{id}"));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let bed = Testbed {
            netns: format!("streamlib-gm{id}"),
            veth_slave: format!("veth-sl{id}"),
            veth_master: format!("veth-gm{id}"),
            slave_address: format!("10.231.{subnet}.2"),
            ptp4l_path,
            dir,
            ptp4l: None,
        };
        // Leftovers of an earlier run with the same pid would make `add` fail.
        bed.remove_network();
        run("ip", &["netns", "add", &bed.netns])?;
        let (ns, sl, gm) = (&bed.netns, &bed.veth_slave, &bed.veth_master);
        let master_address = format!("10.231.{subnet}.1/24");
        let slave_address = format!("{}/24", bed.slave_address);
        let steps: Vec<Vec<&str>> = vec![
            vec!["link", "add", sl, "type", "veth", "peer", "name", gm],
            vec!["link", "set", gm, "netns", ns],
            vec!["-n", ns, "link", "set", "lo", "up"],
            vec!["-n", ns, "addr", "add", &master_address, "dev", gm],
            vec!["-n", ns, "link", "set", gm, "up"],
            vec!["-n", ns, "route", "add", "224.0.0.0/4", "dev", gm],
            vec!["addr", "add", &slave_address, "dev", sl],
            vec!["link", "set", sl, "up"],
        ];
        // The namespace exists: from here on a failure is a failure, not a reason to skip.
        for step in steps {
            if let Err(err) = run("ip", &step) {
                panic!("setting up the veth pair failed: {err}");
            }
        }
        Ok(bed)
    }

    fn start_grandmaster(&mut self) -> Result<(), String> {
        let config = self.dir.join("gm.cfg");
        std::fs::write(
            &config,
            "[global]\n\
             priority1 0\n\
             clockClass 6\n\
             domainNumber 0\n\
             logAnnounceInterval 0\n\
             logSyncInterval -3\n\
             logMinDelayReqInterval -3\n\
             announceReceiptTimeout 3\n\
             time_stamping software\n\
             network_transport UDPv4\n\
             delay_mechanism E2E\n\
             free_running 1\n",
        )
        .map_err(|err| err.to_string())?;
        let log = std::fs::File::create(self.dir.join("ptp4l.log")).map_err(|e| e.to_string())?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("ip")
            .args(["netns", "exec", &self.netns])
            .arg(&self.ptp4l_path)
            .args(["-f"])
            .arg(&config)
            .args(["-i", &self.veth_master, "-S", "-m"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|err| format!("starting ptp4l: {err}"))?;
        self.ptp4l = Some(child);
        Ok(())
    }

    fn stop_grandmaster(&mut self) {
        if let Some(mut child) = self.ptp4l.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn ptp4l_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ptp4l.log")).unwrap_or_default()
    }

    fn grandmaster_identity(&self) -> Option<PtpClockIdentity> {
        let path = format!("/sys/class/net/{}/address", self.veth_master);
        let text = run("ip", &["netns", "exec", &self.netns, "cat", &path]).ok()?;
        let mut mac = [0u8; 6];
        for (byte, part) in mac.iter_mut().zip(text.trim().split(':')) {
            *byte = u8::from_str_radix(part, 16).ok()?;
        }
        Some(PtpClockIdentity::from_mac(mac))
    }

    /// Sends raw bytes from inside the namespace to the slave's general port.
    fn send_garbage(&self, bytes: &[u8]) -> Result<(), String> {
        let escaped: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
        let script = format!("printf '{escaped}' > /dev/udp/{}/320", self.slave_address);
        run("ip", &["netns", "exec", &self.netns, "bash", "-c", &script]).map(|_| ())
    }

    fn remove_network(&self) {
        let _ = run("ip", &["link", "del", &self.veth_slave]);
        let _ = run("ip", &["netns", "del", &self.netns]);
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        self.stop_grandmaster();
        self.remove_network();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_for_state(clock: &PtpClock, state: PtpState, within: Duration, bed: &Testbed) -> Duration {
    let start = Instant::now();
    let mut last_print = Instant::now();
    loop {
        let status = clock.status();
        if status.state == state {
            return start.elapsed();
        }
        if last_print.elapsed() > Duration::from_secs(2) {
            eprintln!("waiting for {state}: {status:?}");
            last_print = Instant::now();
        }
        assert!(
            start.elapsed() < within,
            "no {state} within {within:?}: {status:?}\nptp4l log:\n{}",
            bed.ptp4l_log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The slave's time against the grandmaster's own clock. ptp4l with software timestamping
/// serves this machine's `CLOCK_REALTIME` (plus the UTC offset when it claims the PTP
/// timescale), so the true error is the difference modulo whole seconds.
fn true_offset_nanos(clock: &PtpClock) -> i64 {
    (0..9)
        .map(|_| {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let ours = clock.now().as_nanos() as i128;
            // SAFETY: `ts` is a valid, writable timespec.
            unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
            let ours = (ours + clock.now().as_nanos() as i128) / 2;
            let theirs = ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128;
            let diff = (ours - theirs).rem_euclid(1_000_000_000);
            (if diff > 500_000_000 {
                diff - 1_000_000_000
            } else {
                diff
            }) as i64
        })
        .min_by_key(|offset| offset.abs())
        .unwrap_or(i64::MAX)
}

fn tick_for(clock: &PtpClock, duration: Duration, previous: &mut Option<Tick>) -> usize {
    let interrupt = Interrupt::new();
    let end = Instant::now() + duration;
    let mut count = 0;
    while Instant::now() < end {
        let tick = clock
            .next_tick(previous.as_ref(), &interrupt)
            .expect("ticks");
        assert_eq!(
            tick.timestamp,
            clock.deadline(tick.frame_number),
            "on the epoch grid"
        );
        if let Some(prev) = previous {
            assert_eq!(tick.frame_number, prev.frame_number + 1 + tick.skipped);
            // The first tick after a pause of the caller legitimately skips what it missed.
            let paused = count == 0;
            assert!(
                paused || tick.skipped < 10,
                "a burst of {} skipped ticks",
                tick.skipped
            );
        }
        *previous = Some(tick);
        count += 1;
    }
    count
}

#[test]
fn locks_to_a_ptp4l_grandmaster() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_test_writer()
        .try_init();
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(ptp4l) = find_ptp4l() else {
        assert!(
            !in_ci,
            "ptp4l is missing in CI: install linuxptp (apt-get install -y linuxptp)"
        );
        eprintln!(
            "SKIPPED locks_to_a_ptp4l_grandmaster: ptp4l not found (apt-get install linuxptp)"
        );
        return;
    };
    if run("ip", &["-V"]).is_err() {
        assert!(
            !in_ci,
            "ip is missing in CI: install iproute2 (apt-get install -y iproute2)"
        );
        eprintln!("SKIPPED locks_to_a_ptp4l_grandmaster: ip (iproute2) not found");
        return;
    }
    let mut bed = match Testbed::create(ptp4l) {
        Ok(bed) => bed,
        Err(reason) => {
            eprintln!(
                "SKIPPED locks_to_a_ptp4l_grandmaster: cannot create network namespaces \
                 (needs root or CAP_NET_ADMIN): {reason}"
            );
            return;
        }
    };
    bed.start_grandmaster().expect("ptp4l starts");

    let mut config = PtpNetworkConfig::new(bed.veth_slave.clone());
    config.log_announce_interval = 0;
    config.log_delay_request_interval = -3;
    config.holdover_after_syncs = 8;
    config.lost_after = Duration::from_secs(3);
    let clock =
        PtpClock::new(Rate::fps(50).unwrap(), PtpSource::Network(config)).expect("slave starts");

    // Ticks flow from the start, before any lock.
    let mut previous = None;
    tick_for(&clock, Duration::from_millis(200), &mut previous);

    let lock_time = wait_for_state(&clock, PtpState::Locked, Duration::from_secs(90), &bed);
    let status = clock.status();
    let offset = status.offset_nanos.expect("an offset when locked");
    let truth = true_offset_nanos(&clock);
    eprintln!(
        "locked after {lock_time:?}: offset {offset} ns, true offset {truth} ns, path delay {:?}, \
         {} packets, {} steps, {:+.3} ppm",
        status.mean_path_delay, status.packets, status.steps, status.frequency_ppm
    );
    assert!(offset.abs() < 50_000, "offset {offset} ns");
    assert_eq!(status.grandmaster, bed.grandmaster_identity());
    assert!(status.mean_path_delay.is_some());
    assert!(status
        .since_last_sync
        .is_some_and(|s| s < Duration::from_secs(2)));

    // Stay locked for a while; report the offsets seen.
    let mut worst_offset = 0i64;
    let mut worst_truth = 0i64;
    for _ in 0..20 {
        tick_for(&clock, Duration::from_millis(100), &mut previous);
        let status = clock.status();
        worst_offset = worst_offset.max(status.offset_nanos.unwrap_or(i64::MAX).abs());
        worst_truth = worst_truth.max(true_offset_nanos(&clock).abs());
    }
    eprintln!("over 2 s locked: worst reported offset {worst_offset} ns, worst true offset {worst_truth} ns");
    assert!(
        worst_truth < 100_000,
        "the time line is {worst_truth} ns off the grandmaster"
    );

    // Malformed and truncated packets are counted and ignored.
    let malformed_before = clock.status().malformed_packets;
    bed.send_garbage(b"garbage").unwrap();
    bed.send_garbage(&[0x0b, 0x02, 0x00, 0x40, 0x00]).unwrap(); // truncated Announce
    bed.send_garbage(&[
        0x08, 0x01, 0x00, 0x2c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ])
    .unwrap(); // PTPv1
    let start = Instant::now();
    while clock.status().malformed_packets < malformed_before + 3 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            clock.status()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ne!(clock.status().state, PtpState::Acquiring);

    // The grandmaster dies: holdover, then lost; ticks never stop.
    bed.stop_grandmaster();
    let holdover = wait_for_state(&clock, PtpState::Holdover, Duration::from_secs(10), &bed);
    let ticks = tick_for(&clock, Duration::from_millis(500), &mut previous);
    assert!(ticks >= 15, "{ticks} ticks in 500 ms of holdover");
    let lost = wait_for_state(&clock, PtpState::Lost, Duration::from_secs(10), &bed);
    tick_for(&clock, Duration::from_millis(300), &mut previous);
    let drift = true_offset_nanos(&clock);
    eprintln!(
        "holdover after {holdover:?}, lost {lost:?} later; true offset in holdover {drift} ns"
    );
    assert!(drift.abs() < 2_000_000, "holdover drifted {drift} ns");

    // It comes back: the slave relocks.
    bed.start_grandmaster().expect("ptp4l restarts");
    let relock = wait_for_state(&clock, PtpState::Locked, Duration::from_secs(90), &bed);
    let status = clock.status();
    eprintln!("relocked after {relock:?}: {status:?}");
    assert!(status.offset_nanos.is_some_and(|o| o.abs() < 50_000));
    tick_for(&clock, Duration::from_millis(200), &mut previous);
}

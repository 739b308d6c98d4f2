//! Two hosts over TLS with mutual authentication: two network namespaces this test creates,
//! joined by a veth pair (10.231.<n>.1 and .2), each running one process of this test binary
//! (`STREAMLIB_HOSTS_ROLE`). Actors are addressed by host name (`actor://cam-box/..`); the
//! certificates are made by the test (rcgen) and name each host's address. A third process whose
//! certificate another CA signed must be refused.
//!
//! Needs root (or CAP_NET_ADMIN) and `ip` (iproute2); skipped with a message without them,
//! except when `CI=true`, where that is a failure. The namespaces are removed on drop, even
//! after a failed assertion.
#![cfg(feature = "net")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use streamlib::prelude::*;
use streamlib::{NetConfig, TlsConfig};

#[actor(fps = 50)]
#[derive(Default)]
pub struct Camera {
    #[output]
    pub value: Output<i64>,
}

impl Process for Camera {
    fn process(&mut self, tick: &Tick) -> ProcessResult {
        self.value.write(tick.frame_number as i64);
        Ok(())
    }
}

const PORT: u16 = 7471;
const CAMERA: &str = "actor://cam-box/Camera/cam0";

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Two namespaces and the veth pair between them; removed on drop.
struct Hosts {
    cam: String,
    view: String,
    cam_address: String,
}

impl Hosts {
    fn create() -> Result<Hosts, String> {
        let n = std::process::id() % 200 + 20;
        let hosts = Hosts {
            cam: format!("sl-cam-{n}"),
            view: format!("sl-view-{n}"),
            cam_address: format!("10.231.{n}.1"),
        };
        hosts.remove();
        let (veth_cam, veth_view) = (format!("slc{n}"), format!("slv{n}"));
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), hosts.cam.clone()],
            vec!["netns".into(), "add".into(), hosts.view.clone()],
            vec![
                "link".into(),
                "add".into(),
                veth_cam.clone(),
                "netns".into(),
                hosts.cam.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                veth_view.clone(),
                "netns".into(),
                hosts.view.clone(),
            ],
        ];
        for step in steps {
            let args: Vec<&str> = step.iter().map(String::as_str).collect();
            run("ip", &args)?;
        }
        for (ns, veth, address) in [
            (&hosts.cam, &veth_cam, format!("10.231.{n}.1/24")),
            (&hosts.view, &veth_view, format!("10.231.{n}.2/24")),
        ] {
            run("ip", &["-n", ns, "addr", "add", &address, "dev", veth])?;
            run("ip", &["-n", ns, "link", "set", veth, "up"])?;
            run("ip", &["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(hosts)
    }

    fn remove(&self) {
        let _ = run("ip", &["netns", "del", &self.cam]);
        let _ = run("ip", &["netns", "del", &self.view]);
    }

    /// This test binary in namespace `ns`, as `role`.
    fn start(&self, ns: &str, role: &str, dir: &Path) -> Child {
        Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", "host_role", "--ignored", "--nocapture"])
            .env("STREAMLIB_HOSTS_ROLE", role)
            .env("STREAMLIB_HOSTS_DIR", dir)
            .env("STREAMLIB_HOSTS_CAM", &self.cam_address)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ip netns exec")
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A CA and a certificate for `address` signed by it, written as `<name>-ca.pem`,
/// `<name>.pem`, `<name>.key` in `dir`.
fn certificates(dir: &Path, name: &str, addresses: &[String]) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut node = CertificateParams::new(addresses.to_vec()).unwrap();
    node.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = node.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join(format!("{name}-ca.pem")), ca_cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}

fn tls(dir: &Path, name: &str) -> TlsConfig {
    TlsConfig::new(
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

/// The processes: `camera` serves until stdin closes; `viewer` prints `values <n>` after
/// reading values of the camera; `intruder` (another CA) prints `refused` if it never sees it.
fn role(role: &str, dir: &Path, cam: &str) {
    let endpoint = format!("tls/{cam}:{PORT}");
    match role {
        "camera" => {
            let rt = Runtime::builder()
                .host("cam-box")
                .network(NetConfig::new().listen(&endpoint).tls(tls(dir, "trusted")))
                .build()
                .expect("camera runtime");
            rt.spawn(Camera::default(), "cam0").unwrap();
            let _ = std::io::Read::read(&mut std::io::stdin(), &mut [0u8]);
        }
        "viewer" | "intruder" => {
            let name = if role == "viewer" { "trusted" } else { "rogue" };
            let rt = Runtime::builder()
                .host(if role == "viewer" {
                    "view-box"
                } else {
                    "rogue-box"
                })
                .network(NetConfig::new().connect(&endpoint).tls(tls(dir, name)))
                .build()
                .expect("viewer runtime");
            let cam = rt.remote::<Camera>(CAMERA).unwrap();
            let wait = if role == "viewer" { 30 } else { 4 };
            if cam.wait_until_running(Duration::from_secs(wait)).is_err() {
                println!("refused");
                return;
            }
            let input = Input::<i64>::new();
            let _link = streamlib::connect(&cam.outputs.value, &input.to_ref()).unwrap();
            let start = Instant::now();
            let mut seen = std::collections::BTreeSet::new();
            while seen.len() < 10 && start.elapsed() < Duration::from_secs(10) {
                if let Some(v) = input.read_latest() {
                    seen.insert(*v);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            println!("values {}", seen.len());
        }
        other => panic!("unknown role {other}"),
    }
}

/// Not a test of its own: the processes of `two_hosts_over_tls` (run with `--ignored`).
#[test]
#[ignore = "a process of two_hosts_over_tls; it starts it"]
fn host_role() {
    if let Ok(name) = std::env::var("STREAMLIB_HOSTS_ROLE") {
        let dir = PathBuf::from(std::env::var("STREAMLIB_HOSTS_DIR").unwrap());
        role(&name, &dir, &std::env::var("STREAMLIB_HOSTS_CAM").unwrap());
    }
}

fn output_of(mut child: Child, within: Duration) -> String {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() && start.elapsed() < within {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn two_hosts_over_tls() {
    let hosts = match Hosts::create() {
        Ok(hosts) => hosts,
        Err(reason) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: cannot create network namespaces ({reason})");
            return;
        }
        Err(reason) => panic!("CI must be able to create network namespaces: {reason}"),
    };
    let dir = std::env::temp_dir().join(format!("streamlib-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    certificates(
        &dir,
        "trusted",
        &[hosts.cam_address.clone(), "view-box".into()],
    );
    certificates(&dir, "rogue", std::slice::from_ref(&hosts.cam_address));

    let mut camera = hosts.start(&hosts.cam, "camera", &dir);
    let viewer = hosts.start(&hosts.view, "viewer", &dir);
    let seen = output_of(viewer, Duration::from_secs(45));
    let intruder = hosts.start(&hosts.view, "intruder", &dir);
    let refused = output_of(intruder, Duration::from_secs(20));
    let _ = camera.kill();
    let _ = camera.wait();
    let _ = std::fs::remove_dir_all(&dir);

    assert!(seen.contains("values 10"), "viewer over TLS saw: {seen:?}");
    assert!(
        refused.contains("refused"),
        "a certificate of another CA got through: {refused:?}"
    );
}

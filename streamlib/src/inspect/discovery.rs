//! How tools find the runtimes of this user without flags.
//!
//! A runtime serving inspection writes `<pid>-<port>.json` (`{"pid":..,"address":"127.0.0.1:..",
//! "token_required":false}`, never the token itself) into [`directory`]: `$XDG_RUNTIME_DIR/streamlib`,
//! or `<temp dir>/streamlib-<uid>` where there is no such variable, created with mode 0700. The
//! file is removed at shutdown; [`list`] ignores files whose process is gone (a killed runtime
//! cannot remove its own) and deletes them.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A runtime found in the discovery directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// Its process id.
    pub pid: u32,
    /// Where it serves the inspection API.
    pub address: SocketAddr,
    /// Whether requests need a bearer token.
    pub token_required: bool,
    /// The discovery file.
    pub path: PathBuf,
}

/// The per-user directory of discovery files.
pub fn directory() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("streamlib"),
        // SAFETY: getuid has no preconditions and cannot fail.
        _ => std::env::temp_dir().join(format!("streamlib-{}", unsafe { libc::getuid() })),
    }
}

/// Every runtime of this user whose process is still alive, by process id and port.
pub fn list() -> Vec<Discovered> {
    let Ok(entries) = std::fs::read_dir(directory()) else {
        return Vec::new();
    };
    let mut found: Vec<Discovered> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "json"))
        .filter_map(|entry| read(&entry.path()))
        .filter(|runtime| {
            let alive = process_alive(runtime.pid);
            if !alive {
                let _ = std::fs::remove_file(&runtime.path);
            }
            alive
        })
        .collect();
    found.sort_by_key(|runtime| (runtime.pid, runtime.address.port()));
    found
}

fn read(path: &Path) -> Option<Discovered> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(Discovered {
        pid: u32::try_from(value["pid"].as_u64()?).ok()?,
        address: value["address"].as_str()?.parse().ok()?,
        token_required: value["token_required"].as_bool().unwrap_or(false),
        path: path.to_owned(),
    })
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled; it sends nothing.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Writes this process's file for a server at `address`; returns its path.
pub(crate) fn write(address: SocketAddr, token_required: bool) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = directory();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    let pid = std::process::id();
    let path = dir.join(format!("{pid}-{}.json", address.port()));
    let partial = dir.join(format!(".{pid}-{}.json.partial", address.port()));
    let body = serde_json::json!({
        "pid": pid,
        "address": address.to_string(),
        "token_required": token_required,
    });
    std::fs::File::create(&partial)?.write_all(body.to_string().as_bytes())?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

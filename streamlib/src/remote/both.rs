//! Two engines at once (features `net` and `ipc`): one per link.
//!
//! The rule: a remote actor whose runtime is seen over the **local** engine (iceoryx2: a process
//! of this host) is read over it; every other one over the **wide** engine (Zenoh). Until an
//! actor's host is seen locally its outputs are read over Zenoh; when it shows up over
//! iceoryx2 the subscription moves there (repeats are dropped by the envelope's sequence
//! number, so the move loses and doubles nothing). Announcements and values written go out on
//! both engines, so readers of either kind find them; an actor counts as alive while either
//! engine sees it.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use super::{Deliver, Guard, Publisher, SharedBytes, TokenChanged, Transport};
use crate::error::Result;
use crate::wire;

/// The two engines and where each host is reached.
pub(crate) struct Both {
    local: Arc<dyn Transport>,
    local_accepts: bool,
    wide: Arc<dyn Transport>,
    wide_accepts: bool,
    /// Live local announcements per host name.
    local_hosts: Arc<Mutex<HashMap<String, usize>>>,
    routes: Arc<Mutex<Vec<Weak<Route>>>>,
}

/// One subscription to an output of another runtime, on the engine that reaches it.
struct Route {
    key: String,
    host: String,
    deliver: Arc<Deliver>,
    /// (over the local engine?, its guard)
    current: Mutex<Option<(bool, Guard)>>,
}

impl Both {
    pub(crate) fn new(
        local: Arc<dyn Transport>,
        local_accepts: bool,
        wide: Arc<dyn Transport>,
        wide_accepts: bool,
    ) -> Arc<Both> {
        Arc::new(Both {
            local,
            local_accepts,
            wide,
            wide_accepts,
            local_hosts: Arc::default(),
            routes: Arc::default(),
        })
    }

    fn is_local(hosts: &Mutex<HashMap<String, usize>>, host: &str) -> bool {
        hosts.lock().get(host).is_some_and(|n| *n > 0)
    }

    /// Moves `route` to the engine its host is reached over now.
    fn place(
        route: &Route,
        local: &Arc<dyn Transport>,
        wide: &Arc<dyn Transport>,
        hosts: &Mutex<HashMap<String, usize>>,
    ) -> Result<()> {
        let want_local = Both::is_local(hosts, &route.host);
        let mut current = route.current.lock();
        if matches!(&*current, Some((on_local, _)) if *on_local == want_local) {
            return Ok(());
        }
        let engine = if want_local { local } else { wide };
        let deliver = route.deliver.clone();
        let guard = engine.subscribe(&route.key, Box::new(move |m| deliver(m)))?;
        tracing::debug!(key = route.key, engine = engine.name(), "link placed");
        *current = Some((want_local, guard)); // the old subscription ends here
        Ok(())
    }
}

struct BothPublisher(Arc<dyn Publisher>, Arc<dyn Publisher>);

impl Publisher for BothPublisher {
    fn put(&self, head: Vec<u8>, tail: Option<SharedBytes>) {
        self.0.put(head.clone(), tail.clone());
        self.1.put(head, tail);
    }
}

impl Transport for Both {
    fn name(&self) -> &'static str {
        "iceoryx2+zenoh"
    }

    fn declare_token(&self, key: &str) -> Result<Guard> {
        let local = self.local.declare_token(key)?;
        let wide = self.wide.declare_token(key)?;
        Ok(Box::new((local, wide)))
    }

    fn watch_tokens(&self, prefix: &str, changed: TokenChanged) -> Result<Guard> {
        // (seen locally, seen widely) per key; reported alive while either sees it.
        let seen: Arc<Mutex<HashMap<String, (bool, bool)>>> = Arc::default();
        let changed: Arc<TokenChanged> = Arc::new(changed);
        let report = {
            let seen = seen.clone();
            let changed = changed.clone();
            move |key: &str, local: bool, alive: bool| {
                let (before, after) = {
                    let mut seen = seen.lock();
                    let entry = seen.entry(key.to_owned()).or_insert((false, false));
                    let before = entry.0 || entry.1;
                    if local {
                        entry.0 = alive;
                    } else {
                        entry.1 = alive;
                    }
                    (before, entry.0 || entry.1)
                };
                if before != after {
                    changed(key, after);
                }
            }
        };
        let report = Arc::new(report);
        let on_local = {
            let report = report.clone();
            let hosts = self.local_hosts.clone();
            let routes = self.routes.clone();
            let (local, wide) = (self.local.clone(), self.wide.clone());
            move |key: &str, alive: bool| {
                let host = wire::live_key_host(key).unwrap_or_default().to_owned();
                {
                    let mut hosts = hosts.lock();
                    let count = hosts.entry(host.clone()).or_insert(0);
                    *count = if alive {
                        *count + 1
                    } else {
                        count.saturating_sub(1)
                    };
                }
                let moved: Vec<Arc<Route>> = routes
                    .lock()
                    .iter()
                    .filter_map(Weak::upgrade)
                    .filter(|r| r.host == host)
                    .collect();
                for route in moved {
                    if let Err(error) = Both::place(&route, &local, &wide, &hosts) {
                        tracing::warn!(key = route.key, %error, "cannot move a link");
                    }
                }
                report(key, true, alive);
            }
        };
        let local = self.local.watch_tokens(prefix, Box::new(on_local))?;
        let wide = self.wide.watch_tokens(
            prefix,
            Box::new(move |key, alive| report(key, false, alive)),
        )?;
        Ok(Box::new((local, wide)))
    }

    fn publisher(&self, key: &str, cache: bool) -> Result<Arc<dyn Publisher>> {
        let local = self.local.publisher(key, cache)?;
        let wide = self.wide.publisher(key, cache)?;
        Ok(Arc::new(BothPublisher(local, wide)))
    }

    fn subscribe(&self, key: &str, deliver: Deliver) -> Result<Guard> {
        let (host, output) = wire::data_key_parts(key).unwrap_or(("", true));
        if !output {
            // Writes into a local input: from whichever engine is allowed to bring them.
            let deliver = Arc::new(deliver);
            let mut guards: Vec<Guard> = Vec::new();
            for (engine, accepts) in [
                (&self.local, self.local_accepts),
                (&self.wide, self.wide_accepts),
            ] {
                if accepts {
                    let deliver = deliver.clone();
                    guards.push(engine.subscribe(key, Box::new(move |m| deliver(m)))?);
                }
            }
            return Ok(Box::new(guards));
        }
        let route = Arc::new(Route {
            key: key.to_owned(),
            host: host.to_owned(),
            deliver: Arc::new(deliver),
            current: Mutex::new(None),
        });
        Both::place(&route, &self.local, &self.wide, &self.local_hosts)?;
        let mut routes = self.routes.lock();
        routes.retain(|r| r.strong_count() > 0);
        routes.push(Arc::downgrade(&route));
        Ok(Box::new(route))
    }

    fn serve(&self, key: &str, answer: Box<dyn Fn() -> Vec<u8> + Send + Sync>) -> Result<Guard> {
        self.wide.serve(key, answer)
    }

    fn query(&self, key: &str, timeout: Duration) -> Result<Vec<u8>> {
        self.wide.query(key, timeout)
    }

    fn close(&self) {
        self.local.close();
        self.wide.close();
    }
}

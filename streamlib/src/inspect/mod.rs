//! Live inspection of a running runtime over read-only HTTP/JSON (cargo feature `inspect`).
//!
//! A runtime built with [`RuntimeBuilder::inspect`] serves, from threads of its own:
//!
//! | path | what |
//! |---|---|
//! | `GET /` | a web page: the live graph (SVG, actors coloured by load, edges labelled with their rate) and the stats table, refreshed each second; no CDN, nothing to build |
//! | `GET /api/graph` | `{"actors":[{"uri","class","clock","inputs":[names],"outputs":[names],"ports":[{"name","direction","payload","text"}],"remote"}], "connections":[{"from":"<uri>.<port>","to":"<uri>.<port>","payload","from_actor","from_port","to_actor","to_port"}]}` |
//! | `GET /api/stats[?ports=0][&sort=core\|fps\|p99\|errors\|uri][&limit=N]` | `{"elapsed_ms","actors_total","core_percent_total","actors":[{"uri","ticks","skipped_ticks","late_ticks","errors","panics","process_p50_us","process_p99_us","process_max_us","fps","core_percent","clock","ports":[{"name","direction","writes","writes_per_s","overwritten_unread","reads","stale_reads","missed","bad_values","dropped"}]}], "clocks":[{"clock","actors","late_ticks","lateness_p50_us","lateness_p99_us","lateness_max_us","tick_p50_us","tick_p99_us"}]}` (`tick_*`: wall time of a tick, from its start to the end of its last actor) |
//! | `GET /api/tap?port=<uri>.<port>&after=<seq>` | the port's newest value as text (`{"seq","text","json","payload",..}`): JSON when the payload is `serde::Serialize` and the `serde` feature is on (`"json": true`), else its `Debug` text; `text` is `null` when nothing newer than `after` was written |
//! | `GET /api/runtime` | `{"pid","actors","token_required"}` |
//!
//! Counters are cumulative; a client turns two snapshots into rates with `elapsed_ms`, or reads
//! the server's own `fps` and `writes_per_s`, measured since an earlier request (any client's)
//! about a second before (`null` on the very first request). `sort` orders the actors (largest
//! first; `core` is `fps` × the median process time) and `limit` keeps the first `N`: `top`
//! asks for just the rows it shows, so the server names and writes only those (`actors_total`
//! and `core_percent_total` still cover every actor). The
//! `streamlib` command-line tool (package `streamlib-cli`: `ls`, `top`, `graph`, `tap`) reads
//! this API and finds local runtimes through the files of [`discovery`].
//!
//! **Cost.** Serving reads snapshots only — relaxed counters, histogram buckets, a ring buffer's
//! newest slot — and never takes a lock an actor takes while it ticks: a tap is one more
//! latest-value reader, invisible to the actor and to its port counters. With nothing asking,
//! the server's threads sleep in `accept`/`recv`.
//!
//! **Security.** Read-only (GET only). Loopback by default; binding anywhere else needs a token
//! ([`InspectConfig::token`]), which every `/api/` request must send as `Authorization: Bearer
//! <token>` (compared in constant time), else `build()` fails with [`Error::InvalidOption`]. The
//! page at `/` holds no data and is served without the token; it reads one from the address's
//! fragment (`http://host:port/#token=...`), which browsers never send to the server. Requests
//! are bounded (head ≤ 8 KiB, received within 2 s, one request per connection), answered by
//! two threads, with at most 16 connections waiting: a slow or hostile client can delay other
//! clients, never the runtime.
//!
//! ```
//! use streamlib::Runtime;
//! let rt = Runtime::builder().inspect("127.0.0.1:0").build()?; // port 0: any free port
//! let address = rt.inspect_addr().expect("serving");
//! assert!(address.ip().is_loopback());
//! // Anywhere else, a token is required:
//! assert!(Runtime::builder().inspect("0.0.0.0:0").build().is_err());
//! # Ok::<(), streamlib::Error>(())
//! ```

mod api;
pub mod discovery;
mod http;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Instant;

use serde_json::json;

use crate::error::{Error, Result};
use crate::runtime::{RuntimeInner, Service};
use crate::{Runtime, RuntimeBuilder};
use http::{constant_time_eq, HttpServer, Request, Response};

/// The web page served at `/`: one file, inline script and SVG.
const PAGE: &str = include_str!("page.html");

/// Where and how a runtime serves inspection.
#[derive(Clone, Default)]
pub struct InspectConfig {
    address: String,
    token: Option<String>,
}

impl InspectConfig {
    /// Serve on `address` (`host:port`; port 0 picks a free one).
    pub fn new(address: &str) -> InspectConfig {
        InspectConfig {
            address: address.to_owned(),
            token: None,
        }
    }

    /// Require `Authorization: Bearer <token>` on every API request; needed to bind to an
    /// address that is not loopback.
    pub fn token(mut self, token: &str) -> InspectConfig {
        self.token = Some(token.to_owned());
        self
    }
}

impl std::fmt::Debug for InspectConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InspectConfig")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl RuntimeBuilder {
    /// Serves read-only inspection on `address` (loopback, e.g. `127.0.0.1:0` for any free
    /// port); see [`inspect`](crate::inspect). `build()` fails with [`Error::InvalidOption`]
    /// for an address that is not loopback (use [`inspect_with`](Self::inspect_with) and a
    /// token) and with [`Error::Os`] when it cannot bind.
    pub fn inspect(self, address: &str) -> RuntimeBuilder {
        self.inspect_with(InspectConfig::new(address))
    }

    /// Serves inspection as `config` says (an address, a token).
    pub fn inspect_with(self, config: InspectConfig) -> RuntimeBuilder {
        self.service(Box::new(move |runtime| {
            let server: Box<dyn Service> = Box::new(Inspector::start(config, runtime)?);
            Ok(server)
        }))
    }
}

impl Runtime {
    /// Where this runtime serves inspection, if it was built with
    /// [`inspect`](RuntimeBuilder::inspect).
    pub fn inspect_addr(&self) -> Option<SocketAddr> {
        self.service_address()
    }
}

/// The running inspection server of one runtime.
struct Inspector {
    http: HttpServer,
    discovery: Option<PathBuf>,
}

impl Inspector {
    fn start(config: InspectConfig, runtime: Weak<RuntimeInner>) -> Result<Inspector> {
        let invalid = |reason| Error::InvalidOption {
            option: "inspect",
            value: config.address.chars().take(128).collect(),
            reason,
        };
        let addresses: Vec<SocketAddr> = config
            .address
            .to_socket_addrs()
            .map_err(|_| invalid("not a host:port address"))?
            .collect();
        let address = *addresses.first().ok_or(invalid("resolves to no address"))?;
        let loopback = addresses.iter().all(|a| a.ip().is_loopback());
        let token = match config.token.as_deref() {
            Some("") => return Err(invalid("an empty token protects nothing")),
            Some(token) => Some(token.to_owned()),
            None if loopback => None,
            None => {
                return Err(invalid(
                    "serving beyond loopback needs a token: inspect_with(InspectConfig::new(..).token(..))",
                ))
            }
        };
        let listener = TcpListener::bind(address)
            .map_err(|e| Error::os("binding the inspection server", e))?;
        let token_required = token.is_some();
        let clock = Clock {
            started: Instant::now(),
            baselines: api::Baselines::default(),
        };
        let handler = Arc::new(move |request: &Request| {
            respond(request, &runtime, token.as_deref(), &clock, token_required)
        });
        let http = HttpServer::start(listener, handler)
            .map_err(|e| Error::os("starting the inspection server", e))?;
        let discovery = match discovery::write(http.address(), token_required) {
            Ok(path) => Some(path),
            Err(error) => {
                tracing::warn!(%error, "cannot write the discovery file; tools need the address");
                None
            }
        };
        tracing::info!(address = %http.address(), "serving inspection");
        Ok(Inspector { http, discovery })
    }
}

impl Service for Inspector {
    fn address(&self) -> Option<SocketAddr> {
        Some(self.http.address())
    }

    fn stop(&self) {
        self.http.stop();
        if let Some(path) = &self.discovery {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The server's time and its baselines for rates.
struct Clock {
    started: Instant,
    baselines: api::Baselines,
}

fn respond(
    request: &Request,
    runtime: &Weak<RuntimeInner>,
    token: Option<&str>,
    clock: &Clock,
    token_required: bool,
) -> Response {
    if request.path == "/" || request.path == "/index.html" {
        return Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: PAGE.as_bytes().to_vec(),
        };
    }
    if let Some(token) = token {
        let presented = request
            .authorization
            .as_deref()
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(presented.trim().as_bytes(), token.as_bytes()) {
            return Response::error(401, "missing or wrong bearer token");
        }
    }
    let Some(runtime) = runtime.upgrade() else {
        return Response::error(503, "the runtime is shutting down");
    };
    let registry = runtime.registry();
    match request.path.as_str() {
        "/api/graph" => Response::json(&api::graph(registry)),
        "/api/stats" => {
            let sort = match request.param("sort").map(|s| api::SortBy::parse(&s)) {
                None => None,
                Some(Ok(sort)) => Some(sort),
                Some(Err(why)) => return Response::error(400, &why),
            };
            let limit = match request.param("limit").map(|l| l.parse::<usize>()) {
                None => None,
                Some(Ok(limit)) => Some(limit),
                Some(Err(_)) => return Response::error(400, "limit must be a number of actors"),
            };
            let query = api::StatsQuery {
                ports: request.param("ports").as_deref() != Some("0"),
                sort,
                limit,
            };
            let elapsed = clock.started.elapsed();
            Response::json_text(api::stats(registry, elapsed, &clock.baselines, query))
        }
        "/api/runtime" => Response::json(&json!({
            "pid": std::process::id(),
            "actors": registry.len(),
            "token_required": token_required,
        })),
        "/api/tap" => {
            let Some(port) = request.param("port") else {
                return Response::error(400, "tap needs ?port=<actor URI>.<port>");
            };
            let after = match request.param("after").map(|a| a.parse::<u64>()) {
                None => 0,
                Some(Ok(after)) => after,
                Some(Err(_)) => return Response::error(400, "after must be a sequence number"),
            };
            match api::tap(registry, &port, after) {
                Ok(value) => Response::json(&value),
                Err(api::TapError::NotFound(why)) => Response::error(404, &why),
            }
        }
        _ => Response::error(404, "no such path; try /api/graph, /api/stats, /api/tap"),
    }
}

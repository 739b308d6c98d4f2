//! Actor URIs: `actor://host/Class/instance-id`.
//!
//! Every actor is addressed by an [`ActorUri`]: the host it runs on, its class (the name of its
//! Rust type) and an instance id unique within that class. The registry keys actors by URI, and a
//! URI naming another host is how an actor across the network is reached. Parsing is strict, so a
//! URI that parses is always a valid address:
//!
//! - the scheme is exactly `actor://` (lower case);
//! - the host is non-empty: a host name (RFC 1123 labels of ASCII letters, digits and `-`), a
//!   dotted IPv4 address, or an IPv6 address in brackets (`[::1]`); a port, user info or a zone
//!   id is not part of an actor URI;
//! - the path is exactly two parts, `Class/instance-id`, with no trailing `/`, query or fragment;
//! - the class is an ASCII Rust identifier (`[A-Za-z_][A-Za-z0-9_]*`, not a lone `_`);
//! - the instance id matches `[A-Za-z0-9_-]+` (see [`validate_instance_id`]).
//!
//! The host is normalised when parsed: host names are lower-cased (DNS names are
//! case-insensitive) and IPv6 addresses are stored in their canonical text form, without brackets.
//! [`ActorUri::host`] returns that form; `Display` adds the brackets back for IPv6, so
//! `ActorUri::parse(&uri.to_string()) == Ok(uri)` for every URI. Class and instance id are kept as
//! written (they are case-sensitive). Invalid input is an [`Error::InvalidUri`] whose reason names
//! the wrong part and what is wrong with it; its message quotes at most 128 characters of the
//! text and of each part, whatever their length.
//!
//! ```
//! use streamlib::ActorUri;
//!
//! let uri = ActorUri::parse("actor://[::1]/Camera/cam-0")?;
//! assert_eq!((uri.host(), uri.class(), uri.instance_id()), ("::1", "Camera", "cam-0"));
//! assert!(uri.is_local());
//! assert_eq!(uri.to_string(), "actor://[::1]/Camera/cam-0");
//!
//! let err = ActorUri::parse("actor://local/9Cam/cam0").unwrap_err();
//! assert!(err.to_string().contains(r#"class "9Cam" is not a Rust identifier"#));
//! # Ok::<(), streamlib::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::quoted;
use crate::error::{Error, Result};

const SCHEME: &str = "actor://";
const LOCAL_HOST: &str = "local";
/// Host names that mean "this machine" (compared after lower-casing).
const LOCAL_HOSTS: [&str; 4] = ["local", "localhost", "127.0.0.1", "::1"];
const MAX_HOST_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// The address of an actor: `actor://host/Class/instance-id`.
///
/// See the [module documentation](self) for the rules. Equality, ordering and hashing compare
/// host, class and instance id in that order, after the host was normalised (lower-cased name,
/// canonical IPv6), so `actor://LOCALHOST/A/a` equals `actor://localhost/A/a`. Different spellings
/// of "this machine" (`local`, `localhost`, …) are different URIs; [`is_local`](Self::is_local)
/// tells them apart from remote ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActorUri {
    host: String,
    class: String,
    instance_id: String,
}

impl ActorUri {
    /// Parses `actor://host/Class/instance-id`.
    ///
    /// # Errors
    /// [`Error::InvalidUri`] with the text given and a reason naming the wrong part, e.g.
    /// `missing scheme "actor://"`, `empty host` or
    /// `expected 2 path parts (Class/instance-id), found 3`.
    pub fn parse(text: &str) -> Result<ActorUri> {
        parse_parts(text).map_err(|reason| Error::InvalidUri {
            uri: text.to_owned(),
            reason,
        })
    }

    /// The URI of an actor of this process: `actor://local/<class>/<instance_id>`.
    ///
    /// # Errors
    /// [`Error::InvalidUri`] (with the URI that would have been built) if `class` is not a Rust
    /// identifier or `instance_id` is not `[A-Za-z0-9_-]+`.
    pub fn local(class: &str, instance_id: &str) -> Result<ActorUri> {
        let invalid = |reason| Error::InvalidUri {
            uri: format!("{SCHEME}{LOCAL_HOST}/{class}/{instance_id}"),
            reason,
        };
        check_class(class).map_err(invalid)?;
        check_instance_id(instance_id).map_err(invalid)?;
        Ok(ActorUri {
            host: LOCAL_HOST.to_owned(),
            class: class.to_owned(),
            instance_id: instance_id.to_owned(),
        })
    }

    /// The host, normalised: a lower-case host name, an IPv4 address, or an IPv6 address in
    /// canonical form **without** brackets (`"::1"`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The actor's class, the name of its Rust type (`"Camera"`).
    pub fn class(&self) -> &str {
        &self.class
    }

    /// The instance id, unique among the actors of one class on one runtime (`"cam-0"`).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Whether the host names this machine: `local`, `localhost` (in any case), `127.0.0.1` or
    /// `::1`. Other loopback addresses such as `127.0.0.2` are not treated as local.
    pub fn is_local(&self) -> bool {
        LOCAL_HOSTS.contains(&self.host.as_str())
    }
}

impl fmt::Display for ActorUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(
                f,
                "{SCHEME}[{}]/{}/{}",
                self.host, self.class, self.instance_id
            )
        } else {
            write!(
                f,
                "{SCHEME}{}/{}/{}",
                self.host, self.class, self.instance_id
            )
        }
    }
}

impl FromStr for ActorUri {
    type Err = Error;

    fn from_str(text: &str) -> Result<ActorUri> {
        ActorUri::parse(text)
    }
}

/// One port of one actor: the actor's URI and the port's name, kept apart (never a string to
/// split again). Displayed as `actor://host/Class/id.port`, as errors and tools show a port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PortAddress {
    actor: ActorUri,
    port: Cow<'static, str>,
}

impl PortAddress {
    /// Port `port` of the actor at `actor`.
    pub(crate) fn new(actor: ActorUri, port: impl Into<Cow<'static, str>>) -> PortAddress {
        PortAddress {
            actor,
            port: port.into(),
        }
    }

    /// The actor's URI.
    pub(crate) fn actor(&self) -> &ActorUri {
        &self.actor
    }

    /// The port's name.
    pub(crate) fn port(&self) -> &str {
        &self.port
    }
}

impl fmt::Display for PortAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.actor, self.port)
    }
}

/// Checks that `id` can be an instance id: non-empty, only ASCII letters, digits, `_` and `-`.
///
/// The runtime calls this when spawning, before it builds the actor's URI.
///
/// ```
/// use streamlib::uri::validate_instance_id;
/// assert!(validate_instance_id("cam_0-left").is_ok());
/// assert!(validate_instance_id("cam 0").is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidInstanceId`] with the id and what is wrong with it.
pub fn validate_instance_id(id: &str) -> Result<()> {
    let reason = if id.is_empty() {
        "an instance id must not be empty"
    } else if first_invalid_id_char(id).is_some() {
        "an instance id may contain only ASCII letters, digits, '_' and '-'"
    } else {
        return Ok(());
    };
    Err(Error::InvalidInstanceId {
        id: id.to_owned(),
        reason,
    })
}

/// Parses the whole text, returning the reason on failure (the caller wraps it in an error).
fn parse_parts(text: &str) -> std::result::Result<ActorUri, String> {
    let Some(rest) = text.strip_prefix(SCHEME) else {
        return Err(match text.find("://") {
            Some(end) => format!(
                "scheme {} is not \"{SCHEME}\"",
                quoted(&text[..end + "://".len()])
            ),
            None => format!("missing scheme \"{SCHEME}\""),
        });
    };
    if let Some(at) = rest.find(['?', '#']) {
        let what = if rest[at..].starts_with('?') {
            "query"
        } else {
            "fragment"
        };
        return Err(format!("{what} {} is not allowed", quoted(&rest[at..])));
    }
    let (host, path) = split_host(rest)?;
    let Some(path) = path else {
        return Err("expected 2 path parts (Class/instance-id), found 0".to_owned());
    };
    if path.ends_with('/') {
        return Err(format!("path {} has a trailing '/'", quoted(path)));
    }
    let parts: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
    };
    let [class, instance_id] = parts[..] else {
        return Err(format!(
            "expected 2 path parts (Class/instance-id), found {}",
            parts.len()
        ));
    };
    check_class(class)?;
    check_instance_id(instance_id)?;
    Ok(ActorUri {
        host,
        class: class.to_owned(),
        instance_id: instance_id.to_owned(),
    })
}

/// Splits `host[/path]` into the normalised host and the path after the first `/`, if any.
fn split_host(rest: &str) -> std::result::Result<(String, Option<&str>), String> {
    if let Some(bracketed) = rest.strip_prefix('[') {
        let Some(close) = bracketed.find(']') else {
            return Err("IPv6 host has no closing ']'".to_owned());
        };
        let (inside, after) = (&bracketed[..close], &bracketed[close + 1..]);
        // `[inside]`, as written.
        let host = quoted(&rest[..close + 2]);
        let address: Ipv6Addr = inside
            .parse()
            .map_err(|_| format!("host {host} is not a valid IPv6 address"))?;
        let path = match after.strip_prefix('/') {
            Some(path) => Some(path),
            None if after.is_empty() => None,
            None if after.starts_with(':') => {
                return Err(format!(
                    "host {host} is followed by {}: a port is not part of an actor URI",
                    quoted(after)
                ))
            }
            None => return Err(format!("unexpected {} after host {host}", quoted(after))),
        };
        return Ok((address.to_string(), path));
    }
    let (host, path) = match rest.split_once('/') {
        Some((host, path)) => (host, Some(path)),
        None => (rest, None),
    };
    Ok((check_host_name(host)?, path))
}

/// Validates an unbracketed host: a dotted IPv4 address or an RFC 1123 host name.
fn check_host_name(host: &str) -> std::result::Result<String, String> {
    if host.is_empty() {
        return Err("empty host".to_owned());
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return match host.parse::<Ipv4Addr>() {
            Ok(address) => Ok(address.to_string()),
            Err(_) => Err(format!("host {} is not a valid IPv4 address", quoted(host))),
        };
    }
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    if let Some(c) = host.chars().find(|&c| !is_name_char(c)) {
        return Err(match c {
            ':' => format!(
                "host {} contains ':' (a port is not part of an actor URI; \
                 IPv6 addresses are written in brackets, e.g. [::1])",
                quoted(host)
            ),
            _ => format!(
                "host {} contains {c:?}; a host name has only ASCII letters, digits, '-' and '.'",
                quoted(host)
            ),
        });
    }
    if host.len() > MAX_HOST_LEN {
        return Err(format!(
            "host is {} characters long, more than {MAX_HOST_LEN}",
            host.len()
        ));
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err(format!(
                "host {} has an empty label (\"..\", or a leading or trailing '.')",
                quoted(host)
            ));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(format!(
                "host label {} is longer than {MAX_LABEL_LEN} characters",
                quoted(label)
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "host label {} starts or ends with '-'",
                quoted(label)
            ));
        }
    }
    Ok(host.to_ascii_lowercase())
}

fn check_class(class: &str) -> std::result::Result<(), String> {
    let mut chars = class.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let continues_well = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if class.is_empty() {
        Err("empty class".to_owned())
    } else if class == "_" {
        Err("class \"_\" is not a Rust identifier (a lone '_' is not a name)".to_owned())
    } else if !(starts_well && continues_well) {
        Err(format!(
            "class {} is not a Rust identifier (expected [A-Za-z_][A-Za-z0-9_]*)",
            quoted(class)
        ))
    } else {
        Ok(())
    }
}

fn check_instance_id(id: &str) -> std::result::Result<(), String> {
    if id.is_empty() {
        return Err("empty instance id".to_owned());
    }
    match first_invalid_id_char(id) {
        Some(c) => Err(format!(
            "instance id {} contains {c:?} (allowed: ASCII letters, digits, '_' and '-')",
            quoted(id)
        )),
        None => Ok(()),
    }
}

fn first_invalid_id_char(id: &str) -> Option<char> {
    id.chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn reason(text: &str) -> String {
        match ActorUri::parse(text) {
            Err(Error::InvalidUri { uri, reason }) => {
                assert_eq!(uri, text, "the error carries the text given");
                reason
            }
            other => panic!("expected InvalidUri for {text:?}, got {other:?}"),
        }
    }

    fn parts(text: &str) -> (String, String, String) {
        let uri = ActorUri::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        (uri.host.clone(), uri.class.clone(), uri.instance_id.clone())
    }

    fn owned(host: &str, class: &str, id: &str) -> (String, String, String) {
        (host.to_owned(), class.to_owned(), id.to_owned())
    }

    #[test]
    fn parses_valid_uris() {
        assert_eq!(
            parts("actor://local/Camera/cam0"),
            owned("local", "Camera", "cam0")
        );
        assert_eq!(
            parts("actor://studio-a.example.com/Mixer_2/main-out_1"),
            owned("studio-a.example.com", "Mixer_2", "main-out_1")
        );
        assert_eq!(
            parts("actor://10.0.0.7/Camera/cam0"),
            owned("10.0.0.7", "Camera", "cam0")
        );
        assert_eq!(parts("actor://h/_private/0"), owned("h", "_private", "0"));
        assert_eq!(parts("actor://h/A/-_-"), owned("h", "A", "-_-"));
        assert_eq!(parts("actor://8host/A/a"), owned("8host", "A", "a"));
    }

    #[test]
    fn parses_bracketed_ipv6_and_stores_it_canonical_without_brackets() {
        assert_eq!(
            parts("actor://[::1]/Camera/cam0"),
            owned("::1", "Camera", "cam0")
        );
        assert_eq!(
            parts("actor://[2001:DB8:0:0:0:0:0:1]/A/a"),
            owned("2001:db8::1", "A", "a")
        );
        let uri = ActorUri::parse("actor://[0:0:0:0:0:0:0:1]/A/a").unwrap();
        assert_eq!(uri.to_string(), "actor://[::1]/A/a");
    }

    #[test]
    fn host_names_are_lower_cased() {
        let upper = ActorUri::parse("actor://Studio.Example/A/a").unwrap();
        assert_eq!(upper.host(), "studio.example");
        assert_eq!(
            upper,
            ActorUri::parse("actor://studio.example/A/a").unwrap()
        );
    }

    #[test]
    fn class_and_id_keep_their_case() {
        let a = ActorUri::parse("actor://local/Cam/Id").unwrap();
        let b = ActorUri::parse("actor://local/Cam/id").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn rejects_a_missing_or_wrong_scheme() {
        assert_eq!(reason("local/A/a"), "missing scheme \"actor://\"");
        assert_eq!(reason(""), "missing scheme \"actor://\"");
        assert_eq!(reason("actor:/local/A/a"), "missing scheme \"actor://\"");
        assert_eq!(
            reason("http://local/A/a"),
            "scheme \"http://\" is not \"actor://\""
        );
        assert_eq!(
            reason("Actor://local/A/a"),
            "scheme \"Actor://\" is not \"actor://\""
        );
    }

    #[test]
    fn rejects_bad_hosts() {
        assert_eq!(reason("actor:///A/a"), "empty host");
        assert_eq!(reason("actor://"), "empty host");
        assert!(reason("actor://local:7447/A/a").contains("a port is not part"));
        assert!(reason("actor://user@host/A/a").contains("contains '@'"));
        assert!(reason("actor://ho_st/A/a").contains("contains '_'"));
        assert!(reason("actor://999.1.1.1/A/a").contains("not a valid IPv4 address"));
        assert!(reason("actor://1.2.3/A/a").contains("not a valid IPv4 address"));
        assert!(reason("actor://a..b/A/a").contains("empty label"));
        assert!(reason("actor://example.com./A/a").contains("empty label"));
        assert!(reason("actor://-a.b/A/a").contains("starts or ends with '-'"));
        assert!(reason("actor://a-.b/A/a").contains("starts or ends with '-'"));
        let long_label = "a".repeat(64);
        assert!(reason(&format!("actor://{long_label}/A/a")).contains("longer than 63"));
        let long_host = vec!["a".repeat(60); 5].join(".");
        assert!(reason(&format!("actor://{long_host}/A/a")).contains("more than 253"));
    }

    #[test]
    fn rejects_bad_ipv6_hosts() {
        assert!(reason("actor://[::zz]/A/a").contains("not a valid IPv6 address"));
        assert!(reason("actor://[]/A/a").contains("not a valid IPv6 address"));
        assert!(reason("actor://[fe80::1%eth0]/A/a").contains("not a valid IPv6 address"));
        assert!(reason("actor://[::1/A/a").contains("no closing ']'"));
        assert!(reason("actor://[::1]:7447/A/a").contains("a port is not part"));
        assert!(reason("actor://[::1]x/A/a").contains("unexpected \"x/A/a\""));
        assert!(reason("actor://::1/A/a").contains("written in brackets"));
    }

    #[test]
    fn requires_exactly_two_path_parts() {
        let expected = |n: usize| format!("expected 2 path parts (Class/instance-id), found {n}");
        assert_eq!(reason("actor://local"), expected(0));
        assert_eq!(reason("actor://[::1]"), expected(0));
        assert_eq!(reason("actor://local/"), expected(0));
        assert_eq!(reason("actor://local/A"), expected(1));
        assert_eq!(reason("actor://local/A/a/b"), expected(3));
        assert_eq!(reason("actor://local/A//a"), expected(3));
        assert_eq!(
            reason("actor://local/A/a/"),
            "path \"A/a/\" has a trailing '/'"
        );
    }

    #[test]
    fn rejects_query_and_fragment() {
        assert_eq!(
            reason("actor://local/A/a?x=1"),
            "query \"?x=1\" is not allowed"
        );
        assert_eq!(
            reason("actor://local/A/a#top"),
            "fragment \"#top\" is not allowed"
        );
        assert_eq!(
            reason("actor://local/A/a#t?x"),
            "fragment \"#t?x\" is not allowed"
        );
    }

    #[test]
    fn class_must_be_a_rust_identifier() {
        assert!(reason("actor://local/9Cam/cam0")
            .starts_with("class \"9Cam\" is not a Rust identifier"));
        assert!(reason("actor://local/Ca-m/a").starts_with("class \"Ca-m\" is not"));
        assert!(reason("actor://local/Caméra/a").starts_with("class \"Caméra\" is not"));
        assert!(reason("actor://local/_/a").starts_with("class \"_\" is not a Rust identifier"));
        assert_eq!(reason("actor://local//a"), "empty class");
    }

    #[test]
    fn instance_id_is_letters_digits_underscore_and_dash() {
        assert_eq!(reason("actor://local/A/"), "path \"A/\" has a trailing '/'");
        assert!(reason("actor://local/A/cam.0").contains("instance id \"cam.0\" contains '.'"));
        assert!(reason("actor://local/A/cam%200").contains("contains '%'"));
        assert!(reason("actor://local/A/é").contains("contains 'é'"));
    }

    /// Whatever the input, the message quotes at most a bounded prefix of it (and of each
    /// part its reason names), so a hostile 1 MB URI does not make a 2 MB log line.
    #[test]
    fn messages_stay_short_for_huge_input() {
        let huge = "x".repeat(1 << 20);
        let digits = "1".repeat(1 << 20);
        for text in [
            format!("{huge}://local/A/a"),
            format!("actor://local/A/a?{huge}"),
            format!("actor://local/A/a#{huge}"),
            format!("actor://local/A/{huge}/"),
            format!("actor://[{huge}]/A/a"),
            format!("actor://[::1]:{huge}/A/a"),
            format!("actor://[::1]{huge}/A/a"),
            format!("actor://{digits}/A/a"),
            format!("actor://ho_st{huge}/A/a"),
            format!("actor://local/9{huge}/a"),
            format!("actor://local/A/.{huge}"),
            format!("actor://local/A/{huge}.x"),
            format!("actor://local/A/a/{huge}"),
            huge.clone(),
        ] {
            let err = ActorUri::parse(&text).unwrap_err();
            let message = err.to_string();
            assert!(
                message.len() < 1024,
                "{} bytes for {:?}…: {:?}",
                message.len(),
                &text[..40],
                &message[..300.min(message.len())]
            );
            assert!(matches!(err, Error::InvalidUri { uri, .. } if uri == text));
        }
        let message = ActorUri::parse(&format!("actor://local/A/a?{huge}"))
            .unwrap_err()
            .to_string();
        let prefix: String = format!("actor://local/A/a?{huge}")
            .chars()
            .take(128)
            .collect();
        let query: String = format!("?{huge}").chars().take(128).collect();
        assert_eq!(
            message,
            format!(
                "invalid actor URI {prefix:?}… ({} bytes): query {query:?}… ({} bytes) is not allowed",
                (1 << 20) + 18,
                (1 << 20) + 1
            )
        );
        let local = ActorUri::local("A", &format!("{huge}."))
            .unwrap_err()
            .to_string();
        assert!(local.len() < 1024, "{} bytes", local.len());
        let id = validate_instance_id(&format!("{huge} "))
            .unwrap_err()
            .to_string();
        assert!(id.len() < 1024, "{} bytes", id.len());
    }

    #[test]
    fn is_local_for_the_four_local_hosts_in_any_case() {
        for text in [
            "actor://local/A/a",
            "actor://LOCAL/A/a",
            "actor://localhost/A/a",
            "actor://LocalHost/A/a",
            "actor://127.0.0.1/A/a",
            "actor://[::1]/A/a",
            "actor://[0:0:0:0:0:0:0:1]/A/a",
        ] {
            assert!(ActorUri::parse(text).unwrap().is_local(), "{text}");
        }
        for text in [
            "actor://10.0.0.7/A/a",
            "actor://127.0.0.2/A/a",
            "actor://local.example/A/a",
            "actor://[::2]/A/a",
            "actor://localhost2/A/a",
        ] {
            assert!(!ActorUri::parse(text).unwrap().is_local(), "{text}");
        }
    }

    #[test]
    fn display_round_trips_and_from_str_parses() {
        for text in [
            "actor://local/Camera/cam0",
            "actor://[::1]/A/a",
            "actor://[2001:db8::7]/Mixer/out-1",
            "actor://10.0.0.7/Camera/cam_0",
        ] {
            let uri: ActorUri = text.parse().unwrap();
            assert_eq!(uri.to_string(), text);
            assert_eq!(ActorUri::parse(&uri.to_string()).unwrap(), uri);
        }
        assert!("nope".parse::<ActorUri>().is_err());
    }

    /// A deterministic generator of valid parts stands in for a property test (the crate's
    /// dev-dependencies stay small): thousands of random URIs must round-trip through Display.
    #[test]
    fn generated_uris_round_trip() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        let mut pick = |alphabet: &[u8], min: usize, max: usize| -> String {
            let len = min + next(max - min + 1);
            (0..len)
                .map(|_| char::from(alphabet[next(alphabet.len())]))
                .collect()
        };
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const ID: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
        for round in 0..3000 {
            let host = match round % 4 {
                0 => format!("{}.{}", pick(LETTERS, 1, 10), pick(LETTERS, 1, 5)),
                1 => format!("{}.{}.{}.{}", round % 256, (round * 7) % 256, 3, round % 17),
                2 => format!("[{:x}::{:x}]", round, round * 3),
                _ => pick(b"abcdef0123456789", 1, 12) + "x",
            };
            let class = pick(LETTERS, 1, 1) + &pick(&ID[..62], 0, 12);
            let id = pick(ID, 1, 16);
            let text = format!("actor://{host}/{class}/{id}");
            let uri = ActorUri::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                ActorUri::parse(&uri.to_string()).as_ref(),
                Ok(&uri),
                "{text}"
            );
            assert_eq!(
                (uri.class(), uri.instance_id()),
                (class.as_str(), id.as_str())
            );
        }
    }

    #[test]
    fn local_builds_and_validates_both_parts() {
        let uri = ActorUri::local("Doubler", "dbl").unwrap();
        assert_eq!(uri.to_string(), "actor://local/Doubler/dbl");
        assert!(uri.is_local());
        assert_eq!(uri, ActorUri::parse("actor://local/Doubler/dbl").unwrap());
        match ActorUri::local("Doubler", "d/b") {
            Err(Error::InvalidUri { uri, reason }) => {
                assert_eq!(uri, "actor://local/Doubler/d/b");
                assert!(
                    reason.contains("instance id \"d/b\" contains '/'"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ActorUri::local("3D", "a"),
            Err(Error::InvalidUri { reason, .. }) if reason.contains("class \"3D\"")
        ));
        assert!(ActorUri::local("A", "").is_err());
        assert!(ActorUri::local("", "a").is_err());
    }

    #[test]
    fn validate_instance_id_names_the_id() {
        assert_eq!(validate_instance_id("cam_0-L"), Ok(()));
        assert_eq!(validate_instance_id("0"), Ok(()));
        for bad in ["", "cam 0", "cam.0", "a/b", "ü"] {
            match validate_instance_id(bad) {
                Err(Error::InvalidInstanceId { id, .. }) => assert_eq!(id, bad),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn ordering_and_hashing_follow_host_class_id() {
        let a = ActorUri::parse("actor://a/B/c").unwrap();
        let b = ActorUri::parse("actor://a/C/a").unwrap();
        let c = ActorUri::parse("actor://b/A/a").unwrap();
        assert!(a < b && b < c);
        let set: HashSet<ActorUri> = [a.clone(), a.clone(), b].into_iter().collect();
        assert_eq!(set.len(), 2);
    }
}

//! The graph of actors and connections, described once.
//!
//! A [`GraphModel`] holds actors (by URI) and links between ports, each end kept as typed data — the
//! actor's URI and the port's name — never as text to split again. [`Pipeline::to_dot`],
//! [`Registry::to_dot`] and the inspection API's `GET /api/graph` all build one and describe the
//! graph from it, so the three agree. This module depends on [`uri`](crate::uri) only; the
//! pipeline and the registry fill it from what they hold.
//!
//! [`Pipeline::to_dot`]: crate::Pipeline::to_dot
//! [`Registry::to_dot`]: crate::Registry::to_dot

use std::collections::BTreeMap;

use crate::uri::{ActorUri, PortAddress};

/// One connection: from an output to an input, with the payload type it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    /// The output; `None` for a port bound to no actor (an `Output` used on its own).
    pub(crate) from: Option<PortAddress>,
    /// The input; `None` for a port bound to no actor.
    pub(crate) to: Option<PortAddress>,
    /// The payload type's full name.
    pub(crate) payload: &'static str,
}

impl Link {
    /// The output side as `actor://host/Class/id.port` (or `<unbound output>`).
    pub(crate) fn output_text(&self) -> String {
        end_text(self.from.as_ref(), "output")
    }

    /// The input side as `actor://host/Class/id.port` (or `<unbound input>`).
    pub(crate) fn input_text(&self) -> String {
        end_text(self.to.as_ref(), "input")
    }
}

fn end_text(end: Option<&PortAddress>, direction: &str) -> String {
    match end {
        Some(address) => address.to_string(),
        None => format!("<unbound {direction}>"),
    }
}

/// Actors and the links between their ports.
#[derive(Clone, Debug, Default)]
pub(crate) struct GraphModel {
    actors: Vec<ActorUri>,
    links: Vec<Link>,
}

impl GraphModel {
    /// A graph of `actors` (the links' ends need not be listed) and `links`.
    pub(crate) fn new(actors: Vec<ActorUri>, links: Vec<Link>) -> GraphModel {
        GraphModel { actors, links }
    }

    /// The links, in the order they were given.
    #[cfg_attr(not(feature = "inspect"), allow(dead_code))]
    pub(crate) fn links(&self) -> &[Link] {
        &self.links
    }

    /// The graph as a Graphviz DOT digraph: one node per actor (labelled `Class/id`), one edge
    /// per link labelled `output → input : payload` with the payload's short type name.
    pub(crate) fn to_dot(&self) -> String {
        // Node id (its URI text) → label; sorted, so the text is stable.
        let mut nodes: BTreeMap<String, String> = self
            .actors
            .iter()
            .map(|uri| (uri.to_string(), actor_label(uri)))
            .collect();
        for link in &self.links {
            for (end, direction) in [(&link.from, "output"), (&link.to, "input")] {
                let (id, label) = node(end.as_ref(), direction);
                nodes.entry(id).or_insert(label);
            }
        }
        let mut dot = String::from("digraph pipeline {\n  rankdir=LR;\n  node [shape=box];\n");
        for (id, label) in &nodes {
            dot.push_str(&format!("  {id:?} [label={label:?}];\n"));
        }
        for link in &self.links {
            let (from, _) = node(link.from.as_ref(), "output");
            let (to, _) = node(link.to.as_ref(), "input");
            let label = format!(
                "{} → {} : {}",
                port_name(link.from.as_ref()),
                port_name(link.to.as_ref()),
                crate::class::type_argument(link.payload)
            );
            dot.push_str(&format!("  {from:?} -> {to:?} [label={label:?}];\n"));
        }
        dot.push_str("}\n");
        dot
    }
}

/// `(node id, label)` of a link's end.
fn node(end: Option<&PortAddress>, direction: &str) -> (String, String) {
    match end {
        Some(address) => (address.actor().to_string(), actor_label(address.actor())),
        None => {
            let text = format!("<unbound {direction}>");
            (text.clone(), text)
        }
    }
}

/// `Class/id`.
fn actor_label(uri: &ActorUri) -> String {
    format!("{}/{}", uri.class(), uri.instance_id())
}

fn port_name(end: Option<&PortAddress>) -> &str {
    end.map_or("", PortAddress::port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(uri: &str, port: &'static str) -> PortAddress {
        PortAddress::new(ActorUri::parse(uri).unwrap(), port)
    }

    #[test]
    fn dot_lists_nodes_and_edges() {
        let graph = GraphModel::new(
            vec![ActorUri::parse("actor://local/C/lonely").unwrap()],
            vec![Link {
                from: Some(port("actor://local/A/a", "video")),
                to: Some(port("actor://local/B/b", "frame")),
                payload: "streamlib::message::video::VideoFrame",
            }],
        );
        let dot = graph.to_dot();
        assert!(dot.contains("\"actor://local/A/a\" -> \"actor://local/B/b\""));
        assert!(dot.contains("video → frame : VideoFrame"));
        assert!(dot.contains("label=\"A/a\""));
        assert!(
            dot.contains("label=\"C/lonely\""),
            "unconnected actors are nodes too"
        );
    }

    #[test]
    fn ends_keep_uri_and_port_apart() {
        // A port name with a dot, and an IPv6 host, stay whole: nothing is split back from text.
        let link = Link {
            from: Some(port("actor://[::1]/A/a", "left.eye")),
            to: None,
            payload: "u8",
        };
        let from = link.from.as_ref().unwrap();
        assert_eq!(from.actor().host(), "::1");
        assert_eq!(from.port(), "left.eye");
        assert_eq!(link.output_text(), "actor://[::1]/A/a.left.eye");
        assert_eq!(link.input_text(), "<unbound input>");
        let dot = GraphModel::new(Vec::new(), vec![link]).to_dot();
        assert!(
            dot.contains("\"actor://[::1]/A/a\" -> \"<unbound input>\""),
            "{dot}"
        );
        assert!(dot.contains("left.eye →  : u8"), "{dot}");
    }
}

//! The `[[wires]]` tables: ports and their message types, capacities and
//! policies, codecs and delivery across nodes, the route of each cross-node
//! hop.

use std::collections::{HashMap, HashSet};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::binds::binds_collide;
use super::{suggest_in, ActorIn, Loader, NodeIn, PortIn, DEFAULT_CODEC, WIRE_KEYS};
use crate::kind::{Direction, KindInfo};
use crate::topology::model::{Destination, PortRef, RemoteRoute, WireSpec};
use crate::topology::read::{entry, suggest, Span};
use crate::wire::{Delivery, Policy, WireConfig};

impl Loader<'_> {
    pub(super) fn port(
        &mut self,
        text: &str,
        span: &Span,
        actors: &[ActorIn],
        direction: Direction,
    ) -> Option<(PortIn, usize, KindInfo)> {
        let Some((actor, port)) = text.split_once('.') else {
            self.r.error(
                Some(span.clone()),
                format!("`{text}` is not a port: write ACTOR.PORT"),
                None,
            );
            return None;
        };
        let Some(&i) = self.actor_index.get(actor) else {
            self.r.error(
                Some(span.clone()),
                format!("wire refers to unknown actor `{actor}`"),
                suggest_in(actor, actors.iter().map(|a| a.spec.name.as_str())),
            );
            return None;
        };
        let info = self.registry.kind(&actors[i].spec.kind)?.clone();
        let same_dir: Vec<String> = info
            .ports
            .iter()
            .filter(|p| p.direction == direction)
            .map(|p| format!("`{}` ({})", p.name, p.message))
            .collect();
        let listing = if same_dir.is_empty() {
            format!("kind `{}` has no {direction} ports", info.name)
        } else {
            format!(
                "{direction} ports of `{}`: {}",
                info.name,
                same_dir.join(", ")
            )
        };
        match info.port(port) {
            None => {
                let help = match suggest(
                    port,
                    info.ports
                        .iter()
                        .filter(|p| p.direction == direction)
                        .map(|p| p.name),
                ) {
                    Some(s) => format!("did you mean `{actor}.{s}`? {listing}"),
                    None => listing,
                };
                self.r.error(
                    Some(span.clone()),
                    format!(
                        "actor `{actor}` (kind `{}`) has no port `{port}`",
                        info.name
                    ),
                    Some(help),
                );
                None
            }
            Some(p) if p.direction != direction => {
                let role = if direction == Direction::Output {
                    "`from` must name an output port"
                } else {
                    "`to` must name input ports"
                };
                self.r.error(
                    Some(span.clone()),
                    format!("`{text}` is an {} port; {role}", p.direction),
                    Some(listing),
                );
                None
            }
            Some(_) => Some((
                PortIn {
                    port: PortRef {
                        actor: actor.to_owned(),
                        port: port.to_owned(),
                    },
                    span: span.clone(),
                },
                i,
                info,
            )),
        }
    }

    pub(super) fn wires(
        &mut self,
        root: &DeTable<'_>,
        actors: &[ActorIn],
        nodes: &[NodeIn],
    ) -> Vec<(WireSpec, Vec<Span>)> {
        let Some((_, v)) = entry(root, "wires") else {
            return Vec::new();
        };
        let items: Vec<Spanned<DeValue<'_>>> = match v.get_ref() {
            DeValue::Array(a) => a.iter().cloned().collect(),
            _ => {
                self.r.error(
                    Some(v.span()),
                    "`wires` must be an array of tables: write [[wires]]".into(),
                    None,
                );
                return Vec::new();
            }
        };
        let mut wires = Vec::new();
        let mut seen: HashSet<(PortRef, PortRef)> = HashSet::new();
        let mut next_port: HashMap<String, u32> = HashMap::new();
        let mut endpoints: Vec<(String, String, Span)> = Vec::new(); // (node, bind, span)
        for (n, item) in items.iter().enumerate() {
            let what = format!("wire #{}", n + 1);
            let Some(t) = self.r.table(item, "wires", "the topology") else {
                continue;
            };
            self.r.unknown_keys(t, WIRE_KEYS, &what);
            let from = match self.r.string(t, "from", &what) {
                Some((text, span)) => self.port(&text, &span, actors, Direction::Output),
                None => {
                    if entry(t, "from").is_none() {
                        self.r.error(
                            Some(item.span()),
                            format!("{what} has no `from`"),
                            Some("add from = \"ACTOR.PORT\" (an output port)".into()),
                        );
                    }
                    None
                }
            };
            let to_texts = self.r.strings(t, "to", &what).unwrap_or_default();
            if to_texts.is_empty() && entry(t, "to").is_none() {
                self.r.error(
                    Some(item.span()),
                    format!("{what} has no `to`"),
                    Some("add to = \"ACTOR.PORT\" or an array of input ports".into()),
                );
            }
            let capacity = self
                .r
                .integer(t, "capacity", &what, 1..=16_777_216)
                .map(|c| c.0 as usize)
                .unwrap_or(WireConfig::DEFAULT_CAPACITY);
            let policy = match self.r.string(t, "policy", &what) {
                Some((p, span)) => match p.parse::<Policy>() {
                    Ok(p) => p,
                    Err(e) => {
                        self.r.error(Some(span), e.to_string(), None);
                        Policy::Block
                    }
                },
                None => Policy::Block,
            };
            let delivery = match self.r.string(t, "delivery", &what) {
                Some((d, span)) => Delivery::parse(&d).unwrap_or_else(|| {
                    self.r.error(
                        Some(span),
                        format!("unknown delivery `{d}` in {what}"),
                        Some("use \"at-least-once\" (the default) or \"at-most-once\"".into()),
                    );
                    Delivery::AtLeastOnce
                }),
                None => Delivery::AtLeastOnce,
            };
            let max_message_size = self
                .r
                .integer(t, "max_message_size", &what, 16..=(1 << 40))
                .map(|m| m.0 as u64)
                .unwrap_or(WireSpec::DEFAULT_MAX_MESSAGE_SIZE);
            let codec = self.r.string(t, "codec", &what);
            let endpoint = self.r.string(t, "endpoint", &what);
            let Some((from, from_actor, from_kind)) = from else {
                // Still check the destinations' names.
                for (text, span) in &to_texts {
                    self.port(text, span, actors, Direction::Input);
                }
                continue;
            };
            let from_info = from_kind.port(&from.port.port).cloned();
            let mut to = Vec::new();
            let mut spans = Vec::new();
            let mut remote_count = 0;
            let mut wire_endpoints = Vec::new();
            for (text, span) in &to_texts {
                let Some((dest, dest_actor, dest_kind)) =
                    self.port(text, span, actors, Direction::Input)
                else {
                    continue;
                };
                let dest_info = dest_kind.port(&dest.port.port).cloned();
                if let (Some(f), Some(d)) = (&from_info, &dest_info) {
                    if f.type_id() != d.type_id() {
                        self.r.error(
                            Some(dest.span.clone()),
                            format!("wire `{} -> {}` connects mismatched message types: `{}` sends `{}` but `{}` takes `{}`", from.port, dest.port, from.port, f.message, dest.port, d.message),
                            Some("wire an output to an input of the same message type, or put a converting actor between them".into()),
                        );
                        continue;
                    }
                }
                if !seen.insert((from.port.clone(), dest.port.clone())) {
                    self.r.error(
                        Some(dest.span.clone()),
                        format!("`{} -> {}` is wired twice", from.port, dest.port),
                        Some("remove the duplicate".into()),
                    );
                    continue;
                }
                let from_node = &actors[from_actor].spec.node;
                let to_node = &actors[dest_actor].spec.node;
                let remote = if from_node != to_node {
                    remote_count += 1;
                    let curve_of = |name: &str| {
                        nodes
                            .iter()
                            .find(|n| n.spec.name == name)
                            .is_some_and(|n| n.spec.curve.is_some())
                    };
                    if curve_of(to_node) && !curve_of(from_node) {
                        self.r.error(
                            Some(dest.span.clone()),
                            format!("wire `{} -> {}` crosses into node `{to_node}`, which takes CURVE-encrypted wires only, but node `{from_node}` has no CURVE keys", from.port, dest.port),
                            Some(format!("give [nodes.{from_node}] curve_public_key and curve_secret_key (`rolecall keygen {from_node}`)")),
                        );
                    }
                    if let Some(f) = &from_info {
                        let format = codec
                            .as_ref()
                            .map(|c| c.0.as_str())
                            .unwrap_or(DEFAULT_CODEC);
                        let formats = self.registry.formats(f);
                        if !formats.contains(&format) {
                            let at = codec
                                .as_ref()
                                .map(|c| c.1.clone())
                                .unwrap_or_else(|| dest.span.clone());
                            self.r.error(
                                Some(at),
                                format!("wire `{} -> {}` crosses from node `{from_node}` to `{to_node}` but message type `{}` has no `{format}` codec", from.port, dest.port, f.message),
                                Some(if formats.is_empty() {
                                    "give the type serde Serialize/Deserialize or register a codec for it".into()
                                } else {
                                    format!("available codecs: {}", formats.join(", "))
                                }),
                            );
                        }
                    }
                    Some(self.route(to_node, nodes, &endpoint, &mut next_port, &dest.span))
                } else {
                    None
                };
                if let Some(Some(r)) = &remote {
                    wire_endpoints.push((
                        to_node.clone(),
                        r.bind.clone(),
                        endpoint
                            .as_ref()
                            .map(|e| e.1.clone())
                            .unwrap_or_else(|| dest.span.clone()),
                    ));
                }
                spans.push(dest.span.clone());
                to.push(Destination {
                    port: dest.port,
                    remote: remote.flatten(),
                });
            }
            match &endpoint {
                Some((_, span)) if remote_count != 1 => {
                    // Reported once here, not again as destinations sharing it.
                    self.r.error(
                        Some(span.clone()),
                        format!("`endpoint` in {what} needs exactly one destination on another node (it has {remote_count})"),
                        Some("split the wire: one [[wires]] per cross-node destination with its own endpoint".into()),
                    );
                }
                _ => endpoints.extend(wire_endpoints),
            }
            wires.push((
                WireSpec {
                    from: from.port,
                    to,
                    config: WireConfig::new(capacity, policy),
                    codec: codec
                        .map(|c| c.0)
                        .unwrap_or_else(|| DEFAULT_CODEC.to_owned()),
                    delivery,
                    max_message_size,
                },
                spans,
            ));
        }
        // Two hops binding the same endpoint on one node.
        for (i, (node, bind, span)) in endpoints.iter().enumerate() {
            if let Some((_, _, first)) = endpoints[..i]
                .iter()
                .find(|(n, b, _)| n == node && binds_collide(b, bind))
            {
                let line = self
                    .r
                    .src
                    .diagnostic(Some(first.clone()), String::new(), None)
                    .line;
                self.r.error(
                    Some(span.clone()),
                    format!("two wires bind `{bind}` on node `{node}`"),
                    Some(format!(
                        "the other one is at line {line}; give each wire its own endpoint or port"
                    )),
                );
            }
        }
        wires
    }

    fn route(
        &mut self,
        node: &str,
        nodes: &[NodeIn],
        endpoint: &Option<(String, Span)>,
        next_port: &mut HashMap<String, u32>,
        at: &Span,
    ) -> Option<RemoteRoute> {
        let n = nodes.iter().find(|x| x.spec.name == node)?;
        if let Some((e, span)) = endpoint {
            if let Some(rest) = e.strip_prefix("tcp://") {
                let Some((_, port)) = rest.rsplit_once(':') else {
                    self.r.error(
                        Some(span.clone()),
                        format!("endpoint `{e}` has no port"),
                        Some("write tcp://HOST:PORT".into()),
                    );
                    return None;
                };
                return Some(RemoteRoute {
                    bind: format!("tcp://{}:{port}", n.spec.listen),
                    connect: e.clone(),
                });
            }
            if e.starts_with("ipc://") {
                return Some(RemoteRoute {
                    bind: e.clone(),
                    connect: e.clone(),
                });
            }
            self.r.error(
                Some(span.clone()),
                format!("endpoint `{e}` must be tcp://HOST:PORT or ipc://PATH"),
                None,
            );
            return None;
        }
        let k = next_port.entry(node.to_owned()).or_insert(0);
        let port = u32::from(n.spec.base_port) + *k;
        *k += 1;
        if port > 65535 {
            self.r.error(
                n.span.clone().or(Some(at.clone())),
                format!(
                    "node `{node}` needs more ports than base_port {} leaves (up to 65535)",
                    n.spec.base_port
                ),
                Some("lower base_port".into()),
            );
            return None;
        }
        Some(RemoteRoute {
            bind: format!("tcp://{}:{port}", n.spec.listen),
            connect: format!("tcp://{}:{port}", n.spec.address),
        })
    }
}

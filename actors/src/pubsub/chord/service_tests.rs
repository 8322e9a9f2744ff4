//! The ring's discovery on a simulated network: every node's [`Service`],
//! messages delivered in order, nodes that are down drop what they get, a
//! clock that moves only when nothing is in flight.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use prost::Message as _;
use rolecall_codecs::pb::discovery::{
    discovery_resp, DiscoveryResp, MsgTypes, RegistrantInfo, Role, Status,
};

use super::*;
use crate::pubsub::chord::{Peer, Ring};
use crate::pubsub::client::{isready_req, lookup_req, register_req};

struct Sim {
    nodes: Vec<Service>,
    down: BTreeSet<usize>,
    queue: VecDeque<(String, PeerMsg)>,
    replies: Vec<(u64, DiscoveryResp)>,
    now: Instant,
    next_tag: u64,
    max_hops: u32,
}

fn peers(n: usize) -> Vec<Peer> {
    (0..n)
        .map(|i| {
            let endpoint = format!("tcp://127.0.0.1:{}", 6000 + i);
            Peer {
                hash: hash(16, &format!("disc{}:127.0.0.1:{}", i + 1, 6000 + i)),
                id: format!("disc{}", i + 1),
                endpoint,
            }
        })
        .collect()
}

impl Sim {
    fn new(n: usize, expect: Expect) -> Sim {
        let ring = peers(n);
        let nodes = ring
            .iter()
            .map(|p| {
                let node = Node::join(&p.id, &ring, 16).unwrap();
                Service::new(node, Config::new(expect.clone()))
            })
            .collect();
        Sim {
            nodes,
            down: BTreeSet::new(),
            queue: VecDeque::new(),
            replies: Vec::new(),
            now: Instant::now(),
            next_tag: 0,
            max_hops: 0,
        }
    }

    fn index(&self, endpoint: &str) -> usize {
        self.nodes
            .iter()
            .position(|s| s.node().me().endpoint == endpoint)
            .unwrap()
    }

    fn take(&mut self, outs: Vec<Out>) {
        for out in outs {
            match out {
                Out::Reply { client, bytes } => self
                    .replies
                    .push((client, DiscoveryResp::decode(&bytes[..]).unwrap())),
                Out::Send { to, msg } => {
                    if let PeerMsg::Done { hops, .. } = &msg {
                        self.max_hops = self.max_hops.max(*hops);
                    }
                    self.queue.push_back((to, msg));
                }
                Out::Reset(_) => {}
            }
        }
    }

    /// Sends `req` to node `at` and runs the network until it is answered.
    fn call(
        &mut self,
        at: usize,
        req: rolecall_codecs::pb::discovery::DiscoveryReq,
    ) -> DiscoveryResp {
        self.next_tag += 1;
        let tag = self.next_tag;
        let outs = self.nodes[at].request(tag, &req.encode_to_vec(), self.now);
        self.take(outs);
        for _ in 0..100_000 {
            if let Some(i) = self.replies.iter().position(|(c, _)| *c == tag) {
                return self.replies.remove(i).1;
            }
            match self.queue.pop_front() {
                Some((to, msg)) => {
                    let i = self.index(&to);
                    if !self.down.contains(&i) {
                        let outs = self.nodes[i].peer(msg, self.now);
                        self.take(outs);
                    }
                }
                None => {
                    self.now += Duration::from_millis(100);
                    for i in 0..self.nodes.len() {
                        if !self.down.contains(&i) {
                            let outs = self.nodes[i].tick(self.now);
                            self.take(outs);
                        }
                    }
                }
            }
        }
        panic!("request {tag} never answered");
    }

    /// The node responsible for `text`, by brute force.
    fn owner(&self, text: &str) -> usize {
        let ring = Ring::new(&peers(self.nodes.len()), 16).unwrap();
        let p = ring.brute_force_successor(hash(16, text)).clone();
        self.index(&p.endpoint)
    }
}

fn info(id: &str, port: Option<u32>) -> RegistrantInfo {
    RegistrantInfo {
        id: id.into(),
        addr: port.map(|_| "127.0.0.1".into()),
        port,
    }
}

fn topics(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| (*s).to_owned()).collect()
}

fn register_status(resp: &DiscoveryResp) -> (i32, Option<String>) {
    match &resp.content {
        Some(discovery_resp::Content::RegisterResp(r)) => (r.status, r.reason.clone()),
        other => panic!("not a register_resp: {other:?}"),
    }
}

fn ready(resp: &DiscoveryResp) -> bool {
    match &resp.content {
        Some(discovery_resp::Content::IsreadyResp(r)) => r.status,
        other => panic!("not an isready_resp: {other:?}"),
    }
}

fn lookup(resp: &DiscoveryResp) -> (Status, Vec<String>, Option<String>) {
    match &resp.content {
        Some(discovery_resp::Content::LookupResp(r)) => (
            Status::try_from(r.status).unwrap(),
            r.publishers.iter().map(|p| p.id.clone()).collect(),
            r.reason.clone(),
        ),
        other => panic!("not a lookup_resp: {other:?}"),
    }
}

const PUBS: [(&str, &[&str]); 3] = [
    ("pub1", &["weather", "humidity"]),
    ("pub2", &["humidity", "light"]),
    ("pub3", &["sound"]),
];

#[test]
fn the_ring_answers_as_the_centralized_directory_does() {
    let mut sim = Sim::new(8, Expect::new(3, 2, Dissemination::Direct));
    for (i, (id, t)) in PUBS.iter().enumerate() {
        let r = sim.call(
            i,
            register_req(Role::Publisher, info(id, Some(7000 + i as u32)), &topics(t)),
        );
        assert_eq!(r.msg_type, MsgTypes::TypeRegister as i32);
        assert_eq!(register_status(&r).0, Status::Success as i32);
        // Resending the same registration (a late answer) is fine.
        let again = sim.call(
            7,
            register_req(Role::Publisher, info(id, Some(7000 + i as u32)), &topics(t)),
        );
        assert_eq!(register_status(&again).0, Status::Success as i32);
        if i < 2 {
            assert!(!ready(&sim.call(5, isready_req())));
            let early = lookup(&sim.call(6, lookup_req(Some(&topics(&["humidity"])))));
            assert_eq!(early.0, Status::CheckAgain);
        }
    }
    // Each topic's publishers are stored at the node responsible for the topic, and only there.
    for topic in ["weather", "humidity", "light", "sound"] {
        let owner = sim.owner(topic);
        for (i, n) in sim.nodes.iter().enumerate() {
            assert_eq!(
                !n.store().publishers(topic).is_empty(),
                i == owner,
                "{topic} at node {i}"
            );
        }
    }
    let dup = sim.call(
        4,
        register_req(Role::Subscriber, info("pub1", None), &topics(&["light"])),
    );
    assert_eq!(
        register_status(&dup),
        (
            Status::Failure as i32,
            Some("pub1 needs to have unique id".into())
        )
    );
    let bad = sim.call(
        4,
        register_req(Role::Subscriber, info("sub9", None), &topics(&["tides"])),
    );
    assert_eq!(
        register_status(&bad).1.as_deref(),
        Some("unknown topic 'tides'")
    );
    for (i, id) in ["sub1", "sub2"].iter().enumerate() {
        let r = sim.call(
            3 + i,
            register_req(Role::Subscriber, info(id, None), &topics(&["light"])),
        );
        assert_eq!(register_status(&r).0, Status::Success as i32);
    }
    assert!(
        !ready(&sim.call(0, isready_req())),
        "no lookup answered yet"
    );
    let found = lookup(&sim.call(1, lookup_req(Some(&topics(&["humidity", "sound"])))));
    assert_eq!(
        found,
        (Status::Success, topics(&["pub1", "pub2", "pub3"]), None)
    );
    assert!(!ready(&sim.call(0, isready_req())));
    let found = lookup(&sim.call(2, lookup_req(Some(&topics(&["light", "location"])))));
    assert_eq!(found, (Status::Success, topics(&["pub2"]), None));
    assert!(ready(&sim.call(7, isready_req())));
    assert!(
        sim.max_hops >= 2,
        "lookups went hop by hop: {}",
        sim.max_hops
    );
    assert!(sim.nodes.iter().all(|n| n.in_flight() == 0));
}

#[test]
fn the_broker_is_looked_up_and_looks_everyone_up() {
    let mut sim = Sim::new(5, Expect::new(3, 1, Dissemination::Broker));
    for (i, (id, t)) in PUBS.iter().enumerate() {
        let r = sim.call(
            i,
            register_req(Role::Publisher, info(id, Some(7000 + i as u32)), &topics(t)),
        );
        assert_eq!(register_status(&r).0, Status::Success as i32);
    }
    let early = lookup(&sim.call(0, lookup_req(None)));
    assert_eq!(early.0, Status::CheckAgain);
    assert_eq!(
        early.2.as_deref(),
        Some("not ready: the broker has not registered")
    );
    let b = sim.call(3, register_req(Role::Both, info("broker", Some(7100)), &[]));
    assert_eq!(register_status(&b).0, Status::Success as i32);
    let b2 = sim.call(
        4,
        register_req(Role::Both, info("broker2", Some(7101)), &[]),
    );
    assert_eq!(
        register_status(&b2).1.as_deref(),
        Some("broker broker is already registered")
    );
    let s = sim.call(
        1,
        register_req(Role::Subscriber, info("sub1", None), &topics(&["sound"])),
    );
    assert_eq!(register_status(&s).0, Status::Success as i32);
    assert_eq!(
        lookup(&sim.call(2, lookup_req(Some(&topics(&["sound"]))))).1,
        topics(&["broker"])
    );
    assert!(
        !ready(&sim.call(2, isready_req())),
        "the broker has not looked up yet"
    );
    assert_eq!(
        lookup(&sim.call(4, lookup_req(None))).1,
        topics(&["pub1", "pub2", "pub3"])
    );
    assert!(ready(&sim.call(0, isready_req())));
}

#[test]
fn a_node_that_is_down_is_routed_around_or_named() {
    let mut sim = Sim::new(8, Expect::new(3, 1, Dissemination::Direct));
    let registry = sim.owner(REGISTRY_KEY);
    for (i, (id, t)) in PUBS.iter().enumerate() {
        let r = sim.call(
            i,
            register_req(Role::Publisher, info(id, Some(7000 + i as u32)), &topics(t)),
        );
        assert_eq!(register_status(&r).0, Status::Success as i32);
    }
    // A node that owns none of the keys in use goes down.
    let used: BTreeSet<usize> = ["weather", "humidity", "light", "sound", REGISTRY_KEY]
        .iter()
        .map(|k| sim.owner(k))
        .collect();
    let idle = (0..8).find(|i| !used.contains(i)).expect("an idle node");
    sim.down.insert(idle);
    // Every live node still answers, each routing around the down one once it notices.
    for at in (0..8).filter(|i| *i != idle) {
        let found = lookup(&sim.call(at, lookup_req(Some(&topics(&["humidity"])))));
        assert_eq!(
            found,
            (Status::Success, topics(&["pub1", "pub2"]), None),
            "from {at}"
        );
    }
    // A topic whose node is down: a clear failure naming it.
    let lost = (0..8).find(|i| *i != registry).unwrap();
    let lost_topic = crate::pubsub::topics::TOPICS
        .iter()
        .find(|t| sim.owner(t) == lost)
        .map(|t| (*t).to_owned());
    sim.down.insert(lost);
    let from = (0..8).find(|i| !sim.down.contains(i)).unwrap();
    if let Some(t) = lost_topic {
        let (status, publishers, reason) = lookup(&sim.call(from, lookup_req(Some(&[t]))));
        assert_eq!(status, Status::Failure);
        assert!(publishers.is_empty());
        let reason = reason.unwrap();
        let name = sim.nodes[lost].node().me().id.clone();
        assert!(
            reason.contains(&format!("belongs to {name}, which is down")),
            "{reason}"
        );
    }
    // The registry's node down: registrations fail with the reason.
    sim.down.insert(registry);
    let from = (0..8).find(|i| !sim.down.contains(i)).unwrap();
    let r = sim.call(
        from,
        register_req(Role::Subscriber, info("sub1", None), &topics(&["sound"])),
    );
    let (status, reason) = register_status(&r);
    assert_eq!(status, Status::Failure as i32);
    assert!(reason.unwrap().contains("which is down"));
}

#[test]
fn bad_requests_are_answered_not_dropped() {
    let mut sim = Sim::new(3, Expect::new(1, 1, Dissemination::Direct));
    let outs = sim.nodes[0].request(1, b"\xff\xff", sim.now);
    let Out::Reply { bytes, .. } = &outs[0] else {
        panic!("{outs:?}")
    };
    let resp = DiscoveryResp::decode(&bytes[..]).unwrap();
    assert_eq!(resp.msg_type, MsgTypes::TypeUnknown as i32);
    assert!(register_status(&resp)
        .1
        .unwrap()
        .starts_with("malformed request:"));
    let no_port = sim.call(
        1,
        register_req(Role::Publisher, info("pub1", None), &topics(&["light"])),
    );
    assert_eq!(
        register_status(&no_port).1.as_deref(),
        Some("ROLE_PUBLISHER must give its address and port")
    );
    assert!(PeerMsg::decode(b"not a peer").is_none());
    let msg = PeerMsg::Ack {
        origin: "tcp://x:1".into(),
        id: 4,
    };
    assert_eq!(PeerMsg::decode(&msg.encode()).unwrap().unwrap(), msg);
}

#[test]
fn every_node_answers_alike_even_when_it_owns_some_keys() {
    // Origins that own some of the keys answer those ops at once, in the
    // middle of a fan-out: every node registers and looks up here.
    let n = 8;
    let mut sim = Sim::new(n, Expect::new(n, 0, Dissemination::Direct));
    let all = crate::pubsub::topics::TOPICS;
    for i in 0..n {
        let id = format!("pub{i}");
        let r = sim.call(
            i,
            register_req(
                Role::Publisher,
                info(&id, Some(7000 + i as u32)),
                &topics(&all),
            ),
        );
        assert_eq!(register_status(&r).0, Status::Success as i32, "at {i}");
    }
    let expected: Vec<String> = {
        let mut v: Vec<String> = (0..n).map(|i| format!("pub{i}")).collect();
        v.sort();
        v
    };
    for at in 0..n {
        let found = lookup(&sim.call(at, lookup_req(Some(&topics(&all)))));
        assert_eq!(
            found,
            (Status::Success, expected.clone(), None),
            "from {at}"
        );
        assert_eq!(
            lookup(&sim.call(at, lookup_req(None))).1,
            expected,
            "all from {at}"
        );
    }
    assert!(sim.nodes.iter().all(|s| s.in_flight() == 0));
}

//! Front-ends over a simulated DHT (one shared record map), with the DHT's
//! answers delivered in a seeded random order: concurrent registrations
//! through every front-end lose nobody.

use std::collections::BTreeMap;

use rolecall_codecs::pb::discovery::{RegistrantInfo, Role};

use rolecall_codecs::pb::discovery::DiscoveryReq;

use super::*;
use crate::dht::{Found, GetError, PutError, Stored};
use crate::pubsub::client::{isready_req, lookup_req, register_req};

struct Sim {
    fronts: Vec<Frontend>,
    records: BTreeMap<Vec<u8>, Vec<u8>>,
    /// DHT requests in flight: (front-end, request).
    dht: Vec<(usize, Request)>,
    replies: BTreeMap<u64, DiscoveryResp>,
    seed: u64,
    next_tag: u64,
    /// Every `fail_every`-th DHT request fails (0: none).
    fail_every: u64,
    served: u64,
}

impl Sim {
    fn new(n: usize, expect: Expect, seed: u64) -> Sim {
        let names: Vec<String> = (1..=n).map(|i| format!("f{i}")).collect();
        let fronts = names
            .iter()
            .map(|name| {
                Frontend::new(Config {
                    name: name.clone(),
                    frontends: names.clone(),
                    expect: expect.clone(),
                    max_requests: 1024,
                })
            })
            .collect();
        Sim {
            fronts,
            records: BTreeMap::new(),
            dht: Vec::new(),
            replies: BTreeMap::new(),
            seed,
            next_tag: 0,
            fail_every: 0,
            served: 0,
        }
    }

    fn rand(&mut self, n: usize) -> usize {
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.seed >> 33) as usize) % n
    }

    fn take(&mut self, at: usize, outs: Vec<Out>) {
        for o in outs {
            match o {
                Out::Reply { client, bytes } => {
                    self.replies
                        .insert(client, DiscoveryResp::decode(&bytes[..]).unwrap());
                }
                Out::Dht(r) => self.dht.push((at, r)),
            }
        }
    }

    /// Sends a request; returns its tag.
    fn send(&mut self, at: usize, req: DiscoveryReq) -> u64 {
        self.next_tag += 1;
        let tag = self.next_tag;
        let outs = self.fronts[at].request(tag, &req.encode_to_vec());
        self.take(at, outs);
        tag
    }

    /// Delivers DHT requests in random order until none is left. A request
    /// is applied to the records when it is picked, so puts and gets of
    /// different front-ends interleave arbitrarily.
    fn settle(&mut self) {
        while !self.dht.is_empty() {
            let i = self.rand(self.dht.len());
            let (at, r) = self.dht.swap_remove(i);
            self.served += 1;
            let fail = self.fail_every > 0 && self.served % self.fail_every == 0;
            let outcome = match r.op {
                DhtOp::Put(p) if fail => Outcome::Put(Err(PutError::Timeout {
                    key: p.key,
                    quorum: 1,
                    stored: 0,
                })),
                DhtOp::Get(g) if fail => Outcome::Get(Err(GetError::Timeout { key: g.key })),
                DhtOp::Put(p) => {
                    self.records.insert(p.key.clone(), p.value);
                    Outcome::Put(Ok(Stored { key: p.key }))
                }
                DhtOp::Get(g) => Outcome::Get(match self.records.get(&g.key) {
                    Some(v) => Ok(Found {
                        key: g.key,
                        value: v.clone(),
                        from: "sim".into(),
                        local: false,
                        copies: 1,
                    }),
                    None => Err(GetError::NotFound { key: g.key }),
                }),
                other => panic!("unexpected {other:?}"),
            };
            let outs = self.fronts[at].response(Response { id: r.id, outcome });
            self.take(at, outs);
        }
    }

    fn call(&mut self, at: usize, req: DiscoveryReq) -> DiscoveryResp {
        let tag = self.send(at, req);
        self.settle();
        self.replies.remove(&tag).expect("answered")
    }
}

fn publisher(i: usize) -> RegistrantInfo {
    RegistrantInfo {
        id: format!("pub{i}"),
        addr: Some("127.0.0.1".into()),
        port: Some(7000 + i as u32),
    }
}

fn ok(resp: &DiscoveryResp) -> bool {
    matches!(&resp.content,
        Some(discovery_resp::Content::RegisterResp(r)) if r.status == Status::Success as i32)
}

fn looked_up(resp: &DiscoveryResp) -> (i32, Vec<String>) {
    match &resp.content {
        Some(discovery_resp::Content::LookupResp(r)) => (
            r.status,
            r.publishers.iter().map(|p| p.id.clone()).collect(),
        ),
        other => panic!("{other:?}"),
    }
}

fn is_ready(resp: &DiscoveryResp) -> bool {
    matches!(&resp.content, Some(discovery_resp::Content::IsreadyResp(r)) if r.status)
}

#[test]
fn concurrent_registrations_through_every_frontend_lose_nobody() {
    let topics = vec!["weather".to_owned(), "light".to_owned()];
    for seed in 0..20 {
        let mut sim = Sim::new(3, Expect::new(12, 2, Dissemination::Direct), seed);
        // Some DHT operations fail (a timeout): they are tried again.
        sim.fail_every = 5;
        // 12 publishers of the same two topics, 4 through each front-end, all at once.
        let tags: Vec<u64> = (0..12)
            .map(|i| sim.send(i % 3, register_req(Role::Publisher, publisher(i), &topics)))
            .collect();
        let early = sim.send(0, lookup_req(Some(&topics)));
        sim.settle();
        for t in &tags {
            assert!(ok(&sim.replies[t]), "seed {seed}: {:?}", sim.replies[t]);
        }
        // A lookup that raced the registrations either waits or sees everyone.
        let (status, found) = looked_up(&sim.replies[&early]);
        assert!(
            status == Status::CheckAgain as i32 || found.len() == 12,
            "seed {seed}: {status} {found:?}"
        );
        let subs: Vec<u64> = (0..2)
            .map(|i| {
                let info = RegistrantInfo {
                    id: format!("sub{i}"),
                    addr: None,
                    port: None,
                };
                sim.send(i, register_req(Role::Subscriber, info, &topics))
            })
            .collect();
        sim.settle();
        assert!(subs.iter().all(|t| ok(&sim.replies[t])));
        for at in 0..3 {
            let (status, found) = looked_up(&sim.call(at, lookup_req(Some(&topics[1..]))));
            assert_eq!(status, Status::Success as i32);
            assert_eq!(found.len(), 12, "seed {seed}, front-end {at}: {found:?}");
        }
        assert!(is_ready(&sim.call(2, isready_req())), "seed {seed}");
        assert!(sim.fronts.iter().all(|f| f.in_flight() == 0));
    }
}

#[test]
fn broker_duplicates_and_bad_requests() {
    let mut sim = Sim::new(2, Expect::new(2, 1, Dissemination::Broker), 7);
    let weather = vec!["weather".to_owned()];
    assert!(ok(
        &sim.call(0, register_req(Role::Publisher, publisher(1), &weather))
    ));
    // The same registration again is fine; another registrant with its id is not.
    assert!(ok(
        &sim.call(0, register_req(Role::Publisher, publisher(1), &weather))
    ));
    let mut other = publisher(1);
    other.port = Some(1);
    assert!(!ok(
        &sim.call(0, register_req(Role::Publisher, other, &weather))
    ));
    assert!(ok(
        &sim.call(1, register_req(Role::Publisher, publisher(2), &weather))
    ));
    let (status, _) = looked_up(&sim.call(1, lookup_req(Some(&weather))));
    assert_eq!(status, Status::CheckAgain as i32, "no broker yet");
    let broker = RegistrantInfo {
        id: "broker".into(),
        addr: Some("127.0.0.1".into()),
        port: Some(7100),
    };
    assert!(ok(&sim.call(1, register_req(Role::Both, broker, &[]))));
    let sub = RegistrantInfo {
        id: "sub1".into(),
        addr: None,
        port: None,
    };
    assert!(ok(
        &sim.call(0, register_req(Role::Subscriber, sub, &weather))
    ));
    assert_eq!(
        looked_up(&sim.call(0, lookup_req(Some(&weather)))).1,
        vec!["broker".to_owned()]
    );
    assert!(
        !is_ready(&sim.call(0, isready_req())),
        "the broker has not looked up"
    );
    assert_eq!(
        looked_up(&sim.call(1, lookup_req(None))).1,
        vec!["pub1".to_owned(), "pub2".to_owned()]
    );
    assert!(is_ready(&sim.call(0, isready_req())));
    let bad = sim.call(
        0,
        register_req(Role::Subscriber, publisher(9), &["tides".to_owned()]),
    );
    assert!(!ok(&bad));
    let tag = 99;
    let outs = sim.fronts[0].request(tag, b"\xff\xff");
    assert!(matches!(&outs[..], [Out::Reply { client: 99, .. }]));
}

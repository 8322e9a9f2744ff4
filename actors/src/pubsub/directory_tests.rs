use prost::Message as _;
use rolecall_codecs::pb::discovery::{discovery_resp::Content, DiscoveryResp, RegistrantInfo};

use super::*;
use crate::pubsub::client::{isready_req, lookup_req, register_req};

fn info(id: &str, port: u32) -> RegistrantInfo {
    RegistrantInfo {
        id: id.into(),
        addr: Some("127.0.0.1".into()),
        port: Some(port),
    }
}

fn topics(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| (*s).to_owned()).collect()
}

fn status(resp: &DiscoveryResp) -> (i32, Option<String>) {
    match &resp.content {
        Some(Content::RegisterResp(r)) => (r.status, r.reason.clone()),
        Some(Content::LookupResp(r)) => (r.status, r.reason.clone()),
        other => panic!("not a status reply: {other:?}"),
    }
}

fn ready(d: &mut Directory) -> bool {
    match d.handle(isready_req()).content {
        Some(Content::IsreadyResp(r)) => r.status,
        other => panic!("not an isready reply: {other:?}"),
    }
}

#[test]
fn direct_lifecycle() {
    let mut d = Directory::new(Expect::new(2, 1, Dissemination::Direct));
    let r = d.handle(register_req(
        Role::Publisher,
        info("p1", 1),
        &topics(&["weather", "light"]),
    ));
    assert_eq!(r.msg_type, MsgTypes::TypeRegister as i32);
    assert_eq!(status(&r).0, Status::Success as i32);
    let r = d.handle(register_req(
        Role::Subscriber,
        info("s1", 0),
        &topics(&["light"]),
    ));
    assert_eq!(status(&r).0, Status::Success as i32);
    // A lookup before every publisher registered: check again, with the reason.
    let r = d.handle(lookup_req(Some(&topics(&["light"]))));
    assert_eq!(r.msg_type, MsgTypes::TypeLookupPubByTopic as i32);
    let (s, reason) = status(&r);
    assert_eq!(s, Status::CheckAgain as i32);
    assert_eq!(reason.unwrap(), "not ready: 1 of 2 publishers registered");
    assert!(!ready(&mut d));
    d.handle(register_req(
        Role::Publisher,
        info("p2", 2),
        &topics(&["sound"]),
    ));
    // Every publisher registered, but the subscriber has not been answered a lookup.
    assert!(!ready(&mut d));
    let r = d.handle(lookup_req(Some(&topics(&["light"]))));
    match r.content {
        Some(Content::LookupResp(l)) => {
            assert_eq!(l.status, Status::Success as i32);
            let ids: Vec<_> = l.publishers.iter().map(|p| p.id.as_str()).collect();
            assert_eq!(ids, ["p1"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(ready(&mut d));
    assert_eq!(d.counts(), (2, 1, false));
}

#[test]
fn broker_lifecycle() {
    let mut d = Directory::new(Expect::new(1, 1, Dissemination::Broker));
    d.handle(register_req(
        Role::Publisher,
        info("p1", 1),
        &topics(&["weather"]),
    ));
    d.handle(register_req(
        Role::Subscriber,
        info("s1", 0),
        &topics(&["weather"]),
    ));
    let r = d.handle(lookup_req(Some(&topics(&["weather"]))));
    assert_eq!(
        status(&r).1.unwrap(),
        "not ready: the broker has not registered"
    );
    let r = d.handle(register_req(Role::Both, info("b", 9), &[]));
    assert_eq!(status(&r).0, Status::Success as i32);
    match d.handle(lookup_req(Some(&topics(&["weather"])))).content {
        Some(Content::LookupResp(l)) => assert_eq!(l.publishers, vec![info("b", 9)]),
        other => panic!("{other:?}"),
    }
    assert!(
        !ready(&mut d),
        "the broker has not looked up the publishers"
    );
    let r = d.handle(lookup_req(None));
    assert_eq!(r.msg_type, MsgTypes::TypeLookupAllPubs as i32);
    match r.content {
        Some(Content::LookupResp(l)) => assert_eq!(l.publishers, vec![info("p1", 1)]),
        other => panic!("{other:?}"),
    }
    assert!(ready(&mut d));
    let r = d.handle(register_req(Role::Both, info("b2", 10), &[]));
    assert_eq!(status(&r).1.unwrap(), "broker b is already registered");
}

#[test]
fn replicated_brokers_all_register_and_are_all_looked_up() {
    let mut expect = Expect::new(1, 1, Dissemination::Broker);
    expect.brokers = 3;
    let mut d = Directory::new(expect);
    d.handle(register_req(
        Role::Publisher,
        info("p1", 1),
        &topics(&["weather"]),
    ));
    d.handle(register_req(Role::Both, info("b1", 9), &[]));
    let r = d.handle(lookup_req(Some(&topics(&["weather"]))));
    assert_eq!(
        status(&r).1.unwrap(),
        "not ready: 1 of 3 brokers registered"
    );
    d.handle(register_req(Role::Both, info("b2", 10), &[]));
    d.handle(register_req(Role::Both, info("b3", 11), &[]));
    match d.handle(lookup_req(Some(&topics(&["weather"])))).content {
        Some(Content::LookupResp(l)) => {
            assert_eq!(
                l.publishers,
                vec![info("b1", 9), info("b2", 10), info("b3", 11)]
            )
        }
        other => panic!("{other:?}"),
    }
    let r = d.handle(register_req(Role::Both, info("b4", 12), &[]));
    assert_eq!(
        status(&r).1.unwrap(),
        "3 brokers are already registered (b1, b2, b3)"
    );
}

#[test]
fn refusals_change_nothing() {
    let mut d = Directory::new(Expect::new(1, 1, Dissemination::Direct));
    d.handle(register_req(
        Role::Publisher,
        info("p1", 1),
        &topics(&["weather"]),
    ));
    let cases = [
        (
            register_req(Role::Subscriber, info("p1", 0), &topics(&["weather"])),
            "p1 needs to have unique id",
        ),
        (
            register_req(Role::Subscriber, info("s1", 0), &topics(&["stocks"])),
            "unknown topic 'stocks'",
        ),
        (
            register_req(
                Role::Publisher,
                RegistrantInfo {
                    id: "p2".into(),
                    addr: None,
                    port: Some(3),
                },
                &topics(&["weather"]),
            ),
            "ROLE_PUBLISHER must give its address and port",
        ),
        (
            register_req(Role::Unknown, info("x", 1), &[]),
            "registrant with ROLE_UNKNOWN",
        ),
        (
            register_req(Role::Both, info("b", 1), &[]),
            "a broker registered, but dissemination is Direct",
        ),
    ];
    for (req, want) in cases {
        let r = d.handle(req);
        assert_eq!(r.msg_type, MsgTypes::TypeRegister as i32);
        assert_eq!(status(&r), (Status::Failure as i32, Some(want.to_owned())));
    }
    assert_eq!(d.counts(), (1, 0, false));
}

#[test]
fn malformed_bytes_get_a_typed_reply() {
    let mut d = Directory::new(Expect::new(1, 1, Dissemination::Direct));
    let reply = DiscoveryResp::decode(d.handle_bytes(&[0x0a, 0xff, 0x01]).as_slice()).unwrap();
    assert_eq!(reply.msg_type, MsgTypes::TypeUnknown as i32);
    let (s, reason) = status(&reply);
    assert_eq!(s, Status::Failure as i32);
    assert!(reason.unwrap().starts_with("malformed request:"));
    // A register type without content.
    let reply = d.handle(DiscoveryReq {
        msg_type: MsgTypes::TypeRegister as i32,
        content: None,
    });
    assert_eq!(
        status(&reply).1.unwrap(),
        "msg_type TYPE_REGISTER with no matching content"
    );
}

#[test]
fn capacity_is_a_bound() {
    let mut e = Expect::new(0, 0, Dissemination::Direct);
    e.capacity = 2;
    let mut d = Directory::new(e);
    for i in 0..2 {
        d.handle(register_req(
            Role::Subscriber,
            info(&format!("s{i}"), 0),
            &[],
        ));
    }
    let r = d.handle(register_req(Role::Subscriber, info("s9", 0), &[]));
    assert_eq!(status(&r).1.unwrap(), "directory is full (2 registrants)");
}

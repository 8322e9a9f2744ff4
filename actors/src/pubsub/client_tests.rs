use rolecall_codecs::pb::discovery::RegistrantInfo;

use super::*;
use crate::pubsub::directory::{Directory, Dissemination, Expect};

fn info(id: &str, port: u32) -> RegistrantInfo {
    RegistrantInfo {
        id: id.into(),
        addr: Some("127.0.0.1".into()),
        port: Some(port),
    }
}

/// Runs clients against a directory in rounds (each round every client not
/// yet disseminating sends its pending request), as the drivers would.
#[test]
fn five_publishers_four_subscribers_reach_dissemination() {
    let pause = Duration::from_millis(10);
    let mut d = Directory::new(Expect::new(5, 4, Dissemination::Direct));
    let mut clients: Vec<Client> = Vec::new();
    for i in 0..4 {
        clients.push(Client::new(
            Kind::Subscriber,
            info(&format!("sub{i}"), 0),
            vec!["weather".into()],
            pause,
        ));
    }
    for i in 0..5 {
        clients.push(Client::new(
            Kind::Publisher,
            info(&format!("pub{i}"), 7000 + i),
            vec![if i % 2 == 0 { "weather" } else { "sound" }.into()],
            pause,
        ));
    }
    let mut pending: Vec<Option<DiscoveryReq>> = clients
        .iter_mut()
        .map(|c| match c.start() {
            Action::Send(r) => Some(r),
            other => panic!("{other:?}"),
        })
        .collect();
    let mut connects = Vec::new();
    let mut publishing = 0;
    for _round in 0..20 {
        for (c, slot) in clients.iter_mut().zip(pending.iter_mut()) {
            let Some(req) = slot.take() else { continue };
            match c.on_reply(d.handle(req)).unwrap() {
                Action::Send(r) | Action::SendAfter(_, r) => *slot = Some(r),
                Action::Connect(to) => connects.push(to),
                Action::Publish => publishing += 1,
            }
        }
    }
    assert_eq!(publishing, 5);
    assert_eq!(connects.len(), 4);
    for to in connects {
        let ids: Vec<_> = to.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["pub0", "pub2", "pub4"]);
    }
    assert!(clients.iter().all(|c| c.phase() == Phase::Disseminate));
}

#[test]
fn refusal_and_garbage_are_errors() {
    let mut d = Directory::new(Expect::new(1, 1, Dissemination::Direct));
    let mut a = Client::new(
        Kind::Publisher,
        info("p", 1),
        vec!["weather".into()],
        Duration::ZERO,
    );
    let mut b = Client::new(
        Kind::Publisher,
        info("p", 2),
        vec!["weather".into()],
        Duration::ZERO,
    );
    let Action::Send(ra) = a.start() else {
        panic!()
    };
    let Action::Send(rb) = b.start() else {
        panic!()
    };
    assert!(matches!(a.on_reply(d.handle(ra)), Ok(Action::Send(_))));
    assert_eq!(
        b.on_reply(d.handle(rb)),
        Err(ClientError::Refused("p needs to have unique id".into()))
    );
    assert!(matches!(
        a.on_reply_bytes(&[0xff, 0xff]),
        Err(ClientError::Malformed(_))
    ));
    // A reply of the wrong type.
    let wrong = d.handle(lookup_req(None));
    assert!(matches!(
        a.on_reply(wrong),
        Err(ClientError::Unexpected {
            phase: Phase::IsReady,
            ..
        })
    ));
}

use proptest::prelude::*;

use super::*;

fn peer(id: &str, hash: u64) -> Peer {
    Peer {
        hash,
        id: id.into(),
        endpoint: format!("tcp://127.0.0.1:{}", 5555),
    }
}

#[test]
fn node_ids_are_the_leading_bits_of_sha256() {
    // sha256("abc") = ba7816bf 8f01cfea ...
    assert_eq!(hash(8, "abc"), 0xba);
    assert_eq!(hash(48, "abc"), 0xba78_16bf_8f01);
    assert_eq!(hash(64, "abc"), 0xba78_16bf_8f01_cfea);
}

#[test]
fn fingers_and_routing_on_a_small_ring() {
    // The textbook ring: 8 bits, nodes at 10, 50, 100, 200.
    let ring = Ring::new(
        &[peer("a", 10), peer("b", 50), peer("c", 100), peer("d", 200)],
        8,
    )
    .unwrap();
    let a = &ring.nodes()[0];
    let f: Vec<u64> = a.fingers().iter().map(|p| p.hash).collect();
    // 11, 12, 14, 18, 26, 42 -> 50; 74 -> 100; 138 -> 200.
    assert_eq!(f, [50, 50, 50, 50, 50, 50, 100, 200]);
    assert_eq!(ring.lookup("a", 5).unwrap(), (peer("a", 10), 0));
    assert_eq!(ring.lookup("a", 30).unwrap(), (peer("b", 50), 1));
    assert_eq!(ring.lookup("a", 150).unwrap().0, peer("d", 200));
    assert_eq!(ring.lookup("b", 250).unwrap().0, peer("a", 10));
}

#[test]
fn bad_rings_are_errors() {
    assert_eq!(Ring::new(&[], 8).unwrap_err(), ChordError::Empty);
    assert_eq!(
        Ring::new(&[peer("a", 1)], 12).unwrap_err(),
        ChordError::Bits(12)
    );
    assert_eq!(
        Ring::new(&[peer("a", 1), peer("b", 1)], 8).unwrap_err(),
        ChordError::Collision("a".into(), "b".into(), 1)
    );
    assert_eq!(
        Ring::new(&[peer("a", 300)], 8).unwrap_err(),
        ChordError::OutOfRange("a".into(), 300, 8)
    );
    let ring = Ring::new(&[peer("a", 1)], 8).unwrap();
    assert_eq!(
        ring.lookup("zz", 3).unwrap_err(),
        ChordError::NoSuchNode("zz".into())
    );
}

#[test]
fn a_node_that_is_down_is_routed_around_and_named() {
    let peers: Vec<Peer> = (0..16)
        .map(|i| peer(&format!("n{i}"), i * 16 + 3))
        .collect();
    let mut ring = Ring::new(&peers, 8).unwrap();
    ring.set_down("n5", true); // at 83, responsible for (67, 83]
    for key in 0..=255u64 {
        let want = ring.brute_force_successor(key).clone();
        for from in ["n0", "n9", "n15"] {
            match ring.lookup(from, key) {
                Ok((got, _)) => assert_eq!(got, want, "key {key} from {from}"),
                Err(e) => {
                    assert_eq!(want.id, "n5", "key {key} from {from}: {e}");
                    assert_eq!(
                        e,
                        ChordError::ResponsibleDown {
                            key,
                            node: "n5".into()
                        }
                    );
                }
            }
        }
    }
    ring.set_down("n5", false);
    assert_eq!(ring.lookup("n0", 80).unwrap().0.id, "n5");
}

#[test]
fn lookups_take_o_log_n_hops_on_a_64_node_ring() {
    let bits = 48;
    let peers: Vec<Peer> = (1..=64)
        .map(|i| {
            let id = format!("disc{i}");
            let ep = format!("10.0.0.{i}:5555");
            peer(&id, hash(bits, &format!("{id}:{ep}")))
        })
        .collect();
    let ring = Ring::new(&peers, bits).unwrap();
    let log2n = 6.0;
    let mut total = 0usize;
    let mut max = 0usize;
    let mut count = 0usize;
    for topic in crate::pubsub::topics::TOPICS {
        let key = hash(bits, topic);
        for from in &peers {
            let (got, hops) = ring.lookup(&from.id, key).unwrap();
            assert_eq!(&got, ring.brute_force_successor(key));
            total += hops;
            max = max.max(hops);
            count += 1;
        }
    }
    let mean = total as f64 / count as f64;
    assert!(mean <= log2n, "mean hops {mean} > log2 64");
    assert!(max as f64 <= 2.0 * log2n, "max hops {max} > 2 log2 64");
}

proptest! {
    #[test]
    fn routing_finds_the_brute_force_successor(
        hashes in proptest::collection::btree_set(any::<u16>(), 1..80),
        keys in proptest::collection::vec(any::<u16>(), 1..20),
        start in any::<proptest::sample::Index>(),
    ) {
        let peers: Vec<Peer> = hashes.iter().map(|h| peer(&format!("n{h}"), u64::from(*h))).collect();
        let ring = Ring::new(&peers, 16).unwrap();
        let from = &peers[start.index(peers.len())].id;
        for key in keys {
            let (got, hops) = ring.lookup(from, u64::from(key)).unwrap();
            prop_assert_eq!(&got, ring.brute_force_successor(u64::from(key)));
            prop_assert!(hops <= 16 + 1, "{} hops", hops);
        }
    }
}

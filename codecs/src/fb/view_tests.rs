//! [`TopicView`]: round trips, wire compatibility with [`TopicFlatBuffers`],
//! malformed input, defaults, sharing, serde.

use std::sync::Arc;

use bytes::Bytes;
use flatbuffers::FlatBufferBuilder;
use proptest::prelude::*;

use super::{schema, TopicFlatBuffers, TopicView, TopicViewFlatBuffers};
use crate::shared::decode_in;
use crate::{Binary, Codec, CodecRegistry, DecodeError, Json, Topic};

fn sample() -> Topic {
    Topic {
        seq_no: 42,
        ts: 1_700_000_000.125,
        name: "ünï©ødé 🚀".into(),
        data: (0..100).map(|i| i * 0x0101_0101).collect(),
    }
}

fn topic_strategy() -> impl Strategy<Value = Topic> {
    (
        any::<u32>(),
        prop_oneof![any::<f64>(), Just(f64::NAN), Just(-0.0)],
        "\\PC{0,40}",
        prop::collection::vec(any::<u32>(), 0..200),
    )
        .prop_map(|(seq_no, ts, name, data)| Topic {
            seq_no,
            ts,
            name,
            data,
        })
}

fn encode(topic: &Topic) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = TopicFlatBuffers.encode(topic, &mut out);
    out
}

/// Field by field, the timestamp by its bits (NaN, -0.0).
fn same(view: &TopicView, topic: &Topic) -> bool {
    view.seq_no() == topic.seq_no
        && view.ts().to_bits() == topic.ts.to_bits()
        && view.name() == topic.name
        && view.data().len() == topic.data.len()
        && view.data().iter().eq(topic.data.iter().copied())
        && (0..topic.data.len()).all(|i| view.data().get(i) == topic.data.get(i).copied())
        && view.data().get(topic.data.len()).is_none()
}

proptest! {
    #[test]
    fn topic_to_view_to_topic_round_trips(topic in topic_strategy()) {
        let view = TopicView::from_topic(&topic);
        prop_assert!(same(&view, &topic), "{view:?} vs {topic:?}");
        let back = view.to_topic();
        prop_assert_eq!(back.ts.to_bits(), topic.ts.to_bits());
        prop_assert_eq!(Topic { ts: 0.0, ..back }, Topic { ts: 0.0, ..topic });
    }

    #[test]
    fn views_and_owned_topics_share_the_wire_format(topic in topic_strategy()) {
        // Owned encoder's bytes, read as a view.
        let bytes = encode(&topic);
        let view = TopicViewFlatBuffers.decode(&bytes).expect("verified");
        prop_assert!(same(&view, &topic));
        // The view's encoding: the same bytes, read by the owned decoder.
        let mut out = vec![0xAA];
        TopicViewFlatBuffers.encode(&view, &mut out).expect("encodes");
        prop_assert_eq!(&out[1..], &bytes[..], "appended as-is");
        let made = TopicView::from_topic(&topic);
        prop_assert_eq!(&made.as_bytes()[..], &bytes[..]);
        let owned = TopicFlatBuffers.decode(&out[1..]).expect("verified");
        prop_assert!(same(&view, &owned));
    }

    #[test]
    fn arbitrary_bytes_give_errors_not_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let view = TopicViewFlatBuffers.decode(&bytes);
        // Whatever the verifier accepts, both decoders read alike.
        match (view, TopicFlatBuffers.decode(&bytes)) {
            (Ok(view), Ok(owned)) => prop_assert!(same(&view, &owned)),
            (Err(DecodeError::FlatBuffers(_)), Err(_)) => {}
            (view, owned) => prop_assert!(false, "{view:?} vs {owned:?}"),
        }
        let _ = TopicView::new(Bytes::from(bytes));
    }

    #[test]
    fn truncated_and_bit_flipped_buffers_never_panic(
        topic in topic_strategy(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let bytes = encode(&topic);
        // A cut may only drop padding, so it may still verify.
        let cut = &bytes[..cut.index(bytes.len())];
        if let (Ok(view), Ok(owned)) = (TopicViewFlatBuffers.decode(cut), TopicFlatBuffers.decode(cut)) {
            prop_assert!(same(&view, &owned));
        }
        let mut flipped = bytes.clone();
        flipped[flip.index(bytes.len())] ^= 1 << bit;
        if let (Ok(view), Ok(owned)) = (TopicView::from_slice(&flipped), TopicFlatBuffers.decode(&flipped)) {
            // Reading every field of an accepted mutant is safe and agrees.
            prop_assert!(same(&view, &owned));
            let _ = format!("{view:?}");
        }
    }
}

#[test]
fn garbage_truncation_and_huge_lengths_are_typed_errors() {
    let flatbuffers_error = |r: Result<TopicView, DecodeError>| {
        assert!(matches!(r, Err(DecodeError::FlatBuffers(_))), "{r:?}");
    };
    flatbuffers_error(TopicView::from_slice(&[]));
    flatbuffers_error(TopicView::from_slice(&[1, 2, 3]));
    flatbuffers_error(TopicView::new(Bytes::from_static(&[0xff; 64])));
    let bytes = encode(&sample());
    // (The last bytes may be padding: cutting them alone can verify.)
    for cut in [1, 4, 8, bytes.len() / 2, bytes.len() - 8] {
        flatbuffers_error(TopicView::from_slice(&bytes[..cut]));
    }
    // The data vector's length, 100 (u32 little-endian), made huge: past
    // the end. (A little longer still lies inside the buffer and verifies.)
    let at = bytes
        .windows(4)
        .rposition(|w| w == 100u32.to_le_bytes())
        .expect("the length prefix");
    for huge in [0x4000_0000, u32::MAX] {
        let mut bad = bytes.clone();
        bad[at..at + 4].copy_from_slice(&u32::to_le_bytes(huge));
        flatbuffers_error(TopicView::from_slice(&bad));
    }
    // The root offset pointing past the end.
    let mut bad = bytes.clone();
    bad[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    flatbuffers_error(TopicView::from_slice(&bad));
}

#[test]
fn absent_fields_read_as_defaults() {
    // Built with the raw builder: no name, no data, ts at its default.
    let mut fbb = FlatBufferBuilder::new();
    let root = schema::Topic::create(
        &mut fbb,
        &schema::TopicArgs {
            seq_no: 3,
            ..Default::default()
        },
    );
    schema::finish_topic_buffer(&mut fbb, root);
    let view = TopicView::from_slice(fbb.finished_data()).expect("verified");
    assert_eq!((view.seq_no(), view.ts(), view.name()), (3, 0.0, ""));
    assert!(view.data().is_empty() && view.data().get(0).is_none());
    assert_eq!(view.data().iter().count(), 0);
    assert_eq!(
        view.to_topic(),
        Topic {
            seq_no: 3,
            ..Topic::default()
        }
    );
    // An empty table: every field absent.
    let mut fbb = FlatBufferBuilder::new();
    let root = schema::Topic::create(&mut fbb, &schema::TopicArgs::default());
    schema::finish_topic_buffer(&mut fbb, root);
    let view = TopicView::from_slice(fbb.finished_data()).expect("verified");
    assert_eq!(view, Topic::default());
}

#[test]
fn inside_decode_in_a_view_shares_the_source_and_outside_it_copies() {
    let source = Bytes::from(encode(&sample()));
    let view = decode_in(&source, || TopicViewFlatBuffers.decode(&source)).expect("verified");
    assert_eq!(
        view.as_bytes().as_ptr(),
        source.as_ptr(),
        "a view, not a copy"
    );
    assert!(source.as_ptr_range().contains(&view.name().as_ptr()));
    assert!(source
        .as_ptr_range()
        .contains(&view.data().as_le_bytes().as_ptr()));

    // A message in the middle of a batch: the view is a slice of the batch.
    let mut batch = vec![7u8; 8];
    batch.extend_from_slice(&source);
    batch.extend_from_slice(&[9; 5]);
    let batch = Bytes::from(batch);
    let body = &batch[8..8 + source.len()];
    let view = decode_in(&batch, || TopicView::from_slice(body)).expect("verified");
    assert_eq!(view.as_bytes().as_ptr(), body.as_ptr());
    assert_eq!(view, sample());
    let detached = view.detached();
    assert!(!batch.as_ptr_range().contains(&detached.as_bytes().as_ptr()));
    assert_eq!(detached.as_bytes(), view.as_bytes());
    assert_eq!(detached, view);

    let copied = TopicView::from_slice(&source).expect("verified");
    assert_ne!(copied.as_bytes().as_ptr(), source.as_ptr(), "a copy");
    assert_eq!(copied, view);
    // Made from owned bytes: kept, not copied.
    let kept = TopicView::new(source.clone()).expect("verified");
    assert_eq!(kept.as_bytes().as_ptr(), source.as_ptr());
    assert_eq!(kept.clone().into_bytes(), source);
}

#[test]
fn clones_share_the_buffer() {
    let view = TopicView::from_topic(&sample());
    let clone = view.clone();
    assert_eq!(clone.as_bytes().as_ptr(), view.as_bytes().as_ptr());
    assert_eq!(clone.name().as_ptr(), view.name().as_ptr());
    assert_eq!(clone, view);
}

#[test]
fn equality_is_by_fields_and_debug_shows_them() {
    let topic = sample();
    // The raw builder drops default-valued fields: other bytes, same fields.
    let mut fbb = FlatBufferBuilder::new();
    let name = fbb.create_string(&topic.name);
    let data = fbb.create_vector(&topic.data);
    let root = schema::Topic::create(
        &mut fbb,
        &schema::TopicArgs {
            seq_no: topic.seq_no,
            ts: topic.ts,
            name: Some(name),
            data: Some(data),
        },
    );
    schema::finish_topic_buffer(&mut fbb, root);
    let raw = TopicView::from_slice(fbb.finished_data()).expect("verified");
    let ours = TopicView::from(&topic);
    assert_eq!(raw, ours);
    assert_eq!(raw, topic);
    let other = TopicView::from_topic(&Topic {
        seq_no: 43,
        ..topic.clone()
    });
    assert_ne!(other, ours);
    let debug = format!("{ours:?}");
    assert!(
        debug.starts_with(
            "TopicView { seq_no: 42, ts: 1700000000.125, name: \"ünï©ødé 🚀\", data: [0, 16843009,"
        ),
        "{debug}"
    );
    let data = ours.data();
    assert_eq!(data.len(), 100);
    assert_eq!(data.get(1), Some(0x0101_0101));
    assert_eq!(data.iter().next_back(), Some(99 * 0x0101_0101));
    assert_eq!(data.iter().len(), 100);
    assert_eq!(data.as_le_bytes().len(), 400);
    assert_eq!(
        data.into_iter().map(u64::from).sum::<u64>(),
        topic.data.iter().map(|&d| u64::from(d)).sum::<u64>()
    );
    assert_eq!(
        TopicView::try_from(ours.as_bytes().clone()).ok(),
        Some(ours)
    );
}

#[test]
fn the_builtin_registry_has_the_view_codec() {
    let r = CodecRegistry::with_builtin();
    let codec = r.get::<TopicView>("flatbuffers").expect("registered");
    assert_eq!(codec.name(), "flatbuffers");
    assert!(r.get::<Topic>("flatbuffers").is_some());
    let owned: Arc<dyn Codec<Topic>> = Arc::new(TopicFlatBuffers);
    let mut bytes = Vec::new();
    owned.encode(&sample(), &mut bytes).expect("encodes");
    assert_eq!(codec.decode(&bytes).expect("verified"), sample());
}

#[test]
fn json_sees_the_fields_as_for_a_topic() {
    let view = TopicView::from_topic(&sample());
    let mut json = Vec::new();
    Json.encode(&view, &mut json).expect("encodes");
    let mut owned = Vec::new();
    Json.encode(&sample(), &mut owned).expect("encodes");
    assert_eq!(json, owned, "the same JSON as the Topic");
    let back: TopicView = Json.decode(&json).expect("decodes");
    assert_eq!(back, view);
    assert_eq!(back.as_bytes(), view.as_bytes());
}

#[test]
fn binary_carries_the_buffer_verified_and_shared_inside_decode_in() {
    let view = TopicView::from_topic(&sample());
    let mut bin = Vec::new();
    Binary.encode(&view, &mut bin).expect("encodes");
    assert!(bin.ends_with(view.as_bytes()), "one byte string");
    let source = Bytes::from(bin);
    let shared: TopicView = decode_in(&source, || Binary.decode(&source)).expect("decodes");
    assert_eq!(shared, view);
    assert!(
        source.as_ptr_range().contains(&shared.as_bytes().as_ptr()),
        "a view of the source"
    );
    let copied: TopicView = Binary.decode(&source).expect("decodes");
    assert!(!source.as_ptr_range().contains(&copied.as_bytes().as_ptr()));
    assert_eq!(copied, view);

    // A byte string that is not a Topic buffer is an error.
    // (postcard writes a `Vec<u8>` as it writes bytes: a length, then the bytes.)
    let mut bad = Vec::new();
    Binary.encode(&vec![1u8, 2, 3], &mut bad).expect("encodes");
    // (postcard keeps no message from a custom serde error.)
    assert!(matches!(
        <Binary as Codec<TopicView>>::decode(&Binary, &bad),
        Err(DecodeError::Binary(_))
    ));
}

//! Round trips, malformed input, wire compatibility with the raw generated
//! FlatBuffers API, and the codec registry.

use std::any::TypeId;
use std::sync::Arc;

use flatbuffers::FlatBufferBuilder;
use proptest::prelude::*;
use rolecall_codecs::fb::schema;
use rolecall_codecs::{
    serde_codec, Binary, Codec, DecodeError, Json, Registry, Topic, TopicFlatBuffers,
};

fn codecs() -> Vec<Arc<dyn Codec<Topic>>> {
    vec![Arc::new(Json), Arc::new(Binary), Arc::new(TopicFlatBuffers)]
}

fn same(a: &Topic, b: &Topic) -> bool {
    a.seq_no == b.seq_no && a.ts.to_bits() == b.ts.to_bits() && a.name == b.name && a.data == b.data
}

fn topic_strategy() -> impl Strategy<Value = Topic> {
    (
        any::<u32>(),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-0.0)
        ],
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

proptest! {
    #[test]
    fn every_codec_round_trips(topic in topic_strategy()) {
        for codec in codecs() {
            let mut bytes = Vec::new();
            codec.encode(&topic, &mut bytes).expect("encodes");
            match codec.decode(&bytes) {
                Ok(back) => {
                    // JSON has no NaN/inf: those are the one thing it may refuse or change.
                    if codec.name() != "json" || topic.ts.is_finite() {
                        prop_assert!(same(&topic, &back), "{}: {:?} vs {:?}", codec.name(), topic, back);
                    }
                }
                Err(e) => prop_assert!(codec.name() == "json" && !topic.ts.is_finite(), "{}: {e}", codec.name()),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for codec in codecs() {
            let _ = codec.decode(&bytes);
        }
    }

    #[test]
    fn truncated_and_bit_flipped_encodings_never_panic(topic in topic_strategy(), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), bit in 0u8..8) {
        for codec in codecs() {
            let mut bytes = Vec::new();
            if codec.encode(&topic, &mut bytes).is_err() || bytes.is_empty() {
                continue;
            }
            let _ = codec.decode(&bytes[..cut.index(bytes.len())]);
            let mut flipped = bytes.clone();
            let i = flip.index(flipped.len());
            flipped[i] ^= 1 << bit;
            let _ = codec.decode(&flipped);
        }
    }
}

#[test]
fn flatbuffers_bytes_from_the_raw_generated_api_decode_and_ours_read_raw() {
    // As another language's generated code would build it.
    let mut fbb = FlatBufferBuilder::new();
    let name = fbb.create_string("MyTopic");
    let data = fbb.create_vector(&[1u32, 2, 3]);
    let root = schema::Topic::create(
        &mut fbb,
        &schema::TopicArgs {
            seq_no: 9,
            ts: 12.5,
            name: Some(name),
            data: Some(data),
        },
    );
    schema::finish_topic_buffer(&mut fbb, root);
    let ours = TopicFlatBuffers
        .decode(fbb.finished_data())
        .expect("decodes");
    assert_eq!(
        ours,
        Topic {
            seq_no: 9,
            ts: 12.5,
            name: "MyTopic".into(),
            data: vec![1, 2, 3]
        }
    );

    let mut bytes = Vec::new();
    TopicFlatBuffers.encode(&ours, &mut bytes).expect("encodes");
    let view = schema::root_as_topic(&bytes).expect("raw reader accepts our bytes");
    assert_eq!(
        (view.seq_no(), view.ts(), view.name()),
        (9, 12.5, Some("MyTopic"))
    );
    assert_eq!(
        view.data().map(|d| d.iter().collect::<Vec<_>>()),
        Some(vec![1, 2, 3])
    );
}

#[test]
fn absent_fields_read_as_defaults() {
    let mut fbb = FlatBufferBuilder::new();
    let root = schema::Topic::create(
        &mut fbb,
        &schema::TopicArgs {
            seq_no: 1,
            ..Default::default()
        },
    );
    schema::finish_topic_buffer(&mut fbb, root);
    let t = TopicFlatBuffers
        .decode(fbb.finished_data())
        .expect("decodes");
    assert_eq!(
        t,
        Topic {
            seq_no: 1,
            ..Topic::default()
        }
    );
}

#[test]
fn garbage_gives_typed_errors() {
    assert!(matches!(
        TopicFlatBuffers.decode(&[1, 2, 3]),
        Err(DecodeError::FlatBuffers(_))
    ));
    assert!(matches!(
        <Json as Codec<Topic>>::decode(&Json, b"{"),
        Err(DecodeError::Json(_))
    ));
    let mut bytes = Vec::new();
    Binary
        .encode(&Topic::default(), &mut bytes)
        .expect("encodes");
    bytes.push(0);
    assert!(matches!(
        <Binary as Codec<Topic>>::decode(&Binary, &bytes),
        Err(DecodeError::TrailingBytes { extra: 1 })
    ));
}

#[test]
fn registry_finds_codecs_by_type_and_name() {
    let r = Registry::with_builtin();
    assert!(r.get::<Topic>("flatbuffers").is_some());
    assert!(r.get::<Topic>("nope").is_none());
    assert!(r.get::<String>("flatbuffers").is_none(), "wrong type");
    assert_eq!(r.formats_for(TypeId::of::<Topic>()), vec!["flatbuffers"]);
    assert!(serde_codec::<Topic>("json").is_some() && serde_codec::<Topic>("binary").is_some());
    assert!(serde_codec::<Topic>("flatbuffers").is_none());
}

//! Round trips, malformed input, wire compatibility with the raw generated
//! FlatBuffers API, and the codec registry.

use std::any::TypeId;
use std::sync::Arc;

use flatbuffers::FlatBufferBuilder;
use proptest::prelude::*;
use rolecall_codecs::fb::schema;
use rolecall_codecs::{
    serde_codec, Binary, Codec, CodecRegistry, DecodeError, EncodeError, Json, Topic,
    TopicFlatBuffers,
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
    let r = CodecRegistry::with_builtin();
    assert!(r.get::<Topic>("flatbuffers").is_some());
    assert!(r.get::<Topic>("nope").is_none());
    assert!(r.get::<String>("flatbuffers").is_none(), "wrong type");
    assert_eq!(r.formats_for(TypeId::of::<Topic>()), vec!["flatbuffers"]);
    assert!(serde_codec::<Topic>("json").is_some() && serde_codec::<Topic>("binary").is_some());
    assert!(serde_codec::<Topic>("flatbuffers").is_none());
}

/// A codec for a type of the test's own, to register beside the built-ins.
#[derive(Debug)]
struct Tagged(&'static str);

impl Codec<u64> for Tagged {
    fn name(&self) -> &'static str {
        self.0
    }
    fn encode(&self, value: &u64, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&value.to_le_bytes());
        Ok(())
    }
    fn decode(&self, bytes: &[u8]) -> Result<u64, DecodeError> {
        <[u8; 8]>::try_from(bytes)
            .map(u64::from_le_bytes)
            .map_err(|_| DecodeError::TrailingBytes { extra: bytes.len() })
    }
}

#[test]
fn registry_registers_custom_codecs_and_replaces_same_name() {
    fn assert_traits<R: Clone + std::fmt::Debug + Default + Send + Sync + 'static>() {}
    assert_traits::<CodecRegistry>();

    let mut r = CodecRegistry::new();
    assert!(r.get::<Topic>("flatbuffers").is_none(), "new() is empty");
    r.register::<u64>(Arc::new(Tagged("raw")));
    r.register::<u64>(Arc::new(Tagged("alt")));
    r.register::<u64>(Arc::new(Tagged("raw")));
    r.register::<Topic>(Arc::new(TopicFlatBuffers));
    assert_eq!(r.formats_for(TypeId::of::<u64>()), vec!["alt", "raw"]);
    assert_eq!(r.formats_for(TypeId::of::<Topic>()), vec!["flatbuffers"]);
    assert!(r.formats_for(TypeId::of::<String>()).is_empty());

    let codec = r.get::<u64>("raw").expect("registered");
    let mut bytes = Vec::new();
    codec.encode(&7, &mut bytes).expect("encodes");
    assert_eq!(codec.decode(&bytes).expect("decodes"), 7);
    assert!(r.get::<u32>("raw").is_none(), "wrong type");

    let clone = r.clone();
    assert!(clone.get::<u64>("alt").is_some());
    assert!(format!("{r:?}").contains("flatbuffers"));
}

#[test]
fn errors_name_the_format_and_the_reason() {
    let fb = TopicFlatBuffers.decode(&[]).expect_err("empty").to_string();
    assert!(fb.starts_with("flatbuffers: "), "{fb}");
    let json = <Json as Codec<Topic>>::decode(&Json, b"[")
        .expect_err("bad json")
        .to_string();
    assert!(json.starts_with("json: "), "{json}");
    let bin = <Binary as Codec<Topic>>::decode(&Binary, &[])
        .expect_err("empty")
        .to_string();
    assert!(bin.starts_with("binary: "), "{bin}");
}

#[test]
fn encode_appends_and_large_messages_round_trip() {
    let small = Topic {
        seq_no: 1,
        ts: 2.0,
        name: "ünï©ødé 🚀".into(),
        data: vec![3; 5],
    };
    // Over the per-thread builder's keep limit, then a small one on the same thread.
    let big = Topic {
        data: (0..400_000).collect(),
        ..small.clone()
    };
    for codec in codecs() {
        for topic in [&big, &small] {
            let mut out = vec![0xAA];
            codec.encode(topic, &mut out).expect("encodes");
            assert_eq!(out[0], 0xAA, "{}: encode appends", codec.name());
            assert_eq!(&codec.decode(&out[1..]).expect("decodes"), topic);
        }
    }
}

proptest! {
    #[test]
    fn flatbuffers_is_wire_compatible_with_the_raw_generated_api(topic in topic_strategy()) {
        // Ours, read by the raw generated reader.
        let mut ours = Vec::new();
        TopicFlatBuffers.encode(&topic, &mut ours).expect("encodes");
        let view = schema::root_as_topic(&ours).expect("raw reader accepts our bytes");
        prop_assert_eq!(view.seq_no(), topic.seq_no);
        prop_assert_eq!(view.ts().to_bits(), topic.ts.to_bits());
        prop_assert_eq!(view.name().unwrap_or_default(), topic.name.as_str());
        prop_assert_eq!(view.data().map(|d| d.iter().collect::<Vec<_>>()).unwrap_or_default(), topic.data.clone());

        // The raw generated builder's bytes, read by ours.
        let mut fbb = FlatBufferBuilder::new();
        let name = fbb.create_string(&topic.name);
        let data = fbb.create_vector(&topic.data);
        let root = schema::Topic::create(&mut fbb, &schema::TopicArgs {
            seq_no: topic.seq_no,
            ts: topic.ts,
            name: Some(name),
            data: Some(data),
        });
        schema::finish_topic_buffer(&mut fbb, root);
        let back = TopicFlatBuffers.decode(fbb.finished_data()).expect("decodes raw bytes");
        // Without force_defaults the raw builder drops a -0.0 timestamp: it reads as 0.0.
        let expected_ts = if topic.ts == 0.0 { 0.0 } else { topic.ts };
        prop_assert_eq!(back.ts.to_bits(), expected_ts.to_bits());
        let back = Topic { ts: topic.ts, ..back };
        prop_assert!(same(&back, &topic), "{:?} vs {:?}", back, topic);
    }
}

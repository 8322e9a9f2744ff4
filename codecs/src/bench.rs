//! Codec micro-benchmark used by `rolecall bench actor`: the Topic FlatBuffers
//! codec against the raw flatbuffers crate doing the same work, in one run.

use std::hint::black_box;
use std::time::Instant;

use flatbuffers::FlatBufferBuilder;
use serde::Serialize;

use crate::codec::Codec;
use crate::fb::{build_topic, read_topic, schema, TopicFlatBuffers};
use crate::topic::Topic;

/// Nanoseconds per Topic (100-element data) and ratios raw/codec (1.0 = equal).
#[derive(Debug, Clone, Serialize)]
pub struct TopicBench {
    /// Codec encode, ns per message.
    pub encode_ns: f64,
    /// Codec decode (verify + read into `Topic`), ns per message.
    pub decode_ns: f64,
    /// Raw generated builder with a reused `FlatBufferBuilder`, ns per message.
    pub raw_encode_ns: f64,
    /// Raw verified reader reading every field into a `Topic`, ns per message.
    pub raw_decode_ns: f64,
    /// raw_encode_ns / encode_ns.
    pub encode_ratio: f64,
    /// raw_decode_ns / decode_ns.
    pub decode_ratio: f64,
}

fn sample() -> Topic {
    Topic {
        seq_no: 42,
        ts: 1_700_000_000.123,
        name: "weather".into(),
        data: (0..100).collect(),
    }
}

fn time_ns(iterations: u64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

fn best(rounds: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..rounds).map(|_| f()).fold(f64::INFINITY, f64::min)
}

/// Measures codec and raw paths, interleaved over several rounds (best of each).
pub fn topic_codec(iterations: u64) -> TopicBench {
    let topic = sample();
    let codec = TopicFlatBuffers;
    let mut out = Vec::with_capacity(1024);
    let mut fbb = FlatBufferBuilder::with_capacity(1024);
    build_topic(&mut fbb, &topic);
    let bytes = fbb.finished_data().to_vec();
    let iterations = iterations.max(1);
    let rounds = 5;

    let mut encode_ns = f64::INFINITY;
    let mut raw_encode_ns = f64::INFINITY;
    let mut decode_ns = f64::INFINITY;
    let mut raw_decode_ns = f64::INFINITY;
    for _ in 0..rounds {
        encode_ns = encode_ns.min(best(1, || {
            time_ns(iterations, || {
                out.clear();
                let _ = codec.encode(black_box(&topic), &mut out);
                black_box(&out);
            })
        }));
        raw_encode_ns = raw_encode_ns.min(best(1, || {
            time_ns(iterations, || {
                build_topic(&mut fbb, black_box(&topic));
                out.clear();
                out.extend_from_slice(fbb.finished_data());
                black_box(&out);
            })
        }));
        decode_ns = decode_ns.min(best(1, || {
            time_ns(iterations, || {
                black_box(codec.decode(black_box(&bytes)).ok());
            })
        }));
        raw_decode_ns = raw_decode_ns.min(best(1, || {
            time_ns(iterations, || {
                let t = schema::root_as_topic(black_box(&bytes))
                    .ok()
                    .map(|v| read_topic(&v));
                black_box(t);
            })
        }));
    }
    TopicBench {
        encode_ns,
        decode_ns,
        raw_encode_ns,
        raw_decode_ns,
        encode_ratio: raw_encode_ns / encode_ns,
        decode_ratio: raw_decode_ns / decode_ns,
    }
}

//! Codec micro-benchmark used by `rolecall bench actor`: the Topic FlatBuffers
//! codec against the raw flatbuffers crate doing the same work, in one run.
//!
//! The raw side is what a program using the generated code directly would
//! write: a reused `FlatBufferBuilder` with the generated `Topic::create`, and
//! the generated verified reader (`root_as_topic`) reading every field into a
//! [`Topic`]. Paths are interleaved over several rounds after a warm-up and
//! the best round of each is kept, which damps noise on a small shared machine.

use std::hint::black_box;
use std::time::Instant;

use flatbuffers::FlatBufferBuilder;
use serde::Serialize;

use rolecall::codecs::fb::{schema, TopicFlatBuffers};
use rolecall::codecs::{Codec, Topic};

/// Rounds per path; the fastest is reported.
const ROUNDS: usize = 5;

/// Nanoseconds per Topic (100-element data, short name) and ratios raw/codec
/// (1.0 = equal speed, higher = the codec is faster).
#[derive(Debug, Clone, Serialize)]
pub(super) struct TopicBench {
    /// Codec encode into a reused `Vec`, ns per message.
    pub encode_ns: f64,
    /// Codec decode (verify + read into `Topic`), ns per message.
    pub decode_ns: f64,
    /// Raw generated builder with a reused `FlatBufferBuilder`, ns per message.
    pub raw_encode_ns: f64,
    /// Raw verified reader reading every field into a `Topic`, ns per message.
    pub raw_decode_ns: f64,
    /// `raw_encode_ns / encode_ns`.
    pub encode_ratio: f64,
    /// `raw_decode_ns / decode_ns`.
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

/// Mean ns per call of `f` over `iterations` calls.
fn time_ns(iterations: u64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

/// The raw generated builder API, as a program without this crate writes it.
fn raw_encode(fbb: &mut FlatBufferBuilder<'_>, topic: &Topic, out: &mut Vec<u8>) {
    fbb.reset();
    let name = fbb.create_string(&topic.name);
    let data = fbb.create_vector(&topic.data);
    let root = schema::Topic::create(
        fbb,
        &schema::TopicArgs {
            seq_no: topic.seq_no,
            ts: topic.ts,
            name: Some(name),
            data: Some(data),
        },
    );
    schema::finish_topic_buffer(fbb, root);
    out.extend_from_slice(fbb.finished_data());
}

/// The raw generated verified reader, reading every field into a `Topic`.
fn raw_decode(bytes: &[u8]) -> Option<Topic> {
    let view = schema::root_as_topic(bytes).ok()?;
    Some(Topic {
        seq_no: view.seq_no(),
        ts: view.ts(),
        name: view.name().unwrap_or_default().to_owned(),
        data: view.data().map(|d| d.iter().collect()).unwrap_or_default(),
    })
}

/// Measures the codec and raw paths on one Topic, `iterations` messages per
/// round and path (at least 1), interleaved over several rounds.
pub(super) fn topic_codec(iterations: u64) -> TopicBench {
    let topic = sample();
    let codec = TopicFlatBuffers;
    let iterations = iterations.max(1);
    let mut out = Vec::with_capacity(1024);
    let mut raw_out = Vec::with_capacity(1024);
    let mut fbb = FlatBufferBuilder::with_capacity(1024);
    raw_encode(&mut fbb, &topic, &mut raw_out);
    let bytes = raw_out.clone();

    let mut encode = || {
        out.clear();
        let _ = codec.encode(black_box(&topic), &mut out);
        black_box(&out);
    };
    let mut raw_enc = || {
        raw_out.clear();
        raw_encode(&mut fbb, black_box(&topic), &mut raw_out);
        black_box(&raw_out);
    };
    let decode = || {
        black_box(codec.decode(black_box(&bytes)).ok());
    };
    let raw_dec = || {
        black_box(raw_decode(black_box(&bytes)));
    };

    // Warm-up: caches, branch predictors, the thread's builder, CPU clocks.
    let warm = (iterations / 10).max(1);
    time_ns(warm, &mut encode);
    time_ns(warm, &mut raw_enc);
    time_ns(warm, decode);
    time_ns(warm, raw_dec);

    let mut best = [f64::INFINITY; 4];
    for round in 0..ROUNDS {
        // Alternate which side goes first so neither always runs on a warmer machine.
        let (e, r) = if round % 2 == 0 {
            let e = time_ns(iterations, &mut encode);
            (e, time_ns(iterations, &mut raw_enc))
        } else {
            let r = time_ns(iterations, &mut raw_enc);
            (time_ns(iterations, &mut encode), r)
        };
        let (d, rd) = if round % 2 == 0 {
            let d = time_ns(iterations, decode);
            (d, time_ns(iterations, raw_dec))
        } else {
            let rd = time_ns(iterations, raw_dec);
            (time_ns(iterations, decode), rd)
        };
        for (slot, v) in best.iter_mut().zip([e, d, r, rd]) {
            *slot = slot.min(v);
        }
    }
    let [encode_ns, decode_ns, raw_encode_ns, raw_decode_ns] = best;
    TopicBench {
        encode_ns,
        decode_ns,
        raw_encode_ns,
        raw_decode_ns,
        encode_ratio: raw_encode_ns / encode_ns,
        decode_ratio: raw_decode_ns / decode_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_reports_positive_times_and_ratios() {
        let b = topic_codec(50);
        for v in [
            b.encode_ns,
            b.decode_ns,
            b.raw_encode_ns,
            b.raw_decode_ns,
            b.encode_ratio,
            b.decode_ratio,
        ] {
            assert!(v.is_finite() && v > 0.0, "{b:?}");
        }
    }

    #[test]
    fn raw_paths_do_the_same_work_as_the_codec() {
        let topic = sample();
        let mut raw = Vec::new();
        raw_encode(&mut FlatBufferBuilder::new(), &topic, &mut raw);
        let mut ours = Vec::new();
        assert!(TopicFlatBuffers.encode(&topic, &mut ours).is_ok());
        assert_eq!(raw, ours, "same bytes for a topic without default fields");
        assert_eq!(raw_decode(&raw), TopicFlatBuffers.decode(&ours).ok());
    }
}

//! Codec micro-benchmark used by `rolecall bench actor`: the Topic FlatBuffers
//! codec against the raw flatbuffers crate doing the same work, in one run.
//!
//! The raw side is what a program using the generated code directly would
//! write: a reused `FlatBufferBuilder` with the generated `Topic::create`, and
//! the generated verified reader (`root_as_topic`) reading every field into a
//! [`Topic`]. Paths are interleaved over several rounds after a warm-up and
//! the best round of each is kept, which damps noise on a small shared machine.
//!
//! Reading in place: [`TopicViewFlatBuffers`] decodes a [`TopicView`] inside
//! [`decode_in`] (one source for the whole run, as a cross-node hop decodes a
//! batch: the view shares the buffer) and reads every field from it; the raw
//! side verifies with `root_as_topic` and reads the same fields from the
//! generated reader. The same view decoded outside `decode_in` copies the
//! buffer once.

use std::hint::black_box;
use std::time::Instant;

use flatbuffers::FlatBufferBuilder;
use serde::Serialize;

use rolecall::codecs::fb::{schema, TopicFlatBuffers, TopicView, TopicViewFlatBuffers};
use rolecall::codecs::shared::decode_in;
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
    /// View decode sharing the buffer (verify, then read every field in
    /// place), ns per message.
    pub view_decode_ns: f64,
    /// The same view decode outside `decode_in` (one copy of the buffer), ns per message.
    pub view_copy_decode_ns: f64,
    /// Raw verified reader reading every field in place, ns per message.
    pub raw_view_decode_ns: f64,
    /// `raw_view_decode_ns / view_decode_ns`.
    pub view_decode_ratio: f64,
    /// `decode_ns / view_decode_ns`: how much faster reading in place is
    /// than decoding into an owned `Topic`.
    pub view_speedup: f64,
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

/// Every field of a view, read in place, folded into one number.
fn read_view(view: &TopicView) -> u64 {
    let data: u64 = view.data().iter().map(u64::from).sum();
    u64::from(view.seq_no()) ^ view.ts().to_bits() ^ view.name().len() as u64 ^ data
}

/// The raw generated verified reader, reading the same fields in place.
fn raw_read_in_place(bytes: &[u8]) -> Option<u64> {
    let view = schema::root_as_topic(bytes).ok()?;
    let data: u64 = view
        .data()
        .map(|d| d.iter().map(u64::from).sum())
        .unwrap_or_default();
    let name = view.name().unwrap_or_default().len() as u64;
    Some(u64::from(view.seq_no()) ^ view.ts().to_bits() ^ name ^ data)
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
    // The same bytes (see the tests) as shared `Bytes`.
    let shared = TopicView::from_topic(&topic).into_bytes();
    let view_dec = || {
        let view = TopicViewFlatBuffers.decode(black_box(&shared));
        black_box(view.as_ref().map(read_view).ok());
    };
    let view_copy_dec = || {
        let view = TopicViewFlatBuffers.decode(black_box(&bytes));
        black_box(view.as_ref().map(read_view).ok());
    };
    let raw_view_dec = || {
        black_box(raw_read_in_place(black_box(&bytes)));
    };

    // Each path timed for `n` messages; the view decodes inside one
    // `decode_in`, as a hop decodes a batch.
    let mut paths: [&mut dyn FnMut(u64) -> f64; 7] = [
        &mut |n| time_ns(n, &mut encode),
        &mut |n| time_ns(n, &mut raw_enc),
        &mut |n| time_ns(n, decode),
        &mut |n| time_ns(n, raw_dec),
        &mut |n| decode_in(&shared, || time_ns(n, view_dec)),
        &mut |n| time_ns(n, raw_view_dec),
        &mut |n| time_ns(n, view_copy_dec),
    ];

    // Warm-up: caches, branch predictors, the thread's builder, CPU clocks.
    let warm = (iterations / 10).max(1);
    for path in paths.iter_mut() {
        path(warm);
    }

    let mut best = [f64::INFINITY; 7];
    for round in 0..ROUNDS {
        // Alternate the order so no path always runs on a warmer machine.
        for i in 0..paths.len() {
            let i = if round % 2 == 0 {
                i
            } else {
                paths.len() - 1 - i
            };
            best[i] = best[i].min(paths[i](iterations));
        }
    }
    let [encode_ns, raw_encode_ns, decode_ns, raw_decode_ns, view_decode_ns, raw_view_decode_ns, view_copy_decode_ns] =
        best;
    TopicBench {
        encode_ns,
        decode_ns,
        raw_encode_ns,
        raw_decode_ns,
        encode_ratio: raw_encode_ns / encode_ns,
        decode_ratio: raw_decode_ns / decode_ns,
        view_decode_ns,
        view_copy_decode_ns,
        raw_view_decode_ns,
        view_decode_ratio: raw_view_decode_ns / view_decode_ns,
        view_speedup: decode_ns / view_decode_ns,
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
            b.view_decode_ns,
            b.view_copy_decode_ns,
            b.raw_view_decode_ns,
            b.view_decode_ratio,
            b.view_speedup,
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
        assert_eq!(&TopicView::from_topic(&topic).as_bytes()[..], &raw[..]);
        let view = TopicViewFlatBuffers.decode(&raw).ok();
        assert_eq!(view.as_ref().map(read_view), raw_read_in_place(&raw));
        assert!(view.is_some_and(|v| v == topic));
    }
}

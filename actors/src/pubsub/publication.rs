//! Publications on the wire: the course's one UTF-8 frame `topic:data`.
//!
//! rolecall's publishers stamp the data for latency: `value`, then a tab and
//! `publisher-id`, `seq` and the send time in ns since the Unix epoch, tab
//! separated (`weather:sunny\tpub1\t17\t1733350000000000000`). A course
//! subscriber sees this as `topic:data` with a longer data; a frame without
//! the stamp (the course's Python publisher) is counted, with no latency.
//!
//! [`Format::FlatBuffers`] sends the course's FlatBuffers `Topic` instead, as
//! two frames: `topic:publisher` (so SUB filters on `topic:` still work), then
//! the `Topic` (`seq_no`, `ts` the send time in seconds, `name` the topic,
//! `data` the value's UTF-8 bytes, one per element).

use rolecall_codecs::{Codec, Topic, TopicFlatBuffers};
use serde::Deserialize;
use thiserror::Error;

/// The longest frame accepted (bytes); longer ones are refused.
pub const MAX_FRAME: usize = 64 * 1024;

/// A frame that is not a publication.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    /// Not UTF-8.
    #[error("publication is not UTF-8")]
    NotUtf8,
    /// No `:` between topic and data.
    #[error("publication has no ':' between topic and data")]
    NoColon,
    /// Longer than [`MAX_FRAME`].
    #[error("publication of {0} bytes is longer than the limit")]
    TooLong(usize),
    /// A FlatBuffers `Topic` that does not verify.
    #[error("publication: {0}")]
    FlatBuffers(String),
    /// Neither one frame (text) nor two (FlatBuffers).
    #[error("publication of {0} frames (1: text, 2: FlatBuffers)")]
    Frames(usize),
}

/// How publications are put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The course's one frame `topic:data` (with rolecall's stamp in the data).
    #[default]
    Text,
    /// `topic:publisher`, then the course's FlatBuffers `Topic`.
    FlatBuffers,
}

/// Who sent a publication, and when (from a rolecall publisher's stamp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The publisher's id (`-n`).
    pub publisher: String,
    /// Sequence number within (publisher, topic), from 0.
    pub seq: u64,
    /// Send time, ns since the Unix epoch.
    pub sent_ns: i64,
}

/// One publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The topic.
    pub topic: String,
    /// The value (without the stamp).
    pub value: String,
    /// The stamp, when a rolecall publisher sent it.
    pub stamp: Option<Stamp>,
}

impl Publication {
    /// The frame: `topic:value` plus the stamp when there is one.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!("{}:{}", self.topic, self.value);
        if let Some(st) = &self.stamp {
            s.push_str(&format!("\t{}\t{}\t{}", st.publisher, st.seq, st.sent_ns));
        }
        s.into_bytes()
    }

    /// Parses a frame (never panics; a malformed stamp is kept as data).
    pub fn decode(frame: &[u8]) -> Result<Self, ParseError> {
        if frame.len() > MAX_FRAME {
            return Err(ParseError::TooLong(frame.len()));
        }
        let text = std::str::from_utf8(frame).map_err(|_| ParseError::NotUtf8)?;
        let (topic, data) = text.split_once(':').ok_or(ParseError::NoColon)?;
        let mut parts = data.split('\t');
        let value = parts.next().unwrap_or_default();
        let stamp = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(p), Some(seq), Some(ns), None) => match (seq.parse(), ns.parse()) {
                (Ok(seq), Ok(sent_ns)) => Some(Stamp {
                    publisher: p.to_owned(),
                    seq,
                    sent_ns,
                }),
                _ => None,
            },
            _ => None,
        };
        Ok(Publication {
            topic: topic.to_owned(),
            value: if stamp.is_some() { value } else { data }.to_owned(),
            stamp,
        })
    }
}

impl Publication {
    /// The frames of this publication in `format` (FlatBuffers needs a stamp;
    /// without one the publication goes as text).
    pub fn encode_frames(&self, format: Format) -> Vec<Vec<u8>> {
        match (format, &self.stamp) {
            (Format::FlatBuffers, Some(st)) => {
                let topic = Topic {
                    seq_no: u32::try_from(st.seq).unwrap_or(u32::MAX),
                    ts: st.sent_ns as f64 / 1e9,
                    name: self.topic.clone(),
                    data: self.value.bytes().map(u32::from).collect(),
                };
                let mut fb = Vec::new();
                // Encoding a Topic into a Vec cannot fail.
                let _ = TopicFlatBuffers.encode(&topic, &mut fb);
                vec![format!("{}:{}", self.topic, st.publisher).into_bytes(), fb]
            }
            _ => vec![self.encode()],
        }
    }

    /// Parses the frames of one message, text or FlatBuffers.
    pub fn decode_frames(frames: &[Vec<u8>]) -> Result<Self, ParseError> {
        match frames {
            [one] => Self::decode(one),
            [head, fb] => {
                if fb.len() > MAX_FRAME {
                    return Err(ParseError::TooLong(fb.len()));
                }
                let head = std::str::from_utf8(head).map_err(|_| ParseError::NotUtf8)?;
                let (topic, publisher) = head.split_once(':').ok_or(ParseError::NoColon)?;
                let t = TopicFlatBuffers
                    .decode(fb)
                    .map_err(|e| ParseError::FlatBuffers(e.to_string()))?;
                let bytes: Vec<u8> = t
                    .data
                    .iter()
                    .map(|&b| u8::try_from(b).unwrap_or(b'?'))
                    .collect();
                Ok(Publication {
                    topic: topic.to_owned(),
                    value: String::from_utf8_lossy(&bytes).into_owned(),
                    stamp: Some(Stamp {
                        publisher: publisher.to_owned(),
                        seq: u64::from(t.seq_no),
                        sent_ns: (t.ts * 1e9) as i64,
                    }),
                })
            }
            other => Err(ParseError::Frames(other.len())),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn course_frame() {
        let p = Publication::decode(b"weather:sunny").unwrap();
        assert_eq!((p.topic.as_str(), p.value.as_str()), ("weather", "sunny"));
        assert_eq!(p.stamp, None);
        assert_eq!(p.encode(), b"weather:sunny");
    }

    #[test]
    fn bad_frames() {
        assert_eq!(Publication::decode(b"nocolon"), Err(ParseError::NoColon));
        assert_eq!(Publication::decode(&[0xff, b':']), Err(ParseError::NotUtf8));
        let long = vec![b'a'; MAX_FRAME + 1];
        assert_eq!(
            Publication::decode(&long),
            Err(ParseError::TooLong(MAX_FRAME + 1))
        );
        // A stamp that does not parse stays data.
        let p = Publication::decode(b"light:450\tpub1\tx\t5").unwrap();
        assert_eq!(p.value, "450\tpub1\tx\t5");
    }

    #[test]
    fn flatbuffers_frames() {
        let p = Publication {
            topic: "weather".into(),
            value: "foggy".into(),
            stamp: Some(Stamp {
                publisher: "pub3".into(),
                seq: 9,
                sent_ns: 1_733_350_000_123_456_000,
            }),
        };
        let frames = p.encode_frames(Format::FlatBuffers);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], b"weather:pub3");
        let back = Publication::decode_frames(&frames).unwrap();
        assert_eq!(
            (back.topic.as_str(), back.value.as_str()),
            ("weather", "foggy")
        );
        let st = back.stamp.unwrap();
        assert_eq!((st.publisher.as_str(), st.seq), ("pub3", 9));
        // Seconds as f64: within a microsecond.
        assert!((st.sent_ns - 1_733_350_000_123_456_000).abs() < 1_000);
        assert!(matches!(
            Publication::decode_frames(&[b"weather:pub3".to_vec(), vec![1, 2, 3]]),
            Err(ParseError::FlatBuffers(_))
        ));
        assert_eq!(Publication::decode_frames(&[]), Err(ParseError::Frames(0)));
        assert_eq!(p.encode_frames(Format::Text), vec![p.encode()]);
    }

    proptest! {
        #[test]
        fn stamped_round_trip(topic in "[a-z]{1,12}", value in "[^\t]{0,20}", publisher in "[a-z0-9]{1,8}", seq: u64, sent_ns: i64) {
            let p = Publication { topic, value, stamp: Some(Stamp { publisher, seq, sent_ns }) };
            prop_assert_eq!(Publication::decode(&p.encode()).unwrap(), p);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Publication::decode(&bytes);
        }
    }
}

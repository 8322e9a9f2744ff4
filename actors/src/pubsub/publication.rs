//! Publications on the wire: the course's one UTF-8 frame `topic:data`.
//!
//! rolecall's publishers stamp the data for latency: `value`, then a tab and
//! `publisher-id`, `seq` and the send time in ns since the Unix epoch, tab
//! separated (`weather:sunny\tpub1\t17\t1733350000000000000`). A course
//! subscriber sees this as `topic:data` with a longer data; a frame without
//! the stamp (the course's Python publisher) is counted, with no latency.

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

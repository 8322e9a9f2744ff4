//! The frames of a cross-node hop, as bytes. Every frame starts with one tag
//! byte; numbers are little-endian `u64`, strings a `u16` length and UTF-8.
//!
//! Sender → receiver (a DEALER connected to the receiver's ROUTER):
//! `HELLO` (who is sending what), `DATA seq body`, `END seq`.
//! Receiver → sender: `WELCOME`, `ACK`, `WHO` (say hello first), `REFUSED reason`,
//! `GONE` (the receiving node stopped for good).

/// One encoded message: `DATA seq body`.
pub(crate) const DATA: u8 = 0;
/// The producer stopped for good: `END seq` (acknowledged like a message).
pub(crate) const END: u8 = 1;
/// Opens (or re-opens) a session: see [`Hello`].
pub(crate) const HELLO: u8 = 2;
/// The receiver accepted a hello: its incarnation and what it has of the sender.
pub(crate) const WELCOME: u8 = 3;
/// Cumulative acknowledgement: handled and received sequence numbers.
pub(crate) const ACK: u8 = 4;
/// The receiver does not know this connection: say hello (again).
pub(crate) const WHO: u8 = 5;
/// The receiver refused a hello, with the reason.
pub(crate) const REFUSED: u8 = 6;
/// The receiving node stopped for good (graceful shutdown): its consumer
/// takes nothing more.
pub(crate) const GONE: u8 = 7;

/// Protocol version carried in every hello.
pub(crate) const VERSION: u8 = 1;

/// What a sender says when it (re)connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hello {
    /// Name of the topology.
    pub topology: String,
    /// Hash of the wire's definition (ends, message type, codec, delivery).
    pub wiring: u64,
    /// The wire's label, `from.port -> to.port`.
    pub wire: String,
    /// The sending node.
    pub node: String,
    /// The sending process's incarnation (random per start).
    pub incarnation: u64,
    /// The first sequence number the sender still holds unacknowledged.
    pub first_unacked: u64,
}

/// A frame the receiver got.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToReceiver<'a> {
    Hello(Hello),
    Data { seq: u64, body: &'a [u8] },
    End { seq: u64 },
}

/// A frame the sender got.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToSender {
    Welcome {
        receiver: u64,
        handled: u64,
        received: u64,
    },
    Ack {
        handled: u64,
        received: u64,
        resend: bool,
    },
    Who,
    Refused(String),
    Gone,
}

/// Starts a DATA frame in `buf` (cleared); the codec appends the body.
pub(crate) fn data_header(seq: u64, buf: &mut Vec<u8>) {
    buf.clear();
    buf.push(DATA);
    buf.extend_from_slice(&seq.to_le_bytes());
}

pub(crate) fn end(seq: u64) -> Vec<u8> {
    let mut b = vec![END];
    b.extend_from_slice(&seq.to_le_bytes());
    b
}

pub(crate) fn hello(h: &Hello) -> Vec<u8> {
    let mut b = vec![HELLO, VERSION];
    for s in [&h.topology, &h.wire, &h.node] {
        put_str(&mut b, s);
    }
    for n in [h.wiring, h.incarnation, h.first_unacked] {
        b.extend_from_slice(&n.to_le_bytes());
    }
    b
}

pub(crate) fn welcome(receiver: u64, handled: u64, received: u64) -> Vec<u8> {
    let mut b = vec![WELCOME];
    for n in [receiver, handled, received] {
        b.extend_from_slice(&n.to_le_bytes());
    }
    b
}

pub(crate) fn ack(handled: u64, received: u64, resend: bool) -> Vec<u8> {
    let mut b = vec![ACK];
    for n in [handled, received] {
        b.extend_from_slice(&n.to_le_bytes());
    }
    b.push(u8::from(resend));
    b
}

pub(crate) fn who() -> Vec<u8> {
    vec![WHO]
}

pub(crate) fn gone() -> Vec<u8> {
    vec![GONE]
}

pub(crate) fn refused(reason: &str) -> Vec<u8> {
    let mut b = vec![REFUSED];
    put_str(&mut b, reason);
    b
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    b.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    b.extend_from_slice(bytes);
}

/// Reads fields off the front of a frame.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u64(&mut self) -> Result<u64, String> {
        let (head, rest) = self
            .0
            .split_first_chunk::<8>()
            .ok_or_else(|| format!("{} bytes where a number was expected", self.0.len()))?;
        self.0 = rest;
        Ok(u64::from_le_bytes(*head))
    }
    fn u8(&mut self) -> Result<u8, String> {
        let (&b, rest) = self.0.split_first().ok_or("frame too short")?;
        self.0 = rest;
        Ok(b)
    }
    fn string(&mut self) -> Result<String, String> {
        let (len, rest) = self.0.split_first_chunk::<2>().ok_or("frame too short")?;
        let len = u16::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(format!("a string of {len} bytes, {} left", rest.len()));
        }
        let (s, rest) = rest.split_at(len);
        self.0 = rest;
        String::from_utf8(s.to_vec()).map_err(|_| "a string that is not UTF-8".to_owned())
    }
    fn done(&self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!("{} bytes too many", self.0.len()))
        }
    }
}

/// Parses a frame sent to a receiver.
pub(crate) fn parse_to_receiver(frame: &[u8]) -> Result<ToReceiver<'_>, String> {
    let (&tag, rest) = frame.split_first().ok_or("empty frame")?;
    let mut r = Reader(rest);
    match tag {
        DATA => {
            let seq = r.u64()?;
            Ok(ToReceiver::Data { seq, body: r.0 })
        }
        END => {
            let seq = r.u64()?;
            r.done()?;
            Ok(ToReceiver::End { seq })
        }
        HELLO => {
            let version = r.u8()?;
            if version != VERSION {
                return Err(format!(
                    "hello of protocol version {version}, this build speaks {VERSION}"
                ));
            }
            let topology = r.string()?;
            let wire = r.string()?;
            let node = r.string()?;
            let wiring = r.u64()?;
            let incarnation = r.u64()?;
            let first_unacked = r.u64()?;
            r.done()?;
            Ok(ToReceiver::Hello(Hello {
                topology,
                wiring,
                wire,
                node,
                incarnation,
                first_unacked,
            }))
        }
        other => Err(format!("unknown frame tag {other}")),
    }
}

/// Parses a frame sent to a sender.
pub(crate) fn parse_to_sender(frame: &[u8]) -> Result<ToSender, String> {
    let (&tag, rest) = frame.split_first().ok_or("empty frame")?;
    let mut r = Reader(rest);
    let parsed = match tag {
        WELCOME => ToSender::Welcome {
            receiver: r.u64()?,
            handled: r.u64()?,
            received: r.u64()?,
        },
        ACK => ToSender::Ack {
            handled: r.u64()?,
            received: r.u64()?,
            resend: r.u8()? != 0,
        },
        WHO => ToSender::Who,
        REFUSED => ToSender::Refused(r.string()?),
        GONE => ToSender::Gone,
        other => return Err(format!("unknown frame tag {other}")),
    };
    r.done()?;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_frame_reads_back_as_written() {
        let h = Hello {
            topology: "two_nodes".into(),
            wiring: 0xfeed,
            wire: "a.out -> b.in".into(),
            node: "sensors".into(),
            incarnation: 42,
            first_unacked: 7,
        };
        assert_eq!(parse_to_receiver(&hello(&h)), Ok(ToReceiver::Hello(h)));
        assert_eq!(parse_to_receiver(&end(9)), Ok(ToReceiver::End { seq: 9 }));
        let mut d = Vec::new();
        data_header(5, &mut d);
        d.extend_from_slice(b"xyz");
        assert_eq!(
            parse_to_receiver(&d),
            Ok(ToReceiver::Data {
                seq: 5,
                body: b"xyz"
            })
        );
        assert_eq!(
            parse_to_sender(&welcome(1, 2, 3)),
            Ok(ToSender::Welcome {
                receiver: 1,
                handled: 2,
                received: 3
            })
        );
        assert_eq!(
            parse_to_sender(&ack(4, 5, true)),
            Ok(ToSender::Ack {
                handled: 4,
                received: 5,
                resend: true
            })
        );
        assert_eq!(parse_to_sender(&who()), Ok(ToSender::Who));
        assert_eq!(parse_to_sender(&gone()), Ok(ToSender::Gone));
        assert_eq!(
            parse_to_sender(&refused("no")),
            Ok(ToSender::Refused("no".into()))
        );
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        for f in [
            &[][..],
            &[END],
            &[END, 1, 2],
            &[HELLO, VERSION, 9],
            &[HELLO, 99],
            &[77],
        ] {
            assert!(parse_to_receiver(f).is_err(), "{f:?}");
        }
        let mut long = end(1);
        long.push(0);
        assert!(parse_to_receiver(&long).is_err());
        for f in [
            &[][..],
            &[ACK, 1],
            &[WELCOME],
            &[REFUSED, 5, 0, b'a'],
            &[WHO, 0],
        ] {
            assert!(parse_to_sender(f).is_err(), "{f:?}");
        }
    }
}

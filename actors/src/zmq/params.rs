//! Parameters of every endpoint kind.

use serde::{Deserialize, Deserializer};

use super::curve::CurveParams;

/// Socket configuration from the topology.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Endpoints to bind (`tcp://*:5555`, `ipc:///tmp/x`, `inproc://name`, `epgm://eth0;239.1.1.1:5555`).
    #[serde(default)]
    pub bind: Vec<String>,
    /// Endpoints to connect to.
    #[serde(default)]
    pub connect: Vec<String>,
    /// Send high-water mark, in messages (libzmq default 1000).
    pub sndhwm: Option<i32>,
    /// Receive high-water mark, in messages (libzmq default 1000).
    pub rcvhwm: Option<i32>,
    /// Milliseconds the endpoint keeps its promise at shutdown (default
    /// 2000; -1 forever, 0 drop at once): once its `in` wires have ended, it
    /// keeps handing what is queued to the socket (waiting for a peer that
    /// binds late, or for room under the high-water mark) and libzmq keeps
    /// delivering it after the socket closes, until this much time has passed
    /// since the end of input. `rolecall run` waits for it before it exits.
    #[serde(default = "default_linger", deserialize_with = "linger")]
    pub linger_ms: i32,
    /// Largest inbound message accepted, in bytes (libzmq's
    /// `ZMQ_MAXMSGSIZE`; default 64 MiB, -1 no limit): a peer that sends a
    /// larger one is disconnected by libzmq, the other peers are served on.
    #[serde(
        default = "default_max_message_size",
        deserialize_with = "max_message_size"
    )]
    pub max_message_size: i64,
    /// Routing identity (DEALER/REQ towards a ROUTER).
    pub identity: Option<String>,
    /// Reconnect interval in milliseconds.
    pub reconnect_ivl_ms: Option<i32>,
    /// Initial subscription prefixes (SUB, XSUB); `""` subscribes to everything.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Messages waiting to be sent when the socket is at its high-water mark.
    #[serde(default = "default_send_queue")]
    pub send_queue: usize,
    /// Deliver libzmq socket-monitor events on the `monitor` port.
    #[serde(default)]
    pub monitor: bool,
    /// Microseconds the socket thread busy-polls before it sleeps: lower
    /// latency for more CPU (default 50 for REQ/REP, 0 for the others).
    pub spin_us: Option<u64>,
    /// CURVE security (server with an allowlist, or client).
    pub curve: Option<CurveParams>,
}

impl Default for Params {
    /// The defaults a topology gets when it gives no params.
    fn default() -> Self {
        Params {
            bind: Vec::new(),
            connect: Vec::new(),
            sndhwm: None,
            rcvhwm: None,
            linger_ms: default_linger(),
            max_message_size: default_max_message_size(),
            identity: None,
            reconnect_ivl_ms: None,
            subscribe: Vec::new(),
            send_queue: default_send_queue(),
            monitor: false,
            spin_us: None,
            curve: None,
        }
    }
}

fn default_linger() -> i32 {
    2000
}

fn default_send_queue() -> usize {
    1024
}

/// The default of `max_message_size`: 64 MiB.
pub(crate) const DEFAULT_MAX_MESSAGE_SIZE: i64 = 64 << 20;

fn default_max_message_size() -> i64 {
    DEFAULT_MAX_MESSAGE_SIZE
}

fn linger<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let ms = i32::deserialize(d)?;
    if ms < -1 {
        return Err(serde::de::Error::custom(format!(
            "linger_ms = {ms}: must be milliseconds (0 or more), or -1 to wait forever"
        )));
    }
    Ok(ms)
}

fn max_message_size<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let bytes = i64::deserialize(d)?;
    if bytes == 0 || bytes < -1 {
        return Err(serde::de::Error::custom(format!(
            "max_message_size = {bytes}: must be a number of bytes (1 or more), or -1 for no limit"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bound_inbound_messages_and_linger() {
        let p: Params = toml::from_str("").expect("empty params");
        assert_eq!(p.max_message_size, DEFAULT_MAX_MESSAGE_SIZE);
        assert_eq!(p.linger_ms, 2000);
        let d = Params::default();
        assert_eq!(
            (d.max_message_size, d.linger_ms, d.send_queue),
            (p.max_message_size, p.linger_ms, p.send_queue)
        );
    }

    #[test]
    fn bad_sizes_and_lingers_are_refused_with_the_param_named() {
        for (text, what) in [
            ("max_message_size = 0", "max_message_size = 0"),
            ("max_message_size = -5", "max_message_size = -5"),
            ("linger_ms = -2", "linger_ms = -2"),
        ] {
            let err = toml::from_str::<Params>(text).expect_err(text).to_string();
            assert!(err.contains(what), "{text}: {err}");
        }
        let p: Params =
            toml::from_str("max_message_size = -1\nlinger_ms = -1").expect("no limit, forever");
        assert_eq!((p.max_message_size, p.linger_ms), (-1, -1));
    }
}

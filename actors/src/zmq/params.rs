//! Parameters of every endpoint kind.

use serde::Deserialize;

use super::curve::CurveParams;

/// Socket configuration from the topology.
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// Milliseconds libzmq keeps delivering queued messages after the socket
    /// closes (default 2000; -1 forever, 0 drop them at once).
    #[serde(default = "default_linger")]
    pub linger_ms: i32,
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

fn default_linger() -> i32 {
    2000
}

fn default_send_queue() -> usize {
    1024
}

//! General-purpose stages: a Topic publisher, codec stages and latency statistics.
//!
//! | kind | ports | what it does |
//! |---|---|---|
//! | `topic.source` | out: `Topic` | publishes `count` Topic messages every `interval_ms`, stamping `ts`, then stops |
//! | `topic.encode` | in: `Topic`, out: `Frames` | encodes with a codec (`flatbuffers`, `json`, `binary`) into one frame, ready for a ZeroMQ endpoint |
//! | `topic.decode` | in: `Frames`, out: `Topic`, rejected: `Frames` | decodes; bad frames are counted, logged and passed on `rejected`, never fatal |
//! | `topic.latency` | in: `Topic`, out: `LatencySummary`, `points`: `metrics::Point` | one-way latency per topic from `ts`; prints a table at end of input; one point per message to a metrics reporter |
//! | `registry.*` | `Frames` | the Registry service as text messages and as typed RPC (see [`registry`]) |
//! | `text.*` | `Frames` | requester, responder, publisher, printer for ZeroMQ examples (see `text`) |

mod codec;
mod latency;
pub mod registry;
mod source;
mod text;

pub use codec::{Decode, Encode};
pub use latency::{LatencyStats, LatencySummary, TopicLatency};
pub use source::TopicSource;
pub use text::{Events, Inspect, Printer, Publisher, Requester, Responder};

use rolecall_runtime::kind::{RegisterError, Registry};

/// Registers the stage kinds.
pub fn register(registry: &mut Registry) -> Result<(), RegisterError> {
    registry
        .register::<TopicSource>("topic.source")?
        .register::<Encode>("topic.encode")?
        .register::<Decode>("topic.decode")?
        .register::<LatencyStats>("topic.latency")?
        .register::<Requester>("text.requester")?
        .register::<Responder>("text.responder")?
        .register::<Publisher>("text.publisher")?
        .register::<Printer>("text.printer")?
        .register::<Inspect>("text.inspect")?
        .register::<Events>("text.events")?
        .register::<registry::TextServer>("registry.text-server")?
        .register::<registry::TextClient>("registry.text-client")?
        .register::<registry::Server>("registry.server")?
        .register::<registry::Proxy>("registry.proxy")?;
    Ok(())
}

/// Seconds since the Unix epoch, as the course's `ts` field carries them.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

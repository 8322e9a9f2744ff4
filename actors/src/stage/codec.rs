//! `topic.encode` / `topic.decode`: codecs as actor stages of a wire.

use std::sync::Arc;

use actix::prelude::*;
use rolecall_codecs::{serde_codec, Codec, CodecRegistry as Codecs, Topic};
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use crate::zmq::Frames;

/// Parameters of both codec stages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// `flatbuffers`, `json` or `binary`.
    #[serde(default = "default_format")]
    pub format: String,
}

fn default_format() -> String {
    "flatbuffers".into()
}

fn topic_codec(format: &str) -> Result<Arc<dyn Codec<Topic>>, CreateError> {
    Codecs::with_builtin()
        .get::<Topic>(format)
        .or_else(|| serde_codec::<Topic>(format))
        .ok_or_else(|| {
            format!("no `{format}` codec for Topic: use flatbuffers, json or binary").into()
        })
}

/// Encodes Topic messages into frames.
pub struct Encode {
    codec: Arc<dyn Codec<Topic>>,
    out: Output<Frames>,
    failed: u64,
}

impl std::fmt::Debug for Encode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encode")
            .field("format", &self.codec.name())
            .finish()
    }
}

impl Actor for Encode {
    type Context = Context<Self>;
}

impl Handler<Topic> for Encode {
    type Result = ();

    fn handle(&mut self, msg: Topic, ctx: &mut Context<Self>) {
        let mut bytes = Vec::with_capacity(64 + msg.data.len() * 4);
        match self.codec.encode(&msg, &mut bytes) {
            Ok(()) => {
                self.out.send(Frames::one(bytes), ctx);
            }
            Err(e) => {
                self.failed += 1;
                tracing::warn!(seq = msg.seq_no, error = %e, failed = self.failed, "message not encodable; skipped");
            }
        }
    }
}

impl Role for Encode {
    type Params = Params;
    const ABOUT: &'static str = "encodes Topic messages into frames with a codec";
    const REACTIVE: bool = true;

    fn ports(ports: &mut Ports<Self>) {
        ports.input::<Topic>("in").output::<Frames>("out");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Encode {
            codec: topic_codec(&params.format)?,
            out: io.output("out")?,
            failed: 0,
        })
    }
}

/// Decodes frames into Topic messages; undecodable frames are counted,
/// logged and passed on unchanged on `rejected` (when wired), so they can be
/// counted or inspected downstream.
pub struct Decode {
    codec: Arc<dyn Codec<Topic>>,
    out: Output<Topic>,
    rejected: Output<Frames>,
    bad: u64,
}

impl std::fmt::Debug for Decode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decode")
            .field("format", &self.codec.name())
            .field("bad", &self.bad)
            .finish()
    }
}

impl Actor for Decode {
    type Context = Context<Self>;
}

impl Handler<Frames> for Decode {
    type Result = ();

    fn handle(&mut self, frame: Frames, ctx: &mut Context<Self>) {
        // The encoding is the last frame (after any topic or envelope frames).
        match self.codec.decode(frame.body()) {
            Ok(topic) => {
                self.out.send(topic, ctx);
            }
            Err(e) => {
                self.bad += 1;
                tracing::warn!(len = frame.body().len(), error = %e, bad = self.bad, "undecodable frame skipped");
                if self.rejected.is_connected() {
                    self.rejected.send(frame, ctx);
                }
            }
        }
    }
}

impl Role for Decode {
    type Params = Params;
    const ABOUT: &'static str =
        "decodes frames into Topic messages; bad frames are counted and skipped";
    const REACTIVE: bool = true;

    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<Frames>("in")
            .output::<Topic>("out")
            .output::<Frames>("rejected");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Decode {
            codec: topic_codec(&params.format)?,
            out: io.output("out")?,
            rejected: io.output("rejected")?,
            bad: 0,
        })
    }
}

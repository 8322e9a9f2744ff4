//! The answers every distributed discovery gives as the centralized
//! [`Directory`](super::Directory) does: when lookups must wait, when the
//! system is ready (from the registry's [`Counts`]), and the replies.

use prost::Message;
use rolecall_codecs::pb::discovery::{
    discovery_resp, DiscoveryReq, DiscoveryResp, LookupPubByTopicResp, MsgTypes, Status,
};

use super::chord::store::{Counts, Registrant};
use super::directory::{refused, reply, Dissemination, Expect};

/// A client's request decoded and admitted, with its kind; or the answer
/// that refuses it: malformed, or `in_flight` requests already (at most
/// `max`), or one of this client's (`pending`) not answered yet.
pub(crate) fn admit(
    bytes: &[u8],
    in_flight: usize,
    max: usize,
    pending: bool,
) -> Result<(DiscoveryReq, MsgTypes), DiscoveryResp> {
    let req = DiscoveryReq::decode(bytes)
        .map_err(|e| refused(MsgTypes::TypeUnknown, format!("malformed request: {e}")))?;
    let kind = MsgTypes::try_from(req.msg_type).unwrap_or(MsgTypes::TypeUnknown);
    if in_flight >= max || pending {
        return Err(failed(
            kind,
            format!("busy: {in_flight} requests in flight"),
        ));
    }
    Ok((req, kind))
}

/// The reply telling a client its request failed.
pub(crate) fn failed(kind: MsgTypes, reason: String) -> DiscoveryResp {
    match kind {
        MsgTypes::TypeLookupPubByTopic | MsgTypes::TypeLookupAllPubs => reply(
            kind,
            discovery_resp::Content::LookupResp(LookupPubByTopicResp {
                publishers: Vec::new(),
                status: Status::Failure as i32,
                reason: Some(reason),
            }),
        ),
        _ => refused(kind, reason),
    }
}

/// A lookup reply.
pub(crate) fn lookup_resp(
    kind: MsgTypes,
    publishers: Vec<Registrant>,
    status: Status,
    reason: Option<String>,
) -> DiscoveryResp {
    reply(
        kind,
        discovery_resp::Content::LookupResp(LookupPubByTopicResp {
            publishers: publishers.into_iter().map(Into::into).collect(),
            status: status as i32,
            reason,
        }),
    )
}

/// Why lookups must wait (as `Directory`).
pub(crate) fn blocked(expect: &Expect, c: &Counts) -> Option<String> {
    if c.publishers < expect.publishers {
        return Some(format!(
            "not ready: {} of {} publishers registered",
            c.publishers, expect.publishers
        ));
    }
    if expect.dissemination == Dissemination::Broker && c.broker.is_none() {
        return Some("not ready: the broker has not registered".into());
    }
    None
}

/// Whether publishers may start (as `Directory::is_ready`).
pub(crate) fn ready(expect: &Expect, c: &Counts) -> bool {
    blocked(expect, c).is_none()
        && c.subscribers >= expect.subscribers
        && c.lookups >= expect.subscribers
        && (expect.dissemination == Dissemination::Direct || c.broker_looked_up)
}

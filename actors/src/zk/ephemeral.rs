//! Creating a remembered ephemeral node again in a new session.
//!
//! The node may still exist. Owned by the session that expired: the client
//! can learn of an expiry (by its own clock) before the server acts on it, as
//! when answers stopped coming while the client's pings still arrived, or
//! after an ensemble's new leader gave every session a fresh timeout; that
//! node is ours, so it is deleted and created anew at once. Owned by another
//! session (another client took the path meanwhile): the new session watches
//! it and creates its own when it goes, as a lock's waiter would. Either way
//! the node is not lost to a `NodeExists`.

use zookeeper_client as zkc;

use super::request::{Access, Mode};

/// How creating a node again ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Again {
    /// Created by this session at once.
    Created,
    /// Created after deleting the expired session's node.
    Replaced,
    /// Created after another session's node went.
    Waited,
    /// A persistent node holds the path: it will not go by itself.
    HeldByPersistentNode,
}

/// Whose is a node found at the path to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    /// A persistent node (no owner).
    Persistent,
    /// This session's own (created by an earlier attempt).
    Ours,
    /// The expired session's: replace it.
    Expired,
    /// Another live session's: wait until it goes.
    Another,
}

/// Classifies a node owned by `owner` (`0`: persistent) for session `ours`,
/// whose predecessor `expired` (if any) expired.
fn existing(owner: i64, ours: i64, expired: Option<i64>) -> Existing {
    match owner {
        0 => Existing::Persistent,
        o if o == ours => Existing::Ours,
        o if Some(o) == expired => Existing::Expired,
        _ => Existing::Another,
    }
}

/// Creates `path` as an ephemeral node of `client`'s session: replacing a
/// node of the `expired` session, waiting out one another session owns.
/// Fails with the client's error (such as the session expiring again
/// meanwhile).
pub(crate) async fn create_again(
    client: &zkc::Client,
    path: &str,
    data: &[u8],
    access: Access,
    expired: Option<i64>,
) -> Result<Again, zkc::Error> {
    let options = Mode::Ephemeral.client().with_acls(access.acls());
    let mut how = Again::Created;
    loop {
        match client.create(path, data, &options).await {
            Ok(_) => return Ok(how),
            Err(zkc::Error::NodeExists) => {}
            Err(e) => return Err(e),
        }
        let (stat, watcher) = client.check_and_watch_stat(path).await?;
        let Some(stat) = stat else {
            continue; // deleted between the two requests: create it now
        };
        match existing(stat.ephemeral_owner, client.session_id().0, expired) {
            Existing::Persistent => return Ok(Again::HeldByPersistentNode),
            Existing::Ours => return Ok(how),
            Existing::Expired => {
                match client.delete(path, Some(stat.version)).await {
                    Ok(()) | Err(zkc::Error::NoNode) | Err(zkc::Error::BadVersion) => {}
                    Err(e) => return Err(e),
                }
                how = Again::Replaced;
            }
            Existing::Another => {
                tracing::info!(
                    path,
                    owner = format!("{:#x}", stat.ephemeral_owner),
                    "ephemeral node held by another session: waiting for it to go"
                );
                how = Again::Waited;
                watcher.changed().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{existing, Existing};

    #[test]
    fn a_found_node_is_classified_by_its_owner() {
        assert_eq!(existing(0, 7, Some(5)), Existing::Persistent);
        assert_eq!(existing(7, 7, Some(5)), Existing::Ours);
        assert_eq!(existing(5, 7, Some(5)), Existing::Expired);
        assert_eq!(existing(9, 7, Some(5)), Existing::Another);
        // Without an expired session every other owner is waited out.
        assert_eq!(existing(5, 7, None), Existing::Another);
    }
}

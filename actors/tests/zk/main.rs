//! ZooKeeper kinds against the real servers that `scripts/servers.sh start`
//! runs (`ROLECALL_ZK`, `ROLECALL_ZK_ENSEMBLE`).

mod ensemble;
mod expiry;
mod proxy;
mod recipes;
mod session;
mod support;

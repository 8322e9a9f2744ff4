//! The REQ side of the discovery conversation: timeouts and resends on a
//! fresh socket (the "lazy pirate" pattern), and, with the ZooKeeper
//! strategy, following the primary replica: requests go to the primary the
//! [`Directions`] name, and a client registered with an earlier primary
//! registers again with the new one before anything else.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prost::Message as _;
use rolecall_codecs::pb::discovery::{discovery_resp, DiscoveryReq, DiscoveryResp, Status};

use super::{connect, socket, Config, DirectionsRx, DriverError, Event, Events};

/// How long a ZooKeeper client waits for a primary to be elected before
/// its first request fails.
const NO_PRIMARY_WAIT: Duration = Duration::from_secs(30);

/// The discovery conversation of one client.
pub(super) struct Discovery<'a> {
    cfg: &'a Config,
    socket: zmq::Socket,
    /// The endpoint `socket` is connected to.
    endpoint: String,
    /// The registration, once sent: sent again to a new primary.
    registration: Option<DiscoveryReq>,
    /// The endpoint the registration was accepted by.
    registered_with: Option<String>,
}

impl<'a> Discovery<'a> {
    pub(super) fn new(
        cfg: &'a Config,
        dirs: &mut DirectionsRx,
        stop: &AtomicBool,
    ) -> Result<Self, DriverError> {
        let endpoint = primary(cfg, dirs, stop)?;
        Ok(Discovery {
            cfg,
            socket: open(cfg, &endpoint)?,
            endpoint,
            registration: None,
            registered_with: None,
        })
    }

    /// The endpoint requests go to now.
    pub(super) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `req` and waits for its reply; a registration is remembered
    /// (to be sent again to a new primary).
    pub(super) fn call(
        &mut self,
        req: &DiscoveryReq,
        dirs: &mut DirectionsRx,
        stop: &AtomicBool,
        events: &mut Events,
    ) -> Result<Vec<u8>, DriverError> {
        let registering = self.registration.is_none();
        if !registering {
            self.follow(dirs, stop, events)?;
        }
        let reply = self.exchange(req, dirs, stop)?;
        if registering {
            self.registration = Some(req.clone());
            self.registered_with = Some(self.endpoint.clone());
        }
        Ok(reply)
    }

    /// With the ZooKeeper strategy: if the primary changed since the
    /// registration, registers again with the new one (a refusal because the
    /// id is already there counts as registered). Cheap when nothing changed.
    pub(super) fn follow(
        &mut self,
        dirs: &mut DirectionsRx,
        stop: &AtomicBool,
        events: &mut Events,
    ) -> Result<(), DriverError> {
        if !self.cfg.zk {
            return Ok(());
        }
        let now = dirs.borrow().discovery.clone();
        let Some(registration) = self.registration.clone() else {
            return Ok(());
        };
        let Some(now) = now else {
            // No primary at the moment: keep the old one until one is elected.
            return Ok(());
        };
        if self.registered_with.as_deref() == Some(now.as_str()) {
            return Ok(());
        }
        self.reconnect(&now)?;
        let reply = self.exchange(&registration, dirs, stop)?;
        let verdict = match DiscoveryResp::decode(reply.as_slice()) {
            Ok(DiscoveryResp {
                content: Some(discovery_resp::Content::RegisterResp(r)),
                ..
            }) if r.status == Status::Success as i32 => Ok(()),
            Ok(DiscoveryResp {
                content: Some(discovery_resp::Content::RegisterResp(r)),
                ..
            }) if r.reason.as_deref().is_some_and(|t| t.contains("unique id")) => Ok(()),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(e.to_string()),
        };
        match verdict {
            Ok(()) => super::emit(
                events,
                Event::Phase(
                    "REGISTER",
                    format!(
                        "{} again with the new primary discovery {now}",
                        self.cfg.info.id
                    ),
                ),
            ),
            Err(why) => super::emit(
                events,
                Event::Notice(format!(
                    "the new primary discovery {now} refused {}'s registration: {why}",
                    self.cfg.info.id
                )),
            ),
        }
        self.registered_with = Some(now);
        Ok(())
    }

    fn reconnect(&mut self, endpoint: &str) -> Result<(), DriverError> {
        if self.endpoint != endpoint {
            self.socket = open(self.cfg, endpoint)?;
            self.endpoint = endpoint.to_owned();
        }
        Ok(())
    }

    /// One request and its reply, resent on a fresh socket (to the current
    /// primary) after each timeout.
    fn exchange(
        &mut self,
        req: &DiscoveryReq,
        dirs: &mut DirectionsRx,
        stop: &AtomicBool,
    ) -> Result<Vec<u8>, DriverError> {
        let bytes = req.encode_to_vec();
        let tries = self.cfg.retries + 1;
        for _ in 0..tries {
            self.socket
                .send(&bytes, 0)
                .map_err(|error| DriverError::Socket {
                    action: "sending to",
                    endpoint: self.endpoint.clone(),
                    error,
                })?;
            let deadline = Instant::now() + self.cfg.request_timeout;
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                if self.socket.poll(zmq::POLLIN, 50).unwrap_or(0) > 0 {
                    if let Ok(reply) = self.socket.recv_bytes(0) {
                        return Ok(reply);
                    }
                }
            }
            // A REQ socket that lost its reply cannot send again: open a new
            // one, to whichever replica is the primary now.
            let endpoint = if self.cfg.zk {
                primary(self.cfg, dirs, stop)?
            } else {
                self.endpoint.clone()
            };
            self.socket = open(self.cfg, &endpoint)?;
            self.endpoint = endpoint;
        }
        Err(DriverError::DiscoveryTimeout {
            endpoint: self.endpoint.clone(),
            timeout: self.cfg.request_timeout,
            tries,
        })
    }
}

fn open(cfg: &Config, endpoint: &str) -> Result<zmq::Socket, DriverError> {
    let s = socket(cfg, zmq::REQ)?;
    let _ = s.set_linger(0);
    connect(&s, endpoint)?;
    Ok(s)
}

/// The discovery endpoint: `cfg.discovery`, or with the ZooKeeper strategy
/// the primary's (waiting up to [`NO_PRIMARY_WAIT`] for one to be elected).
fn primary(
    cfg: &Config,
    dirs: &mut DirectionsRx,
    stop: &AtomicBool,
) -> Result<String, DriverError> {
    if !cfg.zk {
        return Ok(cfg.discovery.clone());
    }
    let until = Instant::now() + NO_PRIMARY_WAIT;
    loop {
        if let Some(ep) = dirs.borrow().discovery.clone() {
            return Ok(ep);
        }
        if Instant::now() >= until || stop.load(Ordering::Relaxed) {
            return Err(DriverError::NoPrimary(NO_PRIMARY_WAIT));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! A publisher's dissemination: `iters` iterations at `frequency`, one
//! stamped publication per topic each, after `settle`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;

use super::discovery::Discovery;
use super::{emit, Config, DirectionsRx, DriverError, Event, Events};
use crate::metrics::now_ns;
use crate::pubsub::history_io;
use crate::pubsub::publication::{Publication, Stamp};
use crate::pubsub::topics;

pub(super) fn publish(
    cfg: &Config,
    s: &zmq::Socket,
    discovery: &mut Discovery<'_>,
    dirs: &mut DirectionsRx,
    stop: &AtomicBool,
    events: &mut Events,
) -> Result<String, DriverError> {
    let mut history = history_io::Server::bind(cfg)?;
    if !history_io::sleep_serving(&mut history, cfg.settle, stop) {
        return Ok("stopped before publishing".into());
    }
    let mut rng = SmallRng::seed_from_u64(cfg.seed);
    let period = (cfg.frequency > 0.0).then(|| Duration::from_secs_f64(1.0 / cfg.frequency));
    let start = Instant::now();
    let mut sent = 0u64;
    for i in 0..cfg.iters {
        for topic in &cfg.topics {
            let p = Publication {
                topic: topic.clone(),
                value: topics::value(topic, &mut rng),
                stamp: Some(Stamp {
                    publisher: cfg.info.id.clone(),
                    seq: i,
                    sent_ns: now_ns(),
                }),
            };
            s.send_multipart(p.encode_frames(cfg.format), 0)
                .map_err(|error| DriverError::Socket {
                    action: "publishing on",
                    endpoint: cfg.bind.clone().unwrap_or_default(),
                    error,
                })?;
            sent += 1;
            history_io::record(&mut history, &p);
        }
        history_io::serve(&mut history);
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // A new primary discovery gets this publisher's registration again.
        discovery.follow(dirs, stop, events)?;
        if let Some(period) = period {
            // Paced from the start, so that the rate does not drift.
            let next = start + period.mul_f64((i + 1) as f64);
            let now = Instant::now();
            if next > now && !history_io::sleep_serving(&mut history, next - now, stop) {
                break;
            }
        }
    }
    emit(events, Event::Sent(sent));
    Ok(format!("published {sent} publications"))
}

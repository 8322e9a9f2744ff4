//! [`Reporter`] (`metrics.reporter`): takes [`Point`]s on `in`, batches them
//! and writes them to InfluxDB 1.x, InfluxDB 2 or a local results file.
//!
//! The handler of `in` only encodes the point and buffers it: it never waits,
//! so senders are never held up by the server. Writes run on the reporter's
//! own I/O thread (`metrics/writer.rs`), one batch at a time, so writing a
//! batch overlaps encoding the next; failed writes are retried with backoff
//! while the server is down. Points beyond `capacity` are dropped and counted
//! exactly; the counters go out on `stats` every `stats_interval_ms` and when
//! the reporter stops, and every new drop is logged. When the reporter stops
//! (end of input, node shutdown) it first flushes what it holds, for at most
//! `shutdown_timeout_ms` (on a node shutdown the runtime's stop grace, 2 s,
//! bounds it too); the final counters then show what was left unwritten. A
//! supervised restart starts with an empty buffer.
//!
//! A server output must answer when the reporter starts: it asks `GET /ping`
//! (any HTTP answer counts) and, while nothing answers, tries again for
//! `wait_for_server_ms` (default 5 s, one WARN at the first failure), holding
//! the points it takes meanwhile. If no server answered by then, the node
//! fails with one line naming the URL, where it came from and how to set it:
//! a run whose measurements cannot be stored is better stopped at once than
//! found empty at the end. Once the server has answered, an outage later in
//! the run does not end the node: writes are retried with backoff, points
//! wait in the bounded buffer, and what does not fit is dropped and counted.
//! `wait_for_server_ms = 0` skips the check (start with the server down).
//!
//! With `print_report = true` and/or `plots_dir`, the run ends with the report:
//! once stopped, the reporter prints the percentile table and writes the
//! histogram, CDF and throughput plots (PNG and SVG) of what it reported, from
//! the results file read back or, for server outputs, from the points it kept
//! (at most `report_max_points`); see `metrics/end_report.rs` and docs/metrics.md.

use std::time::{Duration, Instant};

use actix::prelude::*;
use futures::FutureExt;
use rolecall_runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall_runtime::wire::Output;
use rolecall_runtime::NodeHandle;

use super::batcher::{self, Batcher, Poll, Stats};
use super::end_report::{EndReport, Origin};
use super::file::Format;
use super::point::Point;
use super::sink::{Sink, WriteError};
use super::writer::{Staged, Writer};

use super::reporter_params::Server;
pub use super::reporter_params::{OutputKind, Params, ParamsError, INFLUXDB_V1_ENV, INFLUX_V2_ENV};

/// The start-up check of a server output (see the module doc).
#[derive(Debug)]
struct Check {
    server: Server,
    started: Instant,
    wait: Duration,
    delay: Duration,
    warned: bool,
}

impl Check {
    const FIRST_DELAY: Duration = Duration::from_millis(100);
    const MAX_DELAY: Duration = Duration::from_secs(1);

    /// The line the node fails with when no server answered.
    fn unreachable(&self, reporter: &str, node: &str, reason: &str) -> String {
        let Server { name, env, url } = &self.server;
        let (url, origin) = url
            .as_ref()
            .map_or(("?", "nowhere"), |(u, o)| (u.as_str(), *o));
        format!(
            "metrics.reporter `{reporter}`: cannot reach {name} at {url} (from {origin}), \
             tried for {:.1}s: {reason}; start it, or set the reporter's `url` parameter \
             (--set {node}.{reporter}.url=http://HOST:PORT) or {env}",
            self.started.elapsed().as_secs_f64()
        )
    }
}

/// Asks for the counters now.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Stats")]
pub struct GetStats;

/// Writes everything held now (without waiting for full batches) and
/// answers with the counters once nothing is buffered or in flight.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Stats")]
pub struct Flush;

/// The reporter actor (see the module doc).
pub struct Reporter {
    name: String,
    node: NodeHandle,
    sink: Box<dyn Sink>,
    /// The start-up check of the server, while it runs: no writes until
    /// the server has answered.
    check: Option<Check>,
    /// Runs the sink's writes.
    writer: Writer,
    batcher: Batcher,
    stats_out: Output<Stats>,
    stats_interval: Duration,
    shutdown_timeout: Duration,
    timer: Option<(Instant, SpawnHandle)>,
    flush_waiters: Vec<tokio::sync::oneshot::Sender<Stats>>,
    stopping_since: Option<Instant>,
    /// `shutdown_timeout` passed with points still held: stop anyway.
    gave_up: bool,
    logged_dropped: u64,
    report: Option<EndReport>,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("name", &self.name)
            .field("sink", &self.sink)
            .field("stats", &self.batcher.stats())
            .finish()
    }
}

impl Reporter {
    /// Encodes one point straight into the batch in the making; never waits.
    /// A point that finds the buffer full is dropped before it is encoded.
    fn take(&mut self, point: &Point, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let sink = &self.sink;
        match self.batcher.push_with(now, |body| sink.encode(point, body)) {
            Ok(true) => {
                if let Some(report) = &mut self.report {
                    report.keep(point);
                }
            }
            Ok(false) => {
                let dropped = self.batcher.stats().dropped;
                if dropped == 1 || dropped.is_power_of_two() {
                    tracing::warn!(reporter = %self.name, dropped, "metrics buffer full: dropping points");
                }
            }
            Err(e) => {
                self.batcher.invalid();
                let invalid = self.batcher.stats().invalid;
                if invalid == 1 || invalid.is_power_of_two() {
                    tracing::warn!(reporter = %self.name, invalid, "point not written: {e}");
                }
            }
        }
        self.pump_at(now, ctx);
    }

    /// Starts the next write or arms the timer for the next due batch.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        self.pump_at(Instant::now(), ctx);
    }

    fn pump_at(&mut self, now: Instant, ctx: &mut Context<Self>) {
        if self.check.is_some() {
            return;
        }
        let (id, answer) = match self.batcher.poll(now) {
            Poll::Write(batch) => {
                let write = self.writer.submit(self.sink.write(batch.body));
                (batch.id, write.map(Staged::Ran).boxed())
            }
            Poll::Stage(batch) => {
                let write = self.sink.write(batch.body);
                (batch.id, self.writer.submit_after(write))
            }
            Poll::WaitUntil(at) => return self.wake_at(at, now, ctx),
            Poll::InFlight => return,
            Poll::Idle => return self.settled(ctx),
        };
        ctx.spawn(
            answer
                .into_actor(self)
                .map(move |staged, act, ctx| match staged {
                    Staged::Ran(result) => act.outcome(id, result, ctx),
                    Staged::NotStarted => {
                        if act.batcher.not_started(id) {
                            act.pump(ctx);
                        }
                    }
                }),
        );
    }

    /// Arms the timer for `at`, unless it is armed for then or sooner.
    fn wake_at(&mut self, at: Instant, now: Instant, ctx: &mut Context<Self>) {
        if self.timer.is_some_and(|(t, _)| t <= at) {
            return;
        }
        if let Some((_, handle)) = self.timer.take() {
            ctx.cancel_future(handle);
        }
        let delay = at.saturating_duration_since(now);
        let handle = ctx.run_later(delay, |act, ctx| {
            act.timer = None;
            act.pump(ctx);
        });
        self.timer = Some((at, handle));
    }

    fn outcome(
        &mut self,
        id: batcher::BatchId,
        result: Result<(), WriteError>,
        ctx: &mut Context<Self>,
    ) {
        match result {
            Ok(()) => self.batcher.written(id),
            Err(e) => {
                let failure = e.failure();
                match self.batcher.failed(id, failure, Instant::now()) {
                    Some(delay) => tracing::warn!(
                        reporter = %self.name,
                        retry_in_ms = delay.as_millis() as u64,
                        "metrics write failed: {e}"
                    ),
                    None => tracing::error!(
                        reporter = %self.name,
                        "metrics batch refused (points dropped, counted as rejected): {e}"
                    ),
                }
            }
        }
        self.pump(ctx);
    }

    /// Nothing held: answer flushes, finish stopping.
    fn settled(&mut self, ctx: &mut Context<Self>) {
        if !self.batcher.is_empty() {
            return;
        }
        let stats = self.batcher.stats();
        for waiter in self.flush_waiters.drain(..) {
            let _ = waiter.send(stats);
        }
        if self.stopping_since.is_some() {
            ctx.stop();
        }
    }

    /// Asks the server once; on no answer, again after a delay while the
    /// check's time lasts, then fails the node.
    fn probe(&mut self, ctx: &mut Context<Self>) {
        let Some(probe) = self.sink.probe() else {
            self.check = None;
            return;
        };
        let answer = self.writer.submit(probe);
        ctx.spawn(answer.into_actor(self).map(|result, act, ctx| {
            let Some(check) = &mut act.check else {
                return;
            };
            let reason = match result {
                // Any HTTP status: a server is there.
                Ok(()) | Err(WriteError::Status { .. }) => {
                    if check.warned {
                        tracing::info!(reporter = %act.name, target = %act.sink.target(), "metrics server answers");
                    }
                    act.check = None;
                    act.pump(ctx);
                    return;
                }
                Err(WriteError::Transport { message, .. }) => message,
                Err(e) => e.to_string(),
            };
            let elapsed = check.started.elapsed();
            if elapsed >= check.wait {
                let line = check.unreachable(&act.name, act.node.name(), &reason);
                // Nothing to flush at stop: nothing can be written.
                act.gave_up = true;
                act.node.fail(line);
                if act.stopping_since.is_some() {
                    ctx.stop();
                }
                return;
            }
            if !check.warned {
                check.warned = true;
                tracing::warn!(
                    reporter = %act.name,
                    "cannot reach {}: {reason}; trying again for up to {:?}",
                    act.sink.target(),
                    check.wait
                );
            }
            // The last attempt is made when the wait ends.
            let delay = check.delay.min(check.wait - elapsed);
            check.delay = (check.delay * 2).min(Check::MAX_DELAY);
            ctx.run_later(delay, |act, ctx| act.probe(ctx));
        }));
    }

    fn send_stats(&mut self, ctx: &mut Context<Self>) {
        let stats = self.batcher.stats();
        if stats.dropped > self.logged_dropped {
            tracing::warn!(
                reporter = %self.name,
                dropped = stats.dropped,
                new = stats.dropped - self.logged_dropped,
                "metrics points dropped (buffer full)"
            );
            self.logged_dropped = stats.dropped;
        }
        if self.stats_out.is_connected() {
            self.stats_out.send(stats, ctx);
        }
    }

    fn begin_stop(&mut self, ctx: &mut Context<Self>) {
        if self.stopping_since.is_none() {
            self.stopping_since = Some(Instant::now());
            self.batcher.flush();
            let timeout = self.shutdown_timeout;
            ctx.run_later(timeout, |act, ctx| {
                let s = act.batcher.stats();
                tracing::error!(
                    reporter = %act.name,
                    lost = s.buffered + s.in_flight,
                    "metrics not flushed within shutdown_timeout: points lost"
                );
                act.gave_up = true;
                ctx.stop();
            });
        }
        self.pump(ctx);
    }
}

impl Actor for Reporter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.check.is_some() {
            self.probe(ctx);
        }
        if !self.stats_interval.is_zero() {
            ctx.run_interval(self.stats_interval, |act, ctx| act.send_stats(ctx));
        }
    }

    fn stopping(&mut self, ctx: &mut Context<Self>) -> Running {
        if self.batcher.is_empty() || self.gave_up {
            return Running::Stop;
        }
        self.begin_stop(ctx);
        Running::Continue
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        let stats = self.batcher.stats();
        tracing::info!(
            reporter = %self.name,
            target = %self.sink.target(),
            written = stats.written,
            dropped = stats.dropped,
            rejected = stats.rejected,
            invalid = stats.invalid,
            retries = stats.retries,
            "metrics reporter stopped"
        );
        if self.stats_out.is_connected() {
            let _ = self.stats_out.try_send(stats);
        }
        let _ = ctx;
        // Drawing blocks this thread for a moment; the reporter has stopped,
        // so no sender waits on it.
        if let Some(report) = &self.report {
            match report.run() {
                Ok(text) => self.node.console().for_actor(&self.name).line(text),
                Err(e) => tracing::error!(reporter = %self.name, "end-of-run report: {e}"),
            }
        }
    }
}

impl Handler<Point> for Reporter {
    type Result = ();

    fn handle(&mut self, point: Point, ctx: &mut Context<Self>) {
        self.take(&point, ctx);
    }
}

impl Handler<GetStats> for Reporter {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.batcher.stats())
    }
}

impl Handler<Flush> for Reporter {
    type Result = ResponseFuture<Stats>;

    fn handle(&mut self, _: Flush, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.flush_waiters.push(tx);
        self.batcher.flush();
        self.pump(ctx);
        let fallback = self.batcher.stats();
        Box::pin(async move { rx.await.unwrap_or(fallback) })
    }
}

impl Role for Reporter {
    type Params = Params;
    const ABOUT: &'static str =
        "batches Points into InfluxDB 1.x/2 or a results file; bounded buffer, retries, exact drop counts on `stats`";

    fn ports(ports: &mut Ports<Self>) {
        ports.input::<Point>("in").output::<Stats>("stats");
    }

    fn check(params: &Params, check: &mut ParamCheck) {
        use batcher::ConfigError;
        if let Err(e) = params.config().validate() {
            let key = match e {
                ConfigError::ZeroBatch => "batch_size",
                ConfigError::CapacityBelowBatch { .. } => "capacity",
                ConfigError::Retry => "retry_initial_ms",
            };
            check.error(key, e.to_string());
        }
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        let config = params.config();
        config.validate().map_err(ParamsError::from)?;
        let sink = params.sink()?;
        let writer = Writer::start(io.actor_name(), sink.target())
            .map_err(|e| CreateError::from(format!("metrics I/O thread: {e}")))?;
        let report = (params.print_report || params.plots_dir.is_some()).then(|| EndReport {
            table: params.print_report,
            plots: params.plots_dir.clone(),
            filter: params.report_series.clone(),
            origin: match params.output {
                OutputKind::File => Origin::File {
                    path: params.path.clone(),
                    format: params
                        .format
                        .unwrap_or_else(|| Format::of_path(&params.path)),
                },
                OutputKind::InfluxV1 | OutputKind::InfluxV2 => Origin::Kept {
                    points: Vec::new(),
                    max: params.report_max_points,
                    left_out: 0,
                },
            },
        });
        let check = params
            .server()
            .filter(|_| params.wait_for_server_ms > 0)
            .map(|server| Check {
                server,
                started: Instant::now(),
                wait: Duration::from_millis(params.wait_for_server_ms),
                delay: Check::FIRST_DELAY,
                warned: false,
            });
        Ok(Reporter {
            name: io.actor_name().to_owned(),
            node: io.node().clone(),
            sink,
            check,
            writer,
            batcher: Batcher::new(config),
            stats_out: io.output("stats")?,
            stats_interval: Duration::from_millis(params.stats_interval_ms),
            shutdown_timeout: Duration::from_millis(params.shutdown_timeout_ms),
            timer: None,
            flush_waiters: Vec::new(),
            stopping_since: None,
            gave_up: false,
            logged_dropped: 0,
            report,
        })
    }

    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        self.begin_stop(ctx);
    }
}

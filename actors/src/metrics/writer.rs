//! [`Writer`]: the reporter's I/O thread, where its batches are written.
//!
//! The reporter encodes points on its own thread; if the HTTP requests ran
//! there too, a request would only make progress between the reporter's
//! inlet batches, so encoding and writing would take turns instead of
//! overlapping (measured: the first write of a burst waited for the whole
//! burst to be encoded). The writer is one thread per reporter with its own
//! single-threaded tokio runtime; it takes write futures over a bounded
//! channel and answers each on a oneshot.
//!
//! The reporter keeps at most one batch in flight ([`Batcher`](super::Batcher)),
//! so the channel holds one job. A write that panics answers with a
//! [`WriteError::Transport`] (retried like any other failure) and the thread
//! goes on. Dropping the [`Writer`] closes the channel; the thread finishes
//! the job it has and ends.

use std::panic::AssertUnwindSafe;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::sink::WriteError;

/// One write and where its result goes.
struct Job {
    write: BoxFuture<'static, Result<(), WriteError>>,
    done: oneshot::Sender<Result<(), WriteError>>,
}

/// Jobs waiting for the thread, besides the one it is writing.
const QUEUE: usize = 2;

/// Handle to a reporter's I/O thread (see the module doc).
#[derive(Debug)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
    target: String,
    /// Not joined on drop (the thread may be finishing a write); tests join it.
    #[cfg_attr(not(test), allow(dead_code))]
    thread: std::thread::JoinHandle<()>,
}

impl Writer {
    /// Starts the thread (named after the reporter) for a sink writing to `target`.
    pub(crate) fn start(reporter: &str, target: String) -> std::io::Result<Writer> {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name(format!("metrics-io {reporter}"))
            .spawn({
                let target = target.clone();
                move || runtime.block_on(serve(rx, target))
            })?;
        Ok(Writer {
            jobs,
            target,
            thread,
        })
    }

    /// Hands `write` to the thread; the returned future answers with its
    /// result. Fails at once (as a retryable transport error) if the thread
    /// is gone or already holds [`QUEUE`] jobs.
    pub(crate) fn submit(
        &self,
        write: BoxFuture<'static, Result<(), WriteError>>,
    ) -> BoxFuture<'static, Result<(), WriteError>> {
        let (done, answer) = oneshot::channel();
        let refused = |why: &str| WriteError::Transport {
            target: self.target.clone(),
            message: format!("metrics I/O thread {why}"),
        };
        if let Err(e) = self.jobs.try_send(Job { write, done }) {
            let error = match e {
                mpsc::error::TrySendError::Full(_) => refused("busy"),
                mpsc::error::TrySendError::Closed(_) => refused("stopped"),
            };
            return futures::future::ready(Err(error)).boxed();
        }
        let lost = refused("dropped the write");
        async move { answer.await.unwrap_or(Err(lost)) }.boxed()
    }
}

/// The thread's loop: one job at a time, in order, until the channel closes.
async fn serve(mut jobs: mpsc::Receiver<Job>, target: String) {
    while let Some(Job { write, done }) = jobs.recv().await {
        let result = match AssertUnwindSafe(write).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => Err(WriteError::Transport {
                target: target.clone(),
                message: format!("write panicked: {}", panic_text(&panic)),
            }),
        };
        let _ = done.send(result);
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Writer {
        /// Closes the channel and waits for the thread to end.
        fn close_and_join(self) -> std::thread::Result<()> {
            drop(self.jobs);
            self.thread.join()
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn runs_writes_on_its_own_thread_in_order() {
        let writer = Writer::start("test", "nowhere".into()).expect("thread");
        let here = std::thread::current().id();
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let results = block_on(async {
            let mut answers = Vec::new();
            for i in 0..2 {
                let tx = tx.clone();
                answers.push(
                    writer.submit(
                        async move {
                            tx.send((i, std::thread::current().id())).expect("send");
                            Ok(())
                        }
                        .boxed(),
                    ),
                );
            }
            futures::future::join_all(answers).await
        });
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let seen: Vec<_> = rx.try_iter().collect();
        assert_eq!(seen.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1]);
        assert!(seen.iter().all(|(_, thread)| *thread != here));
    }

    #[test]
    fn a_job_beyond_the_queue_is_refused_not_queued() {
        let writer = Writer::start("test", "nowhere".into()).expect("thread");
        let (release, gate) = tokio::sync::oneshot::channel::<()>();
        let (running, started) = tokio::sync::oneshot::channel::<()>();
        let first = writer.submit(
            async move {
                let _ = running.send(());
                let _ = gate.await;
                Ok(())
            }
            .boxed(),
        );
        // Once the thread runs the first job, the queue takes QUEUE more and
        // refuses the next (waiting here keeps the test from depending on
        // when the thread takes the first job off the queue).
        block_on(started).expect("the thread runs the first write");
        let queued: Vec<_> = (0..QUEUE)
            .map(|_| writer.submit(async { Ok(()) }.boxed()))
            .collect();
        let refused = block_on(writer.submit(async { Ok(()) }.boxed()));
        let busy = |r: &Result<(), WriteError>| matches!(r, Err(WriteError::Transport { message, .. }) if message.contains("busy"));
        assert!(busy(&refused), "{refused:?}");
        let _ = release.send(());
        assert!(block_on(first).is_ok());
        for q in queued {
            let r = block_on(q);
            assert!(r.is_ok(), "{r:?}");
        }
    }

    #[test]
    fn a_panicking_write_is_a_transport_error_and_the_thread_goes_on() {
        let writer = Writer::start("test", "nowhere".into()).expect("thread");
        let panicked = block_on(writer.submit(async { panic!("boom") }.boxed()));
        match panicked {
            Err(WriteError::Transport { message, .. }) => {
                assert!(message.contains("boom"), "{message}")
            }
            other => panic!("expected a transport error, got {other:?}"),
        }
        assert!(block_on(writer.submit(async { Ok(()) }.boxed())).is_ok());
    }

    #[test]
    fn dropping_the_handle_ends_the_thread() {
        let writer = Writer::start("test", "nowhere".into()).expect("thread");
        assert!(block_on(writer.submit(async { Ok(()) }.boxed())).is_ok());
        writer
            .close_and_join()
            .expect("the thread ends without panicking");
    }
}

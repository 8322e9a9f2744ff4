//! The socket thread's loop against real sockets: bad-frame logs are rate-limited.
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::*;
use crate::remote::socket::Builder;

/// Every received message is garbage.
struct Garbage;

impl Framing<String> for Garbage {
    fn encode(
        &self,
        msg: String,
        frames: &mut Vec<bytes::Bytes>,
    ) -> Result<(), rolecall_codecs::EncodeError> {
        *frames = vec![msg.into_bytes().into()];
        Ok(())
    }
    fn decode(&self, _parts: &mut [zmq::Message]) -> Decoded<String> {
        Decoded::Bad("garbage".into())
    }
}

/// Counts the WARN events of the socket labelled `label`: one by one,
/// and the summaries with the `more` they report.
#[derive(Default)]
struct Counter {
    label: &'static str,
    single: AtomicU64,
    summaries: AtomicU64,
    more: AtomicU64,
}

#[derive(Default)]
struct Fields {
    message: String,
    socket: String,
    more: u64,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "socket" => self.socket = format!("{value:?}"),
            _ => {}
        }
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if field.name() == "more" {
            self.more = value;
        }
    }
}

impl tracing::Subscriber for Counter {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut f = Fields::default();
        event.record(&mut f);
        if f.socket != self.label {
            return;
        }
        if f.message.starts_with("undecodable message skipped") {
            self.single.fetch_add(1, Ordering::SeqCst);
        } else if f.message.starts_with("undecodable messages skipped") {
            self.summaries.fetch_add(1, Ordering::SeqCst);
            self.more.fetch_add(f.more, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn a_socket_thread_closes_its_socket_when_the_context_is_terminated() {
    let context = zmq::Context::new();
    let pull = context.socket(zmq::PULL).expect("socket");
    pull.bind("tcp://127.0.0.1:16062").expect("bind");
    let queue = Queue::<String>::new(64, Policy::Block);
    let thread = Builder::new(
        "term test socket",
        &context,
        pull,
        zmq::PULL,
        Arc::new(Garbage),
    )
    .output(Output::new("out", vec![queue]))
    .start()
    .expect("thread");
    // zmq_ctx_term frees the context: keep one handle that never drops it again.
    std::mem::forget(context.clone());
    let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
    std::thread::spawn(move || {
        let mut context = context;
        let _ = done_tx.send(context.destroy());
    });
    // The thread sees ETERM and closes its socket by itself.
    let deadline = Instant::now() + Duration::from_secs(3);
    while !thread.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(thread.is_finished(), "the thread ended on ETERM");
    // Its wake socket closed with it, though its handle is still here.
    // Generous: the machine may be loaded; a stuck thread never answers.
    let done = done_rx.recv_timeout(Duration::from_secs(10));
    assert!(
        matches!(done, Ok(Ok(()))),
        "the context terminated: {done:?}"
    );
    drop(thread);
}

#[test]
fn an_idle_sending_thread_closes_its_socket_when_the_context_is_terminated() {
    let context = zmq::Context::new();
    let push = context.socket(zmq::PUSH).expect("socket");
    push.connect("tcp://127.0.0.1:16063").expect("connect");
    let input = Queue::<String>::new(64, Policy::Block);
    input.add_sender();
    // Nothing to send and nothing to read: the thread parks.
    let thread = Builder::new(
        "idle term test socket",
        &context,
        push,
        zmq::PUSH,
        Arc::new(Garbage),
    )
    .inputs(vec![input.clone()])
    .start()
    .expect("thread");
    std::thread::sleep(Duration::from_millis(50));
    std::mem::forget(context.clone());
    let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
    std::thread::spawn(move || {
        let mut context = context;
        let _ = done_tx.send(context.destroy());
    });
    // Generous: the machine may be loaded; a stuck thread never answers.
    let done = done_rx.recv_timeout(Duration::from_secs(10));
    assert!(
        matches!(done, Ok(Ok(()))),
        "the context terminated: {done:?}"
    );
    // The context ends once the thread closed its socket; the thread itself
    // returns a moment later (it failed once, checked at once under load).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !thread.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(thread.is_finished(), "the thread still runs 5 s later");
    drop(thread);
    input.remove_sender();
}

#[test]
fn bad_frame_warnings_are_rate_limited_and_the_rest_is_counted_at_close() {
    let counter = Arc::new(Counter {
        label: "rate-limited test socket",
        ..Counter::default()
    });
    // The socket thread logs from its own thread: a global subscriber
    // (no other test in this binary sets one; it filters by label).
    let _ = tracing::dispatcher::set_global_default(tracing::Dispatch::from(
        Arc::clone(&counter) as Arc<dyn tracing::Subscriber + Send + Sync>
    ));
    let context = zmq::Context::new();
    let address = "tcp://127.0.0.1:16061";
    let pull = context.socket(zmq::PULL).expect("socket");
    pull.bind(address).expect("bind");
    let queue = Queue::<String>::new(64, Policy::Block);
    let thread = Builder::new(counter.label, &context, pull, zmq::PULL, Arc::new(Garbage))
        .output(Output::new("out", vec![queue.clone()]))
        .start()
        .expect("thread");
    let peer = context.socket(zmq::PUSH).expect("socket");
    peer.connect(address).expect("connect");
    for i in 0..20 {
        peer.send(format!("junk {i}").as_bytes(), 0).expect("send");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while thread.stats().bad_frames.load(Ordering::SeqCst) < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(thread.stats().bad_frames.load(Ordering::SeqCst), 20);
    assert_eq!(
        counter.single.load(Ordering::SeqCst),
        5,
        "the first five in full"
    );
    assert_eq!(
        counter.summaries.load(Ordering::SeqCst),
        0,
        "no summary before 10 s"
    );
    thread.stop();
    assert_eq!(
        (
            counter.summaries.load(Ordering::SeqCst),
            counter.more.load(Ordering::SeqCst)
        ),
        (1, 15),
        "one summary at close with the other fifteen"
    );
    assert!(queue.is_empty(), "nothing undecodable was delivered");
}

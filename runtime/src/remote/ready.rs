//! [`ReadySocket`]: a ZeroMQ socket whose `ZMQ_FD` is registered with the
//! current thread's tokio reactor, so that the thread that owns the socket
//! (an actor's, on its node) can sleep until the socket may have work,
//! without a thread of its own.
//!
//! `ZMQ_FD` is edge-triggered and only says that `ZMQ_EVENTS` may have
//! changed: callers try their send or receive first, check
//! [`ReadySocket::events`], and wait with [`ReadySocket::poll_changed`]
//! only when the events say the socket cannot do what they want.

use std::os::fd::RawFd;
use std::task::{Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// A socket and its descriptor's registration with the reactor.
pub struct ReadySocket {
    /// Declared first: deregistered before the socket (and with it the
    /// descriptor) closes.
    ready: AsyncFd<RawFd>,
    socket: zmq::Socket,
}

impl std::fmt::Debug for ReadySocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadySocket")
            .field("fd", self.ready.get_ref())
            .finish()
    }
}

/// Registering a socket's descriptor failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadyError {
    /// libzmq would not give the descriptor.
    #[error("reading the socket's descriptor: {0}")]
    Descriptor(#[source] zmq::Error),
    /// The reactor refused it (or the thread has no tokio runtime).
    #[error("registering the socket with the reactor: {0}")]
    Register(#[source] std::io::Error),
}

impl ReadySocket {
    /// Takes `socket` and registers its descriptor with the calling thread's
    /// tokio reactor.
    pub fn register(socket: zmq::Socket) -> Result<Self, ReadyError> {
        let fd = socket.get_fd().map_err(ReadyError::Descriptor)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ReadyError::Register(std::io::Error::other(
                "the calling thread runs no tokio runtime",
            )));
        }
        // SAFETY: `fd` is libzmq's descriptor of `socket`, open from the
        // socket's creation to its close. `socket` is owned by the returned
        // value and only lent out by reference (a `zmq::Socket` closes only
        // when dropped), and the registration is dropped before it (field
        // order), so the descriptor stays open and the same for the whole
        // life of the `AsyncFd`, and `RawFd::as_raw_fd` always returns it.
        #[allow(unsafe_code)]
        let ready = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(|e| ReadyError::Register(e.into_parts().1))?;
        Ok(ReadySocket { ready, socket })
    }

    /// The socket.
    pub fn socket(&self) -> &zmq::Socket {
        &self.socket
    }

    /// `ZMQ_EVENTS`: whether a message can be received or sent now.
    pub fn events(&self) -> Result<zmq::PollEvents, zmq::Error> {
        self.socket.get_events()
    }

    /// Ready when the descriptor has fired since the last call returned
    /// ready (and clears that), so that `ZMQ_EVENTS` may have changed;
    /// otherwise registers the task to be woken when it fires.
    pub fn poll_changed(&self, task: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.ready.poll_read_ready(task) {
            Poll::Ready(Ok(mut guard)) => {
                guard.clear_ready();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

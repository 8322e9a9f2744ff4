//! [`Role`]: what an actor kind implements so the runtime can build it from a topology.

use serde::de::DeserializeOwned;

use super::check::ParamCheck;
use super::io::Io;
use super::ports::Ports;

/// The error type a role's `build` may return.
pub type CreateError = Box<dyn std::error::Error + Send + Sync>;

/// An actix actor that a topology file can name, configure and wire.
///
/// A role is an ordinary actix actor with `Handler` impls for the messages of
/// its input ports. The runtime builds a fresh value with [`Role::build`] at
/// start and at every supervised restart; output ports are fetched from the
/// [`Io`] and stay the same across restarts.
///
/// ```
/// use actix::prelude::*;
/// use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
/// use rolecall_runtime::wire::Output;
///
/// #[derive(Message, Clone, serde::Serialize, serde::Deserialize)]
/// #[rtype(result = "()")]
/// struct Reading(f64);
///
/// #[derive(serde::Deserialize)]
/// struct Params { factor: f64 }
///
/// struct Scale { factor: f64, out: Output<Reading> }
///
/// impl Actor for Scale { type Context = Context<Self>; }
///
/// impl Handler<Reading> for Scale {
///     type Result = ();
///     fn handle(&mut self, r: Reading, ctx: &mut Context<Self>) {
///         self.out.send(Reading(r.0 * self.factor), ctx);
///     }
/// }
///
/// impl Role for Scale {
///     type Params = Params;
///     fn ports(ports: &mut Ports<Self>) {
///         ports.input::<Reading>("in").output::<Reading>("out");
///     }
///     fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
///         Ok(Scale { factor: params.factor, out: io.output("out")? })
///     }
/// }
/// ```
pub trait Role: actix::Actor<Context = actix::Context<Self>> + Sized {
    /// The parameters read from the actor's `params` table in the topology.
    type Params: DeserializeOwned + Send + Sync + 'static;

    /// One line saying what this kind does, shown by `rolecall kinds`.
    const ABOUT: &'static str = "";

    /// Whether this kind sends only in answer to what it receives: no timer,
    /// socket, start-up message or other source of its own. A wire cycle of
    /// reactive actors that nothing else feeds can never do anything;
    /// `rolecall check` warns about one. `false` (the safe default) for a
    /// kind that may send on its own.
    const REACTIVE: bool = false;

    /// Declares the input and output ports.
    fn ports(ports: &mut Ports<Self>);

    /// Builds a fresh incarnation (at start, and again at every restart).
    fn build(params: &Self::Params, io: &mut Io) -> Result<Self, CreateError>;

    /// Checks the parameter values beyond their types, before anything
    /// starts: a count of zero, a key file that is not there. `rolecall check`
    /// and every start report each problem at the parameter, with file:line.
    /// Also declares the addresses the actor binds
    /// ([`ParamCheck::binds`]), so that two actors or hops of one node cannot
    /// take the same one. Nothing by default.
    fn check(params: &Self::Params, check: &mut ParamCheck) {
        let _ = (params, check);
    }

    /// Called once every incoming wire has ended (all their producers stopped
    /// for good and the wires are drained). Stops the actor by default, so the
    /// end of a stream travels down a pipeline.
    fn end_of_input(&mut self, ctx: &mut Self::Context) {
        use actix::ActorContext;
        ctx.stop();
    }
}

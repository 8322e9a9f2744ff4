//! [`Ports`]: how a role declares its typed input and output ports.

use std::any::Any;
use std::rc::Rc;
use std::sync::Arc;

use actix::{AsyncContext, Handler};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::message_type::{local_ops, serde_ops, MessageOps, Payload};
use super::role::Role;
use crate::wire::erased::AnyWire;
use crate::wire::inlet::{Inlet, InletGroup};
use crate::wire::{Outcome, Output, Queue};

/// Whether a port receives or sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Messages arrive here and are handled by the actor's `Handler`.
    Input,
    /// The actor sends here through an [`Output`].
    Output,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Input => "input",
            Direction::Output => "output",
        })
    }
}

/// Attaches one wire to a fresh incarnation's context.
pub(crate) type Attach<A> = fn(&mut actix::Context<A>, &Arc<dyn AnyWire>, &Rc<InletGroup>);
/// Builds the `Output<T>` of a port from its wires.
pub(crate) type MakeOutput = fn(&'static str, &[Arc<dyn AnyWire>]) -> Arc<dyn Any + Send + Sync>;

/// One declared port.
pub(crate) struct PortDecl<A: Role> {
    pub(crate) name: &'static str,
    pub(crate) direction: Direction,
    pub(crate) message: Arc<dyn MessageOps>,
    pub(crate) attach: Option<Attach<A>>,
    pub(crate) make_output: Option<MakeOutput>,
}

/// The port declarations of one role, filled in by [`Role::ports`].
pub struct Ports<A: Role> {
    pub(crate) decls: Vec<PortDecl<A>>,
}

impl<A: Role> std::fmt::Debug for Ports<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.decls
                    .iter()
                    .map(|d| (d.name, d.direction, d.message.type_name())),
            )
            .finish()
    }
}

fn attach<A, T>(ctx: &mut actix::Context<A>, wire: &Arc<dyn AnyWire>, group: &Rc<InletGroup>)
where
    A: Role + Handler<T>,
    T: Payload,
    <A as Handler<T>>::Result: Outcome,
{
    match wire.as_any().downcast_ref::<Queue<T>>() {
        Some(queue) => {
            ctx.spawn(Inlet::<A, T>::new(
                queue.clone(),
                Rc::clone(group),
                <A as Role>::end_of_input,
            ));
        }
        None => tracing::error!(
            message = std::any::type_name::<T>(),
            "wire type does not match its input port; the wire is not attached"
        ),
    }
}

fn make_output<T: Payload>(
    port: &'static str,
    wires: &[Arc<dyn AnyWire>],
) -> Arc<dyn Any + Send + Sync> {
    let queues = wires
        .iter()
        .filter_map(|w| w.as_any().downcast_ref::<Queue<T>>().cloned())
        .collect();
    Arc::new(Output::<T>::new(port, queues))
}

impl<A: Role> Ports<A> {
    pub(crate) fn new() -> Self {
        Ports { decls: Vec::new() }
    }

    fn push(&mut self, decl: PortDecl<A>) -> &mut Self {
        self.decls.push(decl);
        self
    }

    /// An input port of a serde message type: it can be wired from other nodes
    /// with the `json` and `binary` codecs (and any codec registered for `T`).
    pub fn input<T>(&mut self, name: &'static str) -> &mut Self
    where
        T: Payload + Serialize + DeserializeOwned,
        A: Handler<T>,
        <A as Handler<T>>::Result: Outcome,
    {
        self.input_with(name, serde_ops::<T>())
    }

    /// An input port of a type without serde: it crosses nodes only with a codec
    /// registered for `T` (for example FlatBuffers), otherwise it stays local.
    pub fn local_input<T>(&mut self, name: &'static str) -> &mut Self
    where
        T: Payload,
        A: Handler<T>,
        <A as Handler<T>>::Result: Outcome,
    {
        self.input_with(name, local_ops::<T>())
    }

    fn input_with<T>(&mut self, name: &'static str, message: Arc<dyn MessageOps>) -> &mut Self
    where
        T: Payload,
        A: Handler<T>,
        <A as Handler<T>>::Result: Outcome,
    {
        self.push(PortDecl {
            name,
            direction: Direction::Input,
            message,
            attach: Some(attach::<A, T>),
            make_output: None,
        })
    }

    /// An input port whose wires the role drains itself, from any thread, with
    /// [`Io::direct_input`](super::Io::direct_input) instead of through its
    /// `Handler` (for example a socket thread sending straight from the
    /// wires). The runtime still owns the wires: they survive restarts, and
    /// the role sees their end as [`Popped::Ended`](crate::wire::Popped).
    pub fn direct_input<T: Payload + Serialize + DeserializeOwned>(
        &mut self,
        name: &'static str,
    ) -> &mut Self {
        self.push(PortDecl {
            name,
            direction: Direction::Input,
            message: serde_ops::<T>(),
            attach: None,
            make_output: None,
        })
    }

    /// An output port of a serde message type.
    pub fn output<T: Payload + Serialize + DeserializeOwned>(
        &mut self,
        name: &'static str,
    ) -> &mut Self {
        self.push(PortDecl {
            name,
            direction: Direction::Output,
            message: serde_ops::<T>(),
            attach: None,
            make_output: Some(make_output::<T>),
        })
    }

    /// An output port of a type without serde (see [`Ports::local_input`]).
    pub fn local_output<T: Payload>(&mut self, name: &'static str) -> &mut Self {
        self.push(PortDecl {
            name,
            direction: Direction::Output,
            message: local_ops::<T>(),
            attach: None,
            make_output: Some(make_output::<T>),
        })
    }
}

//! Message passing vs remote procedure call on the Registry service: see
//! README.md in this folder.

use rolecall::actors::stage::registry::{Get, Proxy, Put};
use rolecall::runtime::topology::{load_file, Overrides};
use rolecall::runtime::{Node, NodeExit};

#[actix_rt::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = rolecall::default_registry();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/zmq_registry/topology.toml"
    );
    let topology = load_file(path.as_ref(), &registry, &Overrides::from_env()?)?;
    let running = Node::all(topology, registry).start().await?;

    // Remote procedure call: typed calls through the proxy actor.
    let rpc = running.actor::<Proxy>("rpc")?;
    rpc.send(Put("city".into(), "Nashville".into())).await??;
    println!("rpc: put(city, Nashville) -> ok");
    let city = rpc.send(Get("city".into())).await??;
    println!("rpc: get(city) -> {city:?}");
    let river = rpc.send(Get("river".into())).await??;
    println!("rpc: get(river) -> {river:?}");

    // Message passing runs by itself; give it a moment, then stop everything.
    actix_rt::time::sleep(std::time::Duration::from_millis(500)).await;
    running.shutdown();
    match running.wait().await {
        NodeExit::Completed => Ok(()),
        NodeExit::Failed(reason) => Err(reason.into()),
    }
}

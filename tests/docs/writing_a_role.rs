//! The snippets of `docs/writing-a-role.md`, as a program that compiles and
//! a test that runs it.

// The guide's messages are `pub`, as a student's library would have them.
#![allow(unreachable_pub)]

use actix::prelude::*;
use rolecall::runtime::kind::{CreateError, Io, ParamCheck, Ports, Role};
use rolecall::runtime::topology::{load_str, Overrides};
use rolecall::runtime::{Node, Output, WireConfig};

// 1. The messages

#[derive(Debug, Clone, actix::Message, serde::Serialize, serde::Deserialize)]
#[rtype(result = "()")]
pub struct Reading { pub sensor: String, pub value: f64 }

#[allow(dead_code)] // shown in the guide, not wired in this test
#[derive(Clone, actix::Message, serde::Serialize, serde::Deserialize)]
#[rtype(result = "Result<(), String>")]
pub struct Command(pub String);

/// What the threshold raises.
#[derive(Debug, Clone, PartialEq, actix::Message, serde::Serialize, serde::Deserialize)]
#[rtype(result = "()")]
pub struct Alarm(pub String);

// 2. The actor

struct Threshold { threshold: f64, alarms: Output<Alarm> }

impl Actor for Threshold { type Context = Context<Self>; }

impl Handler<Reading> for Threshold {
    type Result = ();
    fn handle(&mut self, r: Reading, ctx: &mut Context<Self>) {
        if r.value > self.threshold {
            self.alarms.send(Alarm(r.sensor), ctx);
        }
    }
}

// 3. The role

#[derive(serde::Deserialize)]
struct Params { threshold: f64 }

impl Role for Threshold {
    type Params = Params;
    const ABOUT: &'static str = "raises an alarm above `threshold`";
    fn ports(ports: &mut Ports<Self>) {
        ports.input::<Reading>("in").output::<Alarm>("alarms");
    }
    fn build(p: &Params, io: &mut Io) -> Result<Self, CreateError> {
        Ok(Threshold { threshold: p.threshold, alarms: io.output("alarms")? })
    }
}

/// The same role with the optional parameter check of section 3.
mod checked {
    use super::*;

    pub(super) struct CheckedThreshold(#[allow(dead_code)] Threshold);

    impl Actor for CheckedThreshold {
        type Context = Context<Self>;
    }

    impl Handler<Reading> for CheckedThreshold {
        type Result = ();
        fn handle(&mut self, _: Reading, _: &mut Context<Self>) {}
    }

    impl Role for CheckedThreshold {
        type Params = Params;
        fn ports(ports: &mut Ports<Self>) {
            ports.input::<Reading>("in").output::<Alarm>("alarms");
        }
        fn build(p: &Params, io: &mut Io) -> Result<Self, CreateError> {
            Threshold::build(p, io).map(CheckedThreshold)
        }
  fn check(p: &Params, check: &mut ParamCheck) {
      if p.threshold <= 0.0 {
          check.error("threshold", "must be positive");
      }
  }
    }
}

// 5. Replacing a built-in role

mod student {
use rand::rngs::SmallRng;
use rolecall::actors::paxos::{role::ProposerRole, Millis, Retry, Strategy};

/// Waits `step · attempt` ms.
#[derive(Debug)]
struct LinearBackoff { step: Millis }

impl Retry for LinearBackoff {
    fn backoff(&mut self, attempt: u32, _rng: &mut SmallRng) -> Millis {
        self.step * Millis::from(attempt)
    }
}

/// The `retry = { step_ms = ... }` table in the topology.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LinearParams { #[serde(default)] step_ms: Millis }

impl Strategy for LinearBackoff {
    type Params = LinearParams;
    fn from_params(p: &LinearParams) -> Self { LinearBackoff { step: p.step_ms.max(1) } }
}

    pub(super) fn register() -> Result<rolecall::runtime::Registry, Box<dyn std::error::Error>> {
let mut registry = rolecall::default_registry();
registry.register::<ProposerRole<LinearBackoff>>("student.proposer")?;
        Ok(registry)
    }
}

const TOPOLOGY: &str = r#"
[actors.alarm]
kind = "student.threshold"
params = { threshold = 700.0 }
"#;

fn registry() -> Result<rolecall::runtime::Registry, Box<dyn std::error::Error>> {
    // 4. Register and wire it
let mut registry = rolecall::default_registry();
registry.register::<Threshold>("student.threshold")?;
    Ok(registry)
}

// 6. Testing it
#[actix_rt::test]
async fn the_guide_s_threshold_raises_alarms() -> Result<(), Box<dyn std::error::Error>> {
    let registry = registry()?;
    let topology = load_str(TOPOLOGY, "guide.toml", &registry, &Overrides::new())?;
let mut node = Node::all(topology, registry);
let input = node.inject::<Reading>("alarm.in", WireConfig::default())?;
let mut alarms = node.tap::<Alarm>("alarm.alarms", WireConfig::default())?;
let running = node.start().await?;
input.output().send_async(Reading { sensor: "p1".into(), value: 900.0 }).await;
assert_eq!(alarms.recv().await, Some(Alarm("p1".into())));
    input.output().send_async(Reading { sensor: "p2".into(), value: 10.0 }).await;
    drop(input);
    assert_eq!(alarms.recv().await, None, "below the threshold: no alarm");
    running.wait().await;
    Ok(())
}

#[test]
fn the_guide_s_check_and_student_proposer_register() {
    let mut registry = student::register().expect("student.proposer registers");
    registry
        .register::<checked::CheckedThreshold>("student.checked")
        .expect("registers");
    let bad = "[actors.a]\nkind = \"student.checked\"\nparams = { threshold = -1.0 }\n";
    let e = load_str(bad, "t.toml", &registry, &Overrides::new()).expect_err("rejected");
    assert!(e.to_string().contains("parameter `threshold`: must be positive"), "{e}");
}

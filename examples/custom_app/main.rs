//! A program of its own kinds with rolecall's commands: `run`, `node`,
//! `check`, `kinds`, `image`, `docker`, `compose`, `k8s` — so a topology that
//! uses its kinds deploys like any other. See README.md in this folder.

use actix::prelude::*;
use rolecall::codecs::Topic;
use rolecall::runtime::kind::{CreateError, Io, Ports, Role};
use serde::Deserialize;

/// Parameters from the topology's `params` table.
#[derive(Deserialize)]
struct PeakParams {
    /// Printed in front of the result line.
    label: String,
}

/// Remembers the sample with the highest mean; prints it when its input ends.
struct Peak {
    label: String,
    samples: u64,
    best: Option<(f64, u32)>,
}

impl Actor for Peak {
    type Context = Context<Self>;
}

impl Handler<Topic> for Peak {
    type Result = ();
    fn handle(&mut self, t: Topic, _: &mut Context<Self>) {
        self.samples += 1;
        let mean = t.data.iter().map(|&v| f64::from(v)).sum::<f64>() / t.data.len().max(1) as f64;
        if self.best.is_none_or(|(m, _)| mean > m) {
            self.best = Some((mean, t.seq_no));
        }
    }
}

impl Role for Peak {
    type Params = PeakParams;
    const ABOUT: &'static str = "prints the sample with the highest mean when its input ends";
    fn ports(ports: &mut Ports<Self>) {
        ports.input::<Topic>("in");
    }
    fn build(p: &PeakParams, _: &mut Io) -> Result<Self, CreateError> {
        Ok(Peak {
            label: p.label.clone(),
            samples: 0,
            best: None,
        })
    }
    fn end_of_input(&mut self, ctx: &mut Context<Self>) {
        match self.best {
            Some((mean, seq)) => println!(
                "{}: {} samples, peak mean {mean:.1} at #{seq}",
                self.label, self.samples
            ),
            None => println!("{}: no samples", self.label),
        }
        ctx.stop();
    }
}

fn main() {
    std::process::exit(rolecall::app::main(|| {
        let mut registry = rolecall::default_registry();
        registry
            .register::<Peak>("student.peak")
            .expect("a kind name of its own");
        registry
    }));
}

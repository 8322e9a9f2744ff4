//! [`Script`] (`zk.script`): sends a list of requests to a `zk.session`, one
//! after the other, each after the previous one's reply; for examples and
//! demonstrations that a user follows with `zkCli.sh`.
//!
//! Steps are one-line commands, parsed by [`parse_step`]:
//!
//! | step | request |
//! |---|---|
//! | `create PATH [DATA]` | persistent node (also `create-ephemeral`, `create-sequential`) |
//! | `get PATH` / `get-watch PATH` | data (with a one-shot watch) |
//! | `set PATH DATA [VERSION]` | write, if the version matches |
//! | `delete PATH [VERSION]` | delete, if the version matches |
//! | `exists PATH` / `exists-watch PATH` | existence (with a one-shot watch) |
//! | `children PATH` / `children-watch PATH` | children (with a one-shot watch) |
//! | `watch PATH` / `watch-recursive PATH` | persistent watch |
//! | `sleep MS` | pause |

use std::time::Duration;

use actix::prelude::*;
use rolecall_runtime::kind::{CreateError, Io, Ports, Role};
use rolecall_runtime::wire::Output;
use serde::Deserialize;

use super::request::{Mode, Op, Reply, Request};

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this request and wait for its reply.
    Send(Op),
    /// Pause this long.
    Sleep(Duration),
}

/// A step that cannot be read, with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step {index} ({text:?}): {problem}")]
pub struct StepError {
    /// 1-based position in `steps`.
    pub index: usize,
    /// The step's text.
    pub text: String,
    /// What is wrong.
    pub problem: String,
}

/// Parses one step (see the module documentation).
pub fn parse_step(text: &str) -> Result<Step, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (&verb, args) = words.split_first().ok_or("empty step")?;
    let path = || {
        args.first()
            .map(|p| p.to_string())
            .ok_or(format!("`{verb}` needs a path"))
    };
    let data = |i: usize| {
        args.get(i)
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default()
    };
    let version = |i: usize| -> Result<Option<i32>, String> {
        args.get(i)
            .map(|v| {
                v.parse::<i32>()
                    .map_err(|_| format!("version {v:?} is not a number"))
            })
            .transpose()
    };
    let most = |n: usize| {
        if args.len() > n {
            Err(format!("`{verb}` takes at most {n} arguments"))
        } else {
            Ok(())
        }
    };
    let create = |mode| -> Result<Step, String> {
        most(2)?;
        Ok(Step::Send(Op::create(&path()?, &data(1), mode)))
    };
    match verb {
        "create" => create(Mode::Persistent),
        "create-ephemeral" => create(Mode::Ephemeral),
        "create-sequential" => create(Mode::PersistentSequential),
        "get" | "get-watch" => {
            most(1)?;
            Ok(Step::Send(Op::Get {
                path: path()?,
                watch: verb == "get-watch",
            }))
        }
        "set" => {
            most(3)?;
            if args.len() < 2 {
                return Err("`set` needs a path and data".into());
            }
            Ok(Step::Send(Op::Set {
                path: path()?,
                data: data(1),
                version: version(2)?,
            }))
        }
        "delete" => {
            most(2)?;
            Ok(Step::Send(Op::Delete {
                path: path()?,
                version: version(1)?,
            }))
        }
        "exists" | "exists-watch" => {
            most(1)?;
            Ok(Step::Send(Op::Exists {
                path: path()?,
                watch: verb == "exists-watch",
            }))
        }
        "children" | "children-watch" => {
            most(1)?;
            Ok(Step::Send(Op::Children {
                path: path()?,
                watch: verb == "children-watch",
            }))
        }
        "watch" | "watch-recursive" => {
            most(1)?;
            Ok(Step::Send(Op::Watch {
                path: path()?,
                recursive: verb == "watch-recursive",
            }))
        }
        "sleep" => {
            most(1)?;
            let ms = args
                .first()
                .and_then(|m| m.parse::<u64>().ok())
                .ok_or("`sleep` needs milliseconds")?;
            Ok(Step::Sleep(Duration::from_millis(ms)))
        }
        other => Err(format!("unknown step `{other}`")),
    }
}

/// Parameters of `zk.script`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The steps, in order.
    pub steps: Vec<String>,
    /// Pause between steps, in milliseconds (default 0).
    #[serde(default)]
    pub pause_ms: u64,
}

/// Sends its steps' requests one at a time; stops after the last reply.
#[derive(Debug)]
pub struct Script {
    steps: Vec<Step>,
    next: usize,
    pause: Duration,
    requests: Output<Request>,
}

impl Script {
    fn step(&mut self, ctx: &mut Context<Self>) {
        let Some(step) = self.steps.get(self.next).cloned() else {
            ctx.stop();
            return;
        };
        self.next += 1;
        match step {
            Step::Sleep(d) => {
                ctx.run_later(d, |act, ctx| act.step(ctx));
            }
            Step::Send(op) => {
                let id = self.next as u64;
                self.requests.send(Request { id, op }, ctx);
            }
        }
    }
}

impl Actor for Script {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.step(ctx);
    }
}

impl Handler<Reply> for Script {
    type Result = ();

    fn handle(&mut self, reply: Reply, ctx: &mut Context<Self>) {
        if reply.id == self.next as u64 {
            ctx.run_later(self.pause, |act, ctx| act.step(ctx));
        }
    }
}

impl Role for Script {
    type Params = Params;
    const ABOUT: &'static str =
        "sends one-line request steps (create, get, set, delete, watch, ...) to a zk.session in order";

    fn ports(ports: &mut Ports<Self>) {
        ports
            .input::<Reply>("replies")
            .output::<Request>("requests");
    }

    fn build(params: &Params, io: &mut Io) -> Result<Self, CreateError> {
        let steps = params
            .steps
            .iter()
            .enumerate()
            .map(|(i, text)| {
                parse_step(text).map_err(|problem| StepError {
                    index: i + 1,
                    text: text.clone(),
                    problem,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CreateError::from(format!("zk.script: {e}")))?;
        Ok(Script {
            steps,
            next: 0,
            pause: Duration::from_millis(params.pause_ms),
            requests: io.output("requests")?,
        })
    }

    fn end_of_input(&mut self, _ctx: &mut Context<Self>) {
        // The session stopped: nothing more will be answered.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        assert_eq!(
            parse_step("create /a hello"),
            Ok(Step::Send(Op::create("/a", b"hello", Mode::Persistent)))
        );
        assert_eq!(
            parse_step("set /a v2 3"),
            Ok(Step::Send(Op::Set {
                path: "/a".into(),
                data: b"v2".to_vec(),
                version: Some(3)
            }))
        );
        assert_eq!(
            parse_step("get-watch /a"),
            Ok(Step::Send(Op::Get {
                path: "/a".into(),
                watch: true
            }))
        );
        assert_eq!(
            parse_step("sleep 20"),
            Ok(Step::Sleep(Duration::from_millis(20)))
        );
        assert!(parse_step("set /a")
            .unwrap_err()
            .contains("needs a path and data"));
        assert!(parse_step("delete /a x")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_step("frobnicate /a")
            .unwrap_err()
            .contains("unknown step"));
        assert!(parse_step("").is_err());
        assert!(parse_step("get /a /b").unwrap_err().contains("at most 1"));
    }
}

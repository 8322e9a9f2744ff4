//! Running an app-set variant: its apps (`rolecall` command lines) started
//! in order, each after its `after` delay, each in its own folder
//! `OUT/raw/VARIANT/rep-N/NAME/` with its output in `app.log`. The run is
//! over once every app with `wait = true` has exited, or as soon as one of
//! them exits with a status other than 0 (the run FAILED, with the last
//! lines of its log); the apps still running are then stopped (SIGTERM,
//! SIGKILL after two seconds). The decision is [`verdict`], without I/O.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::apps::DIR;
use super::plan::AppPlan;
use super::run::{io, kill_term, tail, NodeRecord, RunError};

/// An app's output, in its folder.
pub const LOG: &str = "app.log";

/// Lines of a failed app's log quoted in the failure.
pub const TAIL_LINES: usize = 12;

/// How long a stopped app gets between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// What one app did.
#[derive(Debug, Clone, Serialize)]
pub struct AppRecord {
    /// Name, host, pid and exit status (None: killed, or never started).
    #[serde(flatten)]
    pub record: NodeRecord,
    /// The run waited for it.
    pub wait: bool,
}

/// One app's state, as [`verdict`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started yet.
    Pending,
    /// Running.
    Running,
    /// Exited with this status (None: by a signal).
    Exited(Option<i32>),
}

/// What the runner does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep going.
    Continue,
    /// Every waited-for app exited 0: stop the others.
    Done,
    /// The waited-for app at this index exited otherwise: the run failed.
    Failed(usize),
}

/// The run's fate from each app's `(wait, state)`.
pub fn verdict(apps: &[(bool, State)]) -> Verdict {
    if let Some(i) = apps
        .iter()
        .position(|(wait, s)| *wait && matches!(s, State::Exited(c) if *c != Some(0)))
    {
        return Verdict::Failed(i);
    }
    if apps
        .iter()
        .all(|(wait, s)| !wait || matches!(s, State::Exited(_)))
    {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

/// The apps of one run; dropping it kills whatever still runs.
#[derive(Debug)]
pub struct AppSet<'a> {
    plans: &'a [AppPlan],
    dir: PathBuf,
    children: Vec<Child>,
    states: Vec<State>,
    records: Vec<AppRecord>,
    next_at: Duration,
    failure: Option<String>,
}

impl<'a> AppSet<'a> {
    /// The apps of `plans`, for the run whose folder is `dir`.
    pub fn new(plans: &'a [AppPlan], dir: &Path) -> AppSet<'a> {
        AppSet {
            plans,
            dir: dir.to_owned(),
            children: Vec::new(),
            states: vec![State::Pending; plans.len()],
            records: plans
                .iter()
                .map(|a| AppRecord {
                    record: NodeRecord {
                        node: a.name.clone(),
                        host: a.host.clone(),
                        pid: 0,
                        status: None,
                    },
                    wait: a.wait,
                })
                .collect(),
            next_at: plans.first().map(|a| a.after).unwrap_or_default(),
            failure: None,
        }
    }

    /// Starts every app due `elapsed` after the run's start, with `spawn(app, folder, args)`.
    pub fn start_due(
        &mut self,
        elapsed: Duration,
        mut spawn: impl FnMut(&AppPlan, &Path, &[String]) -> Result<Child, RunError>,
    ) -> Result<(), RunError> {
        while self.children.len() < self.plans.len() && elapsed >= self.next_at {
            let i = self.children.len();
            let app = &self.plans[i];
            let folder = self.dir.join(&app.name);
            let folder_text = folder.display().to_string();
            let args: Vec<String> = app
                .args
                .iter()
                .map(|a| a.replace(DIR, &folder_text))
                .collect();
            let child = spawn(app, &folder, &args)?;
            self.records[i].record.pid = child.id();
            self.states[i] = State::Running;
            self.children.push(child);
            if let Some(next) = self.plans.get(i + 1) {
                self.next_at = elapsed + next.after;
            }
        }
        Ok(())
    }

    /// Notes which apps exited; true when the run is over.
    pub fn poll(&mut self) -> Result<bool, RunError> {
        for (i, c) in self.children.iter_mut().enumerate() {
            if self.states[i] == State::Running {
                if let Some(status) = c.try_wait().map_err(io("waiting for an app"))? {
                    self.states[i] = State::Exited(status.code());
                    self.records[i].record.status = status.code();
                }
            }
        }
        let seen: Vec<(bool, State)> = self
            .plans
            .iter()
            .zip(&self.states)
            .map(|(a, s)| (a.wait, *s))
            .collect();
        Ok(match verdict(&seen) {
            Verdict::Continue => false,
            Verdict::Done => true,
            Verdict::Failed(i) => {
                let app = &self.plans[i];
                let log = self.dir.join(&app.name).join(LOG);
                self.failure = Some(format!(
                    "app {} on {} exited with {}; last lines of {}:\n{}",
                    app.name,
                    app.host,
                    self.records[i]
                        .record
                        .status
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "a signal".to_owned()),
                    log.display(),
                    tail(&log, TAIL_LINES)
                ));
                true
            }
        })
    }

    /// Stops every app still running (SIGTERM to all, SIGKILL to those
    /// left after [`GRACE`]); what each did and why the run failed, if it did.
    pub fn finish(mut self) -> (Vec<AppRecord>, Option<String>) {
        for (i, c) in self.children.iter().enumerate() {
            if self.states[i] == State::Running {
                kill_term(c.id());
            }
        }
        let deadline = Instant::now() + GRACE;
        loop {
            let mut running = false;
            for (i, c) in self.children.iter_mut().enumerate() {
                if self.states[i] == State::Running {
                    match c.try_wait() {
                        Ok(Some(status)) => {
                            self.states[i] = State::Exited(status.code());
                            self.records[i].record.status = status.code();
                        }
                        Ok(None) => running = true,
                        Err(_) => self.states[i] = State::Exited(None),
                    }
                }
            }
            if !running || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for (i, c) in self.children.iter_mut().enumerate() {
            if self.states[i] == State::Running {
                let _ = c.kill();
                let _ = c.wait();
                self.states[i] = State::Exited(None);
            }
        }
        (std::mem::take(&mut self.records), self.failure.take())
    }
}

impl Drop for AppSet<'_> {
    fn drop(&mut self) {
        for (i, c) in self.children.iter_mut().enumerate() {
            if self.states[i] == State::Running {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use State::{Exited, Pending, Running};

    #[test]
    fn the_run_ends_when_every_waited_for_app_exited_zero() {
        assert_eq!(
            verdict(&[(false, Running), (true, Running)]),
            Verdict::Continue
        );
        assert_eq!(
            verdict(&[(false, Running), (true, Exited(Some(0))), (true, Pending)]),
            Verdict::Continue
        );
        assert_eq!(
            verdict(&[(false, Running), (true, Exited(Some(0))), (false, Pending)]),
            Verdict::Done
        );
        // a service that dies is not judged
        assert_eq!(
            verdict(&[(false, Exited(Some(1))), (true, Exited(Some(0)))]),
            Verdict::Done
        );
    }

    #[test]
    fn a_waited_for_app_failing_fails_the_run_at_once() {
        assert_eq!(
            verdict(&[(false, Running), (true, Running), (true, Exited(Some(2)))]),
            Verdict::Failed(2)
        );
        assert_eq!(
            verdict(&[(true, Exited(None)), (true, Running)]),
            Verdict::Failed(0)
        );
    }
}

//! The searches: breadth-first with state hashing (shortest counterexample),
//! depth-first to a bound with or without state hashing, and replay.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::{Event, Model, Role, State};

/// A state of a depth-first search and its events not yet tried.
type Frame<R> = (State<R>, Vec<Event<<R as Role>::Msg>>);

/// A run that violates a property.
#[derive(Debug, Clone)]
pub struct Counterexample<M> {
    /// The property violated.
    pub property: String,
    /// What is wrong.
    pub problem: String,
    /// The steps from the initial state.
    pub path: Vec<Event<M>>,
}

/// What a search found.
#[derive(Debug, Clone)]
pub struct Outcome<M> {
    /// Distinct states reached (with hashing) or states visited (without).
    pub states: u64,
    /// Steps taken.
    pub transitions: u64,
    /// Deepest step reached.
    pub depth: u32,
    /// Every reachable state (BFS) or every state up to the bound (DFS) was checked.
    pub complete: bool,
    /// Time taken.
    pub elapsed: Duration,
    /// The first violation found.
    pub violation: Option<Counterexample<M>>,
}

/// A path does not replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// Step `step` is not enabled in the state reached before it.
    #[error("step {step} of the counterexample is not enabled: {event}")]
    NotEnabled {
        /// The step (from 1).
        step: usize,
        /// The event.
        event: String,
    },
}

impl<R: Role> Model<R> {
    /// Breadth-first search with state hashing, up to `max_states` distinct
    /// states: every reachable state once; a violation is reported with a
    /// shortest path to it.
    pub fn bfs(&self, max_states: u64) -> Outcome<R::Msg> {
        let started = Instant::now();
        // Per state: (parent, index of the event among the parent's events).
        let mut tree: Vec<(u32, u32)> = vec![(u32::MAX, 0)];
        let mut seen: HashMap<u128, u32> = HashMap::new();
        seen.insert(self.init.fingerprint(), 0);
        let mut queue: VecDeque<(u32, u32, State<R>)> = VecDeque::new();
        let mut outcome = Outcome {
            states: 1,
            transitions: 0,
            depth: 0,
            complete: false,
            elapsed: Duration::ZERO,
            violation: None,
        };
        let found =
            |id: u32, tree: &[(u32, u32)], (property, problem): (String, String)| Counterexample {
                property,
                problem,
                path: self.path_to(id, tree),
            };
        if let Some(v) = self.violated(&self.init).or_else(|| self.stuck(&self.init)) {
            outcome.violation = Some(found(0, &tree, v));
            outcome.elapsed = started.elapsed();
            return outcome;
        }
        queue.push_back((0, 0, self.init.clone()));
        let mut events = Vec::new();
        while let Some((id, depth, state)) = queue.pop_front() {
            outcome.depth = outcome.depth.max(depth);
            events.clear();
            state.events(&mut events);
            for (k, event) in events.iter().enumerate() {
                let mut next = state.clone();
                if next.apply(event).is_none() {
                    continue;
                }
                outcome.transitions += 1;
                let fp = next.fingerprint();
                if seen.contains_key(&fp) {
                    continue;
                }
                if outcome.states >= max_states {
                    outcome.elapsed = started.elapsed();
                    return outcome;
                }
                let nid = tree.len() as u32;
                tree.push((id, k as u32));
                seen.insert(fp, nid);
                outcome.states += 1;
                if let Some(v) = self.violated(&next).or_else(|| self.stuck(&next)) {
                    outcome.depth = depth + 1;
                    outcome.violation = Some(found(nid, &tree, v));
                    outcome.elapsed = started.elapsed();
                    return outcome;
                }
                queue.push_back((nid, depth + 1, next));
            }
        }
        outcome.complete = true;
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Rebuilds the path to state `id` from the search tree by replaying the
    /// recorded event choices from the initial state.
    fn path_to(&self, id: u32, tree: &[(u32, u32)]) -> Vec<Event<R::Msg>> {
        let mut choices = Vec::new();
        let mut at = id;
        while at != 0 {
            let (parent, k) = tree[at as usize];
            choices.push(k as usize);
            at = parent;
        }
        choices.reverse();
        let mut state = self.init.clone();
        let mut path = Vec::with_capacity(choices.len());
        let mut events = Vec::new();
        for k in choices {
            events.clear();
            state.events(&mut events);
            let event = events.swap_remove(k);
            let _ = state.apply(&event);
            path.push(event);
        }
        path
    }

    /// Depth-first search to `bound` steps. With `hashing`, a state is
    /// explored again only if reached by a shorter path than before; without
    /// it (the naive search), every path is walked. Stops after `max_states`
    /// visits.
    pub fn dfs(&self, bound: u32, hashing: bool, max_states: u64) -> Outcome<R::Msg> {
        let started = Instant::now();
        let mut outcome = Outcome {
            states: 1,
            transitions: 0,
            depth: 0,
            complete: true,
            elapsed: Duration::ZERO,
            violation: None,
        };
        if let Some((property, problem)) =
            self.violated(&self.init).or_else(|| self.stuck(&self.init))
        {
            outcome.violation = Some(Counterexample {
                property,
                problem,
                path: Vec::new(),
            });
            outcome.elapsed = started.elapsed();
            return outcome;
        }
        let mut seen: HashMap<u128, u32> = HashMap::new();
        if hashing {
            seen.insert(self.init.fingerprint(), 0);
        }
        // The stack holds, per depth, the state and its events not yet tried.
        let mut first = Vec::new();
        self.init.events(&mut first);
        first.reverse();
        let mut stack: Vec<Frame<R>> = vec![(self.init.clone(), first)];
        let mut path: Vec<Event<R::Msg>> = Vec::new();
        while let Some((state, todo)) = stack.last_mut() {
            let Some(event) = todo.pop() else {
                stack.pop();
                path.pop();
                continue;
            };
            let mut next = state.clone();
            if next.apply(&event).is_none() {
                continue;
            }
            outcome.transitions += 1;
            let depth = stack.len() as u32;
            if hashing {
                let fp = next.fingerprint();
                match seen.get(&fp) {
                    Some(d) if *d <= depth => continue,
                    _ => {
                        seen.insert(fp, depth);
                    }
                }
            }
            outcome.states += 1;
            outcome.depth = outcome.depth.max(depth);
            path.push(event);
            if let Some((property, problem)) = self.violated(&next).or_else(|| self.stuck(&next)) {
                outcome.violation = Some(Counterexample {
                    property,
                    problem,
                    path,
                });
                outcome.elapsed = started.elapsed();
                return outcome;
            }
            if outcome.states >= max_states {
                outcome.complete = false;
                break;
            }
            if depth >= bound {
                path.pop();
                continue;
            }
            let mut events = Vec::new();
            next.events(&mut events);
            events.reverse();
            stack.push((next, events));
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Replays `path` from the initial state against the roles; returns every
    /// state reached (the initial one first).
    pub fn replay(&self, path: &[Event<R::Msg>]) -> Result<Vec<State<R>>, ReplayError> {
        let mut states = vec![self.init.clone()];
        let mut state = self.init.clone();
        for (i, event) in path.iter().enumerate() {
            if state.apply(event).is_none() {
                return Err(ReplayError::NotEnabled {
                    step: i + 1,
                    event: format!("{event:?}"),
                });
            }
            states.push(state.clone());
        }
        Ok(states)
    }

    /// A line describing `event` with actor names.
    pub fn describe(&self, event: &Event<R::Msg>) -> String {
        let n = |i: usize| self.name(i).0.to_string();
        match event {
            Event::Deliver(e) => format!("deliver {} -> {}: {:?}", n(e.from), n(e.to), e.msg),
            Event::Drop(e) => format!("drop {} -> {}: {:?}", n(e.from), n(e.to), e.msg),
            Event::Duplicate(e) => {
                format!("duplicate {} -> {}: {:?}", n(e.from), n(e.to), e.msg)
            }
            Event::Timer(i) => format!("timer of {} fires", n(*i)),
            Event::Restart(i) => format!("{} crashes and restarts", n(*i)),
        }
    }
}

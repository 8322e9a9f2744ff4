use rolecall_actors::model::Budget;
use rolecall_actors::paxos::model::{self, Setup};
use rolecall_actors::paxos::Proposer;

#[test]
fn probe() {
    for (d, u, r, t) in [(0,0,0,0),(1,0,0,0),(0,1,0,0),(0,0,1,0),(0,0,0,1),(1,1,1,2)] {
        let setup = Setup { budget: Budget { drops: d, duplicates: u, restarts: r, timers: t }, ..Setup::default() };
        let m = model::single_decree(&setup, Proposer::new);
        let o = m.bfs(300_000);
        println!("{d}{u}{r}{t}: states {} trans {} depth {} complete {} {:?} viol {:?}", o.states, o.transitions, o.depth, o.complete, o.elapsed, o.violation.map(|v| v.problem));
    }
}

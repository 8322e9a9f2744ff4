//! `rolecall paxos-check`: sweep seeded fault schedules of the Paxos
//! simulator (single-decree and Multi-Paxos) across threads, or replay one
//! seed with its event trace.

use rolecall::actors::paxos::sim::scenario;
use rolecall::paxos_check;

/// Which protocol to sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Kind {
    /// Single-decree Paxos: 1–3 competing proposers.
    SingleDecree,
    /// Multi-Paxos: 1–3 competing leaders with 12 commands each.
    MultiPaxos,
}

/// Arguments of `rolecall paxos-check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Protocol to sweep (repeatable; default: both, single-decree first).
    #[arg(long = "kind", value_enum)]
    kinds: Vec<Kind>,
    /// Seeds to run, START..END (END excluded).
    #[arg(long, default_value = "0..10000")]
    seeds: String,
    /// Threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Replay this seed with its event trace instead of sweeping (one `--kind`).
    #[arg(long)]
    replay: Option<u64>,
}

pub(crate) fn main(args: Args) -> i32 {
    let kinds = if args.kinds.is_empty() {
        vec![Kind::SingleDecree, Kind::MultiPaxos]
    } else {
        args.kinds
    };
    if let Some(seed) = args.replay {
        let [kind] = kinds[..] else {
            eprintln!("error: --replay needs exactly one --kind");
            return 2;
        };
        return match kind {
            Kind::SingleDecree => paxos_check::replay(
                "single-decree",
                seed,
                scenario::single_decree(seed),
                scenario::run_single_decree,
                scenario::SINGLE_BOUND,
            ),
            Kind::MultiPaxos => paxos_check::replay(
                "multi-paxos",
                seed,
                scenario::multi_paxos(seed),
                scenario::run_multi_paxos,
                scenario::MULTI_BOUND,
            ),
        };
    }
    let seeds = match paxos_check::parse_seeds(&args.seeds) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let threads = paxos_check::threads(args.threads);
    let mut status = 0;
    for kind in kinds {
        let code = match kind {
            Kind::SingleDecree => {
                let s = paxos_check::single_decree();
                s.print(&s.sweep(seeds.clone(), threads))
            }
            Kind::MultiPaxos => {
                let s = paxos_check::multi_paxos();
                s.print(&s.sweep(seeds.clone(), threads))
            }
        };
        status = status.max(code);
    }
    status
}

//! The `rolecall` command: run, check and inspect topologies; benchmarks.

mod bench;
mod cli;

fn main() {
    std::process::exit(cli::main());
}

//! `rolecall trace`: merge trace files (one per node) into one run and draw
//! it as a self-contained HTML page or a static SVG.

use std::path::PathBuf;

use rolecall::runtime::trace;

#[derive(Debug, clap::Args)]
pub(crate) struct TraceArgs {
    /// Trace files (JSON lines), e.g. one per node.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the interactive page here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write the static picture here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

pub(crate) fn trace(args: TraceArgs) -> i32 {
    if args.html.is_none() && args.svg.is_none() {
        eprintln!("error: nothing to write: give --html OUT.html and/or --svg OUT.svg");
        return 2;
    }
    let mut files = Vec::with_capacity(args.files.len());
    for f in &args.files {
        match trace::read(f) {
            Ok(events) => files.push(events),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let events = trace::merge(files);
    let title = args
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    let outputs = [
        (args.html, rolecall::trace::html(&events, &title)),
        (args.svg, rolecall::trace::svg(&events)),
    ];
    for (path, text) in outputs {
        let Some(path) = path else { continue };
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: {}: {e}", path.display());
            return 1;
        }
        println!("wrote {} ({} events)", path.display(), events.len());
    }
    0
}

//! `rolecall pubsub dht-json`: the course's PA2 generator. Places `-D`
//! discovery nodes, `-P` publishers and `-S` subscribers on the hosts of a
//! Mininet topology (`single,N`, `linear,N`, `tree,fanout=F,depth=D`; host
//! `hK` at `10.0.0.K`), writes `dht.json` (`{"dht": [{"id", "hash", "IP",
//! "port", "host"}, ...]}`, ids the leading `-b` bits of SHA-256 of
//! `id:IP:port`, sorted by hash) and prints one Mininet command per role:
//! every ring node runs `rolecall pubsub discovery -j dht.json -n discK`
//! (with a `dht.ini` beside the json saying `[Discovery] Strategy = DHT`),
//! and each client asks a different ring node.
//!
//! `rolecall pubsub dht-lookup` walks lookups on the ring of a `dht.json`
//! and prints each responsible node with its hop path.

use std::path::PathBuf;

use rolecall::actors::pubsub::chord::{hash, DhtEntry, DhtJson, Ring};

/// `rolecall pubsub dht-json`.
#[derive(Debug, clap::Args)]
pub(crate) struct DhtJsonArgs {
    /// Bits of the ring (8-64, a multiple of 8).
    #[arg(short = 'b', long = "bits", default_value_t = 48)]
    bits: u32,
    /// DHT (discovery) nodes.
    #[arg(short = 'D', long = "num_dht", default_value_t = 20)]
    dht: usize,
    /// Publishers.
    #[arg(short = 'P', long = "num_pubs", default_value_t = 5)]
    publishers: usize,
    /// Subscribers.
    #[arg(short = 'S', long = "num_subs", default_value_t = 5)]
    subscribers: usize,
    /// Base port of the discovery nodes.
    #[arg(short = 'd', long = "disc_base_port", default_value_t = 5555)]
    disc_port: u16,
    /// Base port of the publishers.
    #[arg(short = 'p', long = "pub_base_port", default_value_t = 7777)]
    pub_port: u16,
    /// Mininet topology: `single,N`, `linear,N` or `tree,fanout=F,depth=D`.
    #[arg(short = 't', long = "topo", default_value = "single,5")]
    topo: String,
    /// The json file to write.
    #[arg(short = 'j', long = "json_file", default_value = "dht.json")]
    json: PathBuf,
}

/// The number of hosts of a Mininet topology spec.
fn hosts(spec: &str) -> Result<usize, String> {
    let bad = || format!("bad topology '{spec}' (single,N | linear,N | tree,fanout=F,depth=D)");
    let mut parts = spec.split(',').map(str::trim);
    let kind = parts.next().ok_or_else(bad)?;
    let n = match kind {
        "single" | "linear" => parts
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(bad)?,
        "tree" => {
            let (mut fanout, mut depth) = (2usize, 1u32);
            for p in parts {
                match p.split_once('=') {
                    Some(("fanout", v)) => fanout = v.parse().map_err(|_| bad())?,
                    Some(("depth", v)) => depth = v.parse().map_err(|_| bad())?,
                    _ => return Err(bad()),
                }
            }
            fanout.checked_pow(depth).ok_or_else(bad)?
        }
        _ => return Err(bad()),
    };
    if n == 0 || n > 254 {
        return Err(format!(
            "topology '{spec}' has {n} hosts; 1-254 fit 10.0.0.0/24"
        ));
    }
    Ok(n)
}

/// Runs the generator; returns the exit status.
pub(crate) fn main(a: DhtJsonArgs) -> i32 {
    match generate(&a) {
        Ok(script) => {
            print!("{script}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn generate(a: &DhtJsonArgs) -> Result<String, String> {
    if !(8..=64).contains(&a.bits) || a.bits % 8 != 0 {
        return Err(format!("-b must be 8, 16, ..., 64, not {}", a.bits));
    }
    if a.dht == 0 {
        return Err("-D must be at least 1".into());
    }
    let n = hosts(&a.topo)?;
    // Round-robin placement: role k on host k mod N (deterministic).
    let host = |k: usize| (k % n) + 1;
    let mut dht: Vec<DhtEntry> = (0..a.dht)
        .map(|i| {
            let h = host(i);
            let id = format!("disc{}", i + 1);
            let ip = format!("10.0.0.{h}");
            let port = a.disc_port.saturating_add(i as u16);
            DhtEntry {
                hash: hash(a.bits, &format!("{id}:{ip}:{port}")),
                id,
                ip,
                port,
                host: format!("h{h}"),
            }
        })
        .collect();
    dht.sort_by_key(|e| e.hash);
    if let Some(w) = dht.windows(2).find(|w| w[0].hash == w[1].hash) {
        return Err(format!(
            "{} and {} collide at {} bits: use more bits",
            w[0].id, w[1].id, a.bits
        ));
    }
    let text =
        serde_json::to_string_pretty(&DhtJson { dht: dht.clone() }).map_err(|e| e.to_string())?;
    std::fs::write(&a.json, text + "\n")
        .map_err(|e| format!("cannot write {}: {e}", a.json.display()))?;
    let json = a.json.display();
    let mut script = format!(
        "# The Chord ring in {json} ({} nodes, {} bits); route keys on it with\n\
         # `rolecall pubsub dht-lookup -j {json} -b {} KEY...`.\n",
        dht.len(),
        a.bits,
        a.bits
    );
    for e in &dht {
        script.push_str(&format!(
            "#   {} {} hash {} at {}:{}\n",
            e.host, e.id, e.hash, e.ip, e.port
        ));
    }
    // Every ring node serves discovery (`[Discovery] Strategy = DHT` in the
    // config written next to the json); each client asks a different node.
    let ini = a.json.with_extension("ini");
    std::fs::write(
        &ini,
        "[Discovery]\nStrategy = DHT\n\n[Dissemination]\nStrategy = Direct\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", ini.display()))?;
    let ini = ini.display();
    script.push_str(&format!(
        "# {ini}: [Discovery] Strategy = DHT (set [Dissemination] Strategy = Broker and add a broker for Broker)\n"
    ));
    for e in &dht {
        script.push_str(&format!(
            "{} rolecall pubsub discovery -c {ini} -j {json} -n {} -b {} -P {} -S {} > {}.out 2>&1 &\n",
            e.host, e.id, a.bits, a.publishers, a.subscribers, e.id
        ));
    }
    let node = |k: usize| &dht[k % dht.len()];
    for i in 0..a.publishers {
        let h = host(a.dht + i);
        let d = node(i);
        script.push_str(&format!(
            "h{h} rolecall pubsub publisher -c {ini} -n pub{n} -a 10.0.0.{h} -p {port} -d {}:{} -T 5 > pub{n}.out 2>&1 &\n",
            d.ip,
            d.port,
            n = i + 1,
            port = a.pub_port.saturating_add(i as u16),
        ));
    }
    for i in 0..a.subscribers {
        let h = host(a.dht + a.publishers + i);
        let d = node(a.publishers + i);
        script.push_str(&format!(
            "h{h} rolecall pubsub subscriber -c {ini} -n sub{n} -a 10.0.0.{h} -d {}:{} -T 4 > sub{n}.out 2>&1 &\n",
            d.ip,
            d.port,
            n = i + 1,
        ));
    }
    Ok(script)
}

/// `rolecall pubsub dht-lookup`.
#[derive(Debug, clap::Args)]
pub(crate) struct DhtLookupArgs {
    /// The ring.
    #[arg(short = 'j', long = "json_file", default_value = "dht.json")]
    json: PathBuf,
    /// Bits of the ring.
    #[arg(short = 'b', long = "bits", default_value_t = 48)]
    bits: u32,
    /// The node the lookups start at (default: the first in the file).
    #[arg(long)]
    from: Option<String>,
    /// Nodes to treat as down (repeatable).
    #[arg(long)]
    down: Vec<String>,
    /// Keys: topics or other text, hashed as node ids are.
    #[arg(required = true)]
    keys: Vec<String>,
}

/// Prints `KEY hash -> NODE (hops N)` per key; status 1 if one failed.
pub(crate) fn lookup(a: DhtLookupArgs) -> i32 {
    let text = match std::fs::read_to_string(&a.json) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: cannot read: {e}", a.json.display());
            return 2;
        }
    };
    let dht: DhtJson = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "error: {}:{}:{}: {e}",
                a.json.display(),
                e.line(),
                e.column()
            );
            return 2;
        }
    };
    let mut ring = match Ring::from_json(&dht, a.bits) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", a.json.display());
            return 2;
        }
    };
    for d in &a.down {
        ring.set_down(d, true);
    }
    let from = a.from.clone().unwrap_or_else(|| dht.dht[0].id.clone());
    let mut status = 0;
    for key in &a.keys {
        let h = hash(a.bits, key);
        match ring.lookup(&from, h) {
            Ok((node, hops)) => println!("{key} {h} -> {} (hops {hops})", node.id),
            Err(e) => {
                eprintln!("error: {key}: {e}");
                status = 1;
            }
        }
    }
    status
}

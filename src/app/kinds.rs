//! `rolecall kinds`: the registered kinds, their parameters and ports.

pub(super) fn kinds(kinds: super::Kinds<'_>) -> i32 {
    let registry = kinds();
    let (major, minor, patch) = zmq_version();
    println!(
        "libzmq {major}.{minor}.{patch} (pgm: {}, curve: {})",
        yes_no(zmq_has("pgm")),
        yes_no(zmq_has("curve"))
    );
    println!();
    for kind in registry.kinds() {
        println!("{}", kind.name);
        if !kind.about.is_empty() {
            println!("  {}", kind.about);
        }
        if kind.params.is_empty() {
            println!("  params: none");
        } else {
            println!(
                "  params: {} ({})",
                kind.params.join(", "),
                kind.params_type
            );
        }
        for port in &kind.ports {
            let formats = registry.formats(port);
            println!(
                "  {:<6} {:<10} {}  [codecs: {}]",
                port.direction.to_string(),
                port.name,
                port.message,
                formats.join(", ")
            );
        }
        println!();
    }
    0
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn zmq_version() -> (i32, i32, i32) {
    crate::runtime::remote::zmq_version()
}

fn zmq_has(capability: &str) -> bool {
    crate::runtime::remote::zmq_has(capability)
}

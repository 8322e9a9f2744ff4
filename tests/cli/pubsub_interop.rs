//! Interop with the course's Python side: clients written here with pyzmq and
//! protobuf code generated (at test time, `protoc --python_out` into a temp
//! dir) from the same `codecs/schemas/discovery.proto` talk to the rolecall
//! apps. Python is `$ROLECALL_PYTHON`, else `.tools/pyvenv/bin/python3`
//! (made by `make test`, with pyzmq and protobuf pinned).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::pubsub::{background, pubsub, Bg};
use crate::support::*;

/// A temp dir holding `discovery_pb2.py` generated from the schema.
fn generated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = Command::new(std::env::var("PROTOC").unwrap_or_else(|_| "protoc".into()))
        .arg(format!("--python_out={}", dir.path().display()))
        .arg(format!("-I{}", root().join("codecs/schemas").display()))
        .arg("discovery.proto")
        .output()
        .expect("protoc not found: apt-get install protobuf-compiler");
    assert!(
        out.status.success(),
        "protoc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Runs a Python script (with the generated module importable); its stdout.
fn script(dir: &Path, name: &str, text: &str, args: &[&str]) -> std::process::Output {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the script");
    run(Command::new(python())
        .arg(&path)
        .args(args)
        .current_dir(dir))
}

const COMMON: &str = r#"
import sys, time, json
import zmq
import discovery_pb2 as pb

ctx = zmq.Context()
req = ctx.socket(zmq.REQ)
req.setsockopt(zmq.RCVTIMEO, 5000)
req.setsockopt(zmq.LINGER, 0)
req.connect(sys.argv[1])

def call(msg):
    req.send(msg.SerializeToString())
    resp = pb.DiscoveryResp()
    resp.ParseFromString(req.recv())
    return resp

def register(role, ident, addr=None, port=None, topics=()):
    m = pb.DiscoveryReq()
    m.msg_type = pb.TYPE_REGISTER
    m.register_req.role = role
    m.register_req.info.id = ident
    if addr is not None:
        m.register_req.info.addr = addr
        m.register_req.info.port = port
    m.register_req.topiclist.extend(topics)
    return call(m)

def isready():
    m = pb.DiscoveryReq()
    m.msg_type = pb.TYPE_ISREADY
    m.isready_req.CopyFrom(pb.IsReadyReq())
    return call(m)

def lookup(topics):
    m = pb.DiscoveryReq()
    m.msg_type = pb.TYPE_LOOKUP_PUB_BY_TOPIC
    m.lookup_req.topiclist.extend(topics)
    return call(m)
"#;

#[test]
fn python_clients_register_isready_and_lookup_with_rolecall_discovery() {
    let py = python();
    let dir = generated();
    let _discovery = background(&["discovery", "-P", "1", "-S", "1", "-p", "33821"]);
    let text = format!(
        "{COMMON}{}",
        r#"
out = {}
out["early_lookup"] = [lookup(["weather"]).lookup_resp.status, lookup(["weather"]).lookup_resp.reason]
r = register(pb.ROLE_PUBLISHER, "pypub", "127.0.0.1", 7001, ["weather", "sound"])
out["register"] = [r.msg_type, r.register_resp.status]
r = register(pb.ROLE_SUBSCRIBER, "pypub", topics=["weather"])
out["duplicate"] = [r.register_resp.status, r.register_resp.reason]
r = register(pb.ROLE_SUBSCRIBER, "pysub", topics=["stocks"])
out["unknown_topic"] = [r.register_resp.status, r.register_resp.reason]
out["ready_before"] = isready().isready_resp.status
r = register(pb.ROLE_SUBSCRIBER, "pysub", topics=["weather"])
out["register_sub"] = r.register_resp.status
r = lookup(["weather"])
out["lookup"] = [r.msg_type, r.lookup_resp.status] + [[p.id, p.addr, p.port] for p in r.lookup_resp.publishers]
out["lookup_none"] = len(lookup(["light"]).lookup_resp.publishers)
r = isready()
out["ready"] = [r.msg_type, r.isready_resp.status]
req.send(b"\x0a\xff\x01")
bad = pb.DiscoveryResp()
bad.ParseFromString(req.recv())
out["malformed"] = [bad.msg_type, bad.register_resp.status, bad.register_resp.reason.startswith("malformed request:")]
print(json.dumps(out))
"#
    );
    let out = script(dir.path(), "client.py", &text, &["tcp://127.0.0.1:33821"]);
    assert!(
        out.status.success(),
        "{} ({}): {}",
        py.display(),
        out.status,
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    let j = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    assert_eq!(
        v["early_lookup"],
        j(r#"[3, "not ready: 0 of 1 publishers registered"]"#)
    );
    assert_eq!(v["register"], j("[1, 1]"));
    assert_eq!(v["duplicate"], j(r#"[2, "pypub needs to have unique id"]"#));
    assert_eq!(v["unknown_topic"], j(r#"[2, "unknown topic 'stocks'"]"#));
    assert_eq!(v["ready_before"], j("false"));
    assert_eq!(v["register_sub"], j("1"));
    assert_eq!(v["lookup"], j(r#"[3, 1, ["pypub", "127.0.0.1", 7001]]"#));
    assert_eq!(v["lookup_none"], j("0"));
    assert_eq!(v["ready"], j("[2, true]"));
    assert_eq!(v["malformed"], j("[0, 2, true]"));
}

/// The course's publisher loop: register, isready until true, then `topic:data` frames.
const PY_PUBLISHER: &str = r#"
pub = ctx.socket(zmq.PUB)
pub.bind("tcp://*:" + sys.argv[2])
r = register(pb.ROLE_PUBLISHER, "pypub", "127.0.0.1", int(sys.argv[2]), ["weather"])
assert r.register_resp.status == pb.STATUS_SUCCESS, r
while not isready().isready_resp.status:
    time.sleep(0.05)
time.sleep(0.3)
for i in range(25):
    pub.send_string("weather:" + ["sunny", "icy"][i % 2])
    time.sleep(0.01)
time.sleep(0.5)
print("sent 25")
"#;

/// A subscriber the course's way: register, lookup until answered, SUB to each publisher.
const PY_SUBSCRIBER: &str = r#"
register(pb.ROLE_SUBSCRIBER, "pysub", topics=["light"])
while True:
    r = lookup(["light"])
    if r.lookup_resp.status != pb.STATUS_CHECK_AGAIN:
        break
    time.sleep(0.05)
sub = ctx.socket(zmq.SUB)
sub.setsockopt(zmq.RCVTIMEO, 5000)
for p in r.lookup_resp.publishers:
    sub.connect("tcp://%s:%d" % (p.addr, p.port))
sub.setsockopt_string(zmq.SUBSCRIBE, "light:")
counts = {}
try:
    while sum(counts.values()) < int(sys.argv[2]):
        topic, data = sub.recv_string().split(":", 1)
        value, publisher = data.split("\t")[:2]
        key = "%s/%s/%s" % (publisher, topic, value in ("450", "800", "1100", "1600"))
        counts[key] = counts.get(key, 0) + 1
except zmq.Again:
    pass
print(json.dumps(counts))
"#;

#[test]
fn python_publisher_frames_reach_a_rolecall_subscriber() {
    let _py = python();
    let dir = generated();
    let _discovery = background(&["discovery", "-P", "1", "-S", "1", "-p", "33831"]);
    let d = dir.path().to_owned();
    let publisher = std::thread::spawn(move || {
        script(
            &d,
            "pub.py",
            &format!("{COMMON}{PY_PUBLISHER}"),
            &["tcp://127.0.0.1:33831", "33832"],
        )
    });
    let sub = pubsub(&[
        "subscriber",
        "-n",
        "sub",
        "-d",
        "127.0.0.1:33831",
        "--topics",
        "weather",
        "--pause-ms",
        "50",
        "--stop-after",
        "25",
        "--results",
        dir.path().join("s.lp").to_str().unwrap(),
    ]);
    let p = publisher.join().expect("python thread");
    assert!(p.status.success(), "{}", stderr(&p));
    let log = stderr(&sub);
    assert!(sub.status.success(), "{log}");
    // Unstamped course frames: counted under `unknown`, no latency.
    assert!(
        log.contains("subscriber COMPLETED: received 25 [unknown/weather=25] malformed 0"),
        "{log}"
    );
}

#[test]
fn rolecall_publisher_frames_reach_a_python_subscriber() {
    let _py = python();
    let dir = generated();
    let _discovery: Bg = background(&["discovery", "-P", "1", "-S", "1", "-p", "33841"]);
    let d = dir.path().to_owned();
    let subscriber = std::thread::spawn(move || {
        script(
            &d,
            "sub.py",
            &format!("{COMMON}{PY_SUBSCRIBER}"),
            &["tcp://127.0.0.1:33841", "30"],
        )
    });
    let p = pubsub(&[
        "publisher",
        "-n",
        "rcpub",
        "-a",
        "127.0.0.1",
        "-p",
        "33842",
        "-d",
        "127.0.0.1:33841",
        "--topics",
        "light,sound",
        "-i",
        "30",
        "-f",
        "100",
        "--pause-ms",
        "50",
    ]);
    assert!(p.status.success(), "{}", stderr(&p));
    let s = subscriber.join().expect("python thread");
    assert!(s.status.success(), "{}", stderr(&s));
    let counts: BTreeMap<String, u64> = serde_json::from_str(stdout(&s).trim()).expect("json");
    assert_eq!(
        counts,
        [("rcpub/light/True".to_owned(), 30)].into_iter().collect()
    );
}

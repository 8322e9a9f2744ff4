//! ZooKeeper containers beside the nodes: the host's JRE and ZooKeeper jars
//! mounted read-only into a small image holding only the JVM's libraries, a
//! shell and a start script that writes `zoo.cfg` and `myid` from the
//! environment (`ZK_ID`, `ZK_SERVERS`) and runs `QuorumPeerMain`.

use std::path::PathBuf;

use super::plan::ZkPlan;

/// The start script inside the image.
pub const START: &str = "/zk-start";

/// The start script's text (POSIX sh).
pub const START_SCRIPT: &str = r#"#!/bin/sh
# Writes zoo.cfg and myid from ZK_ID and ZK_SERVERS (comma-separated hosts;
# one host: standalone), then runs ZooKeeper in the foreground.
set -e
mkdir -p /data /tmp
echo "$ZK_ID" > /data/myid
{
  echo tickTime=500
  echo initLimit=20
  echo syncLimit=10
  echo dataDir=/data
  echo clientPort=2181
  echo admin.enableServer=false
  echo quorumListenOnAllIPs=true
  echo 4lw.commands.whitelist=ruok,srvr,stat
  i=1
  count=0
  IFS=,
  for h in $ZK_SERVERS; do count=$((count + 1)); done
  if [ "$count" -gt 1 ]; then
    for h in $ZK_SERVERS; do echo "server.$i=$h:2888:3888"; i=$((i + 1)); done
  fi
} > /tmp/zoo.cfg
exec "$JAVA_HOME/bin/java" -Xmx256m -Djava.io.tmpdir=/tmp \
  -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
  org.apache.zookeeper.server.quorum.QuorumPeerMain /tmp/zoo.cfg
"#;

/// The ZooKeeper jars on the host (Debian's `zookeeper` package).
pub const JARS: &str = "/usr/share/java";

/// Arguments of the ZooKeeper container (the image's entrypoint is the shell).
pub fn args() -> Vec<String> {
    vec![START.to_owned()]
}

/// Environment of server `i` (0-based).
pub fn env(z: &ZkPlan, i: usize) -> Vec<(String, String)> {
    let home = java_home()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    vec![
        ("ZK_ID".into(), (i + 1).to_string()),
        ("ZK_SERVERS".into(), z.hosts.join(",")),
        ("JAVA_HOME".into(), home),
    ]
}

/// The host's Java home: `java` on the PATH with its links resolved.
pub fn java_home() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let java = std::env::split_paths(&path)
        .map(|d| d.join("java"))
        .find(|p| p.is_file())?;
    let real = std::fs::canonicalize(java).ok()?;
    Some(real.parent()?.parent()?.to_path_buf())
}

/// Host paths mounted read-only at the same path: the JRE, its
/// configuration under /etc (the JRE links there), the jars.
pub fn host_mounts() -> Vec<(String, String)> {
    let mut m = Vec::new();
    if let Some(home) = java_home() {
        let h = home.display().to_string();
        m.push((h.clone(), h));
        // Debian's JRE links conf files into /etc/java-N-openjdk.
        if let Some(etc) = std::fs::read_link(home.join("lib/jvm.cfg"))
            .ok()
            .and_then(|t| t.parent().map(|p| p.display().to_string()))
        {
            m.push((etc.clone(), etc));
        }
    }
    m.push((JARS.into(), JARS.into()));
    m
}

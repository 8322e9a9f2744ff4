//! The compose file equivalent to `rolecall docker up`: the same containers,
//! network, volumes and environment, in the v2.4 format that Debian's
//! `docker-compose` 1.29 (and Compose v2) read.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::names::Names;
use super::plan::{Plan, STATE_DIR, TOPOLOGY_PATH};
use super::zk;

/// The compose file for `plan`, with `topology` (an absolute path) mounted
/// into every node and `image` running them.
pub fn compose(plan: &Plan, names: &Names, topology: &Path, image: &str, zk_image: &str) -> String {
    let net = names.network(plan);
    let mut services = Map::new();
    let mut volumes = Map::new();
    if let Some(z) = &plan.zk {
        for (i, host) in z.hosts.iter().enumerate() {
            let vol = names.zk_volume(plan, i);
            let mut mounts: Vec<String> = zk::host_mounts()
                .iter()
                .map(|(h, c)| format!("{h}:{c}:ro"))
                .collect();
            mounts.push(format!("{vol}:/data"));
            volumes.insert(vol.clone(), json!({ "name": vol }));
            services.insert(
                format!("zk{}", i + 1),
                json!({
                    "image": zk_image,
                    "container_name": host,
                    "hostname": host,
                    "command": zk::args(),
                    "environment": env_map(&zk::env(z, i)),
                    "volumes": mounts,
                    "networks": { net.clone(): { "aliases": [format!("zk{}", i + 1)] } },
                }),
            );
        }
    }
    for n in &plan.nodes {
        let mut mounts = vec![format!("{}:{TOPOLOGY_PATH}:ro", topology.display())];
        if !n.state.is_empty() {
            let vol = names.volume(plan, n);
            mounts.push(format!("{vol}:{STATE_DIR}"));
            volumes.insert(vol.clone(), json!({ "name": vol }));
        }
        let mut svc = json!({
            "image": image,
            "container_name": n.host,
            "hostname": n.host,
            "command": plan.node_args(n),
            "environment": env_map(&plan.env),
            "volumes": mounts,
            "networks": { net.clone(): { "aliases": [n.label] } },
        });
        if let Some(z) = &plan.zk {
            let deps: Vec<String> = (1..=z.hosts.len()).map(|i| format!("zk{i}")).collect();
            svc["depends_on"] = json!(deps);
        }
        services.insert(n.label.clone(), svc);
    }
    let mut doc = json!({
        "version": "2.4",
        "services": services,
        "networks": { net.clone(): { "name": net } },
    });
    if !volumes.is_empty() {
        doc["volumes"] = Value::Object(volumes);
    }
    super::yaml::to_yaml(&doc)
}

fn env_map(env: &[(String, String)]) -> Value {
    Value::Object(env.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

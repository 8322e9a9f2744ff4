//! Kubernetes manifests for a plan: a Namespace, a ConfigMap holding the
//! topology, per node a Deployment (stateless), a StatefulSet with a
//! volume claim (durable state) or a Job (a client that ends), a headless
//! Service per node for a stable DNS name, and a ZooKeeper StatefulSet with
//! its headless Service when the topology uses `zk.*` kinds.

use serde_json::{json, Value};

use super::plan::{NodePlan, Plan, HEALTH_PORT, STATE_DIR, ZK_PORT};

/// What to generate around the plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Namespace of every object.
    pub namespace: String,
    /// Image running `rolecall`.
    pub image: String,
    /// Image of the ZooKeeper servers (the official image's conventions:
    /// `ZOO_MY_ID`, `ZOO_SERVERS`, `/docker-entrypoint.sh`).
    pub zk_image: String,
    /// Nodes run as Jobs (clients that finish) instead of Deployments.
    pub jobs: Vec<String>,
}

const TOPOLOGY_DIR: &str = "/etc/rolecall";

fn labels(plan: &Plan, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/part-of": plan.name,
        "app.kubernetes.io/managed-by": "rolecall",
    })
}

fn meta(name: &str, o: &Options, labels: &Value) -> Value {
    json!({ "name": name, "namespace": o.namespace, "labels": labels })
}

fn node_container(plan: &Plan, n: &NodePlan, o: &Options) -> Value {
    let env: Vec<Value> = plan
        .env
        .iter()
        .map(|(k, v)| json!({ "name": k, "value": v }))
        .collect();
    let mut ports: Vec<Value> = n
        .ports
        .iter()
        .map(|p| json!({ "containerPort": p, "protocol": "TCP" }))
        .collect();
    ports.push(json!({ "name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP" }));
    let probe = |delay: u32, period: u32| {
        json!({
            "httpGet": { "path": "/healthz", "port": "health" },
            "initialDelaySeconds": delay,
            "periodSeconds": period,
            "failureThreshold": 3,
        })
    };
    let mut mounts =
        vec![json!({ "name": "topology", "mountPath": TOPOLOGY_DIR, "readOnly": true })];
    if !n.state.is_empty() {
        mounts.push(json!({ "name": "state", "mountPath": STATE_DIR }));
    }
    json!({
        "name": n.label,
        "image": o.image,
        "imagePullPolicy": "IfNotPresent",
        "args": plan.node_args(n),
        "env": env,
        "ports": ports,
        "readinessProbe": probe(1, 5),
        "livenessProbe": probe(5, 10),
        "resources": {
            "requests": { "cpu": "50m", "memory": "64Mi" },
            "limits": { "memory": "512Mi" },
        },
        "volumeMounts": mounts,
    })
}

fn topology_volume(plan: &Plan) -> Value {
    json!({
        "name": "topology",
        "configMap": {
            "name": format!("{}-topology", plan.name),
            "items": [{ "key": "topology.toml", "path": "topology.toml" }],
        },
    })
}

fn workload(plan: &Plan, n: &NodePlan, o: &Options) -> Value {
    let l = labels(plan, &n.label);
    let job = o.jobs.iter().any(|j| j == &n.node);
    let mut pod = json!({
        "containers": [node_container(plan, n, o)],
        "volumes": [topology_volume(plan)],
    });
    if job {
        pod["restartPolicy"] = json!("OnFailure");
        return json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta(&n.label, o, &l),
            "spec": {
                "backoffLimit": 4,
                "template": { "metadata": { "labels": l }, "spec": pod },
            },
        });
    }
    let selector = json!({ "matchLabels": l });
    let template = json!({ "metadata": { "labels": l }, "spec": pod });
    if n.state.is_empty() {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta(&n.label, o, &l),
            "spec": {
                "replicas": 1,
                "strategy": { "type": "Recreate" },
                "selector": selector,
                "template": template,
            },
        })
    } else {
        json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": meta(&n.label, o, &l),
            "spec": {
                "replicas": 1,
                "serviceName": n.label,
                "selector": selector,
                "template": template,
                "volumeClaimTemplates": [{
                    "metadata": { "name": "state" },
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": { "requests": { "storage": "1Gi" } },
                    },
                }],
            },
        })
    }
}

fn service(
    plan: &Plan,
    name: &str,
    component: &str,
    ports: &[(String, u16)],
    o: &Options,
) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, p)| json!({ "name": n, "port": p, "targetPort": p, "protocol": "TCP" }))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, o, &labels(plan, component)),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": true,
            "selector": labels(plan, component),
            "ports": ports,
        },
    })
}

fn zookeeper(plan: &Plan, o: &Options) -> Vec<Value> {
    let Some(z) = &plan.zk else { return Vec::new() };
    let l = labels(plan, "zk");
    let servers: Vec<String> = z
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| format!("server.{}={h}:2888:3888;{ZK_PORT}", i + 1))
        .collect();
    let mut env = vec![json!({ "name": "ZOO_TICK_TIME", "value": "500" })];
    if z.hosts.len() > 1 {
        env.push(json!({ "name": "ZOO_SERVERS", "value": servers.join(" ") }));
    }
    let sts = json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta("zk", o, &l),
        "spec": {
            "replicas": z.hosts.len(),
            "serviceName": "zk",
            "podManagementPolicy": "Parallel",
            "selector": { "matchLabels": l },
            "template": {
                "metadata": { "labels": l },
                "spec": {
                    "containers": [{
                        "name": "zookeeper",
                        "image": o.zk_image,
                        "imagePullPolicy": "IfNotPresent",
                        // The pod's ordinal (zk-0, zk-1, ...) + 1 is its id.
                        "command": ["sh", "-c", "export ZOO_MY_ID=$((${HOSTNAME##*-} + 1)) && exec /docker-entrypoint.sh zkServer.sh start-foreground"],
                        "env": env,
                        "ports": [
                            { "name": "client", "containerPort": ZK_PORT },
                            { "name": "peer", "containerPort": 2888 },
                            { "name": "election", "containerPort": 3888 },
                        ],
                        "readinessProbe": { "tcpSocket": { "port": "client" }, "periodSeconds": 5 },
                        "livenessProbe": { "tcpSocket": { "port": "client" }, "initialDelaySeconds": 10, "periodSeconds": 10 },
                        "resources": { "requests": { "cpu": "100m", "memory": "256Mi" } },
                        "volumeMounts": [{ "name": "data", "mountPath": "/data" }],
                    }],
                },
            },
            "volumeClaimTemplates": [{
                "metadata": { "name": "data" },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": { "requests": { "storage": "1Gi" } },
                },
            }],
        },
    });
    let ports = [
        ("client".to_owned(), ZK_PORT),
        ("peer".to_owned(), 2888),
        ("election".to_owned(), 3888),
    ];
    vec![service(plan, "zk", "zk", &ports, o), sts]
}

/// Every object, in apply order.
pub fn manifests(plan: &Plan, topology_text: &str, o: &Options) -> Vec<Value> {
    let mut out = vec![
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": o.namespace, "labels": { "app.kubernetes.io/managed-by": "rolecall" } },
        }),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta(&format!("{}-topology", plan.name), o, &labels(plan, "topology")),
            "data": { "topology.toml": topology_text },
        }),
    ];
    out.extend(zookeeper(plan, o));
    for n in &plan.nodes {
        let mut ports: Vec<(String, u16)> = n.ports.iter().map(|p| (format!("p{p}"), *p)).collect();
        ports.push(("health".into(), HEALTH_PORT));
        out.push(service(plan, &n.label, &n.label, &ports, o));
        out.push(workload(plan, n, o));
    }
    out
}

//! `rolecall image`: small, reproducible images of rolecall and of a user's
//! own embedding program; a tag that is not ours is never overwritten.

use std::process::Command;

use super::harness::*;

fn layer(tag: &str) -> String {
    docker(&[
        "image",
        "inspect",
        "--format",
        "{{index .RootFS.Layers 0}}",
        tag,
    ])
    .trim()
    .to_owned()
}

#[test]
fn images_are_reproducible_and_run_embedding_programs() {
    let Some(lab) = Lab::new("image") else { return };
    // The user's own binary: the custom_role example, built by cargo.
    let exe = crate::support::example("custom_role")
        .get_program()
        .to_owned();
    let exe = exe.to_string_lossy().into_owned();
    let (t1, t2) = (
        format!("{}custom:one", lab.prefix),
        format!("{}custom:two", lab.prefix),
    );
    for t in [&t1, &t2] {
        let o = lab.rolecall(&["image"], &["--binary", &exe, "--tag", t]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), t.as_str());
    }
    // Same files, same layer.
    assert_eq!(layer(&t1), layer(&t2));
    let size: u64 = docker(&["image", "inspect", "--format", "{{.Size}}", &t1])
        .trim()
        .parse()
        .unwrap();
    assert!(size < 150_000_000, "image of {size} bytes");
    // It runs: the program reads its topology from the source tree, mounted.
    let dir = crate::support::root().join("examples/custom_role");
    let mount = format!("{}:{}:ro", dir.display(), dir.display());
    let name = format!("{}custom-run", lab.prefix);
    let out = Command::new("docker")
        .args(["run", "--name", &name, "-v", &mount, &t1])
        .output()
        .expect("docker runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("alarms raised: "), "{stdout}");
    docker(&["rm", &name]);

    // A tag that rolecall did not build is refused; one it built is replaced.
    let foreign = format!("{}foreign:1", lab.prefix);
    let scratch = tempfile::tempdir().unwrap();
    let (empty, tar) = (
        scratch.path().join("root"),
        scratch.path().join("empty.tar"),
    );
    std::fs::create_dir(&empty).unwrap();
    let st = Command::new("tar")
        .args(["-cf"])
        .arg(&tar)
        .args(["-C"])
        .arg(&empty)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    docker(&["import", &tar.display().to_string(), &foreign]);
    let o = lab.rolecall(&["image"], &["--tag", &foreign]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.trim_end(),
        format!("error: image tag `{foreign}` already exists and was not built by `rolecall image`: choose another --tag or remove it (docker rmi {foreign})")
    );
    let o = lab.rolecall(&["image"], &["--binary", &exe, "--tag", &t1]);
    assert!(o.status.success(), "{}", text(&o));
    for t in [&t1, &t2, &foreign] {
        docker(&["rmi", t]);
    }
    let left = lab.leftovers();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A program of its own kinds (`rolecall::app`) packs itself and runs a
/// topology that uses its kind as one container per node: the containers
/// run the program's `node` command.
#[test]
fn a_program_of_its_own_kinds_deploys_its_topology_in_containers() {
    let Some(lab) = Lab::new("own") else { return };
    let topology = "examples/custom_app/topology.toml";
    let program = |args: &[&str]| {
        let mut c = crate::support::example("custom_app");
        c.args(args).args(["--prefix", &lab.prefix]);
        crate::support::run_within(c.arg(topology), 120)
    };
    let mut image = crate::support::example("custom_app");
    let o = crate::support::run(image.args(["image", "--prefix", &lab.prefix]));
    assert!(o.status.success(), "{}", text(&o));
    let tag = format!("{}custom-app:latest", lab.prefix);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), tag);

    let up = program(&["docker", "up"]);
    assert!(up.status.success(), "{}", text(&up));
    let analysis = lab.container("custom-app", "analysis");
    let sensors = lab.container("custom-app", "sensors");
    assert_eq!(
        wait_exit(&analysis, std::time::Duration::from_secs(90)),
        0,
        "{}",
        logs(&analysis)
    );
    assert_eq!(
        wait_exit(&sensors, std::time::Duration::from_secs(30)),
        0,
        "{}",
        logs(&sensors)
    );
    let log = logs(&analysis);
    assert!(log.contains("pressure: 200 samples, peak mean"), "{log}");
    let image = docker(&["inspect", "--format", "{{.Config.Image}}", &analysis]);
    assert_eq!(image.trim(), tag);

    let down = program(&["docker", "down", "--volumes"]);
    assert!(down.status.success(), "{}", text(&down));
    docker(&["rmi", &tag]);
    let left = lab.leftovers();
    assert!(left.is_empty(), "left behind: {left:?}");
}

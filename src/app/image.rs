//! `rolecall image`: a Docker image of this binary (or another one, such as a
//! program embedding rolecall) from local files only.

use std::path::{Path, PathBuf};

use crate::deploy::docker::Docker;
use crate::deploy::image::{self, RootFs};
use crate::deploy::{zk, Names};

/// `image`: what to pack and how to tag it.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The binary to package (default: this `rolecall`).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// The image tag (default: PREFIX + the binary's name + `:latest`).
    #[arg(long)]
    tag: Option<String>,
    /// Build the ZooKeeper image instead (the host's JRE and jars are
    /// mounted read-only when it runs).
    #[arg(long, conflicts_with = "binary")]
    zookeeper: bool,
    /// Keep debug sections (by default they are stripped from the copy).
    #[arg(long)]
    no_strip: bool,
    /// Prefix of default image names.
    #[arg(long, default_value = crate::deploy::names::DEFAULT_PREFIX)]
    prefix: String,
}

pub(super) fn image(args: ImageArgs) -> i32 {
    let names = Names::new(&args.prefix);
    let result = if args.zookeeper {
        zookeeper(&names, args.tag)
    } else {
        binary(&names, args.binary, args.tag, !args.no_strip)
    };
    match result {
        Ok(b) => {
            println!("{}", b.tag);
            eprintln!(
                "built {} ({:.1} MB of files, layer {}, image {})",
                b.tag,
                b.size as f64 / 1e6,
                short(&b.layer),
                short(&b.id)
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

fn binary(
    names: &Names,
    binary: Option<PathBuf>,
    tag: Option<String>,
    strip: bool,
) -> Result<image::Built, image::ImageError> {
    let binary = match binary {
        Some(b) => b,
        None => std::env::current_exe().map_err(|e| image::ImageError::Io {
            path: "rolecall".into(),
            source: e,
        })?,
    };
    if !binary.is_file() {
        return Err(image::ImageError::NoBinary(binary));
    }
    let stem = binary
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("rolecall")
        .to_owned();
    let stem = crate::deploy::plan::label(&stem);
    let tag = tag.unwrap_or_else(|| format!("{}{stem}:latest", names.prefix()));
    let inside = PathBuf::from(format!("/{stem}"));
    let mut fs = RootFs::new();
    fs.binary_with_libraries(&inside, &binary)?;
    fs.text("/etc/nsswitch.conf", "hosts: files dns\n", 0o644);
    fs.dir("/tmp");
    let entry = inside.display().to_string();
    image::build(
        &Docker::new(),
        &fs,
        &tag,
        &[&entry],
        strip.then_some(inside.as_path()),
    )
}

fn zookeeper(names: &Names, tag: Option<String>) -> Result<image::Built, image::ImageError> {
    let tag = tag.unwrap_or_else(|| names.zk_image());
    let home =
        zk::java_home().ok_or_else(|| image::ImageError::NoBinary("java (on the PATH)".into()))?;
    let jar = Path::new(zk::JARS).join("zookeeper.jar");
    if !jar.is_file() {
        return Err(image::ImageError::NoBinary(jar));
    }
    let mut fs = RootFs::new();
    fs.binary_with_libraries(Path::new("/bin/sh"), Path::new("/bin/sh"))?;
    fs.binary_with_libraries(Path::new("/bin/mkdir"), Path::new("/bin/mkdir"))?;
    // The JRE itself is mounted from the host; the image holds the system
    // libraries it loads.
    fs.libraries_of(&home.join("bin/java"), Some(&home))?;
    let libs = std::fs::read_dir(home.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .chain([home.join("lib/server/libjvm.so")])
        .filter(|p| p.extension().is_some_and(|x| x == "so") && p.is_file());
    for lib in libs {
        // Optional desktop libraries (AWT, sound) may miss their own
        // dependencies; the server never loads them.
        let name = lib.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if [
            "libawt_xawt",
            "libjsound",
            "libsplashscreen",
            "libfontmanager",
            "liblcms",
            "libjavajpeg",
            "libmlib_image",
            "libawt",
            "libjawt",
            "libatk-wrapper",
        ]
        .iter()
        .any(|skip| name.starts_with(&format!("{skip}.")))
        {
            continue;
        }
        fs.libraries_of(&lib, Some(&home))?;
    }
    fs.text(zk::START, zk::START_SCRIPT, 0o755);
    fs.text("/etc/nsswitch.conf", "hosts: files dns\n", 0o644);
    fs.dir("/tmp");
    fs.dir("/data");
    image::build(&Docker::new(), &fs, &tag, &["/bin/sh"], None)
}

//! App-set variants and `[zookeeper]`: reading them from the experiment file
//! (with [`super::file`]'s `file:line:column` errors) and expanding the
//! placeholders of an app's command line. Pure: no process is started here.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::file::{parse_duration, Ctx};
use super::model::{App, Zookeeper};

/// The name `{addr:zookeeper}` stands for; no app or process may take it.
pub const ZOOKEEPER: &str = "zookeeper";

/// ZooKeeper's client port when `[zookeeper]` gives none.
pub const DEFAULT_ZK_PORT: u16 = 2181;

/// Most apps in one variant.
pub const MAX_APPS: usize = 64;

/// The placeholder for the app's own folder, filled in when it starts.
pub const DIR: &str = "{dir}";

/// One `apps` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    name: Spanned<String>,
    host: String,
    args: Spanned<Vec<String>>,
    #[serde(default)]
    wait: bool,
    after: Option<Spanned<String>>,
}

/// `[zookeeper]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZookeeper {
    host: String,
    port: Option<Spanned<i64>>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Validates the `apps` of variant `variant`.
pub(super) fn apps(cx: &mut Ctx<'_>, list: Spanned<Vec<RawApp>>, variant: &str) -> Vec<App> {
    let span = list.span();
    let list = list.into_inner();
    if list.is_empty() {
        cx.error(
            span.clone(),
            format!("variant `{variant}`: `apps` is empty"),
        );
    }
    if list.len() > MAX_APPS {
        cx.error(
            span.clone(),
            format!("variant `{variant}`: more than {MAX_APPS} apps"),
        );
    }
    let mut apps: Vec<App> = Vec::new();
    for a in list {
        let name = a.name.get_ref();
        if !valid_name(name) {
            cx.error(
                a.name.span(),
                format!("app name `{name}` must be letters, digits, `-` or `_` (it is a folder)"),
            );
        } else if name == ZOOKEEPER {
            cx.error(
                a.name.span(),
                format!("app name `{ZOOKEEPER}` is taken by `{{addr:{ZOOKEEPER}}}`"),
            );
        } else if apps.iter().any(|o| &o.name == name) {
            cx.error(
                a.name.span(),
                format!("variant `{variant}`: app `{name}` twice"),
            );
        }
        if a.args.get_ref().is_empty() {
            cx.error(
                a.args.span(),
                "`args` needs a `rolecall` command, e.g. [\"pubsub\", \"subscriber\", ...]",
            );
        }
        let after = match &a.after {
            None => Duration::ZERO,
            Some(d) => parse_duration(d.get_ref()).unwrap_or_else(|| {
                cx.error(
                    d.span(),
                    format!(
                        "`after` must be a duration like \"500ms\", not `{}`",
                        d.get_ref()
                    ),
                );
                Duration::ZERO
            }),
        };
        apps.push(App {
            pos: cx.pos(a.name.span()),
            name: a.name.into_inner(),
            host: a.host,
            args: a.args.into_inner(),
            wait: a.wait,
            after,
        });
    }
    if !apps.is_empty() && !apps.iter().any(|a| a.wait) {
        cx.error(
            span,
            format!("variant `{variant}`: no app has `wait = true`, so nothing would end its runs"),
        );
    }
    apps
}

/// Validates `[zookeeper]`.
pub(super) fn zookeeper(cx: &mut Ctx<'_>, raw: Spanned<RawZookeeper>) -> Zookeeper {
    let pos = cx.pos(raw.span());
    let raw = raw.into_inner();
    let port = match &raw.port {
        None => DEFAULT_ZK_PORT,
        Some(p) => match u16::try_from(*p.get_ref()) {
            Ok(port) if port > 0 => port,
            _ => {
                cx.error(p.span(), "`port` must be 1..=65535");
                DEFAULT_ZK_PORT
            }
        },
    };
    Zookeeper {
        host: raw.host,
        port,
        pos,
    }
}

/// Expands `{addr:NAME}` (NAME's entry in `addresses`) and `{here}` (the
/// experiment file's folder) in `arg`; `{dir}` is left for the run. Any
/// other `{word}` or `{word:...}` is an error.
pub fn expand(
    arg: &str,
    addresses: &BTreeMap<String, String>,
    here: &Path,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = arg;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let word_len = tail
            .find(|c: char| !c.is_ascii_lowercase())
            .unwrap_or(tail.len());
        let (word, after) = tail.split_at(word_len);
        match (word, after.chars().next()) {
            ("addr", Some(':')) => {
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("`{arg}`: `{{addr:` without `}}`"))?;
                let name = &after[1..end];
                let value = addresses.get(name).ok_or_else(|| {
                    let known: Vec<&str> = addresses.keys().map(String::as_str).collect();
                    format!(
                        "`{arg}`: no app, process or server `{name}` to take the address of (known: {})",
                        known.join(", ")
                    )
                })?;
                out.push_str(value);
                rest = &after[end + 1..];
            }
            ("here", Some('}')) => {
                out.push_str(&here.display().to_string());
                rest = &after[1..];
            }
            ("dir", Some('}')) => {
                out.push_str(DIR);
                rest = &after[1..];
            }
            (w, Some('}' | ':')) if !w.is_empty() => {
                return Err(format!(
                    "`{arg}`: unknown placeholder `{{{w}…`: known are {{addr:NAME}}, {{dir}} and {{here}}"
                ));
            }
            _ => {
                out.push('{');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::file::parse;
    use super::*;

    fn errors(text: &str) -> String {
        parse(text, Path::new("exp.toml")).unwrap_err().to_string()
    }

    const APPS: &str = r#"[experiment]
[zookeeper]
host = "h1"
[[variants]]
name = "zk"
[[variants.apps]]
name = "disc"
host = "h1"
args = ["pubsub", "discovery", "-z", "{addr:zookeeper}"]
[[variants.apps]]
name = "sub"
host = "h2"
args = ["pubsub", "subscriber", "--results", "{dir}/l.lp"]
wait = true
after = "500ms"
"#;

    #[test]
    fn reads_apps_and_zookeeper() {
        let e = parse(APPS, Path::new("exp.toml")).unwrap();
        let z = e.zookeeper.unwrap();
        assert_eq!((z.host.as_str(), z.port), ("h1", DEFAULT_ZK_PORT));
        let v = &e.variants[0];
        assert!(v.topology.is_none());
        assert_eq!(v.apps.len(), 2);
        assert!(!v.apps[0].wait && v.apps[1].wait);
        assert_eq!(v.apps[1].after, Duration::from_millis(500));
        assert_eq!(v.apps[1].pos.line, 11);
    }

    #[test]
    fn bad_apps_and_zookeeper_name_file_and_line() {
        let e = errors(&APPS.replace("wait = true", "wait = false"));
        assert!(
            e.contains("exp.toml:6:1: variant `zk`: no app has `wait = true`"),
            "{e}"
        );
        let e = errors(&APPS.replace("\"500ms\"", "\"soon\""));
        assert!(
            e.contains("exp.toml:15:9: `after` must be a duration"),
            "{e}"
        );
        let e = errors(&APPS.replace("name = \"sub\"", "name = \"disc\""));
        assert!(
            e.contains("exp.toml:11:8: variant `zk`: app `disc` twice"),
            "{e}"
        );
        let e = errors(&APPS.replace("name = \"sub\"", "name = \"a/b\""));
        assert!(e.contains("exp.toml:11:8: app name `a/b` must be"), "{e}");
        let e = errors(&APPS.replace("host = \"h1\"\n[[", "host = \"h1\"\nport = 70000\n[["));
        assert!(e.contains("exp.toml:4:8: `port` must be 1..=65535"), "{e}");
        let e = errors(&APPS.replace("wait = true", "wait = true\nhots = \"h3\""));
        assert!(e.contains("exp.toml:15:1: unknown field `hots`"), "{e}");
        let e = errors(&APPS.replace("name = \"zk\"", "name = \"zk\"\ntopology = \"t.toml\""));
        assert!(e.contains("exp.toml:6:12: variant `zk` gives both"), "{e}");
        let e = errors(&format!(
            "{APPS}[sweep]\nname = \"n\"\nset = \"a.b\"\nvalues = [1]\n"
        ));
        assert!(e.contains("`[sweep]` sets a topology override"), "{e}");
    }

    #[test]
    fn expands_placeholders() {
        let mut a = BTreeMap::new();
        a.insert("zookeeper".to_owned(), "10.0.0.1:2181".to_owned());
        a.insert("b".to_owned(), "10.0.0.2".to_owned());
        let here = Path::new("/x");
        assert_eq!(
            expand("-z={addr:zookeeper}", &a, here).unwrap(),
            "-z=10.0.0.1:2181"
        );
        assert_eq!(
            expand("{here}/c.ini {dir}/l.lp {addr:b}", &a, here).unwrap(),
            "/x/c.ini {dir}/l.lp 10.0.0.2"
        );
        assert_eq!(
            expand("{\"json\": [1]}", &a, here).unwrap(),
            "{\"json\": [1]}"
        );
        assert!(expand("{addr:c}", &a, here)
            .unwrap_err()
            .contains("no app, process or server `c`"));
        assert!(expand("{addr:b", &a, here).is_err());
        assert!(expand("{home}", &a, here)
            .unwrap_err()
            .contains("unknown placeholder `{home…`"));
    }
}

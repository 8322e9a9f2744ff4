//! App-set variants and `[zookeeper]`: reading them from the experiment file
//! (with [`super::file`]'s `file:line:column` errors) and expanding the
//! placeholders of an app's command line. Pure: no process is started here.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::file::{parse_duration, Ctx};
use super::model::{App, Count, Pos, Variant, Zookeeper};

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
    host: Option<String>,
    hosts: Option<Spanned<Vec<String>>>,
    count: Option<Spanned<toml::Value>>,
    args: Spanned<Vec<String>>,
    #[serde(default)]
    wait: bool,
    after: Option<Spanned<String>>,
}

/// `[zookeeper]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZookeeper {
    host: Option<String>,
    hosts: Option<Spanned<Vec<String>>>,
    port: Option<Spanned<i64>>,
}

/// Most servers of a `[zookeeper]` ensemble.
pub const MAX_ZK_SERVERS: usize = 7;

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
        let hosts = match (a.host, a.hosts) {
            (Some(h), None) => vec![h],
            (None, Some(list)) if !list.get_ref().is_empty() => list.into_inner(),
            (None, Some(list)) => {
                cx.error(list.span(), "`hosts` is empty");
                Vec::new()
            }
            _ => {
                cx.error(
                    a.name.span(),
                    format!("app `{name}` needs either `host` or `hosts` (its copies take them in turn)"),
                );
                Vec::new()
            }
        };
        let count = a.count.and_then(|c| count(cx, &c));
        if hosts.len() > 1 && count.is_none() {
            cx.error(
                a.name.span(),
                format!("app `{name}` gives several `hosts` but no `count` of copies"),
            );
        }
        apps.push(App {
            pos: cx.pos(a.name.span()),
            name: a.name.into_inner(),
            host: hosts.first().cloned().unwrap_or_default(),
            hosts,
            count,
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

/// An app's `count`: a whole number 1..=[`MAX_APPS`], or `"{x}"`.
fn count(cx: &mut Ctx<'_>, raw: &Spanned<toml::Value>) -> Option<Count> {
    match raw.get_ref() {
        toml::Value::Integer(n) if (1..=MAX_APPS as i64).contains(n) => {
            Some(Count::Fixed(*n as u32))
        }
        toml::Value::String(s) if s == SWEPT => Some(Count::Swept),
        other => {
            cx.error(
                raw.span(),
                format!("`count` must be a number of copies 1..={MAX_APPS} or \"{SWEPT}\" (the [sweep] value), not `{other}`"),
            );
            None
        }
    }
}

/// The placeholder for the variant's `[sweep]` value.
pub const SWEPT: &str = "{x}";

/// Makes the copies of every app of `variant` (an app set, expanded from a
/// `[sweep]` value `x` written `x_text` when it has one): an app with a
/// `count` becomes `NAME1`..`NAMEk` on its `hosts` in turn; `{x}`, `{name}`
/// (the copy's name) and `{i}` (its number, from 1) are filled in.
pub(super) fn instantiate(cx: &mut Ctx<'_>, variant: &mut Variant, x: Option<&str>) {
    let mut copies: Vec<App> = Vec::new();
    for app in std::mem::take(&mut variant.apps) {
        let n = match app.count {
            None => None,
            Some(Count::Fixed(n)) => Some(n),
            Some(Count::Swept) => match x.and_then(|t| t.parse::<u32>().ok()) {
                Some(n) if (1..=MAX_APPS as u32).contains(&n) => Some(n),
                _ => {
                    error_at(
                        cx,
                        &app.pos,
                        match x {
                            None => format!("app `{}`: `count = \"{SWEPT}\"` needs a `[sweep]`", app.name),
                            Some(t) => format!(
                                "app `{}`: the sweep value {t} is not a number of copies 1..={MAX_APPS}",
                                app.name
                            ),
                        },
                    );
                    continue;
                }
            },
        };
        let made: Vec<(String, String, u32)> = match n {
            None => vec![(app.name.clone(), app.host.clone(), 1)],
            Some(n) => (1..=n)
                .map(|i| {
                    let host = app.hosts[(i as usize - 1) % app.hosts.len().max(1)].clone();
                    (format!("{}{i}", app.name), host, i)
                })
                .collect(),
        };
        for (name, host, i) in made {
            let mut args = Vec::with_capacity(app.args.len());
            for arg in &app.args {
                if arg.contains(SWEPT) && x.is_none() {
                    error_at(
                        cx,
                        &app.pos,
                        format!(
                            "app `{}`: `{arg}` uses {SWEPT}, which needs a `[sweep]`",
                            app.name
                        ),
                    );
                }
                args.push(
                    arg.replace(SWEPT, x.unwrap_or(SWEPT))
                        .replace("{name}", &name)
                        .replace("{i}", &i.to_string()),
                );
            }
            if copies.iter().any(|c| c.name == name) {
                error_at(
                    cx,
                    &app.pos,
                    format!("variant `{}`: two apps are called `{name}`", variant.name),
                );
            }
            copies.push(App {
                name,
                host,
                hosts: Vec::new(),
                count: None,
                args,
                ..app.clone()
            });
        }
    }
    if copies.len() > MAX_APPS {
        error_at(
            cx,
            &variant.pos,
            format!(
                "variant `{}`: {} apps with their copies, more than {MAX_APPS}",
                variant.name,
                copies.len()
            ),
        );
    }
    variant.apps = copies;
}

fn error_at(cx: &mut Ctx<'_>, pos: &Pos, message: String) {
    cx.push(pos.diagnostic(message));
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
    let hosts = match (raw.host, raw.hosts) {
        (Some(h), None) => vec![h],
        (None, Some(list)) => {
            let hosts = list.get_ref();
            let twice = hosts
                .iter()
                .enumerate()
                .find(|(i, h)| hosts[..*i].contains(h));
            if hosts.is_empty() || hosts.len() > MAX_ZK_SERVERS {
                cx.error(
                    list.span(),
                    format!("`hosts` of an ensemble: 1..={MAX_ZK_SERVERS} hosts (3 or 5 survive one or two failures)"),
                );
            } else if let Some((_, h)) = twice {
                cx.error(
                    list.span(),
                    format!("`hosts`: `{h}` twice (one server per host)"),
                );
            }
            list.into_inner()
        }
        _ => {
            cx.push(pos.diagnostic(
                "[zookeeper] needs either `host` (a standalone server) or `hosts` (an ensemble)",
            ));
            Vec::new()
        }
    };
    Zookeeper { hosts, port, pos }
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
                    "`{arg}`: unknown placeholder `{{{w}…`: known are {{addr:NAME}}, {{dir}}, {{here}}, {{name}}, {{i}} and {{x}}"
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
        assert_eq!((z.hosts, z.port), (vec!["h1".to_owned()], DEFAULT_ZK_PORT));
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
        let e = errors(&APPS.replace("host = \"h1\"\n[[", "hosts = [\"h1\", \"h1\"]\n[["));
        assert!(e.contains("exp.toml:3:9: `hosts`: `h1` twice"), "{e}");
        let e = errors(&APPS.replace("host = \"h1\"\n[[", "hosts = []\n[["));
        assert!(
            e.contains("exp.toml:3:9: `hosts` of an ensemble: 1..=7 hosts"),
            "{e}"
        );
        let e = errors(&APPS.replace("host = \"h1\"\n[[", "port = 2181\n[["));
        assert!(
            e.contains("exp.toml:2:1: [zookeeper] needs either `host`"),
            "{e}"
        );
        let e = errors(&APPS.replace("wait = true", "wait = true\nhots = \"h3\""));
        assert!(e.contains("exp.toml:15:1: unknown field `hots`"), "{e}");
        let e = errors(&APPS.replace("name = \"zk\"", "name = \"zk\"\ntopology = \"t.toml\""));
        assert!(e.contains("exp.toml:6:12: variant `zk` gives both"), "{e}");
        let e = errors(&format!(
            "{APPS}[sweep]\nname = \"n\"\nset = \"a.b\"\nvalues = [1]\n"
        ));
        assert!(e.contains("`[sweep] set` is a topology override"), "{e}");
    }

    /// `count` copies an app over its `hosts`, with `{name}`, `{i}` and the
    /// sweep's `{x}` filled in, once per sweep value.
    #[test]
    fn a_swept_count_makes_copies_of_an_app() {
        let text =
            APPS.replace(
                "name = \"sub\"\nhost = \"h2\"",
                "name = \"sub\"\ncount = \"{x}\"\nhosts = [\"h2\", \"h3\"]",
            )
            .replace(
                "\"{dir}/l.lp\"",
                "\"{dir}/l.lp\", \"-n\", \"{name}\", \"--of\", \"{i}/{x}\"",
            ) + "[sweep]\nname = \"subs\"\nvalues = [1, 3]\n";
        let e = parse(&text, Path::new("exp.toml")).unwrap();
        let names: Vec<&str> = e.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["zk subs=1", "zk subs=3"]);
        let v = &e.variants[1];
        assert_eq!(v.x, Some(3.0));
        let copies: Vec<(&str, &str)> = v
            .apps
            .iter()
            .map(|a| (a.name.as_str(), a.host.as_str()))
            .collect();
        assert_eq!(
            copies,
            [
                ("disc", "h1"),
                ("sub1", "h2"),
                ("sub2", "h3"),
                ("sub3", "h2")
            ]
        );
        assert_eq!(
            v.apps[3].args[4..],
            ["-n", "sub3", "--of", "3/3"].map(String::from)
        );
        assert!(v.apps[1..].iter().all(|a| a.wait && a.count.is_none()));
        assert_eq!(e.variants[0].apps.len(), 2);
    }

    #[test]
    fn copies_and_placeholders_that_cannot_be_made_name_the_line() {
        let counted = APPS.replace("host = \"h2\"", "host = \"h2\"\ncount = \"{x}\"");
        let e = errors(&counted);
        assert!(
            e.contains("exp.toml:11:8: app `sub`: `count = \"{x}\"` needs a `[sweep]`"),
            "{e}"
        );
        let e = errors(&format!("{counted}[sweep]\nname = \"n\"\nvalues = [1.5]\n"));
        assert!(
            e.contains("exp.toml:11:8: app `sub`: the sweep value 1.5 is not a number of copies"),
            "{e}"
        );
        let e = errors(&APPS.replace("host = \"h2\"", "count = 0\nhost = \"h2\""));
        assert!(
            e.contains("exp.toml:12:9: `count` must be a number of copies 1..=64"),
            "{e}"
        );
        let e = errors(&APPS.replace("host = \"h2\"", "hosts = [\"h2\", \"h3\"]"));
        assert!(
            e.contains("exp.toml:11:8: app `sub` gives several `hosts` but no `count`"),
            "{e}"
        );
        let e = errors(&APPS.replace("host = \"h2\"\n", ""));
        assert!(
            e.contains("exp.toml:11:8: app `sub` needs either `host` or `hosts`"),
            "{e}"
        );
        let e = errors(&APPS.replace("\"{dir}/l.lp\"", "\"{x}\""));
        assert!(
            e.contains("exp.toml:11:8: app `sub`: `{x}` uses {x}, which needs a `[sweep]`"),
            "{e}"
        );
        let e = errors(&format!(
            "{APPS}[[variants]]\nname = \"t\"\ntopology = \"t.toml\"\n[sweep]\nname = \"n\"\nvalues = [1]\n"
        ));
        assert!(e.contains("`[sweep]` needs `set`"), "{e}");
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

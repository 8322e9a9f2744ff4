#!/usr/bin/env python3
"""Checks that every external command rolecall's scripts and tests call is
installed on a fresh Debian 12 by scripts/install-deps.sh.

    scripts/check-commands.py            check (exit 1, one line per problem)
    scripts/check-commands.py --used     print each command used and where

It reads the commands called by the shell scripts (scripts/, .ci/run,
examples/**/*.sh), by the Makefile's recipes and by Rust code spawning
programs (`Command::new("...")` in src/, tests/, actors/, runtime/, codecs/),
and fails when
  * a command is not listed in scripts/commands.txt (command -> package),
  * a listed package is neither in `scripts/install-deps.sh --list test` nor
    marked required (and, where dpkg knows it, of Priority: required, which
    every Debian system has, minbase included) nor marked `machine` (Docker
    Engine, which the machine kind provides with its daemon running),
  * a listed command is not found on PATH (after installing, it must be).
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Words at a command's place that are not external commands.
BUILTINS = set("""
. : [ [[ ]] alias bg bind break builtin caller case cd command compgen complete
continue declare dirs disown do done echo elif else enable esac eval exec exit
export false fc fg fi for function getopts hash help history if in jobs let
local logout mapfile popd printf pushd pwd read readarray readonly return select
set shift shopt source suspend test then time times trap true type typeset
ulimit umask unalias unset until wait while { } !
""".split())
# Words after which the next word is still at a command's place.
PREFIXES = {"exec", "command", "time", "!", "if", "then", "else", "elif", "do",
            "while", "until", "setsid", "timeout", "env", "nohup", "{", "}", "in"}
# Functions of the scripts that run their arguments as a command, and how many
# arguments come before it (scripts/servers.sh: spawn NAME CMD...).
RUNNERS = {"spawn": 1}
WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.+-]*$")


def shell_commands(text):
    """The command words of a bash script (a heuristic scanner: quotes,
    command substitutions, heredocs, case patterns, arrays, arithmetic,
    comments)."""
    lines, heredoc = [], None
    for line in text.splitlines():
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]\w*)['\"]?", line)
        if m:
            heredoc = m.group(1)
        # a case label (`  name)`, `a | b)`, `*)`): not a command
        line = re.sub(r"^\s*[\w.*\"|' -]+\)(?!\))", "", line)
        lines.append(line)
    found = []
    scan("\n".join(lines), found)
    return found


def matching(text, i):
    """The index just past the `)` closing the `(` before i."""
    depth, n = 1, len(text)
    while i < n and depth:
        c = text[i]
        if c == "'" or c == '"':
            j = text.find(c, i + 1)
            i = n if j < 0 else j
        elif c == "#" and text[i - 1] in " \t\n":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        i += 1
    return i


def scan(text, found):
    i, n = 0, len(text)
    at_cmd, word, skip = True, "", 0

    def end_word():
        nonlocal word, at_cmd, skip
        w, word = word, ""
        if not w or not at_cmd:
            return
        if skip:
            skip -= 1
            return
        if re.match(r"^\w+\+?=", w) or re.match(r"^\d*[<>]", w):
            return  # an assignment or a redirection before the command
        if w.isdigit() and found and found[-1] == "timeout":
            return  # timeout SECS CMD
        if w in PREFIXES:
            if w in ("timeout", "env", "setsid"):
                found.append(w)
            return  # the next word is the command
        found.append(w)
        if w in RUNNERS:
            skip = RUNNERS[w]  # `spawn NAME CMD...`: CMD is a command too
        else:
            at_cmd = False

    while i < n:
        c = text[i]
        if c == "#" and not word:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("((", i) or text.startswith("$((", i):
            j = text.find("))", i)
            i = n if j < 0 else j + 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            word += "S"
            i = n if j < 0 else j + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 2
                elif text.startswith("$(", j) and not text.startswith("$((", j):
                    k = matching(text, j + 2)
                    scan(text[j + 2:k - 1], found)
                    j = k
                else:
                    j += 1
            word += "S"
            i = j + 1
            continue
        if c == "\\":
            if text[i + 1:i + 2] != "\n":
                word += text[i + 1:i + 2]
            i += 2
            continue
        if text.startswith("${", i):
            depth, j = 0, i + 1
            while j < n:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            word += "S"
            i = j
            continue
        if text.startswith("$(", i):
            k = matching(text, i + 2)
            scan(text[i + 2:k - 1], found)
            word += "S"
            i = k
            continue
        if c == "(" and word.endswith("="):
            i = matching(text, i + 1)  # an array: its elements are words
            word += "S"
            continue
        if c in " \t":
            end_word()
            i += 1
            continue
        if c in "|;&(){}`\n":
            end_word()
            at_cmd, skip = True, 0
            i += 2 if text[i:i + 2] in ("||", "&&", ";;") else 1
            continue
        if c in "<>" and not word:
            # a redirection: skip its target word
            j = i
            while j < n and text[j] in "<>&0123456789":
                j += 1
            while j < n and text[j] in " \t":
                j += 1
            while j < n and text[j] not in " \t;|&)\n":
                j += 1
            i = j
            continue
        word += c
        i += 1
    end_word()


def makefile_recipes(text):
    """The Makefile's recipe lines (and define bodies) as shell text."""
    out, in_define = [], False
    for line in text.splitlines():
        if line.startswith("define "):
            in_define = True
            continue
        if line.startswith("endef"):
            in_define = False
            continue
        if line.startswith("\t") or in_define:
            line = line.lstrip("\t@")
            line = line.replace("$(CARGO)", "cargo").replace("$(MAKE)", "make")
            line = re.sub(r"\$\((\w+)\)", "S", line)
            out.append(line.replace("$$", "$"))
    return "\n".join(out)


def rust_commands(text):
    """Programs spawned by name or absolute path (not the repository's own
    scripts, which are read themselves)."""
    names = re.findall(r'Command::new\(\s*"([^"]+)"', text)
    return [os.path.basename(m) for m in names if "/" not in m or m.startswith("/")]


def sources():
    """(path, kind) of every file to read."""
    for path in ("Makefile", ".ci/run"):
        if os.path.exists(os.path.join(ROOT, path)):
            yield path, "make" if path == "Makefile" else "sh"
    skip = {"target", ".tools", ".git", "node_modules"}
    for top in ("scripts", "examples", "src", "tests", "actors", "runtime", "codecs"):
        for d, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(x for x in dirs if x not in skip)
            for f in sorted(files):
                rel = os.path.relpath(os.path.join(d, f), ROOT)
                if f.endswith(".sh"):
                    yield rel, "sh"
                elif f.endswith(".rs"):
                    yield rel, "rs"


def used_commands():
    used = {}
    for rel, kind in sources():
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            text = f.read()
        if kind == "rs":
            words = rust_commands(text)
        else:
            if kind == "make":
                text = makefile_recipes(text)
            defined = set(re.findall(r"^\s*([A-Za-z_][\w-]*)\s*\(\)", text, re.M))
            # Functions of the scripts it sources from its own folder
            # (`. "$(dirname "$0")/common.sh"`) are defined too.
            for lib in re.findall(r'^\s*(?:\.|source)\s+"\$\(dirname "\$0"\)/([\w.-]+)"', text, re.M):
                lib_path = os.path.join(ROOT, os.path.dirname(rel), lib)
                if os.path.exists(lib_path):
                    with open(lib_path, encoding="utf-8") as f:
                        defined |= set(re.findall(r"^\s*([A-Za-z_][\w-]*)\s*\(\)", f.read(), re.M))
            words = [w for w in shell_commands(text) if w not in defined]
        for w in words:
            if w in BUILTINS or not WORD.match(w) or w.startswith("S"):
                continue
            used.setdefault(w, []).append(rel)
    return used


def table():
    rows = {}
    with open(os.path.join(ROOT, "scripts/commands.txt"), encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            if len(line) != 3 or line[2] not in ("required", "install-deps", "rustup", "machine"):
                sys.exit(f"scripts/commands.txt:{no}: expected 'COMMAND PACKAGE required|install-deps|rustup|machine'")
            rows[line[0]] = (line[1], line[2], no)
    return rows


def main():
    used = used_commands()
    if sys.argv[1:] == ["--used"]:
        for cmd in sorted(used):
            print(f"{cmd}: {', '.join(sorted(set(used[cmd])))}")
        return 0
    rows = table()
    listed = subprocess.run([os.path.join(ROOT, "scripts/install-deps.sh"), "--list", "test"],
                            check=True, capture_output=True, text=True).stdout.split()
    problems = []
    for cmd in sorted(used):
        if cmd not in rows:
            where = ", ".join(sorted(set(used[cmd])))
            problems.append(f"{where}: calls '{cmd}', which scripts/commands.txt does not map to a package")
    for cmd, (pkg, how, no) in sorted(rows.items()):
        at = f"scripts/commands.txt:{no}"
        if how == "install-deps" and pkg not in listed:
            problems.append(f"{at}: '{cmd}' comes from {pkg}, which scripts/install-deps.sh does not install")
        if how == "required":
            q = subprocess.run(["dpkg-query", "-W", "-f=${Priority}", pkg],
                               capture_output=True, text=True)
            if q.returncode == 0 and q.stdout.strip() != "required":
                problems.append(f"{at}: {pkg} is not of priority required (not in every Debian): "
                                "install it in scripts/install-deps.sh")
        if shutil.which(cmd) is None:
            if how == "machine" and not os.environ.get("CI"):
                # As the container tests: outside CI a machine without Docker
                # Engine skips them (with a message); in CI it must have it.
                print(f"check-commands: note: {at}: '{cmd}' is not on PATH; the tests that need it "
                      "skip outside CI", file=sys.stderr)
                continue
            problems.append(f"{at}: '{cmd}' is not on PATH (is {pkg} installed? scripts/install-deps.sh test)")
    for p in problems:
        print(f"check-commands: {p}", file=sys.stderr)
    if not problems:
        print(f"check-commands: {len(used)} commands used, each installed ({len(rows)} listed)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

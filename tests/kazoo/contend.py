#!/usr/bin/env python3
"""A kazoo contender beside rolecall actors, driven over stdin/stdout.

    contend.py SERVERS PATH IDENTIFIER lock|election

lock:      acquires kazoo's Lock(PATH, IDENTIFIER); prints "acquired"; on the
           line "release" releases it, prints "released" and exits.
election:  runs kazoo's Election(PATH, IDENTIFIER); prints "leader" when
           elected and keeps leading until stdin closes.
Any mode:  the line "contenders" prints "contenders a,b,c" (kazoo's view).
Every line is flushed, so the test reads them as they come.
"""
import sys
import threading

from kazoo.client import KazooClient


def say(*words):
    print(*words, flush=True)


def main():
    servers, path, identifier, mode = sys.argv[1:5]
    zk = KazooClient(hosts=servers, timeout=4.0)
    zk.start(timeout=10)
    say("connected")
    recipe = zk.Lock(path, identifier) if mode == "lock" else zk.Election(path, identifier)
    done = threading.Event()

    def commands():
        for line in sys.stdin:
            line = line.strip()
            if line == "contenders":
                say("contenders", ",".join(recipe.contenders()))
            elif line == "release" and mode == "lock":
                recipe.release()
                say("released")
                break
        done.set()

    threading.Thread(target=commands, daemon=True).start()
    if mode == "lock":
        recipe.acquire()
        say("acquired")
        done.wait()
    else:
        def lead():
            say("leader")
            done.wait()

        runner = threading.Thread(target=recipe.run, args=(lead,), daemon=True)
        runner.start()
        done.wait()
    zk.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A course-style barrier member written with kazoo.

    barrier.py SERVERS PATH NAME SIZE

Waits until PATH exists, creates the ephemeral child PATH/NAME, waits until
PATH has SIZE children, prints "released"; on the stdin line "leave" (once
everyone is through: cleanup comes after the release) deletes its child and
prints "left".
"""
import sys
import threading

from kazoo.client import KazooClient


def say(*words):
    print(*words, flush=True)


def main():
    servers, path, name, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    zk = KazooClient(hosts=servers, timeout=4.0)
    zk.start(timeout=10)
    say("connected")
    changed = threading.Event()

    def wake(*_):
        changed.set()

    while not zk.exists(path, watch=wake):
        changed.wait(30)
        changed.clear()
    zk.create(path + "/" + name, name.encode(), ephemeral=True)
    say("entered")
    while True:
        changed.clear()
        if len(zk.get_children(path, watch=wake)) >= size:
            break
        changed.wait(30)
    say("released")
    for line in sys.stdin:
        if line.strip() == "leave":
            break
    zk.delete(path + "/" + name)
    say("left")
    zk.stop()


if __name__ == "__main__":
    main()

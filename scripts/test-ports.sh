#!/usr/bin/env bash
# The tests and examples bind fixed ports in 33000-36999 and 50000, inside
# Linux's ephemeral range (32768-60999): another test's outgoing connection
# can be given one of them as its source port, and a bind then fails with
# "Address already in use" (seen once in a `make test` run). During the tests
# those ports are reserved (net.ipv4.ip_local_reserved_ports: the kernel does
# not hand them out as ephemeral ports; explicit binds still work), and the
# machine's own setting is put back afterwards.
#
#   scripts/test-ports.sh reserve   save the setting, add the test ports
#   scripts/test-ports.sh restore   put the saved setting back
#
# Where the setting cannot be written (not root, a read-only /proc/sys in a
# container), it says so and the tests run without the reservation.
set -u
knob=/proc/sys/net/ipv4/ip_local_reserved_ports
saved="${ROLECALL_TEST_DIR:-target/test-servers}/reserved_ports.saved"
ports="33000-36999,50000"

case "${1:-}" in
  reserve)
    mkdir -p "$(dirname "$saved")"
    current="$(cat "$knob" 2>/dev/null)" || { echo "test ports: $knob unreadable; not reserved"; exit 0; }
    # A reservation left by an interrupted run is not saved as the machine's.
    [ -f "$saved" ] || printf '%s\n' "$current" >"$saved"
    machine="$(cat "$saved")"
    if (printf '%s\n' "${machine:+$machine,}$ports" >"$knob") 2>/dev/null; then
      echo "test ports: $ports reserved from ephemeral use (was: ${machine:-none})"
    else
      rm -f "$saved"
      echo "test ports: cannot write $knob (not root, or /proc/sys read-only): a test may, rarely, find its port taken"
    fi
    ;;
  restore)
    [ -f "$saved" ] || exit 0
    if (cat "$saved" >"$knob") 2>/dev/null; then
      rm -f "$saved"
    else
      echo "test ports: cannot restore $knob from $saved" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 reserve|restore" >&2
    exit 2
    ;;
esac

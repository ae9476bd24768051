#!/usr/bin/env bash
# Stop the local SLURM cluster started by tools/local-slurm/start.sh.
# Each daemon is stopped by the pid in its pid file (never pkill/killall:
# other SLURM/munge/mariadb processes on the machine are not ours to kill).
#
#   stop.sh           cancel jobs, stop slurmd, slurmctld, slurmdbd, mariadbd, munged
#   stop.sh --purge   ... and wipe all state: slurmctld state, slurmd spool,
#                     accounting DB, logs (config and munge key are kept;
#                     start.sh regenerates/reuses them)
# Idempotent: daemons that are not running are skipped.
set -uo pipefail   # no -e: keep stopping the rest if one step fails

STATE=/var/lib/ffnscope-slurm
RUN=/run/ffnscope-slurm
PURGE=0
case "${1:-}" in
  --purge) PURGE=1 ;;
  "") ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac
T0=$(date +%s%3N)
elapsed() { local ms=$(( $(date +%s%3N) - T0 )); printf '%d.%d' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }
log() { printf '[local-slurm stop %5ss] %s\n' "$(elapsed)" "$*"; }
[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }

# same lock as start.sh: do not stop while a start is half-way
exec 9>/run/ffnscope-local-slurm.lock
flock -w 300 9 || { log "lock held by another run"; exit 1; }

# alive <pid>: exists and is not a zombie. Daemons are re-parented to pid 1,
# which in containers may reap them only after a delay: a zombie has exited.
# (all threads checked: a leader thread can be a zombie while others still
# run; no `cat | grep -q` pipe: with pipefail, grep -q quitting early gives
# cat SIGPIPE and the pipe "fails" even though the process is alive)
alive() { grep -qs '^State:[[:space:]]*[^Z[:space:]]' /proc/"$1"/task/*/status; }
rc=0
# stop_pid <pidfile> <comm>: SIGTERM, wait up to 30 s, then SIGKILL.
# Checks /proc/<pid>/comm so a stale pid file never kills a reused pid.
stop_pid() {
  local p; p=$(cat "$1" 2>/dev/null) || { log "$2: not running (no pid file)"; return 0; }
  if [ -z "$p" ] || [ "$(cat /proc/"$p"/comm 2>/dev/null)" != "$2" ]; then
    log "$2: not running (stale pid file)"; rm -f "$1"; return 0; fi
  kill "$p"
  for _ in $(seq 1 300); do
    alive "$p" || { log "$2 (pid $p) stopped"; rm -f "$1"; return 0; }; sleep 0.1; done
  kill -9 "$p" 2>/dev/null; log "$2 (pid $p) did not stop in 30 s: killed"; rm -f "$1"; rc=1
}

# Cancel jobs first, while slurmctld/slurmd are up, so their processes are
# killed by slurmstepd instead of being orphaned when slurmd goes away.
if [ -s "$RUN/slurmctld.pid" ] && scontrol ping >/dev/null 2>&1; then
  ids=$(squeue -h -t PD,R,CG,S -o %A 2>/dev/null | tr '\n' ' ')
  if [ -n "${ids// /}" ]; then
    log "cancelling jobs: $ids"; scancel $ids
    for _ in $(seq 1 40); do [ -z "$(squeue -h -t PD,R,CG,S -o %A 2>/dev/null)" ] && break; sleep 0.5; done
  fi
fi

# reverse start order: slurmd, slurmctld (it flushes accounting to slurmdbd
# on exit), slurmdbd, then the DB and munge everything above depends on
stop_pid "$RUN/slurmd.pid"    slurmd
stop_pid "$RUN/slurmctld.pid" slurmctld
stop_pid "$RUN/slurmdbd.pid"  slurmdbd
stop_pid /run/mysqld/mysqld.pid mariadbd
stop_pid /run/munge/munged.pid munged

if [ $PURGE = 1 ]; then
  # the accounting DB lives in $STATE/mysql: wiping it together with
  # slurmctld's state keeps job ids (restarting at 1) and sacct consistent
  rm -rf "${STATE:?}"
  log "state purged ($STATE)"
fi
log "done in $(elapsed)s"
exit $rc

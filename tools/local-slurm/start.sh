#!/usr/bin/env bash
# Install (if needed) and start a real single-node SLURM cluster on this
# machine, without systemd, for running the workflow with
# `snakemake --profile slurm` locally and in CI.
#
#   munged -> mariadbd -> slurmdbd -> slurmctld -> slurmd
#
# Partitions: `cpu` (default) and `gpu`, both on this one node. The node gets
# fake GPUs (Gres=gpu:N without device files) so that `resources: gpu=1` jobs
# are scheduled and accounted (sacct AllocTRES shows gres/gpu=1) like on a real
# cluster; nothing actually uses a GPU.
#
# Idempotent: re-running only starts what is not running, and restarts
# slurmctld/slurmd (or slurmdbd) if the generated config changed.
# Stop with tools/local-slurm/stop.sh (by pid file; --purge also wipes state).
# Debian 12 (slurm-wlm 22.05), must run as root.
#
# Env knobs:
#   SLURM_FAKE_GPUS=N      number of fake GPUs of the node (default 2, so two
#                          GPU jobs can run side by side); 0: no GPU gres
#   SLURM_NODE_CPUS=N      override detected CPU count of the node
#   SLURM_NODE_MEM_MB=N    override the node's RealMemory (default: 90% of the
#                          smaller of physical RAM and the cgroup limit)
#   SLURM_WAIT_S=60        seconds to wait for each daemon / the node
set -euo pipefail

FAKE_GPUS=${SLURM_FAKE_GPUS:-2}
[[ "$FAKE_GPUS" =~ ^[0-9]+$ ]] || { echo "SLURM_FAKE_GPUS must be a number, got '$FAKE_GPUS'" >&2; exit 2; }
WAIT_S=${SLURM_WAIT_S:-60}
# All runtime state (slurmctld state, slurmd spool, accounting DB, logs) lives
# under one root so that `stop.sh --purge` can wipe it with one rm.
STATE=/var/lib/ffnscope-slurm
LOGS=$STATE/log
RUN=/run/ffnscope-slurm          # slurm daemons' pid files
DB_PASS=slurmdbpass              # local-only throwaway password (DB has no TCP port)

T0=$(date +%s%3N)   # epoch milliseconds
elapsed() { local ms=$(( $(date +%s%3N) - T0 )); printf '%d.%d' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }
log() { printf '[local-slurm start %5ss] %s\n' "$(elapsed)" "$*"; }
die() { log "ERROR: $*" >&2; log "FAILED after $(elapsed)s" >&2; exit 1; }
# fail <daemon> <logfile> <message>: show the daemon's own log, then die
FAIL_HINT=""   # optional extra command whose output fail() shows
fail() { echo "----- tail of $2 -----" >&2; tail -n 25 "$2" >&2 2>/dev/null || echo "(no log)" >&2
         if [ -n "$FAIL_HINT" ]; then echo "----- $FAIL_HINT -----" >&2; bash -c "$FAIL_HINT" >&2 2>&1; fi
         echo "-----" >&2; die "$1: $3"; }

[ "$(id -u)" = 0 ] || die "must run as root"
# Serialise concurrent start/stop runs. Every daemon is started with `9>&-`
# so it does not inherit this fd: otherwise the daemon would hold the lock
# forever and the next start/stop would block.
exec 9>/run/ffnscope-local-slurm.lock
flock -w 300 9 || die "lock /run/ffnscope-local-slurm.lock held by another run"
POLICY_ADDED=""; NEW_GRES=""; NEW_CONF=""; NEW_DBD=""
cleanup() { rm -f "$NEW_GRES" "$NEW_CONF" "$NEW_DBD"; if [ -n "$POLICY_ADDED" ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

# ------------------------------------------------------------------ install
PKGS=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  # No systemd: stop the packages' maintainer scripts from trying to start
  # (and half-configure) their services; we start every daemon ourselves.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    POLICY_ADDED=1   # removed again by the EXIT trap
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
  log "install done"
else
  log "packages already installed"
fi

# ------------------------------------------------------------------ config
H=$(hostname -s)
# slurmctld/slurmd must resolve the node name; containers often lack it.
getent hosts "$H" >/dev/null || { echo "127.0.0.1 $H" >> /etc/hosts; log "added $H to /etc/hosts"; }

mkdir -p /run/munge "$RUN" "$STATE"/{ctld,spool} "$LOGS"
chown munge:munge /run/munge; chmod 0755 /run/munge
# slurmctld and slurmdbd run as SlurmUser=slurm and write pid/state/log files
chown slurm:slurm "$RUN" "$STATE/ctld" "$LOGS"
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --force >/dev/null 2>&1 || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
fi

# Node resources. slurmd drains the node ("Low RealMemory", INVAL) if the
# config claims more than it detects, and a job asking for more than the
# config offers pends forever, so the config must match the machine:
# take slurmd's own view, but cap memory by the cgroup limit (in a container
# /proc/meminfo shows the host's RAM) and keep 10% headroom for the OS and
# the daemons themselves.
HW=$(slurmd -C | head -1)
hw() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$HW"; }
CPUS=$(hw CPUs)
MEM=$(hw RealMemory)
CG=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo max)
[[ "$CG" =~ ^[0-9]+$ ]] && [ $(( CG / 1048576 )) -lt "$MEM" ] && MEM=$(( CG / 1048576 ))
MEM=${SLURM_NODE_MEM_MB:-$(( MEM * 9 / 10 ))}
NCPU=${SLURM_NODE_CPUS:-$(nproc)}
if [ "$NCPU" -lt "$CPUS" ]; then
  # fewer CPUs usable than the hardware has (cpuset/affinity or override):
  # give a flat CPU count; a socket/core layout would no longer add up.
  TOPO="CPUs=$NCPU"; CPUS=$NCPU
else
  TOPO="CPUs=$CPUS Boards=$(hw Boards) SocketsPerBoard=$(hw SocketsPerBoard) CoresPerSocket=$(hw CoresPerSocket) ThreadsPerCore=$(hw ThreadsPerCore)"
fi

GRES_NODE=""; GRES_GLOBAL=""; ACCT_TRES=""
NEW_GRES=$(mktemp); NEW_CONF=$(mktemp); NEW_DBD=$(mktemp)
if [ "$FAKE_GPUS" -gt 0 ]; then
  GRES_NODE=" Gres=gpu:$FAKE_GPUS"
  GRES_GLOBAL='GresTypes=gpu'
  # AccountingStorageTRES: without it sacct's AllocTRES has no gres/gpu
  # (slurmctld only accepts this with slurmdbd accounting, which we have).
  ACCT_TRES='AccountingStorageTRES=gres/gpu'
  # AutoDetect=off: no NVML here. slurmd counts a node's GPUs from their
  # device files (Count alone reports 0 and the node goes INVAL), so each fake
  # GPU is an empty file: it only has to exist (task/none binds nothing).
  mkdir -p "$STATE/fake-gpu"
  for i in $(seq 0 $(( FAKE_GPUS - 1 ))); do
    touch "$STATE/fake-gpu/gpu$i"
  done
  printf 'AutoDetect=off\nNodeName=%s Name=gpu File=%s/fake-gpu/gpu[0-%d]\n' "$H" "$STATE" $(( FAKE_GPUS - 1 )) > "$NEW_GRES"
fi

cat > "$NEW_CONF" <<EOF
# generated by tools/local-slurm/start.sh -- do not edit, re-run the script
ClusterName=localcluster
SlurmctldHost=$H(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
# no cgroup plugins: they need a writable, delegated cgroup tree (systemd)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# a node that was DOWN comes back by itself when slurmd registers again
ReturnToService=2
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmdSpoolDir=$STATE/spool
StateSaveLocation=$STATE/ctld
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SchedulerType=sched/backfill
# allocate cores and memory individually so several jobs share the node
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
# keep finished jobs visible in squeue/scontrol for 5 min
MinJobAge=300
# reject (sbatch fails at once) requests no partition/node can ever satisfy,
# instead of leaving them PENDING forever
EnforcePartLimits=ALL
$GRES_GLOBAL
# sacct (used by the snakemake slurm plugin to poll job states) needs slurmdbd;
# without it the plugin waits forever and logs why only at debug level
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
$ACCT_TRES
# store the job comment: the snakemake plugin puts the rule name there (its
# job names are the run's UUID), so sacct -o JobID,Comment shows the rule
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
NodeName=$H NodeAddr=127.0.0.1 $TOPO RealMemory=$MEM$GRES_NODE State=UNKNOWN
PartitionName=cpu Nodes=$H Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$H Default=NO MaxTime=INFINITE State=UP
EOF

cat > "$NEW_DBD" <<EOF
# generated by tools/local-slurm/start.sh
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
PidFile=$RUN/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
StorageType=accounting_storage/mysql
# "localhost" = the default unix socket /run/mysqld/mysqld.sock
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF

# install <new> <dest> <mode> [owner]: replace dest only if content differs;
# returns 0 if it changed (so the daemon that reads it must be restarted)
install_if_changed() {
  if cmp -s "$1" "$2"; then return 1; fi
  install -m "$3" ${4:+-o "${4%:*}" -g "${4#*:}"} "$1" "$2"; log "wrote $2"; return 0
}
CONF_CHANGED=0; DBD_CHANGED=0
install_if_changed "$NEW_CONF" /etc/slurm/slurm.conf 0644 && CONF_CHANGED=1
if [ "$FAKE_GPUS" -gt 0 ]; then install_if_changed "$NEW_GRES" /etc/slurm/gres.conf 0644 && CONF_CHANGED=1
elif [ -e /etc/slurm/gres.conf ]; then rm -f /etc/slurm/gres.conf; CONF_CHANGED=1; fi
# slurmdbd refuses to start unless its config (it holds the DB password) is
# owned by SlurmUser and not readable by others
install_if_changed "$NEW_DBD" /etc/slurm/slurmdbd.conf 0600 slurm:slurm && DBD_CHANGED=1

# ------------------------------------------------------------------ daemons
# alive <pid>: exists and is not a zombie (daemons are re-parented to pid 1,
# which in containers may reap them late; a zombie has already exited)
# (all threads checked: a leader thread can be a zombie while others still
# run; no `cat | grep -q` pipe: with pipefail, grep -q quitting early gives
# cat SIGPIPE and the pipe "fails" even though the process is alive)
alive() { grep -qs '^State:[[:space:]]*[^Z[:space:]]' /proc/"$1"/task/*/status; }
# running <pidfile> <comm>: the pid in pidfile is alive AND is <comm> (a stale
# pid file after a reboot/container restart may name some unrelated process)
running() { local p; p=$(cat "$1" 2>/dev/null) || return 1
            [ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$2" ] && alive "$p"; }
stop_pid() { local p; p=$(cat "$1" 2>/dev/null) || return 0; kill "$p" 2>/dev/null || return 0
  for _ in $(seq 1 300); do alive "$p" || return 0; sleep 0.1; done; kill -9 "$p" 2>/dev/null || true; }
# wait_up <name> <pidfile> <comm> <log> <check...>: poll <check> until it
# succeeds; fail at once (with the log) if the daemon's process has died,
# or after WAIT_S seconds
wait_up() { local name=$1 pf=$2 comm=$3 lf=$4; shift 4
  for _ in $(seq 1 $(( WAIT_S * 4 ))); do
    "$@" >/dev/null 2>&1 && return 0
    # pid file may appear a moment after the daemon forks: allow 3 s grace
    if [ "$SECONDS" -gt "$(( START_S + 3 ))" ] && ! running "$pf" "$comm"; then
      fail "$name" "$lf" "died during start-up"; fi
    sleep 0.25
  done
  fail "$name" "$lf" "not ready after ${WAIT_S}s"; }
# start <name> <pidfile> <comm> <log> <cmd...>: start cmd unless running
start() { local name=$1 pf=$2 comm=$3 lf=$4; shift 4; START_S=$SECONDS
  if running "$pf" "$comm"; then log "$name already running (pid $(cat "$pf"))"; return 0; fi
  rm -f "$pf"
  # `9>&-`: do not hand the lock fd to the daemon (see flock above)
  "$@" 9>&- || fail "$name" "$lf" "exited with status $? at start"
  log "$name started"; }

# munge: authentication for every slurm RPC. Its pid file stays in
# /run/munge: munged refuses ("PIDfile is insecure") a pid file in a
# directory owned by another user (slurm owns $RUN).
start munged /run/munge/munged.pid munged /var/log/munge/munged.log \
  runuser -u munge -- /usr/sbin/munged
wait_up munged /run/munge/munged.pid munged /var/log/munge/munged.log bash -c 'munge -n | unmunge'

# mariadb with its own datadir under $STATE (so --purge wipes the accounting
# DB together with slurmctld's state: job ids restart at 1 and must not clash
# with old DB rows) and no TCP port (slurmdbd talks over the unix socket).
DB_DIR=$STATE/mysql
if [ ! -d "$DB_DIR/mysql" ]; then
  log "initialising mariadb datadir $DB_DIR"
  mkdir -p "$DB_DIR"; chown mysql:mysql "$DB_DIR"
  mariadb-install-db --user=mysql --datadir="$DB_DIR" --skip-test-db \
    >"$LOGS/mariadb-install.log" 2>&1 || fail mariadb "$LOGS/mariadb-install.log" "mariadb-install-db failed"
fi
# pid file in /run/mysqld (owned by mysql): mariadbd writes it after
# dropping to user mysql, so it cannot use $RUN (owned by slurm)
mkdir -p /run/mysqld; chown mysql:mysql /run/mysqld
# mariadbd drops to user mysql before opening its error log, and $LOGS
# belongs to slurm: pre-create the log file for it
touch "$LOGS/mariadb.log"; chown mysql:mysql "$LOGS/mariadb.log"
START_S=$SECONDS
if running /run/mysqld/mysqld.pid mariadbd; then log "mariadbd already running (pid $(cat /run/mysqld/mysqld.pid))"
else
  # /run/mysqld/mysqld.sock is the default socket of every client (and of
  # slurmdbd), so a second, foreign mariadb on this machine would clash.
  mariadb-admin ping >/dev/null 2>&1 && die "another mariadb already listens on /run/mysqld/mysqld.sock; stop it first"
  rm -f /run/mysqld/mysqld.pid
  # setsid+nohup: mariadbd does not daemonise itself; detach it from our
  # session so it survives this script (and CI step) ending
  setsid nohup /usr/sbin/mariadbd --user=mysql --datadir="$DB_DIR" --skip-networking \
    --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid \
    --log-error="$LOGS/mariadb.log" >/dev/null 2>&1 </dev/null 9>&- &
  log "mariadbd started"
fi
wait_up mariadbd /run/mysqld/mysqld.pid mariadbd "$LOGS/mariadb.log" mariadb-admin ping
mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
  CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

if [ $DBD_CHANGED = 1 ] && running "$RUN/slurmdbd.pid" slurmdbd; then
  stop_pid "$RUN/slurmdbd.pid"; log "slurmdbd stopped (config changed)"; fi
start slurmdbd "$RUN/slurmdbd.pid" slurmdbd "$LOGS/slurmdbd.log" /usr/sbin/slurmdbd
wait_up slurmdbd "$RUN/slurmdbd.pid" slurmdbd "$LOGS/slurmdbd.log" sacctmgr -n show cluster

# slurmctld/slurmd read slurm.conf only at start (scontrol reconfigure does
# not apply node/gres changes), so restart both when it changed
if [ $CONF_CHANGED = 1 ]; then
  running "$RUN/slurmd.pid" slurmd && { stop_pid "$RUN/slurmd.pid"; log "slurmd stopped (config changed)"; }
  running "$RUN/slurmctld.pid" slurmctld && { stop_pid "$RUN/slurmctld.pid"; log "slurmctld stopped (config changed)"; }
fi
start slurmctld "$RUN/slurmctld.pid" slurmctld "$LOGS/slurmctld.log" /usr/sbin/slurmctld
wait_up slurmctld "$RUN/slurmctld.pid" slurmctld "$LOGS/slurmctld.log" scontrol ping
start slurmd "$RUN/slurmd.pid" slurmd "$LOGS/slurmd.log" /usr/sbin/slurmd -N "$H"

# ------------------------------------------------------------------ node up
node_ok() {
  local st; st=$(sinfo -h -n "$H" -o '%T' 2>/dev/null | head -1)
  case "$st" in
    idle|mixed|allocated|completing) return 0 ;;
    # left drained/down by an earlier run (e.g. killed slurmd): resume it.
    # (INVAL = config does not match the hardware: cannot be resumed)
    drain*|down*|fail*) scontrol update nodename="$H" state=resume >/dev/null 2>&1 ;;
  esac
  return 1; }
START_S=$SECONDS
# why a node is not usable (e.g. "Low RealMemory") is logged by slurmctld
FAIL_HINT="sinfo -N -o '%N %T %E'; grep -i 'node $H\|$H' $LOGS/slurmctld.log | tail -n 5"
wait_up "slurmd (node $H)" "$RUN/slurmd.pid" slurmd "$LOGS/slurmd.log" node_ok
FAIL_HINT=""
# the cluster row is registered in slurmdbd by slurmctld; until then sacct
# (and so the snakemake plugin) fails
wait_up "sacct via slurmdbd" "$RUN/slurmdbd.pid" slurmdbd "$LOGS/slurmdbd.log" sacct -n -X -S now-1minute

log "ready in $(elapsed)s: node $H, $CPUS CPUs, ${MEM} MB, fake GPUs: $FAKE_GPUS"
sinfo -o '%P %a %N %T %c %m %G'

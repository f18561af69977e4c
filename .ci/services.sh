#!/usr/bin/env bash
# Starts and stops the services the end-to-end test needs, on loopback only:
#   a one-node Slurm cluster (munged, slurmctld, slurmd) and moto (S3).
# Why a script of its own: CI and a developer both need to bring these up and, above all,
# down again without systemd (these machines have none) and without leaving daemons behind.
#
#   .ci/services.sh start-slurm      install if missing, configure, start, wait until idle
#   .ci/services.sh stop-slurm       cancel our jobs, stop slurmd, slurmctld (and munged if ours)
#   .ci/services.sh start-moto PORT  moto_server -H 127.0.0.1 -p PORT from .tools/moto-venv
#   .ci/services.sh stop-moto
#   .ci/services.sh stop-all
#   .ci/services.sh free-port        print a free loopback TCP port
#   .ci/services.sh env              print the exports a client shell needs (SLURM_CONF)
#
# Slurm's configuration, state, logs and pid files live in $PHOTOPRESS_SLURM_STATE
# (default /tmp/photopress-slurm); clients find it through SLURM_CONF=<state>/slurm.conf, so
# nothing under /etc/slurm is written. Ports: $PHOTOPRESS_SLURMCTLD_PORT (6817) and
# $PHOTOPRESS_SLURMD_PORT (6818). moto's pid file and log: $PHOTOPRESS_MOTO_STATE
# (default /tmp/photopress-moto); its binary: $PHOTOPRESS_MOTO_SERVER, else
# <repo>/.tools/moto-venv/bin/moto_server (made by scripts/install-deps.sh).
# Every start first stops what an earlier start left, so running it twice restarts.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SLURM_STATE="${PHOTOPRESS_SLURM_STATE:-/tmp/photopress-slurm}"
CTLD_PORT="${PHOTOPRESS_SLURMCTLD_PORT:-6817}"
SLURMD_PORT="${PHOTOPRESS_SLURMD_PORT:-6818}"
MOTO_STATE="${PHOTOPRESS_MOTO_STATE:-/tmp/photopress-moto}"
MOTO_SERVER="${PHOTOPRESS_MOTO_SERVER:-$ROOT/.tools/moto-venv/bin/moto_server}"
SLURM_WAIT_S="${PHOTOPRESS_SLURM_WAIT_S:-60}"
export SLURM_CONF="$SLURM_STATE/slurm.conf"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

log() { echo "[services] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Is the process in this pid file alive?
pid_alive() {
    local f=$1 pid
    [ -s "$f" ] || return 1
    pid=$(cat "$f" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# Stops the processes named by pid files, all at once: SIGTERM, up to $1 seconds, then SIGKILL.
stop_pidfiles() {
    local wait_s=$1 f pid i pids=() alive
    shift
    for f in "$@"; do
        if pid_alive "$f"; then
            pid=$(cat "$f")
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
        rm -f "$f"
    done
    for ((i = 0; i < wait_s * 10; i++)); do
        alive=()
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive+=("$pid")
        done
        [ ${#alive[@]} -eq 0 ] && return 0
        sleep 0.1
    done
    log "pids ${alive[*]} did not stop in ${wait_s}s: SIGKILL"
    kill -KILL "${alive[@]}" 2>/dev/null || true
    sleep 0.2
}

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

dump_logs() {
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "----- $f (last 40 lines) -----" >&2
        tail -n 40 "$f" >&2
    done
}

# ---------------------------------------------------------------- Slurm

install_slurm() {
    local missing=()
    command -v slurmctld >/dev/null 2>&1 || missing+=(slurmctld)
    command -v slurmd >/dev/null 2>&1 || missing+=(slurmd)
    command -v sbatch >/dev/null 2>&1 || missing+=(slurm-client)
    command -v munged >/dev/null 2>&1 || missing+=(munge)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# munged is shared by whatever else uses munge on this machine: reuse a running one, and
# start (and later stop) our own only when there is none.
start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        return 0
    fi
    if [ ! -s /etc/munge/munge.key ]; then
        log "creating /etc/munge/munge.key"
        $SUDO mkdir -p /etc/munge
        if command -v mungekey >/dev/null 2>&1; then
            $SUDO mungekey --create --keyfile=/etc/munge/munge.key
        else
            $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
    fi
    $SUDO chown munge:munge /etc/munge /etc/munge/munge.key
    $SUDO chmod 0700 /etc/munge
    $SUDO chmod 0400 /etc/munge/munge.key
    $SUDO mkdir -p /run/munge /var/lib/munge /var/log/munge
    $SUDO chown munge:munge /run/munge /var/lib/munge /var/log/munge
    $SUDO chmod 0755 /run/munge
    $SUDO runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    local i
    for ((i = 0; i < 50; i++)); do
        if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
            cp /run/munge/munged.pid "$SLURM_STATE/munged.pid"
            return 0
        fi
        sleep 0.1
    done
    dump_logs /var/log/munge/munged.log
    die "munged does not answer"
}

write_slurm_conf() {
    local cpus
    cpus=$(nproc)
    mkdir -p "$SLURM_STATE/ctld" "$SLURM_STATE/spool"
    cat >"$SLURM_CONF" <<EOF
# Written by .ci/services.sh: a one-node cluster on loopback for photopress's CI.
ClusterName=photopress
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# Without slurmdbd there is no sacct; the completion log is where an array task's exit code
# stays readable after the job has left squeue.
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_STATE/jobcomp.log
StateSaveLocation=$SLURM_STATE/ctld
SlurmdSpoolDir=$SLURM_STATE/spool
SlurmctldPidFile=$SLURM_STATE/slurmctld.pid
SlurmdPidFile=$SLURM_STATE/slurmd.pid
SlurmctldLogFile=$SLURM_STATE/slurmctld.log
SlurmdLogFile=$SLURM_STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# A finished job leaves squeue at once, so polling squeue sees the end without delay.
MinJobAge=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start_slurm() {
    local t0=$SECONDS state i
    stop_slurm quiet
    install_slurm
    mkdir -p "$SLURM_STATE"
    rm -rf "$SLURM_STATE/ctld" "$SLURM_STATE/spool"
    rm -f "$SLURM_STATE"/*.log
    for port in "$CTLD_PORT" "$SLURMD_PORT"; do
        port_busy "$port" && die "port $port is in use by another process (set PHOTOPRESS_SLURMCTLD_PORT / PHOTOPRESS_SLURMD_PORT)"
    done
    start_munge
    write_slurm_conf
    # -c: cold start, no jobs or node state from an earlier run.
    slurmctld -c -f "$SLURM_CONF" || { dump_logs "$SLURM_STATE/slurmctld.log"; die "slurmctld did not start"; }
    slurmd -N localhost -f "$SLURM_CONF" || { dump_logs "$SLURM_STATE/slurmd.log"; die "slurmd did not start"; }
    state=""
    for ((i = 0; i < SLURM_WAIT_S * 4; i++)); do
        state=$(sinfo -h -N -n localhost -o '%T' 2>/dev/null | head -n1 || true)
        [ "$state" = idle ] && break
        sleep 0.25
    done
    if [ "$state" != idle ]; then
        log "node state after ${SLURM_WAIT_S}s: '${state:-no answer}'"
        sinfo -N -l >&2 2>&1 || true
        dump_logs "$SLURM_STATE/slurmctld.log" "$SLURM_STATE/slurmd.log"
        stop_slurm quiet
        die "Slurm did not become idle"
    fi
    log "Slurm idle after $((SECONDS - t0))s (SLURM_CONF=$SLURM_CONF)"
}

stop_slurm() {
    local quiet=${1:-} i left
    [ -f "$SLURM_CONF" ] || [ -d "$SLURM_STATE" ] || return 0
    # Cancel our cluster's jobs first, so that no job step outlives the daemons.
    if pid_alive "$SLURM_STATE/slurmctld.pid"; then
        scancel --quiet --user="$(id -un)" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop_pidfiles 15 "$SLURM_STATE/slurmd.pid" "$SLURM_STATE/slurmctld.pid"
    # munged only when this script started it (another user of munge keeps its own).
    stop_pidfiles 10 "$SLURM_STATE/munged.pid"
    # Job steps left by a slurmd killed hard: slurmstepd processes whose spool is ours.
    for ((i = 0; i < 50; i++)); do
        left=$(pgrep -x slurmstepd || true)
        [ -z "$left" ] && break
        sleep 0.2
    done
    [ -n "$left" ] && log "WARNING: slurmstepd still running: $left"
    [ -n "$quiet" ] || log "Slurm stopped"
}

# ---------------------------------------------------------------- moto

start_moto() {
    local port=${1:-} i t0=$SECONDS
    [[ "$port" =~ ^[0-9]+$ ]] || die "usage: $0 start-moto PORT"
    [ -x "$MOTO_SERVER" ] || die "no moto_server at $MOTO_SERVER (run scripts/install-deps.sh)"
    stop_moto quiet
    port_busy "$port" && die "port $port is in use by another process"
    mkdir -p "$MOTO_STATE"
    # setsid + all descriptors redirected: the server must not hold the caller's pipes open
    # (a CI log reader would wait for it) nor get its terminal signals.
    # The request recorder (off until POST /moto-api/recorder/start-recording) writes here:
    # the e2e test counts GETs and PUTs with it.
    MOTO_RECORDER_FILEPATH="$MOTO_STATE/recording.ndjson" \
        setsid "$MOTO_SERVER" -H 127.0.0.1 -p "$port" </dev/null >"$MOTO_STATE/moto.log" 2>&1 &
    echo $! >"$MOTO_STATE/moto.pid"
    echo "$port" >"$MOTO_STATE/moto.port"
    for ((i = 0; i < 120; i++)); do
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
            log "moto answers on 127.0.0.1:$port after $((SECONDS - t0))s"
            return 0
        fi
        pid_alive "$MOTO_STATE/moto.pid" || break
        sleep 0.25
    done
    dump_logs "$MOTO_STATE/moto.log"
    stop_moto quiet
    die "moto did not answer on 127.0.0.1:$port"
}

stop_moto() {
    local quiet=${1:-}
    stop_pidfiles 10 "$MOTO_STATE/moto.pid"
    rm -f "$MOTO_STATE/moto.port"
    [ -n "$quiet" ] || log "moto stopped"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd=${1:-}
shift || true
case "$cmd" in
start-slurm) start_slurm ;;
stop-slurm) stop_slurm ;;
start-moto) start_moto "$@" ;;
stop-moto) stop_moto ;;
stop-all)
    rc=0
    stop_moto || rc=1
    stop_slurm || rc=1
    exit $rc
    ;;
free-port) free_port ;;
env) echo "export SLURM_CONF=$SLURM_CONF" ;;
*)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac

#!/bin/bash
# systemd-lib.sh — a real systemd as PID 1 in a throw-away container, for
# tests run as root on a host whose PID 1 need not be systemd.
#
# The project's own copy of the approach of ../shared/recipes/systemd-lib.sh
# (so a checkout is self-contained): plain unshare(1) namespaces, an overlay
# of the host's / whose upper layer is a tmpfs (every write, dpkg -i
# included, vanishes at power-off), its own pid/mount/uts/ipc/net/cgroup
# namespaces, a pty from script(1) as console.
#
#   SDL_LAB=dir (scratch; bound into the container at the same path)
#   sdl_boot NAME     boots, waits until running/degraded; sets SDL_PID
#   sdl_exec CMD...   runs CMD inside (all namespaces and root of SDL_PID)
#   sdl_stop          powers off (SIGRTMIN+4), waits, removes the cgroups
#
# Needs util-linux (unshare, nsenter, setpriv), bsdutils (script), procps
# (pgrep) and overlayfs. Unit files in $SDL_LAB/units/ are copied to the
# container's /etc/systemd/system before boot.

: "${SDL_LAB:?set SDL_LAB to a scratch directory}"

# The container side, run by unshare in the new namespaces: build the root,
# then exec systemd as PID 1.
_sdl_write_inner() {
        cat > "$SDL_LAB/$SDL_NAME.inner" <<'INNER'
#!/bin/bash
set -e
name=$1 lab=$2
base=$lab/ovl-$name
mkdir -p "$base"
mount -t tmpfs tmpfs "$base"
mkdir -p "$base/up" "$base/work" "$base/root"
root=$base/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/up,workdir=$base/work" "$root"
mount -t proc proc "$root/proc"
# The host's sysctls stay read-only; a read-only /sys makes udevd and its
# kind skip themselves.
mount --bind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
mount -t sysfs -o ro sysfs "$root/sys"
mount -t tmpfs -o mode=755 tmpfs "$root/sys/fs/cgroup"
if [ -e /sys/fs/cgroup/unified ]; then          # hybrid hierarchy
        mkdir -p "$root/sys/fs/cgroup/unified" "$root/sys/fs/cgroup/systemd"
        mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup/unified"
        mount -t cgroup -o none,name=systemd cgroup "$root/sys/fs/cgroup/systemd"
else                                            # unified hierarchy
        umount "$root/sys/fs/cgroup"
        mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
fi
mount -t tmpfs -o mode=755 tmpfs "$root/dev"
for d in null zero full random urandom tty; do
        touch "$root/dev/$d"
        mount --bind "/dev/$d" "$root/dev/$d"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs tmpfs "$root/dev/shm"
touch "$root/dev/console"
mount --bind "$(readlink /proc/self/fd/0)" "$root/dev/console"
mount -t tmpfs -o mode=755 tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root$lab"
mount --bind "$lab" "$root$lab"
if [ -d "$lab/units" ]; then cp "$lab/units/"* "$root/etc/systemd/system/"; fi
export container=tickd-test
exec setpriv --bounding-set -sys_module,-sys_time,-sys_rawio \
        chroot "$root" /lib/systemd/systemd --system --unit=test.target
INNER
        chmod +x "$SDL_LAB/$SDL_NAME.inner"
}

_sdl_cgroups() {
        local h
        for h in unified systemd; do
                [ -d "/sys/fs/cgroup/$h" ] && echo "/sys/fs/cgroup/$h/$SDL_NAME"
        done
}

sdl_boot() {
        SDL_NAME=$1
        mkdir -p "$SDL_LAB/units"
        [ -e "$SDL_LAB/units/test.target" ] || cat > "$SDL_LAB/units/test.target" <<'EOF'
[Unit]
Description=tickd test target
Requires=sysinit.target sockets.target
After=sysinit.target sockets.target
AllowIsolate=yes
EOF
        _sdl_write_inner
        local cg
        for cg in $(_sdl_cgroups); do mkdir -p "$cg"; done
        # script(1) gives systemd a pty as console; the wrapper moves itself
        # into our cgroups first so that everything inside is accounted
        # there and can be found (and removed) by name.
        local move="for c in $(_sdl_cgroups | tr "\n" " "); do echo \$\$ > \$c/cgroup.procs; done"
        setsid script -qfec "bash -c '$move; exec unshare --pid --fork --mount --uts --ipc --net --cgroup --propagation private $SDL_LAB/$SDL_NAME.inner $SDL_NAME $SDL_LAB'" \
                "$SDL_LAB/$SDL_NAME.console" </dev/null >/dev/null 2>&1 &
        SDL_SCRIPT_PID=$!
        local i u
        SDL_PID=
        for i in $(seq 1 200); do
                u=$(pgrep -n -f "^unshare --pid --fork .*$SDL_NAME.inner $SDL_NAME ") &&
                        SDL_PID=$(pgrep -n -P "$u") &&
                        [ "$(cat "/proc/$SDL_PID/comm" 2>/dev/null)" = systemd ] && break
                SDL_PID=
                sleep 0.05
        done
        if [ -z "$SDL_PID" ]; then
                echo "sdl_boot: systemd did not start" >&2
                cat "$SDL_LAB/$SDL_NAME.console" >&2
                return 1
        fi
        # is-system-running --wait fails until /run/systemd/private exists.
        for i in $(seq 1 200); do
                case "$(sdl_exec systemctl is-system-running 2>/dev/null)" in
                running|degraded) return 0 ;;
                esac
                sleep 0.05
        done
        echo "sdl_boot: not running: $(sdl_exec systemctl is-system-running 2>&1)" >&2
        return 1
}

sdl_exec() {
        nsenter -t "$SDL_PID" -m -u -i -n -p -C -r -w "$@"
}

# Powers off and removes the cgroups; safe to call when boot failed half way.
sdl_stop() {
        [ -n "${SDL_NAME:-}" ] || return 0
        if [ -n "${SDL_PID:-}" ]; then
                kill -s SIGRTMIN+4 "$SDL_PID" 2>/dev/null
        fi
        local i
        if [ -n "${SDL_SCRIPT_PID:-}" ]; then
                for i in $(seq 1 300); do
                        kill -0 "$SDL_SCRIPT_PID" 2>/dev/null || break
                        sleep 0.05
                done
                if kill -0 "$SDL_SCRIPT_PID" 2>/dev/null; then
                        echo "sdl_stop: no power-off after 15 s, SIGKILL" >&2
                        [ -n "${SDL_PID:-}" ] && kill -KILL "$SDL_PID" 2>/dev/null
                        sleep 0.5
                fi
                wait "$SDL_SCRIPT_PID" 2>/dev/null
        fi
        local cg
        for cg in $(_sdl_cgroups); do
                [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        rm -f "$SDL_LAB/$SDL_NAME.inner"
        SDL_PID= SDL_SCRIPT_PID=
}

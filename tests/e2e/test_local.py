"""The local executor on a machine without GPUs (--gpus T4:2,A100:1) with
real commands: devices, exit codes, limits, cancel, logs, reaping."""
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import GPUCTL, wait_for


@pytest.fixture
def local(daemon_factory):
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:2,A100:1", "--kill-grace", "1s",
                             "--max-log-bytes", "1048576"])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "1000h")
    return d


def descendants(pid):
    """Every live process below pid (the daemon's jobs: supervisor, the
    namespace's init, the command and what it started), as {pid: argv}."""
    children, argv = {}, {}
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % e, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] in "ZX":
            continue
        children.setdefault(int(fields[1]), []).append(int(e))
        argv[int(e)] = [c.decode(errors="replace") for c in cmd if c]
    out, todo = {}, [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out[c] = argv[c]
            todo.append(c)
    return out


def pids_running(d, argv):
    """Pids of the daemon's descendants whose argv is exactly argv."""
    return [p for p, a in descendants(d.proc.pid).items() if a == list(argv)]


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def run(d, *cmd, gpu="T4", count=1, time_limit="1m"):
    jid = int(d.ok("submit", "--gpu", gpu, "--count", count, "--time", time_limit, "--", *cmd).stdout)
    d.ok("admin", "approve", jid)
    return jid


def logs(d, jid):
    return d.ok("logs", jid).stdout


def test_devices_exit_codes_and_env(local):
    a = run(local, "sh", "-c", "echo DEV=$CUDA_VISIBLE_DEVICES NV=$NVIDIA_VISIBLE_DEVICES T=$GPUAAS_GPU_TYPE "
            "C=$GPUAAS_GPU_COUNT J=$GPUAAS_JOB_ID; sleep 1")
    b = run(local, "sh", "-c", "echo DEV=$CUDA_VISIBLE_DEVICES; sleep 1")
    c = run(local, "sh", "-c", "echo DEV=$CUDA_VISIBLE_DEVICES", gpu="A100")
    assert local.ctl("wait", a, b, c, "--timeout", "30s").returncode == 0
    la, lb, lc = logs(local, a), logs(local, b), logs(local, c)
    da = la.split("DEV=")[1].split()[0]
    db = lb.split("DEV=")[1].split()[0]
    # Two concurrent T4 jobs get different devices; the A100 is device 2
    # (devices are numbered in the order of --gpus).
    assert {da, db} == {"0", "1"}
    assert lc.strip() == "DEV=2"
    assert "NV=%s" % da in la and "T=T4 C=1 J=%d" % a in la
    job = local.json("show", a)
    assert job["status"] == "COMPLETED" and job["exit_code"] == 0 and job["charged_seconds"] >= 1
    f = run(local, "sh", "-c", "exit 3")
    assert local.ctl("wait", f, "--timeout", "30s").returncode == 1
    job = local.json("show", f)
    assert job["status"] == "FAILED" and job["exit_code"] == 3 and "exit code 3" in job["reason"]
    k = run(local, "sh", "-c", "kill -9 $$")
    local.ctl("wait", k, "--timeout", "30s")
    job = local.json("show", k)
    assert job["status"] == "FAILED" and "SIGKILL" in job["reason"]
    n = run(local, "/no/such/program")
    local.ctl("wait", n, "--timeout", "30s")
    job = local.json("show", n)
    assert job["status"] == "FAILED" and job["exit_code"] == 127
    assert "cannot run /no/such/program" in logs(local, n)


def test_gpus_shows_which_job_holds_each_device(local):
    j = run(local, "sleep", "30")
    local.wait_state(j, "RUNNING")
    g = {x["type"]: x for x in local.json("gpus")["gpus"]}
    held = [d for d in g["T4"]["devices"] if d["job"] == j]
    assert len(held) == 1 and g["T4"]["busy"] == 1
    out = local.ok("gpus").stdout
    assert "DEVICE" in out and " %d " % j in out
    local.ok("cancel", j)
    local.ctl("wait", j, "--timeout", "30s")
    g = {x["type"]: x for x in local.json("gpus")["gpus"]}
    assert all(d["job"] is None for d in g["T4"]["devices"])


def test_clean_environment_and_not_root(local):
    j = run(local, "sh", "-c", "id -u; env | sort")
    local.ctl("wait", j, "--timeout", "30s")
    out = logs(local, j).splitlines()
    names = {line.split("=", 1)[0] for line in out[1:] if "=" in line}
    assert names <= {"PATH", "HOME", "USER", "LOGNAME", "LANG", "PWD", "SHLVL", "_", "CUDA_VISIBLE_DEVICES",
                     "NVIDIA_VISIBLE_DEVICES", "GPUAAS_JOB_ID", "GPUAAS_GPU_TYPE", "GPUAAS_GPU_COUNT"}, names
    assert "GPUAAS_INITIAL_ADMIN_PASSWORD" not in names
    if os.geteuid() == 0:
        assert out[0].strip() != "0", "a job ran as root"
    else:
        assert out[0].strip() == str(os.geteuid())


def test_time_limit_kills_within_grace(local):
    t0 = time.monotonic()
    j = run(local, "sh", "-c", "trap '' TERM; sleep 600", time_limit="2s")
    p = local.ctl("wait", j, "--timeout", "30s")
    took = time.monotonic() - t0
    assert p.returncode == 1
    job = local.json("show", j)
    assert job["status"] == "FAILED" and job["reason"] == "time limit"
    assert took < 2 + 1 + 2.5, took  # limit + grace + slack
    assert 2 <= job["charged_seconds"] <= 5


def test_cancel_kills_the_whole_group(local):
    j = run(local, "sh", "-c", "sleep 600 & sleep 600 & echo started; wait")
    wait_for(lambda: "started" in logs(local, j), 10, "job %d to print 'started'" % j)
    pids = pids_running(local, ["sleep", "600"])
    assert len(pids) == 2
    local.ok("cancel", j)
    assert local.ctl("wait", j, "--timeout", "30s").returncode == 1
    job = local.json("show", j)
    assert job["status"] == "CANCELLED" and "cancelled by admin" in job["reason"]
    # Reported ended only once nothing of it runs.
    for pid in pids:
        assert not alive(pid), "process %s survived" % pid
    assert descendants(local.proc.pid) == {}


def test_output_is_capped(local):
    j = run(local, "sh", "-c", "head -c 100000000 /dev/zero | tr '\\0' x; echo; echo done")
    assert local.ctl("wait", j, "--timeout", "60s").returncode == 0
    path = os.path.join(local.state, "logs", "%d.log" % j)
    size = os.path.getsize(path)
    assert 1048576 <= size < 1048576 + 1024
    with open(path, "rb") as f:
        f.seek(-300, 2)
        assert b"log cut at 1048576 bytes" in f.read()


def test_logs_follow_streams(local):
    j = run(local, "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.4; done")
    env = dict(os.environ, GPUAAS_SOCKET=local.sock, GPUAAS_TOKEN_FILE=local.token_file("admin"))
    proc = subprocess.Popen([GPUCTL, "logs", "-f", str(j)], stdout=subprocess.PIPE, text=True, env=env)
    first = proc.stdout.readline()
    t_first = time.monotonic()
    assert first.strip() == "line1"
    rest = proc.stdout.read()
    t_end = time.monotonic()
    assert proc.wait(10) == 0
    assert rest.split() == ["line2", "line3", "line4", "line5"]
    # The first line came while the job was still writing.
    assert t_end - t_first > 1.0


def test_many_short_jobs_leave_no_zombies_or_fds(local):
    def fds():
        return len(os.listdir("/proc/%d/fd" % local.proc.pid))

    warm = run(local, "true")
    local.ctl("wait", warm, "--timeout", "30s")
    before = fds()
    ids = [run(local, "sh", "-c", "echo $GPUAAS_JOB_ID") for _ in range(200)]
    assert local.ctl("wait", *ids[-5:], "--timeout", "120s").returncode == 0
    assert local.ctl("wait", *ids, "--timeout", "120s").returncode == 0
    time.sleep(0.2)
    children = subprocess.run(["ps", "--ppid", str(local.proc.pid), "-o", "stat="], capture_output=True,
                              text=True).stdout.split()
    assert not [s for s in children if s.startswith("Z")], children
    assert fds() <= before + 2, (before, fds())


def test_restart_marks_running_local_jobs_lost(local):
    j = run(local, "sleep", "600")
    local.wait_state(j, "RUNNING")
    time.sleep(1.1)
    pid = wait_for(lambda: pids_running(local, ["sleep", "600"]), 5, "the job's sleep")[0]
    local.kill9()
    # The job dies with the daemon (PR_SET_PDEATHSIG): no orphan keeps a GPU.
    wait_for(lambda: not alive(pid), 5, "the job (pid %d) to die with the daemon" % pid)
    local.start()
    job = local.json("show", j)
    assert job["status"] == "FAILED" and job["reason"] == "lost: daemon restarted"
    assert job["charged_seconds"] >= 1
    assert local.json("quota")["reserved"] == 0


def test_submit_without_command_refused(local):
    p = local.ctl("submit", "--gpu", "T4")
    assert p.returncode == 2 and "give the command" in p.stderr


def test_clean_stop_records_running_jobs(local):
    j = run(local, "sleep", "600")
    local.wait_state(j, "RUNNING")
    local.stop()
    # Recorded at the stop itself, not at some later start.
    import sqlite3
    db = sqlite3.connect("file:%s/gpuaas.db?mode=ro" % local.state, uri=True)
    status, reason, reserved = db.execute("SELECT status, reason, reserved FROM jobs WHERE id = ?", (j,)).fetchone()
    db.close()
    assert (status, reason, reserved) == ("FAILED", "lost: daemon stopped", 0)
    assert subprocess.run(["pgrep", "-f", "^sleep 600$"], capture_output=True).returncode != 0


def test_logs_of_the_old_layout_are_moved_out_of_job_directories(local):
    j = run(local, "echo", "from-before")
    local.ctl("wait", j, "--timeout", "30s")
    local.stop()
    # What an older daemon left: the log in the job's own directory, and a
    # job directory whose "log" is a FIFO.
    os.rename(os.path.join(local.state, "logs", "%d.log" % j), os.path.join(local.state, "jobs", str(j), "output.log"))
    os.makedirs(os.path.join(local.state, "jobs", "999"))
    os.mkfifo(os.path.join(local.state, "jobs", "999", "output.log"))
    local.start()
    assert logs(local, j) == "from-before\n"
    assert not os.path.exists(os.path.join(local.state, "logs", "999.log"))
    assert os.stat(os.path.join(local.state, "logs", "%d.log" % j)).st_uid == os.geteuid()


def test_stop_right_after_a_launch_never_hangs(daemon_factory):
    """SIGTERM at once after an approve: the job's child may not have joined
    its cgroup yet, so a cgroup kill alone finds nobody. The stop must still
    kill it, record the job and exit, each time."""
    for attempt in range(20):
        d = daemon_factory(args=["--executor", "local", "--gpus", "T4:4", "--kill-grace", "1s"], name="d%d" % attempt)
        d.login()
        d.ok("admin", "quota", "admin", "--set", "10h")
        jids = [int(d.ok("submit", "--gpu", "T4", "--time", "1m", "--", "sleep", "611").stdout) for _ in range(4)]
        # The signal lands while the approve is in flight, at a different
        # point of the launches each attempt.
        approve = threading.Thread(target=d.ctl, args=("admin", "approve", "--all-pending"))
        approve.start()
        time.sleep(0.002 + attempt * 0.0005)
        d.proc.send_signal(signal.SIGTERM)
        approve.join(timeout=30)
        try:
            d.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            d.kill9()
            pytest.fail("attempt %d: gpuaasd did not stop within 15 s of SIGTERM" % attempt)
        d.stop()  # exited: checks the exit status and the log for sanitizer reports
        assert wait_for(lambda: subprocess.run(["pgrep", "-f", "^sleep 611$"], capture_output=True).returncode != 0,
                        timeout=5), "attempt %d: the job outlived the daemon" % attempt
        import sqlite3
        db = sqlite3.connect("file:%s/gpuaas.db?mode=ro" % d.state, uri=True)
        rows = db.execute("SELECT id, status, reserved FROM jobs ORDER BY id").fetchall()
        db.close()
        # Never left RUNNING: recorded at the stop, or never started.
        for jid, status, reserved in rows:
            assert jid in jids and status in ("PENDING", "APPROVED", "FAILED"), (attempt, rows)
            assert status != "FAILED" or reserved == 0, (attempt, rows)

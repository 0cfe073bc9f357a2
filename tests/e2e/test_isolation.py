"""Isolation of local jobs (--isolation full, --job-user): per-user
identities, a private /dev with only the job's GPU nodes (placeholder nodes
made with mknod, --gpu-dev-dir), PID and mount namespaces, per-job cgroups,
and the refusal to start when the system cannot isolate. Root only."""
import os
import pwd
import re
import stat
import subprocess

import pytest

from conftest import GPUAASD, wait_for
from test_local import alive, descendants, logs, run

PW = "long-enough-pw-1"  # passes any password policy

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolation needs root")

CONTROL = ("nvidiactl", "nvidia-uvm")


def make_gpu_dir(tmp_path, n):
    """A directory of placeholder GPU nodes: nvidia0..n-1 and two control
    nodes, each a copy of /dev/null (1:3) so that opening one works."""
    d = tmp_path / "gpudev"
    d.mkdir()
    for name in ["nvidia%d" % i for i in range(n)] + list(CONTROL):
        os.mknod(str(d / name), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod(str(d / name), 0o666)
    # Not a node a job is ever given.
    os.mknod(str(d / "nvidia-secret"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return str(d)


@pytest.fixture
def iso(daemon_factory, tmp_path):
    gpudev = make_gpu_dir(tmp_path, 3)
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:2,A100:1", "--kill-grace", "1s",
                             "--gpu-dev-dir", gpudev])
    d.gpudev = gpudev
    d.login()
    d.ok("admin", "quota", "admin", "--set", "1000h")
    return d


def user_job(d, user, *cmd, gpu="T4", time_limit="1m"):
    jid = int(d.ok("submit", "--gpu", gpu, "--time", time_limit, "--", *cmd, user=user).stdout)
    d.ok("admin", "approve", jid)
    return jid


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))


PROBE_DEV = r'''
for f in $(find /dev -maxdepth 1 -type c | sort); do
  if (exec 3<>"$f") 2>/dev/null; then echo "OPEN $f"; else echo "NODE $f"; fi
done
for f in %s/*; do (exec 3<>"$f") 2>/dev/null && echo "HOSTOPEN $f"; done
ls -a %s 2>&1 | sed 's/^/HOSTDIR /'
echo "DEV=$CUDA_VISIBLE_DEVICES"
'''


def test_job_opens_exactly_its_own_gpu_nodes(iso):
    script = PROBE_DEV % (iso.gpudev, iso.gpudev)
    a = run(iso, "sh", "-c", script + "sleep 1")
    b = run(iso, "sh", "-c", script + "sleep 1")
    c = run(iso, "sh", "-c", script, gpu="A100")
    assert iso.ctl("wait", a, b, c, "--timeout", "30s").returncode == 0
    seen = set()
    for jid in (a, b, c):
        out = logs(iso, jid)
        dev = out.split("DEV=")[1].split()[0]
        seen.add(dev)
        opened = sorted(l.split()[1] for l in out.splitlines() if l.startswith("OPEN "))
        want = sorted(["/dev/" + n for n in ("null", "zero", "full", "random", "urandom", "nvidia" + dev)
                       + CONTROL])
        assert opened == want, out
        nodes = {l.split()[1] for l in out.splitlines() if l.startswith(("OPEN ", "NODE "))}
        # /dev/tty is there (no controlling terminal: it does not open).
        assert nodes == set(want) | {"/dev/tty"}, out
        # The placeholder directory itself is out of reach.
        assert "HOSTOPEN" not in out and "nvidia-secret" not in out, out
    assert seen == {"0", "1", "2"}


def test_job_sees_only_its_own_processes_and_private_tmp(iso, tmp_path):
    marker = "/tmp/gpuaas-host-marker-%d" % os.getpid()
    left = "gpuaas-job-file-%d" % os.getpid()
    with open(marker, "w") as f:
        f.write("host")
    try:
        j = run(iso, "sh", "-c", "echo pid=$$; ls /proc | grep -c '^[0-9]'; cat %s 2>&1; echo job > /tmp/%s; "
                "echo job > /dev/shm/%s; echo done" % (marker, left, left))
        assert iso.ctl("wait", j, "--timeout", "30s").returncode == 0
    finally:
        os.unlink(marker)
    out = logs(iso, j).split("\n")
    # PID 1 is the job's init, the shell is 2; a few processes at most.
    assert out[0] == "pid=2", out
    assert int(out[1]) <= 4, out
    assert "No such file" in out[2], out
    assert out[3] == "done", out
    assert not os.path.exists("/tmp/" + left) and not os.path.exists("/dev/shm/" + left)


def test_two_users_jobs_cannot_touch_each_other(iso):
    """Finding 2 of the review: alice's job looks for bob's through /proc,
    reads his files, forges his log and signals him; none of it works."""
    iso.add_user("alice", quota="100h", password=PW)
    iso.add_user("bob", quota="100h", password=PW)
    bob = user_job(iso, "bob", "sh", "-c", "echo bob-secret > secret; chmod 644 secret; echo bob-started; "
                   "sleep 4; cat secret; echo bob-done; id -u; : BOBMARK")
    wait_for(lambda: "bob-started" in iso.ok("logs", bob, user="bob").stdout, 10, "bob's job to start")
    bob_pids = [p for p, a in descendants(iso.proc.pid).items() if a[:1] == ["sleep"]]
    assert bob_pids
    st = iso.state
    alice = user_job(iso, "alice", "sh", "-c", r'''
        echo "uid=$(id -u)"
        for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -c "BOB[M]ARK"
        cat %(st)s/jobs/%(bob)d/secret 2>/dev/null && echo READ-SECRET
        echo FORGED by alice > %(st)s/logs/%(bob)d.log 2>/dev/null && echo FORGED-LOG
        echo FORGED by alice >> %(st)s/jobs/%(bob)d/output.log 2>/dev/null && echo FORGED-OUTPUT
        ls %(st)s 2>&1
        for p in %(pids)s; do kill -9 $p 2>/dev/null && echo KILLED-$p; done
        kill -9 -1
        echo alice-survived-kill-all
    ''' % {"st": st, "bob": bob, "pids": " ".join(map(str, bob_pids))})
    iso.ctl("wait", alice, "--timeout", "30s", user="alice")
    assert iso.ctl("wait", bob, "--timeout", "30s", user="bob").returncode == 0
    a_out = iso.ok("logs", alice, user="alice").stdout
    b_out = iso.ok("logs", bob, user="bob").stdout
    assert "READ-SECRET" not in a_out and "FORGED" not in a_out and "KILLED" not in a_out, a_out
    assert a_out.split("\n")[1] == "0", a_out  # no process of bob's in alice's /proc
    assert "gpuaas.db" not in a_out and "jwt.key" not in a_out, a_out
    b_lines = b_out.split("\n")
    assert b_lines[:3] == ["bob-started", "bob-secret", "bob-done"], b_out
    assert iso.json("show", bob, user="bob")["status"] == "COMPLETED"
    # Each user has a uid of their own from --job-uid-base.
    uid_a, uid_b = int(a_out.split("uid=")[1].split()[0]), int(b_lines[3])
    assert uid_a != uid_b and 61184 < uid_a < 61184 + 4336 and 61184 < uid_b < 61184 + 4336


def test_dynamic_uids_differ_per_user_and_stay_for_one_user(iso):
    iso.add_user("carol", quota="100h", password=PW)
    a = user_job(iso, "carol", "sh", "-c", "id -u; id -g; id -G; echo $HOME; echo $USER")
    b = user_job(iso, "carol", "id", "-u")
    c = run(iso, "id", "-u")
    for j, u in ((a, "carol"), (b, "carol"), (c, "admin")):
        iso.ctl("wait", j, "--timeout", "30s", user=u)
    la = iso.ok("logs", a, user="carol").stdout.split("\n")
    assert la[0] == la[1] == la[2], la  # uid = gid, no other groups
    assert la[3] == os.path.join(iso.state, "jobs", str(a)) and la[4] == "carol", la
    assert la[0] == iso.ok("logs", b, user="carol").stdout.strip()
    assert logs(iso, c).strip() != la[0]
    assert 61184 < int(la[0]) < 61184 + 4336


def test_job_home_is_reachable_and_state_hidden(iso):
    j = run(iso, "sh", "-c", "cd / && ls $HOME >/dev/null && echo home-ok; touch $HOME/f && echo write-ok; "
            "ls %s" % iso.state)
    iso.ctl("wait", j, "--timeout", "30s")
    out = logs(iso, j)
    assert "home-ok" in out and "write-ok" in out, out
    assert "gpuaas.db" not in out and "jwt.key" not in out and "logs" not in out.split("write-ok")[1], out


def test_uid_of_an_existing_account_is_refused(daemon_factory, tmp_path):
    nobody = pwd.getpwnam("nobody").pw_uid
    # admin is gpuaas user 1: its dynamic uid is then nobody's.
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:1", "--job-uid-base", str(nobody - 1)])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    j = run(d, "id", "-u")
    assert d.ctl("wait", j, "--timeout", "30s").returncode == 1
    assert "belongs to the existing account 'nobody'" in logs(d, j)
    assert "--job-uid-base" in logs(d, j)


def test_shared_account_says_so(daemon_factory):
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:1", "--job-user", "nobody"])
    assert "not isolated from each other" in d.read_log()
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    j = run(d, "id", "-un")
    d.ctl("wait", j, "--timeout", "30s")
    assert logs(d, j).strip() == "nobody"
    help_text = subprocess.run([GPUAASD, "--help"], capture_output=True, text=True).stdout
    assert "NOT isolated from each other" in help_text and "dynamic" in help_text


def test_job_user_root_and_garbage_refused(tmp_path):
    for value, why in (("root", "never run as root"), ("Bad User", "dynamic, owner or an account name")):
        p = subprocess.run([GPUAASD, "--state-dir", str(tmp_path / "s"), "--socket", str(tmp_path / "s.sock"),
                            "--executor", "local", "--job-user", value, "--check-config"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode != 0 and why in p.stderr + p.stdout, (value, p.stderr)


def test_owner_runs_as_the_unix_account_of_the_same_name(daemon_factory, unix_account):
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:1", "--job-user", "owner"])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    d.add_user(unix_account.pw_name, quota="10h", password=PW)
    # Submitted from the account's home, as its owner would: the job enters
    # the submit's directory as that account, and /tmp is the job's own
    # (so a checkout under /tmp, where the suite may run, is not it).
    jid = int(d.ok("submit", "--gpu", "T4", "--time", "1m", "--chdir", unix_account.pw_dir, "--", "sh", "-c",
                   "id -u; echo $HOME; pwd; touch $HOME/made-by-job && echo ok", user=unix_account.pw_name).stdout)
    d.ok("admin", "approve", jid)
    j = jid
    assert d.ctl("wait", j, "--timeout", "30s", user=unix_account.pw_name).returncode == 0
    out = d.ok("logs", j, user=unix_account.pw_name).stdout.split()
    assert out == [str(unix_account.pw_uid), unix_account.pw_dir, unix_account.pw_dir, "ok"], out
    # A directory the job cannot enter fails the job, saying which.
    bad = int(d.ok("submit", "--gpu", "T4", "--time", "1m", "--chdir", "/tmp/gpuaas-not-there", "--", "true",
                   user=unix_account.pw_name).stdout)
    d.ok("admin", "approve", bad)
    assert d.ctl("wait", bad, "--timeout", "30s", user=unix_account.pw_name).returncode == 1
    assert "cannot enter /tmp/gpuaas-not-there" in d.ok("logs", bad, user=unix_account.pw_name).stdout
    assert os.stat(os.path.join(unix_account.pw_dir, "made-by-job")).st_uid == unix_account.pw_uid
    # admin has no Unix account of its name (or one below --job-min-uid).
    k = run(d, "id", "-u")
    assert d.ctl("wait", k, "--timeout", "30s").returncode == 1
    assert "--job-user owner" in logs(d, k)


def test_isolation_full_refused_when_the_kernel_says_no(daemon_factory, tmp_path):
    """Without CAP_SYS_ADMIN no namespace can be made: --isolation full must
    not start (naming what is missing and --isolation none); none starts."""
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:1"], start=False)
    base = d.cmdline
    d.cmdline = lambda: ["setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin"] + base()
    with pytest.raises(RuntimeError) as e:
        d.start()
    d.log.close()
    assert "--isolation none" in str(e.value) and "namespaces" in str(e.value), str(e.value)
    d.args += ["--isolation", "none"]
    d.start()
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    j = run(d, "sh", "-c", "ls /proc | grep -c '^[0-9]'")
    assert d.ctl("wait", j, "--timeout", "30s").returncode == 0
    assert int(logs(d, j)) > 4  # no PID namespace: the host's processes


def test_time_limit_and_cancel_kill_a_tree_that_ignores_sigterm(iso):
    j = run(iso, "sh", "-c", "trap '' TERM; (trap '' TERM; setsid sleep 600) & sleep 600 & echo up; wait",
            time_limit="2s")
    wait_for(lambda: "up" in logs(iso, j), 10, "the job to start")
    pids = [p for p, a in descendants(iso.proc.pid).items() if a == ["sleep", "600"]]
    assert len(pids) == 2
    assert iso.ctl("wait", j, "--timeout", "30s").returncode == 1
    assert iso.json("show", j)["reason"] == "time limit"
    assert not any(alive(p) for p in pids)
    assert descendants(iso.proc.pid) == {}


def test_cgroup_per_job_removed_at_the_end(iso):
    j = run(iso, "sh", "-c", "cat /proc/self/cgroup; sleep 1")
    iso.ctl("wait", j, "--timeout", "30s")
    line = [l for l in logs(iso, j).splitlines() if l.startswith("0::")]
    if not line:
        pytest.skip("no cgroup v2 here")
    path = line[0][3:]
    assert path.endswith("/job-%d" % j), path
    mnt = [l.split()[4] for l in open("/proc/self/mountinfo") if " - cgroup2 " in l][0]
    assert not os.path.exists(mnt + path)


@pytest.mark.parametrize("isolation", ["full", "none"])
def test_stop_kills_every_process_of_every_job(daemon_factory, isolation):
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:2", "--isolation", isolation])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "10h")
    jobs = [run(d, "sh", "-c", "sleep 600 & setsid sleep 601 & wait") for _ in range(2)]
    pids = wait_for(lambda: len([p for p, a in descendants(d.proc.pid).items() if a[:1] == ["sleep"]]) == 4 and
                    [p for p, a in descendants(d.proc.pid).items() if a[:1] == ["sleep"]], 10, "four sleeps")
    d.stop()
    assert not any(alive(p) for p in pids)
    d.start()
    for j in jobs:
        assert d.json("show", j)["reason"] == "lost: daemon stopped"

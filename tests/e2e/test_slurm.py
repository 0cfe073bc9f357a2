"""The Slurm executor against a real single-node Slurm (slurmctld, slurmd and
munged from Debian's slurm-wlm, typed GPU gres a100:4 and t4:4 backed by
placeholder device files), started by tests/slurm/start.sh for this module
and stopped at its end. When Slurm cannot run here (not root, no packages,
a daemon that will not start) every test is skipped with the reason.

The time-limit job needs a whole minute (Slurm counts limits in minutes):
it is submitted when the module starts and checked by the last test."""
import json
import os
import pwd
import shutil
import signal
import sqlite3
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import GPUCTL, Daemon, check_invariant, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLURM = os.path.join(ROOT, "tests", "slurm")
GPUS = "A100:4,T4:4"


@pytest.fixture(scope="module")
def cluster():
    """The cluster's directory and environment (SLURM_CONF)."""
    if os.geteuid() != 0:
        pytest.skip("Slurm tests need root (slurmd runs jobs as their users)")
    # Not under pytest's 0700 tmp: jobs of other accounts reach munge's socket here.
    top = tempfile.mkdtemp(prefix="gpuaas-slurm-", dir="/tmp")
    p = subprocess.run(["bash", os.path.join(SLURM, "start.sh"), top], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        subprocess.run(["bash", os.path.join(SLURM, "stop.sh"), top], capture_output=True, timeout=120)
        why = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
        shutil.rmtree(top, ignore_errors=True)
        pytest.skip("Slurm could not be started: " + why)
    env = dict(os.environ, SLURM_CONF=os.path.join(top, "slurm.conf"))
    yield {"dir": top, "env": env}
    subprocess.run(["bash", os.path.join(SLURM, "stop.sh"), top], capture_output=True, timeout=120)
    shutil.rmtree(top, ignore_errors=True)


def slurm(cluster, *args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True, env=cluster["env"], timeout=60)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p


def show_job(cluster, slurm_id):
    """`scontrol show job` as a dict (JobState, RunTime, UserId, TresPerNode...)."""
    out = slurm(cluster, "scontrol", "-o", "show", "job", str(slurm_id)).stdout.strip()
    fields = {}
    for word in out.split(" "):
        if "=" in word:
            k, v = word.split("=", 1)
            fields.setdefault(k, v)
    return fields


def seconds(hms):
    days, _, rest = hms.rpartition("-")
    h, m, s = (int(x) for x in rest.split(":"))
    return int(days or 0) * 86400 + h * 3600 + m * 60 + s


def named(cluster, d, jid):
    """Slurm ids of every job of daemon d named gpuaas-<jid> (any state); the
    daemon marks its jobs with --comment gpuaas:<its instance>."""
    with open(os.path.join(d.state, "slurm-instance")) as f:
        mine = "gpuaas:" + f.read().strip()
    out = slurm(cluster, "squeue", "-h", "--states=all", "--name=gpuaas-%d" % jid, "-O", "JobID:|,Comment:|").stdout
    return sorted(int(line.split("|")[0]) for line in out.splitlines() if line.split("|")[1] == mine)


class Slurmd(Daemon):
    """gpuaasd with --executor slurm; its log directory goes at the end."""

    def ctl_popen(self, *args, user="admin"):
        """gpuctl in the background (as Daemon.ctl runs it), its stdout piped."""
        e = dict(os.environ, GPUAAS_SOCKET=self.sock, GPUAAS_TOKEN_FILE=self.token_file(user), HOME=self.tmp,
                 XDG_STATE_HOME=os.path.join(self.tmp, "xdg-state-" + user))
        e.pop("GPUAAS_TOKEN", None)
        e.pop("XDG_RUNTIME_DIR", None)
        return subprocess.Popen([GPUCTL] + [str(a) for a in args], stdout=subprocess.PIPE, text=True, env=e)

    def log_dir(self):
        for line in self.read_log().splitlines():
            if "event=exec.slurm.ready" in line:
                return line.split("log_dir=")[1].split()[0]
        return None


def make_daemon(cluster, tmp, args=(), name="d", start=True):
    base = ["--executor", "slurm", "--gpus", GPUS, "--slurm-poll", "1s"]
    d = Slurmd(tmp, base + list(args), env={"SLURM_CONF": cluster["env"]["SLURM_CONF"]}, name=name)
    if start:
        d.start()
        d.login()
        d.ok("admin", "quota", "admin", "--set", "1000h")
    return d


def finish(d):
    logs = d.log_dir() if d.proc else None
    if d.proc and d.proc.poll() is None:
        d.stop()
    elif d.proc and not d.log.closed:
        d.log.close()
    if logs and logs.startswith("/var/spool/gpuaas-slurm/"):
        shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture
def slurmd_factory(cluster, tmp_path):
    made = []

    def make(args=(), name="d", start=True):
        d = make_daemon(cluster, tmp_path, args, name, start)
        made.append(d)
        return d

    yield make
    for d in made:
        finish(d)


@pytest.fixture
def sd(slurmd_factory):
    """A daemon submitting every job as nobody."""
    return slurmd_factory(["--job-user", "nobody"])


@pytest.fixture(scope="module")
def time_limit_job(cluster, tmp_path_factory):
    """A job over its 30 s limit (a minute in Slurm), submitted first."""
    d = make_daemon(cluster, tmp_path_factory.mktemp("timelimit"), ["--job-user", "nobody"])
    jid = submit(d, "sh", "-c", "echo started; sleep 300", time_limit="30s")
    yield d, jid, time.monotonic()
    finish(d)


def submit(d, *cmd, gpu="A100", count=1, time_limit="5m", user="admin"):
    jid = int(d.ok("submit", "--gpu", gpu, "--count", count, "--time", time_limit, "--", *cmd, user=user).stdout)
    d.ok("admin", "approve", jid)
    return jid


def wait_end(d, jid, timeout=60, user="admin"):
    d.ctl("wait", jid, "--timeout", "%ds" % timeout, user=user, timeout=timeout + 30)
    return d.json("show", jid, user=user)


def slurm_id_of(d, jid):
    return int(wait_for(lambda: d.json("show", jid)["slurm_job_id"], 30, "a Slurm id for job %d" % jid))


def wait_slurm_state(cluster, slurm_id, state, timeout=30):
    seen = {}

    def reached():
        seen["job"] = show_job(cluster, slurm_id)
        return seen["job"].get("JobState") == state

    wait_for(reached, timeout, lambda: "Slurm job %d to be %s; last %s" % (slurm_id, state, seen.get("job")),
             interval=0.2)
    return seen["job"]


# ---- the tests ------------------------------------------------------------------------


def test_submit_runs_completes_charges_and_logs(cluster, sd, time_limit_job):
    jid = submit(sd, "sh", "-c", "echo start $GPUAAS_JOB_ID $GPUAAS_GPU_TYPE $GPUAAS_GPU_COUNT "
                 "cuda=$CUDA_VISIBLE_DEVICES; sleep 3; echo done", count=2)
    sid = slurm_id_of(sd, jid)
    assert sd.json("show", jid)["slurm_job_id"] == str(sid)
    job = wait_slurm_state(cluster, sid, "RUNNING")
    assert job["JobName"] == "gpuaas-%d" % jid
    assert job["TresPerNode"] == "gres:gpu:a100:2"
    assert job["TimeLimit"] == "00:05:00"
    assert job["UserId"].startswith("nobody(")
    assert sd.json("show", jid)["status"] == "RUNNING"
    follow = sd.ctl_popen("logs", "-f", jid)
    done = wait_end(sd, jid)
    assert done["status"] == "COMPLETED" and done["exit_code"] == 0, done
    ran = seconds(show_job(cluster, sid)["RunTime"])
    assert ran >= 3 and done["charged_seconds"] == 2 * ran, (ran, done)
    out = follow.communicate(timeout=30)[0]
    assert follow.returncode == 0
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("start %d A100 2 cuda=" % jid) and lines[1] == "done", out
    assert len(lines[0].split("cuda=")[1].split(",")) == 2, out
    assert sd.ok("logs", jid).stdout == out
    # The log is the daemon's: a root-owned 0711 directory, the file the job account's, 0600.
    path = os.path.join(sd.log_dir(), "%d.log" % jid)
    st, dst = os.stat(path), os.stat(os.path.dirname(path))
    assert st.st_uid == pwd.getpwnam("nobody").pw_uid and stat.S_IMODE(st.st_mode) == 0o600
    assert dst.st_uid == 0 and stat.S_IMODE(dst.st_mode) == 0o711
    check_invariant(sd)


def test_nonzero_exit_fails_with_its_code(sd):
    jid = submit(sd, "sh", "-c", "echo about to fail; exit 3", gpu="T4")
    job = wait_end(sd, jid)
    assert job["status"] == "FAILED" and job["exit_code"] == 3 and job["reason"] == "exit code 3", job
    assert sd.ok("logs", jid).stdout == "about to fail\n"


def test_cancel_from_gpuaas_runs_scancel(cluster, sd):
    jid = submit(sd, "sleep", "300", gpu="T4")
    sid = slurm_id_of(sd, jid)
    wait_slurm_state(cluster, sid, "RUNNING")
    time.sleep(1)
    sd.ok("cancel", jid)
    job = wait_end(sd, jid)
    assert job["status"] == "CANCELLED" and job["exit_code"] is None, job
    ran = seconds(show_job(cluster, sid)["RunTime"])
    assert show_job(cluster, sid)["JobState"] == "CANCELLED"
    assert ran >= 1 and job["charged_seconds"] == ran, (ran, job)


def test_scancel_from_outside_is_a_cancel(cluster, sd):
    jid = submit(sd, "sleep", "300", gpu="T4")
    sid = slurm_id_of(sd, jid)
    wait_slurm_state(cluster, sid, "RUNNING")
    slurm(cluster, "scancel", str(sid))
    job = wait_end(sd, jid)
    assert job["status"] == "CANCELLED" and job["reason"] == "cancelled in Slurm", job


ODD = ["it's", 'say "hi"', "$HOME", "${PATH}", "`id`", "$(echo no)", "a\nb", "  two  spaces ", "tab\there",
       "back\\slash\\", "*", "?", "~", ";", "&&", "|", ">", "", "'", "''", "-x", "ünïcødé ✓",
       "line\n#SBATCH --job-name=evil\n#SBATCH --time=1"]


def test_arguments_arrive_byte_identical(cluster, sd):
    jid = submit(sd, "python3", "-c", "import json, sys; print(json.dumps(sys.argv[1:]))", *ODD, gpu="T4")
    sid = slurm_id_of(sd, jid)
    job = wait_end(sd, jid)
    assert job["status"] == "COMPLETED", (job, sd.ok("logs", jid).stdout)
    assert json.loads(sd.ok("logs", jid).stdout) == ODD
    info = show_job(cluster, sid)
    assert info["JobName"] == "gpuaas-%d" % jid and info["TimeLimit"] == "00:05:00"


def test_gres_mapping_and_rejection(cluster, slurmd_factory):
    d = slurmd_factory(["--job-user", "nobody", "--gpus", "A100:4,TESLA:4,H100:1",
                        "--slurm-gres", "tesla=gpu:t4"])
    t = submit(d, "sh", "-c", "echo cuda=$CUDA_VISIBLE_DEVICES", gpu="TESLA", count=3)
    job = wait_end(d, t)
    assert job["status"] == "COMPLETED", job
    assert show_job(cluster, int(job["slurm_job_id"]))["TresPerNode"] == "gres:gpu:t4:3"
    assert len(d.ok("logs", t).stdout.split("cuda=")[1].split(",")) == 3
    # H100 maps to gpu:h100 (the default), which no node has: a rejection, not a retry.
    h = submit(d, "true", gpu="H100")
    job = wait_end(d, h)
    assert job["status"] == "FAILED" and job["reason"].startswith("Slurm refused the job: "), job
    assert "node configuration is not available" in job["reason"], job
    assert job["charged_seconds"] in (0, None) and job["slurm_job_id"] is None
    # A map naming a type the inventory lacks is refused at start.
    bad = slurmd_factory(["--slurm-gres", "V100=gpu:v100"], name="bad", start=False)
    with pytest.raises(RuntimeError) as e:
        bad.start()
    bad.log.close()
    assert "V100 is not in the inventory" in str(e.value)
    check_invariant(d)


def test_partition_and_account_options(cluster, slurmd_factory):
    d = slurmd_factory(["--job-user", "nobody", "--slurm-partition", "debug", "--slurm-account", "lab"])
    jid = submit(d, "true", gpu="T4")
    job = wait_end(d, jid)
    assert job["status"] == "COMPLETED", job
    info = show_job(cluster, int(job["slurm_job_id"]))
    assert info["Partition"] == "debug" and info["Account"] == "lab", info
    bad = slurmd_factory(["--job-user", "nobody", "--slurm-partition", "nope"], name="bad")
    k = submit(bad, "true", gpu="T4")
    job = wait_end(bad, k)
    assert job["status"] == "FAILED" and "Slurm refused the job: " in job["reason"], job
    assert "partition" in job["reason"], job


def test_job_user_owner_default_and_refusals(cluster, slurmd_factory, unix_account):
    dyn = slurmd_factory(["--job-user", "dynamic"], name="dyn", start=False)
    with pytest.raises(RuntimeError) as e:
        dyn.start()
    dyn.log.close()
    assert "cannot use --job-user dynamic" in str(e.value), str(e.value)
    d = slurmd_factory(name="own")  # no --job-user: owner
    name = unix_account.pw_name
    d.add_user(name, quota="10h")
    d.add_user("nounixacct", quota="10h")
    jid = submit(d, "sh", "-c", "id -un; echo $HOME", gpu="T4", user=name)
    job = wait_end(d, jid, user=name)
    assert job["status"] == "COMPLETED", (job, d.ok("logs", jid).stdout)
    assert d.ok("logs", jid, user=name).stdout.split() == [name, unix_account.pw_dir]
    assert show_job(cluster, int(job["slurm_job_id"]))["UserId"] == "%s(%d)" % (name, unix_account.pw_uid)
    # No Unix account of that name: failed at once, saying so, and nothing charged.
    k = submit(d, "true", gpu="T4", user="nounixacct")
    job = wait_end(d, k, user="nounixacct")
    assert job["status"] == "FAILED" and "no Unix account named 'nounixacct'" in job["reason"], job
    assert job["charged_seconds"] in (0, None) and job["slurm_job_id"] is None
    assert d.json("quota", user="nounixacct")["remaining"] == 36000
    check_invariant(d)


def test_restart_readopts_jobs_and_never_submits_twice(cluster, sd):
    long_job = submit(sd, "sh", "-c", "echo one; sleep 8; echo two", count=2)
    short = submit(sd, "sh", "-c", "sleep 1; exit 4", gpu="T4")
    lost_id = submit(sd, "sh", "-c", "sleep 4", gpu="T4")
    sids = {j: slurm_id_of(sd, j) for j in (long_job, short, lost_id)}
    wait_slurm_state(cluster, sids[long_job], "RUNNING")
    sd.kill9()
    # While gpuaasd is down: one job ends, and one job's stored id is lost, as
    # if the daemon had died between sbatch and its commit.
    wait_slurm_state(cluster, sids[short], "FAILED")
    db = sqlite3.connect(os.path.join(sd.state, "gpuaas.db"))
    db.execute("UPDATE jobs SET external_id = NULL WHERE id = ?", (lost_id,))
    db.commit()
    db.close()
    sd.restart()
    assert sd.json("show", long_job)["status"] == "RUNNING"
    job = wait_end(sd, short)
    assert job["status"] == "FAILED" and job["exit_code"] == 4, job
    for j in (long_job, lost_id):
        job = wait_end(sd, j)
        assert job["status"] == "COMPLETED", job
        assert job["slurm_job_id"] == str(sids[j]), (job, sids)
        assert named(cluster, sd, j) == [sids[j]]
        ran = seconds(show_job(cluster, sids[j])["RunTime"])
        assert job["charged_seconds"] == job["gpu_count"] * ran, (ran, job)
    assert sd.ok("logs", long_job).stdout == "one\ntwo\n"
    # A clean stop leaves a running job to Slurm too.
    j = submit(sd, "sleep", "3", gpu="T4")
    sid = slurm_id_of(sd, j)
    wait_slurm_state(cluster, sid, "RUNNING")
    sd.stop()
    sd.restart()
    job = wait_end(sd, j)
    assert job["status"] == "COMPLETED" and named(cluster, sd, j) == [sid], job
    check_invariant(sd)


def test_slurmctld_down_jobs_wait_and_are_submitted_once(cluster, sd):
    """Longer than sbatch and squeue keep trying on their own (about 9 s):
    gpuaas retries with backoff, looks each job up by name before submitting
    it again, and never takes a failed squeue for an end."""
    conf = cluster["env"]["SLURM_CONF"]
    pidfile = os.path.join(cluster["dir"], "slurmctld.pid")
    running = submit(sd, "sh", "-c", "sleep 4", gpu="T4")
    sid = slurm_id_of(sd, running)
    wait_slurm_state(cluster, sid, "RUNNING")
    with open(pidfile) as f:
        pid = int(f.read())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists("/proc/%d" % pid), 30, "slurmctld to stop")
    try:
        waiting = [submit(sd, "sh", "-c", "echo ok", gpu="T4") for _ in range(3)]
        wait_for(lambda: "event=exec.slurm.submit_retry" in sd.read_log(), 30, "a submission to be retried")
        wait_for(lambda: "event=exec.slurm.squeue_failed" in sd.read_log(), 30, "a failed squeue")
        for j in waiting + [running]:
            assert sd.json("show", j)["status"] == "RUNNING"  # never failed for a missing controller
    finally:
        slurm(cluster, "slurmctld", "-f", conf)
    for j in waiting:
        job = wait_end(sd, j, timeout=90)
        assert job["status"] == "COMPLETED", job
        assert named(cluster, sd, j) == [int(job["slurm_job_id"])]
    job = wait_end(sd, running, timeout=90)
    assert job["status"] == "COMPLETED", job
    check_invariant(sd)


def test_time_limit_is_enforced_by_slurm(cluster, time_limit_job):
    d, jid, since = time_limit_job
    # Slurm checks limits every 30 s: the end comes 60 to about 95 s after the start.
    job = wait_end(d, jid, timeout=int(max(10, 130 - (time.monotonic() - since))))
    assert job["status"] == "FAILED" and job["reason"] == "time limit", job
    info = show_job(cluster, int(job["slurm_job_id"]))
    assert info["JobState"] == "TIMEOUT" and info["TimeLimit"] == "00:01:00"  # 30 s rounded up
    ran = seconds(info["RunTime"])
    assert 60 <= ran <= 100 and job["charged_seconds"] == ran, (ran, job)
    assert d.ok("logs", jid).stdout.startswith("started\n")
    check_invariant(d)

"""gpuctl for people: tables, output formats, help, the shell's Ctrl-C,
accounts and switch, the cut-list hint, durations, errors in terms of flags,
global options anywhere, progress columns, logs feedback, scripting tools and
polish. Each test names the item of the CLI usability work it covers."""
import calendar
import json
import os
import re
import stat
import subprocess
import time

import pytest

from conftest import ADMIN_PW, BUILD, GPUCTL, ROOT
from test_ship import bash_complete, run_pty

PW = "-password"  # users' passwords here are NAME + PW (8 characters at least)


def add(d, name, quota="100h", admin=False):
    args = ["admin", "useradd", name, "--quota", quota, "--password-stdin"] + (["--admin"] if admin else [])
    d.ok(*args, input=name + PW + "\n")
    d.ok("login", name, "--password-stdin", user=name, input=name + PW + "\n")


def pty_env(d, tmp_path, user="admin", **extra):
    env = dict(os.environ, GPUAAS_SOCKET=d.sock, GPUAAS_TOKEN_FILE=d.token_file(user), HOME=str(tmp_path),
               XDG_STATE_HOME=str(tmp_path / "xdg"), TERM="xterm")
    env.pop("GPUAAS_TOKEN", None)
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def submit_many(d, n, name="bulk"):
    """n jobs of admin's, pipelined on one raw connection (fast)."""
    d.ok("admin", "quota", "admin", "--set", "1000h")
    r = d.raw()
    tok = d.token("admin")
    for i in range(n):
        r.send({"v": 1, "id": i, "op": "job.submit", "token": tok,
                "args": {"gpu_type": "T4", "time_limit": 60, "name": "%s-%d" % (name, i)}})
    ids = [r.recv()["data"]["id"] for _ in range(n)]
    r.close()
    return ids


# ---- 3: tables size to their content; -o on everything that lists or shows ----

def test_tables_never_cut_and_output_formats(daemon):
    daemon.ok("admin", "quota", "admin", "--set", "100h")
    long_name = "resnet50-sweep-long-7-" + "x" * 30
    jid = int(daemon.ok("submit", "--gpu", "T4", "--time", "23h59m59s", "--name", long_name).stdout)
    lines = daemon.ok("list").stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "OWNER", "TYPE", "COUNT", "TIME", "ELAPSED", "STATUS", "CREATED"]
    assert long_name in lines[1] and "23h59m59s" in lines[1]
    # Columns line up: every header starts where its column starts.
    assert lines[0].index("OWNER") == lines[1].index("admin")
    assert not any(line.endswith(" ") for line in lines)
    wide = daemon.ok("list", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-4:] == ["CREATED", "STARTED", "END", "REASON"]
    assert wide[1].endswith("waiting for approval")
    assert daemon.ok("list", "-o", "name").stdout == "%d\n" % jid
    assert json.loads(daemon.ok("list", "-o", "json").stdout)["jobs"][0]["name"] == long_name
    yaml = daemon.ok("show", jid, "-o", "yaml").stdout
    assert yaml.startswith("---\n") and "\nname: %s\n" % long_name in yaml and "\ntime_limit: 86399\n" in yaml
    assert "\ncreated_at: \"" in yaml and "\ncommand: null\n" in yaml
    assert daemon.ok("show", jid, "-o", "name").stdout == "%d\n" % jid
    assert daemon.ok("gpus", "-o", "name").stdout.split() == ["A100", "V100", "T4"]
    assert daemon.ok("admin", "users", "-o", "name").stdout.split() == ["admin"]
    assert daemon.ok("whoami", "-o", "name").stdout == "admin\n"
    users = daemon.ok("admin", "users").stdout.splitlines()
    assert users[0].split() == ["USERNAME", "ROLE", "REMAINING", "RESERVED", "AVAILABLE"]
    assert "100.0 GPU-h" in users[1] and "24.0 GPU-h" in users[1] and "76.0 GPU-h" in users[1]
    assert daemon.ok("--json", "gpus").stdout == daemon.ok("gpus", "-o", "json").stdout
    p = daemon.ctl("quota", "-o", "name")
    assert p.returncode == 2 and "-o name does not apply" in p.stderr
    p = daemon.ctl("list", "-o", "xml")
    assert p.returncode == 2 and "json, yaml, wide or name" in p.stderr


# ---- 4: every command and group answers --help; unknown options; version ----

def help_names():
    out = subprocess.run([GPUCTL, "help"], capture_output=True, text=True).stdout
    block = out.split("Commands:")[1].split("\n\n")[0]
    names = []
    for usage in block.splitlines():
        words = usage.split()
        if not words:
            continue
        names.append(words[:2] if words[0] == "admin" else words[:1])
    return names + [["admin"]]


def test_every_command_answers_help_and_rejects_unknown_options(daemon):
    out = daemon.ok("help").stdout
    assert all(len(line) <= 80 for line in out.splitlines()), [l for l in out.splitlines() if len(l) > 80]
    for name in help_names():
        for form in (name + ["--help"], ["help"] + name, name + ["-h"]):
            p = daemon.ctl(*form)
            assert p.returncode == 0 and p.stdout.startswith("Usage: gpuctl " + " ".join(name)), (form, p.stderr)
            assert all(len(line) <= 80 for line in p.stdout.splitlines()), form
        if name not in (["help"], ["admin"], ["__complete"]):
            p = daemon.ctl(*name, "--bogus")
            assert p.returncode == 2 and "unknown option '--bogus'" in p.stderr, name
    assert "Commands:" in daemon.ok("admin", "--help").stdout
    # The shell and ping answer --help instead of running.
    assert daemon.ok("shell", "--help").stdout.startswith("Usage: gpuctl shell")
    assert daemon.ok("ping", "--help").stdout.startswith("Usage: gpuctl ping")
    v = daemon.ok("version").stdout.splitlines()
    assert v[0].startswith("gpuctl 0.") and v[1].startswith("gpuaasd ") and daemon.sock in v[1]
    assert json.loads(daemon.ok("version", "-j").stdout)["gpuctl"] == v[0].split()[1]
    p = daemon.ctl("-s", daemon.tmp + "/none.sock", "version")
    assert p.returncode == 0 and p.stdout.startswith("gpuctl ") and "does not answer" in p.stderr


# ---- 5: Ctrl-C in the shell cancels the line or the command, never quits ----

def test_shell_ctrl_c_cancels_line_and_command(daemon, tmp_path):
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    jid = daemon.ok("submit", "--gpu", "T4").stdout.strip()  # PENDING: logs -f on it blocks
    out, status = run_pty([GPUCTL, "shell"], pty_env(daemon, tmp_path), [
        ("admin@gpuaas> ", "whoa"),
        ("whoa", "\x03"),                      # at the prompt: the line is dropped
        ("^C", None),
        # During a command (it said it waits, so it runs): back to the prompt.
        ("admin@gpuaas> ", "logs -f %s\r" % jid),
        ("waiting for its output", "\x03"),
        ("admin@gpuaas> ", "whoami\r"),
        ("role:     admin", None),
        ("admin@gpuaas> ", "show %s\r" % jid),
        ("waiting for approval", None),
        ("admin@gpuaas> ", "\x04"),
    ])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, out
    assert "unknown command 'whoa'" not in out  # the cancelled line did not run
    # The parked request went with its connection; the daemon is fine.
    assert daemon.json("show", jid)["status"] == "PENDING"


# ---- 6: one token per daemon and account, plus a current one ----

def test_login_adds_accounts_and_switch_picks_one(daemon):
    add(daemon, "alice")
    # Both accounts in one token file's store: alice's login keeps admin's token.
    p = daemon.ok("login", "alice", "--password-stdin", input="alice" + PW + "\n")
    assert "Logged in as alice (role: user)" in p.stdout and "admin's token is kept" in p.stdout
    assert daemon.ok("whoami", "-o", "name").stdout == "alice\n"
    assert daemon.ok("switch").stdout.splitlines() == ["  admin", "* alice"]
    assert json.loads(daemon.ok("switch", "-j").stdout)["accounts"] == [
        {"username": "admin", "current": False}, {"username": "alice", "current": True}]
    assert "Switched to admin (role: admin)" in daemon.ok("switch", "admin").stdout
    assert daemon.ok("whoami", "-o", "name").stdout == "admin\n"
    tf = daemon.token_file("admin")
    store = tf + ".accounts"
    key = os.listdir(store)[0]
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(store, key)).st_mode) == 0o700
    alice_file = os.path.join(store, key, "alice")
    assert stat.S_IMODE(os.stat(alice_file).st_mode) == 0o600
    # Every cached token gets the cache's checks.
    os.chmod(alice_file, 0o644)
    p = daemon.ctl("switch", "alice")
    assert p.returncode == 3 and "readable by others" in p.stderr
    os.chmod(alice_file, 0o600)
    os.chmod(os.path.join(store, key), 0o755)
    p = daemon.ctl("switch", "alice")
    assert p.returncode == 3 and "mode 0700" in p.stderr
    os.chmod(os.path.join(store, key), 0o700)
    p = daemon.ctl("switch", "nobody")
    assert p.returncode == 3 and "gpuctl login nobody" in p.stderr
    # $GPUAAS_TOKEN still wins over the file.
    alice_tok = open(alice_file).read().strip()
    assert daemon.ok("whoami", "-o", "name", env={"GPUAAS_TOKEN": alice_tok}).stdout == "alice\n"
    # Another daemon's accounts are kept apart.
    assert daemon.ok("-s", daemon.tmp + "/other.sock", "switch").stdout == ""
    # logout forgets the current account only.
    p = daemon.ok("logout")
    assert "Logged out admin" in p.stdout and "alice" in p.stdout
    assert daemon.ctl("whoami").returncode == 3
    assert daemon.ok("switch", "alice").stdout.startswith("Switched to alice")
    # A token that stopped working is forgotten by switch.
    daemon.ok("passwd", "--password-stdin", input="alice%s\nalice-new-password\n" % PW)
    daemon.ok("switch", "alice")  # the fresh token was kept by passwd
    os.rename(alice_file, alice_file + ".keep")
    with open(alice_file, "w") as f:
        f.write(alice_tok + "\n")
    os.chmod(alice_file, 0o600)
    p = daemon.ctl("switch", "alice")
    assert p.returncode == 3 and "no longer works" in p.stderr and not os.path.exists(alice_file)


def test_login_in_the_shell_keeps_the_other_account(daemon, tmp_path):
    add(daemon, "bob")
    out, status = run_pty([GPUCTL, "shell"], pty_env(daemon, tmp_path, user="bob"), [
        ("bob@gpuaas> ", "login admin\r"),
        ("Password for admin: ", ADMIN_PW + "\r"),
        ("admin@gpuaas> ", "switch bob\r"),
        ("Switched to bob", None),
        ("bob@gpuaas> ", "exit\r"),
    ])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, out
    assert "bob's token is kept: gpuctl switch bob goes back" in out


# ---- 7: a list cut at -n says so on stderr in a terminal ----

def test_cut_list_says_so_in_a_terminal(daemon, tmp_path):
    submit_many(daemon, 110)
    env = pty_env(daemon, tmp_path)
    out, status = run_pty([GPUCTL, "list"], env, [("showing 100 of 110 (use -n)", None)])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    out, _ = run_pty([GPUCTL, "list", "-n", "5", "--name", "bulk-10*"], env, [("showing 5 of 11 (use -n)", None)])
    out, _ = run_pty([GPUCTL, "list", "-o", "wide", "-n", "108"], env, [("showing 108 of 110 (use -n)", None)])
    out, _ = run_pty([GPUCTL, "list", "-q"], env, [])
    assert "showing" not in out and len(out.split()) == 100
    # Not a terminal: nothing extra, and -q stays clean.
    p = daemon.ok("list")
    assert "showing" not in p.stderr and len(p.stdout.splitlines()) == 101
    assert len(daemon.ok("list", "-n", "200").stdout.splitlines()) == 111


# ---- 8: durations: no bare numbers, Slurm's forms, integer seconds on the wire ----

@pytest.mark.parametrize("text,secs", [
    ("90s", 90), ("15m", 900), ("1h30m", 5400), ("1.5h", 5400), ("1d", 86400), ("90:00", 5400),
    ("1:30:00", 5400), ("1-0", 86400), ("0-12:30", 45000), ("0-1:02:03", 3723)])
def test_durations_slurm_forms(daemon, text, secs):
    daemon.ok("admin", "quota", "admin", "--set", "100h")
    assert daemon.json("submit", "--gpu", "T4", "--time", text)["time_limit"] == secs


def test_bare_number_refused_everywhere(daemon):
    for args in (["submit", "--time", "90"], ["wait", "1", "--timeout", "30"],
                 ["admin", "quota", "admin", "--set", "10"], ["admin", "useradd", "zed", "--quota", "5"]):
        p = daemon.ctl(*args, input="zed" + PW + "\n")
        assert p.returncode == 2, args
        n = args[-1]
        assert "write %ss or %sm" % (n, n) in p.stderr, (args, p.stderr)
    p = daemon.ctl("submit", "--time", "1:75")
    assert p.returncode == 2 and "up to 59" in p.stderr
    p = daemon.ctl("submit", "--time", "0.5s")
    assert p.returncode == 2 and "whole number of seconds" in p.stderr
    # Help, man page and completion say the same.
    assert "MM:SS, HH:MM:SS, D-HH[:MM[:SS]]" in daemon.ok("submit", "--help").stdout
    man = os.path.join(BUILD, "docs", "man", "gpuctl.1.scd")
    if os.path.exists(man):
        assert "MM:SS, HH:MM:SS, D-HH[:MM[:SS]]" in open(man).read()
    cands = bash_complete(daemon, ["gpuctl", "submit", "--time", ""])
    assert "1h30m" in cands and "1:00:00" not in cands and "2:00:00" in cands
    assert not any(c.isdigit() for c in cands)


# ---- 9: errors name flags and commands, not protocol fields ----

def test_errors_name_flags_and_suggest(daemon):
    add(daemon, "alice")
    cases = [
        (["submit", "--gpu", "A100", "--count", "3"], "--count must be from 1 to 2"),
        (["submit", "--time", "25h"], "--time must be from 1s to"),
        (["submit", "--name", "a\tb"], "--name must be"),
        (["admin", "approve", "1"], "gpuctl admin approve needs the admin role"),
        (["admin", "pending"], "gpuctl admin pending needs the admin role"),
        (["admin", "users"], "gpuctl admin users needs the admin role"),
        (["list", "--all"], "list --all and --user need the admin role"),
        (["list", "--state", "BOGUS"], "--state"),
        (["submit", "--gpu", "t4", "echo", "hi"], "goes after --, as in gpuctl submit [OPTIONS] -- echo"),
        (["submit", "--gpus", "t4"], "did you mean --gpu?"),
        (["lsit"], "did you mean list?"),
        (["admin", "aprove", "1"], "did you mean admin approve?"),
    ]
    for args, needle in cases:
        p = daemon.ctl(*args, user="alice")
        assert p.returncode in (2, 4), (args, p.stderr)
        assert needle in p.stderr, (args, p.stderr)
        for field in ("gpu_count", "time_limit", "gpu_type", "job.", "'states'", "argument 'name'", "only admins"):
            assert field not in p.stderr, (args, p.stderr)


# ---- 10: global options anywhere ----

def test_global_options_anywhere(daemon):
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    jid = daemon.ok("submit", "--name", "g").stdout.strip()
    assert json.loads(daemon.ok("list", "--json").stdout)["jobs"][0]["name"] == "g"
    assert json.loads(daemon.ok("show", jid, "-j").stdout)["id"] == int(jid)
    assert json.loads(daemon.ok("list", "-n", "1", "--output=json").stdout)["jobs"][0]["id"] == int(jid)
    assert daemon.ok("whoami", "-s", daemon.sock).stdout.startswith("username: admin")
    p = daemon.ctl("whoami", "-s", daemon.tmp + "/nope.sock")
    assert p.returncode == 7 and "nope.sock" in p.stderr
    logs = json.loads(daemon.ok("--json", "logs", jid).stdout)
    assert logs == {"id": int(jid), "data": "", "offset": 0, "eof": False}
    assert json.loads(daemon.ok("logs", jid, "--json").stdout)["id"] == int(jid)
    assert daemon.ok("list", "--version").stdout.startswith("gpuctl ")
    # A value that looks like a global option stays the option's value.
    assert json.loads(daemon.ok("submit", "--name", "-j", "--json").stdout)["name"] == "-j"


# ---- 14: ELAPSED in list; show says when a running job ends at the latest ----

def test_elapsed_and_ends_by(daemon_factory):
    d = daemon_factory(args=["--sim-time-scale", "1"])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "100h")
    jid = d.ok("submit", "--gpu", "T4", "--time", "2h").stdout.strip()
    pending = d.ok("submit", "--gpu", "A100", "--count", "2", "--time", "1h").stdout.strip()
    d.ok("admin", "approve", jid)
    job = d.wait_state(jid, "RUNNING")
    time.sleep(1.1)
    rows = {line.split()[0]: line.split() for line in d.ok("list").stdout.splitlines()[1:]}
    assert re.fullmatch(r"\d+s", rows[jid][6]), rows[jid]       # ELAPSED of the running job
    assert rows[pending][6] == "-" and rows[pending][5] == "1h"
    show = d.ok("show", jid).stdout
    started = calendar.timegm(time.strptime(job["started_at"], "%Y-%m-%dT%H:%M:%SZ"))
    ends = time.strftime("%H:%M:%S", time.localtime(started + 7200))
    day = time.strftime("%Y-%m-%d %H:%M", time.localtime(started + 7200))
    assert re.search(r"ends by:\s+(%s|%s) \(in 1h59m" % (ends, day), show), show
    assert re.search(r"elapsed:\s+\d+s", show)
    assert re.search(r"started:\s+\S+ \(\d+s ago\)", show)


# ---- 15: logs explain an empty log; --tail, -t; wait prints the reason ----

def test_logs_explain_and_wait_reason(daemon):
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    jid = daemon.ok("submit", "--gpu", "T4", "--time", "1m").stdout.strip()
    p = daemon.ok("logs", jid)
    assert p.stdout == "" and "has not started (PENDING: waiting for approval)" in p.stderr
    daemon.ok("admin", "approve", jid)
    assert daemon.ok("wait", jid).stdout == "%s COMPLETED\n" % jid
    p = daemon.ok("logs", jid)
    assert p.stdout == "" and "wrote no output (under the simulated executor" in p.stderr
    other = daemon.ok("submit").stdout.strip()
    daemon.ok("cancel", other)
    p = daemon.ctl("wait", other)
    assert p.returncode == 1 and p.stdout == "%s CANCELLED (cancelled by admin)\n" % other
    slow = daemon.ok("submit").stdout.strip()
    p = daemon.ctl("wait", slow, "--timeout", "0s")
    assert p.returncode == 8 and p.stdout == "%s TIMEOUT (still PENDING: waiting for approval)\n" % slow


def test_logs_tail_and_timestamps(daemon_factory):
    d = daemon_factory(args=["--executor", "local", "--gpus", "T4:2"])
    d.login()
    d.ok("admin", "quota", "admin", "--set", "100h")
    jid = d.ok("submit", "--gpu", "T4", "--time", "1m", "--", "sh", "-c",
               "for i in 1 2 3 4 5; do echo line$i; done; printf tail").stdout.strip()
    d.ok("admin", "approve", jid)
    d.ctl("wait", jid, "--timeout", "30s")
    assert d.ok("logs", jid).stdout == "line1\nline2\nline3\nline4\nline5\ntail"
    assert d.ok("logs", jid, "--tail", "2").stdout == "line5\ntail"
    assert d.ok("logs", jid, "-n", "0").stdout == ""
    stamped = d.ok("logs", jid, "-t", "--tail", "3").stdout.splitlines()
    assert [re.sub(r"^\d\d:\d\d:\d\d ", "", s) for s in stamped] == ["line4", "line5", "tail"]
    assert all(re.match(r"\d\d:\d\d:\d\d line|\d\d:\d\d:\d\d tail", s) for s in stamped)
    assert json.loads(d.ok("logs", jid, "-j", "--tail", "1").stdout)["data"] == "tail"


# ---- 16: list --name, cancel --all/--state, submit --like, completion ----

def test_list_name_cancel_all_and_like(daemon, tmp_path):
    add(daemon, "alice")
    ids = [daemon.ok("submit", "--gpu", "T4", "--time", "10m", "--name", n, user="alice").stdout.strip()
           for n in ("sweep-1", "sweep-2", "eval")]
    assert daemon.ok("list", "--name", "sweep-*", "-q", user="alice").stdout.split() == ids[1::-1]
    assert [j["name"] for j in daemon.json("list", "--name", "e*", user="alice")["jobs"]] == ["eval"]
    # --like: the same request, with changes.
    like = daemon.json("submit", "--like", ids[0], "--time", "20m", "--", "python", "x.py", user="alice")
    assert like["name"] == "sweep-1" and like["gpu_type"] == "T4" and like["time_limit"] == 1200
    assert like["command"] == ["python", "x.py"]
    daemon.ok("cancel", like["id"], user="alice")
    # Not a terminal and no --yes: nothing happens.
    p = daemon.ctl("cancel", "--all", user="alice", input="")
    assert p.returncode == 2 and "--yes" in p.stderr
    p = daemon.ctl("cancel", "--state", "COMPLETED", "--yes", user="alice")
    assert p.returncode == 2 and "only PENDING, APPROVED and RUNNING" in p.stderr
    daemon.ok("admin", "approve", ids[2])
    # A terminal asks; admin's own job is not touched by alice's --all.
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    mine = daemon.ok("submit").stdout.strip()
    out, status = run_pty([GPUCTL, "cancel", "--state", "PENDING"], pty_env(daemon, tmp_path, user="alice"),
                          [("Cancel 2 jobs (%s, %s)? [y/N] " % (ids[1], ids[0]), "y\r"), ("CANCELLED", None)])
    assert os.WEXITSTATUS(status) == 0, out
    states = {j["id"]: j["status"] for j in daemon.json("list", "--all")["jobs"]}
    assert states[int(ids[0])] == states[int(ids[1])] == "CANCELLED"
    assert states[int(mine)] == "PENDING" and states[int(ids[2])] in ("APPROVED", "RUNNING", "COMPLETED")
    p = daemon.ok("cancel", "--all", "--yes")
    assert p.stdout == "%s CANCELLED\n" % mine


def test_completion_scripts_and_candidates(daemon):
    for shell, path in (("bash", "gpuctl.bash"), ("zsh", "_gpuctl")):
        with open(os.path.join(ROOT, "gpuctl", "completions", path)) as f:
            assert daemon.ok("completion", shell).stdout == f.read()
    p = subprocess.run(["bash", "-c", "source <(%s completion bash) && complete -p gpuctl" % GPUCTL],
                       capture_output=True, text=True)
    assert "_gpuctl gpuctl" in p.stdout, p.stderr
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    live = daemon.ok("submit").stdout.strip()
    gone = daemon.ok("submit").stdout.strip()
    daemon.ok("cancel", gone)
    cands = bash_complete(daemon, ["gpuctl", "cancel", ""])
    assert live in cands and gone not in cands
    assert gone in bash_complete(daemon, ["gpuctl", "show", ""])
    assert bash_complete(daemon, ["gpuctl", "submit", "--gpu", "t"]) == ["t4"]
    assert bash_complete(daemon, ["gpuctl", "submit", "--gpu", "a"]) == ["a100"]
    assert bash_complete(daemon, ["gpuctl", "submit", "--gpu", "V"]) == ["V100"]
    assert bash_complete(daemon, ["gpuctl", "list", "-o", ""]) == ["json", "yaml", "wide", "name"]
    assert "--json" in bash_complete(daemon, ["gpuctl", "list", "--j"])
    assert bash_complete(daemon, ["gpuctl", "completion", ""]) == ["bash", "zsh"]
    assert bash_complete(daemon, ["gpuctl", "switch", ""]) == ["admin"]


# ---- 17: times, GPU-hours, colour, empty lists, plurals, roles, passwords ----

def test_polish(daemon, tmp_path):
    p = daemon.ok("list")
    assert p.stdout == "" and p.stderr == "no jobs\n"
    assert daemon.ok("list", "-q").stderr == ""
    daemon.ok("admin", "quota", "admin", "--set", "100h")
    assert daemon.ok("quota").stdout.splitlines()[0] == "remaining: 100.0 GPU-h"
    jid = daemon.ok("submit", "--time", "90m").stdout.strip()
    q = daemon.ok("quota").stdout
    assert "reserved:  1.5 GPU-h" in q and "available: 98.5 GPU-h" in q
    assert "(5400 GPU-seconds)" in daemon.ok("quota", "-o", "wide").stdout
    show = daemon.ok("show", jid).stdout
    assert re.search(r"created:\s+\d\d:\d\d:\d\d \((\d+s ago|now)\)", show), show
    assert json.loads(daemon.ok("show", jid, "-j").stdout)["created_at"].endswith("Z")
    assert re.search(r"token expires: \S+( \S+)? \(in 1[12]h", daemon.ok("whoami").stdout)
    p = daemon.ok("login", "admin", "--password-stdin", input=ADMIN_PW + "\n")
    assert p.stdout.startswith("Logged in as admin (role: admin); the token is valid until ")
    # Colour on a terminal only, and never with NO_COLOR.
    out, _ = run_pty([GPUCTL, "list"], pty_env(daemon, tmp_path), [("PENDING", None)])
    assert "\x1b[33mPENDING\x1b[0m" in out
    out, _ = run_pty([GPUCTL, "list"], pty_env(daemon, tmp_path, NO_COLOR="1"), [("PENDING", None)])
    assert "\x1b[" not in out
    assert "\x1b[" not in daemon.ok("list").stdout
    # Plurals.
    for name, jobs in (("one", 1), ("two", 2)):
        add(daemon, name)
        for _ in range(jobs):
            daemon.ok("submit", user=name)
        want = "(%d live job%s cancelled)" % (jobs, "" if jobs == 1 else "s")
        assert want in daemon.ok("admin", "userdel", name).stdout
    # Passwords: at least 8 characters, said clearly, before anything is sent.
    p = daemon.ctl("admin", "useradd", "shorty", "--password-stdin", input="seven77\n")
    assert p.returncode == 2 and "at least 8 characters, this one has 7" in p.stderr
    assert "shorty" not in daemon.ok("admin", "users", "-o", "name").stdout
    p = daemon.ctl("passwd", "--password-stdin", input=ADMIN_PW + "\nshort\n")
    assert p.returncode == 2 and "at least 8 characters" in p.stderr
    daemon.ok("whoami")  # nothing changed


# ---- issue 15: one-shot commands load no readline; the floor client works ----

def test_one_shot_commands_do_not_load_readline(daemon):
    needed = subprocess.run(["readelf", "-d", GPUCTL], capture_output=True, text=True).stdout
    libs = re.findall(r"Shared library: \[(.*?)\]", needed)
    assert libs and not any("readline" in l or "tinfo" in l for l in libs), libs
    floor = os.path.join(BUILD, "tests", "bench", "gpuaas-floor")
    p = subprocess.run([floor, daemon.sock, "sys.ping"], capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout)["data"]["pong"] is True
    p = subprocess.run([floor, daemon.sock, "auth.whoami"], capture_output=True, text=True,
                       env=dict(os.environ, GPUAAS_TOKEN_FILE=daemon.token_file("admin")))
    assert p.returncode == 0 and json.loads(p.stdout)["data"]["username"] == "admin"

"""Shipping: meson install, systemd units (verify, security score, real
socket activation), man pages agreeing with the help, bash/zsh completion,
and the interactive shell driven through a pseudo-terminal."""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ADMIN_PW, BUILD, GPUAASD, GPUCTL, ROOT, wait_for

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def unit_text(name):
    with open(os.path.join(ROOT, "systemd", name)) as f:
        return f.read().replace("@SBINDIR@", os.path.dirname(GPUAASD))


def test_meson_install_puts_everything_in_place(tmp_path):
    dest = tmp_path / "dest"
    p = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", str(dest)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    files = {str(f.relative_to(dest)) for f in dest.rglob("*") if f.is_file()}
    want = ["sbin/gpuaasd", "bin/gpuctl", "lib/systemd/system/gpuaasd.service", "lib/systemd/system/gpuaasd.socket",
            "lib/sysusers.d/gpuaas.conf", "lib/tmpfiles.d/gpuaas.conf", "etc/gpuaas/gpuaasd.conf",
            "share/man/man1/gpuctl.1", "share/man/man8/gpuaasd.8", "share/man/man5/gpuaasd.conf.5",
            "share/bash-completion/completions/gpuctl", "share/zsh/vendor-completions/_gpuctl"]
    for w in want:
        assert any(f.endswith(w) for f in files), (w, sorted(files))


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze not installed")
def test_units_verify_and_security_score(tmp_path):
    for name in ("gpuaasd.service", "gpuaasd.socket"):
        (tmp_path / name).write_text(unit_text(name))
    p = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(tmp_path / "gpuaasd.socket"),
                        str(tmp_path / "gpuaasd.service")], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr

    def score(root):
        p = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", "--root=" + str(root), "gpuaasd.service"],
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for gpuaasd.service: ([0-9.]+) (\w+)", p.stdout + p.stderr)
        assert m, p.stdout + p.stderr
        return float(m.group(1)), m.group(2)

    root = tmp_path / "root"
    unit_dir = root / "etc" / "systemd" / "system"
    unit_dir.mkdir(parents=True)
    (unit_dir / "gpuaasd.service").write_text(unit_text("gpuaasd.service"))
    (unit_dir / "gpuaasd.socket").write_text(unit_text("gpuaasd.socket"))
    base = score(root)
    (unit_dir / "gpuaasd.service.d").mkdir()
    (unit_dir / "gpuaasd.service.d" / "gpu.conf").write_text(unit_text("gpuaasd-gpu.conf"))
    gpu = score(root)
    print("systemd-analyze security: %s without the GPU drop-in, %s with it" % (base, gpu))
    assert base[1] == "SAFE", base
    assert gpu[1] in ("SAFE", "OK"), gpu
    # The hardening a reviewer expects, and no PrivateUsers= (breaks SO_PEERCRED).
    svc = unit_text("gpuaasd.service")
    for line in ("Type=notify", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "RestrictAddressFamilies=AF_UNIX", "SystemCallFilter=@system-service", "StateDirectory=gpuaas"):
        assert line in svc, line
    settings = [line for line in svc.splitlines() if not line.startswith("#")]
    assert not any(s.startswith(("PrivateUsers=", "RuntimeDirectory=")) for s in settings)


@pytest.mark.skipif(not shutil.which("systemd-socket-activate"), reason="systemd-socket-activate not installed")
def test_socket_activation_for_real(tmp_path):
    sock = str(tmp_path / "act.sock")
    env = dict(os.environ, GPUAAS_INITIAL_ADMIN_PASSWORD=ADMIN_PW)
    log = open(tmp_path / "act.log", "wb")
    act = subprocess.Popen(["systemd-socket-activate", "-E", "GPUAAS_INITIAL_ADMIN_PASSWORD", "-l", sock, GPUAASD, "--state-dir", str(tmp_path / "st"),
                            "--bcrypt-cost", "4"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: os.path.exists(sock), 10, "systemd-socket-activate to create " + sock)
        # Nothing runs yet: the first connection starts the daemon.
        assert subprocess.run(["pgrep", "-x", "gpuaasd", "-P", str(act.pid)], capture_output=True).returncode != 0
        e = dict(os.environ, GPUAAS_SOCKET=sock, GPUAAS_TOKEN_FILE=str(tmp_path / "tok"))
        p = subprocess.run([GPUCTL, "login", "admin", "--password-stdin"], input=ADMIN_PW + "\n", text=True,
                           capture_output=True, env=e, timeout=30)
        assert p.returncode == 0, p.stderr + open(tmp_path / "act.log").read()
        p = subprocess.run([GPUCTL, "whoami"], capture_output=True, text=True, env=e, timeout=30)
        assert p.returncode == 0 and "admin" in p.stdout
    finally:
        act.send_signal(signal.SIGTERM)
        act.wait(15)
        log.close()
    assert "socket=(systemd)" in open(tmp_path / "act.log").read()


def commands():
    out = subprocess.run([GPUCTL, "help"], capture_output=True, text=True).stdout
    usages = [line.strip() for line in out.split("Commands:")[1].split("\n\n")[0].splitlines() if line.strip()]
    return usages


def test_man_pages_agree_with_help():
    man_dir = os.path.join(BUILD, "docs", "man")
    if not os.path.exists(os.path.join(man_dir, "gpuctl.1")):
        pytest.skip("scdoc not installed: man pages not built")
    with open(os.path.join(man_dir, "gpuctl.1.scd")) as f:
        gpuctl_scd = f.read()
    for usage in commands():
        name = usage.split(" [")[0].split(" ID")[0].split(" NAME")[0].split(" (")[0]
        if name in ("shell", "ping", "help"):
            assert "*%s*" % name in gpuctl_scd or name in gpuctl_scd
            continue
        help_text = subprocess.run([GPUCTL, "help"] + name.split(), capture_output=True, text=True).stdout
        # `gpuctl help X` = "Usage: gpuctl [-s SOCKET] [-j] <usage>\n\n<text>"
        body = help_text.split("\n\n", 1)[1].strip()
        scd_usage = usage.replace("_", "\\_").replace("*", "\\*")
        scd_body = body.replace("_", "\\_").replace("*", "\\*")
        assert "*" + scd_usage + "*" in gpuctl_scd, usage
        assert scd_body in gpuctl_scd, name
    for code in range(10):
        assert re.search(r"\|  %d\n" % code, gpuctl_scd), code
    for var in ("GPUAAS_SOCKET", "GPUAAS_TOKEN", "GPUAAS_TOKEN_FILE"):
        assert var in gpuctl_scd
    # Every daemon option is in gpuaasd(8), every config key in gpuaasd.conf(5).
    with open(os.path.join(ROOT, "docs", "man", "gpuaasd.8.scd")) as f:
        daemon_scd = f.read()
    with open(os.path.join(ROOT, "docs", "man", "gpuaasd.conf.5.scd")) as f:
        conf_scd = f.read()
    helptext = subprocess.run([GPUAASD, "--help"], capture_output=True, text=True).stdout
    opts = re.findall(r"^  --([a-z-]+)", helptext, re.M)
    assert len(opts) > 15
    for o in opts:
        assert "*--%s*" % o in daemon_scd, o
        if o not in ("config", "check-config", "help", "version"):
            assert "*%s*" % o.replace("-", "_") in conf_scd, o


def bash_complete(d, words):
    script = ("source %s/gpuctl/completions/gpuctl.bash; COMP_WORDS=(%s); COMP_CWORD=%d; _gpuctl; "
              "printf '%%s\\n' \"${COMPREPLY[@]}\"") % (ROOT, " ".join("'%s'" % w for w in words), len(words) - 1)
    env = dict(os.environ, GPUAAS_SOCKET=d.sock, GPUAAS_TOKEN_FILE=d.token_file("admin"),
               PATH=os.path.dirname(GPUCTL) + ":" + os.environ["PATH"])
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=20).stdout
    return [x for x in out.splitlines() if x]


def test_bash_completion(daemon):
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    jid = daemon.ok("submit").stdout.strip()
    assert bash_complete(daemon, ["gpuctl", "sub"]) == ["submit"]
    assert set(bash_complete(daemon, ["gpuctl", "admin", ""])) >= {"approve", "reject", "useradd", "usage"}
    assert bash_complete(daemon, ["gpuctl", "submit", "--gpu", ""]) == ["A100", "V100", "T4"]
    assert set(bash_complete(daemon, ["gpuctl", "submit", "--c"])) == {"--count", "--chdir"}
    assert jid in bash_complete(daemon, ["gpuctl", "cancel", ""])
    assert bash_complete(daemon, ["gpuctl", "list", "--state", "RUN"]) == ["RUNNING"]
    assert bash_complete(daemon, ["gpuctl", "-j", "wh"]) == ["whoami"]
    # The daemon is down: commands still complete, ids silently do not.
    daemon.stop()
    t0 = time.monotonic()
    assert bash_complete(daemon, ["gpuctl", "cancel", ""]) == []
    assert bash_complete(daemon, ["gpuctl", "wa"]) == ["wait"]
    assert time.monotonic() - t0 < 3


def run_pty(argv, env, script, timeout=20):
    """Runs argv on a pseudo-terminal; script is a list of (needle, send): wait
    until needle is printed (each wait looks after the previous match), then
    type send (None: type nothing). Returns (output, wait status)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    out = b""
    pos = 0  # each wait looks only at output after the previous match

    def read_until(needle, limit):
        """Reads until needle appears after pos; fails the test when the
        program closes the terminal (exits) or limit seconds pass first."""
        nonlocal out, pos
        deadline = time.time() + limit
        while needle.encode() not in out[pos:]:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
            if not r:
                raise AssertionError("timed out waiting for %r in:\n%s" % (needle, out.decode(errors="replace")))
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side of the pty is closed
                chunk = b""
            if not chunk:
                raise AssertionError("%s closed the terminal (exited?) before printing %r; its output:\n%s"
                                     % (argv[0], needle, out.decode(errors="replace")))
            out += chunk
        pos = out.find(needle.encode(), pos) + len(needle.encode())
    status = None
    try:
        for needle, send in script:
            read_until(needle, timeout)
            if send is not None:
                os.write(fd, send.encode())
        deadline = time.time() + 10
        while status is None and time.time() < deadline:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            else:
                try:
                    if select.select([fd], [], [], 0.1)[0]:
                        out += os.read(fd, 4096)
                except OSError:
                    time.sleep(0.05)
        if status is None:
            raise AssertionError("did not exit:\n" + out.decode(errors="replace"))
        # What it wrote just before exiting may still sit in the terminal's
        # buffer: the loop above stops at the exit, so read the rest here.
        while select.select([fd], [], [], 0.5)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: drained, and the other side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
        if status is None:  # failed or hung: leave no child behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
    return out.decode(errors="replace"), status


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh not installed")
def test_zsh_completion(daemon):
    zdir = os.path.join(ROOT, "gpuctl", "completions")
    env = dict(os.environ, GPUAAS_SOCKET=daemon.sock, GPUAAS_TOKEN_FILE=daemon.token_file("admin"),
               PATH=os.path.dirname(GPUCTL) + ":" + os.environ["PATH"], TERM="dumb", HOME=daemon.tmp,
               ZDOTDIR=daemon.tmp)
    setup = "PS1='Z''SH> '; fpath=(%s $fpath); autoload -U compinit; compinit -u -D; unsetopt beep\n" % zdir
    # The prompt is spelled so that the echo of the setup line cannot match it.
    out, status = run_pty(["zsh", "-f", "-i"], env, [
        ("#", setup), ("ZSH> ", "gpuctl whoa\t"),
        # ^U clears the line (no new prompt): type the next one straight away.
        ("whoami", "\x15gpuctl submit --gpu V1\t"),
        ("V100", "\x15gpuctl admin appr\t"),
        ("approve", "\x15exit\n")])
    assert os.WIFEXITED(status)


def test_interactive_shell_through_a_pty(daemon, tmp_path):
    state = tmp_path / "xdg"
    env = dict(os.environ, GPUAAS_SOCKET=daemon.sock, GPUAAS_TOKEN_FILE=daemon.token_file("admin"),
               XDG_STATE_HOME=str(state), HOME=str(tmp_path), TERM="xterm")
    env.pop("GPUAAS_TOKEN", None)
    daemon.ok("admin", "quota", "admin", "--set", "10h")
    out, status = run_pty([GPUCTL, "shell"], env, [
        ("admin@gpuaas> ", "whoami\r"),
        ("role:     admin", "gpus\r"),
        ("T4", "sub\t"),                        # completes the command
        ("submit ", "--gpu T\t"),              # completes the GPU type from the daemon
        ("T4", " --time 10m --name 'from the shell'\r"),
        ("admin@gpuaas> ", "admin useradd carol\r"),
        ("Password for new user carol: ", "s3cret-pw\r"),
        ("Again: ", "s3cret-pw\r"),
        ("Created user carol", "list -q\r"),
        ("admin@gpuaas> ", "help\r"),
        ("Exit codes", "bogus\r"),
        ("unknown command 'bogus'", None),
        ("admin@gpuaas> ", "\x04"),             # Ctrl-D at a fresh prompt leaves
    ])
    assert os.WIFEXITED(status)
    jobs = daemon.json("list")["jobs"]
    assert jobs[0]["name"] == "from the shell" and jobs[0]["gpu_type"] == "T4"
    hist = (state / "gpuaas" / "history").read_text()
    assert "whoami" in hist and "list -q" in hist and "s3cret-pw" not in hist
    assert oct(os.stat(state / "gpuaas" / "history").st_mode & 0o777) == "0o600"
    # One connection for the whole session.
    log = daemon.read_log()
    assert log.count("event=auth.login") <= 2


def test_new_passwords_typed_twice_on_a_terminal(daemon, tmp_path):
    """passwd and admin useradd ask twice on a terminal; a mismatch changes
    nothing and says so, naming the command."""
    env = dict(os.environ, GPUAAS_SOCKET=daemon.sock, GPUAAS_TOKEN_FILE=daemon.token_file("admin"),
               XDG_STATE_HOME=str(tmp_path / "xdg"), HOME=str(tmp_path), TERM="dumb")
    env.pop("GPUAAS_TOKEN", None)
    out, status = run_pty([GPUCTL, "admin", "useradd", "dora"], env, [
        ("Password for new user dora: ", "dora-password-1\r"), ("Again: ", "dora-password-2\r")])
    assert os.WEXITSTATUS(status) == 2 and "admin useradd: the passwords do not match" in out
    assert "dora" not in daemon.ok("admin", "users").stdout
    out, status = run_pty([GPUCTL, "admin", "useradd", "dora"], env, [
        ("Password for new user dora: ", "dora-password-1\r"), ("Again: ", "dora-password-1\r")])
    assert os.WEXITSTATUS(status) == 0 and "Created user dora" in out
    out, status = run_pty([GPUCTL, "passwd"], env, [
        ("Current password: ", ADMIN_PW + "\r"), ("New password: ", "admin-password-x\r"),
        ("New password again: ", "admin-password-y\r")])
    assert os.WEXITSTATUS(status) == 2 and "passwd: the passwords do not match" in out
    assert daemon.ok("whoami").returncode == 0   # the old token still works: nothing changed
    out, status = run_pty([GPUCTL, "passwd"], env, [
        ("Current password: ", ADMIN_PW + "\r"), ("New password: ", "short\r")])
    assert os.WEXITSTATUS(status) == 2 and "too short" in out

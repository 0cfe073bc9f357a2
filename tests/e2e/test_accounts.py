"""Accounts, login, tokens and exit codes through the real gpuctl."""
import json
import os
import stat

from conftest import ADMIN_PW


def test_login_whoami_and_token_file_modes(daemon):
    p = daemon.ok("whoami")
    assert "username: admin" in p.stdout and "role:     admin" in p.stdout
    w = daemon.json("whoami")
    assert w["username"] == "admin" and w["is_admin"] is True
    assert set(w["quota"]) == {"remaining", "reserved", "available"}
    assert w["token_expires_at"].endswith("Z")
    tf = daemon.token_file("admin")
    assert stat.S_IMODE(os.stat(tf).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(tf)).st_mode) == 0o700


def test_login_json_and_wrong_password(daemon):
    out = json.loads(daemon.ok("--json", "login", "admin", "--password-stdin", input=ADMIN_PW + "\n").stdout)
    assert out["username"] == "admin" and out["is_admin"] is True and "token" not in out
    p = daemon.ctl("login", "admin", "--password-stdin", input="nope\n")
    assert p.returncode == 3
    assert p.stderr.startswith("gpuctl: ") and "invalid username or password" in p.stderr
    # An unknown user reads exactly the same.
    q = daemon.ctl("login", "ghost", "--password-stdin", input="nope\n")
    assert q.returncode == 3 and q.stderr == p.stderr


def test_not_logged_in_and_unreachable(daemon):
    p = daemon.ctl("whoami", user="nobody-here")
    assert p.returncode == 3 and "not logged in: run `gpuctl login`" in p.stderr
    p = daemon.ctl("-s", daemon.tmp + "/nope.sock", "whoami")
    assert p.returncode == 7 and "cannot reach gpuaasd at" in p.stderr and "is it running?" in p.stderr


def test_logout(daemon):
    daemon.ok("logout")
    assert not os.path.exists(daemon.token_file("admin"))
    assert daemon.ctl("whoami").returncode == 3


def test_token_env_wins(daemon):
    tok = daemon.token("admin")
    p = daemon.ctl("whoami", user="someone-else", env={"GPUAAS_TOKEN": tok})
    assert p.returncode == 0 and "admin" in p.stdout


def test_token_file_readable_by_others_refused(daemon):
    tf = daemon.token_file("admin")
    os.chmod(tf, 0o644)
    p = daemon.ctl("whoami")
    assert p.returncode == 3 and "readable by others" in p.stderr
    os.chmod(tf, 0o600)
    os.rename(tf, tf + ".real")
    os.symlink(tf + ".real", tf)
    p = daemon.ctl("whoami")
    assert p.returncode == 3 and "symlink" in p.stderr


def test_useradd_login_and_users(daemon):
    daemon.add_user("alice", quota="2h")
    w = daemon.json("whoami", user="alice")
    assert w["username"] == "alice" and w["is_admin"] is False
    assert w["quota"] == {"remaining": 7200, "reserved": 0, "available": 7200}
    users = daemon.json("admin", "users")["users"]
    assert [u["username"] for u in users] == ["admin", "alice"]
    assert users[1]["quota"]["remaining"] == 7200
    # Duplicate -> CONFLICT (exit 1); bad names -> exit 2 naming the rule.
    p = daemon.ctl("admin", "useradd", "alice", "--password-stdin", input="x\n")
    assert p.returncode == 1 and "already exists" in p.stderr
    for bad in ("Alice", "1abc", "a b", "x" * 33, "al'ice"):
        p = daemon.ctl("admin", "useradd", bad, "--password-stdin", input="x\n")
        assert p.returncode == 2 and "invalid username" in p.stderr, (bad, p.stderr)
    p = daemon.ctl("admin", "useradd", "bob", "--password-stdin", input="x" * 73 + "\n")
    assert p.returncode == 2 and "72 bytes" in p.stderr


def test_non_admin_refused_admin_ops(daemon):
    daemon.add_user("alice")
    for args in (["admin", "users"], ["admin", "useradd", "eve", "--password-stdin"], ["admin", "quota", "alice",
                 "--add", "1h"], ["admin", "userdel", "admin"], ["admin", "role", "alice", "--admin"],
                 ["admin", "usage"], ["admin", "pending"], ["list", "--all"]):
        p = daemon.ctl(*args, user="alice", input="pw\n")
        assert p.returncode == 4, (args, p.returncode, p.stderr)
        assert p.stderr.startswith("gpuctl: ")


def test_passwd_invalidates_old_tokens(daemon):
    daemon.add_user("alice", password="old-password")
    old = daemon.token("alice")
    p = daemon.ok("passwd", "--password-stdin", user="alice", input="old-password\nnew-password\n")
    assert "Password changed" in p.stdout
    # This session keeps working with its fresh token...
    daemon.ok("whoami", user="alice")
    # ...the old token is dead.
    p = daemon.ctl("whoami", user="x", env={"GPUAAS_TOKEN": old})
    assert p.returncode == 3 and "revoked" in p.stderr
    assert daemon.ctl("login", "alice", "--password-stdin", user="alice", input="old-password\n").returncode == 3
    daemon.login("alice", "new-password")
    # Wrong old password -> 3, nothing changes.
    p = daemon.ctl("passwd", "--password-stdin", user="alice", input="wrong-password\nother-password\n")
    assert p.returncode == 3
    daemon.login("alice", "new-password")


def test_userdel_invalidates_tokens(daemon):
    daemon.add_user("alice")
    tok = daemon.token("alice")
    p = daemon.ok("admin", "userdel", "alice")
    assert "Deleted user alice" in p.stdout
    p = daemon.ctl("whoami", user="alice")
    assert p.returncode == 3 and "deleted" in p.stderr
    assert daemon.ctl("admin", "userdel", "alice").returncode == 5
    # Re-created with the same name: the old token still does not work.
    daemon.ok("admin", "useradd", "alice", "--password-stdin", input="second-pw\n")
    p = daemon.ctl("whoami", user="x", env={"GPUAAS_TOKEN": tok})
    assert p.returncode == 3


def test_cannot_remove_last_admin_or_self(daemon):
    p = daemon.ctl("admin", "userdel", "admin")
    assert p.returncode == 1 and "own account" in p.stderr
    p = daemon.ctl("admin", "role", "admin", "--no-admin")
    assert p.returncode == 1 and "last admin" in p.stderr


def test_role_change_effective_at_next_request(daemon):
    daemon.add_user("alice")
    assert daemon.ctl("admin", "users", user="alice").returncode == 4
    daemon.ok("admin", "role", "alice", "--admin")
    # The role is read from the database at each request: same token, new role.
    daemon.ok("admin", "users", user="alice")
    assert daemon.json("whoami", user="alice")["is_admin"] is True
    daemon.ok("admin", "role", "alice", "--no-admin")
    assert daemon.ctl("admin", "users", user="alice").returncode == 4


def test_quota_set_add_and_usage(daemon):
    daemon.add_user("alice", quota="1h")
    u = daemon.json("admin", "quota", "alice", "--add", "30m")
    assert u["quota"]["remaining"] == 5400
    u = daemon.json("admin", "quota", "alice", "--set", "2h")
    assert u["quota"]["remaining"] == 7200
    assert daemon.json("quota", user="alice") == {"remaining": 7200, "reserved": 0, "available": 7200}
    usage = daemon.json("admin", "usage", "alice")["users"]
    assert usage[0]["granted"] == 7200 and usage[0]["charged"] == 0
    p = daemon.ctl("admin", "quota", "alice", "--add", "-5m")
    assert p.returncode == 2
    p = daemon.ctl("admin", "quota", "alice", "--add", "junk")
    assert p.returncode == 2 and "not a duration" in p.stderr
    p = daemon.ctl("admin", "quota", "alice")
    assert p.returncode == 2
    assert daemon.ctl("admin", "quota", "ghost", "--add", "1h").returncode == 5
    assert daemon.ctl("admin", "usage", "ghost").returncode == 5


def test_login_rate_limited(daemon):
    for _ in range(5):
        assert daemon.ctl("login", "admin", "--password-stdin", input="bad\n").returncode == 3
    p = daemon.ctl("login", "admin", "--password-stdin", input=ADMIN_PW + "\n")
    assert p.returncode == 9 and "too many failed logins" in p.stderr
    # Unknown names are throttled the same way.
    for _ in range(5):
        daemon.ctl("login", "ghost", "--password-stdin", input="bad\n")
    p = daemon.ctl("login", "ghost", "--password-stdin", input="bad\n")
    assert p.returncode == 9


def test_help_and_usage_errors(daemon):
    p = daemon.ok("--help")
    assert "submit" in p.stdout and "Exit codes" in p.stdout
    p = daemon.ok("submit", "--help")
    assert "Usage: gpuctl" in p.stdout and "--gpu TYPE" in p.stdout
    assert daemon.ok("help", "admin", "approve").stdout == daemon.ok("admin", "approve", "--help").stdout
    assert daemon.ctl("frobnicate").returncode == 2
    assert daemon.ctl("list", "--bogus").returncode == 2
    assert daemon.ctl("show").returncode == 2
    assert daemon.ctl("show", "abc").returncode == 2
    assert daemon.ok("--version").stdout.startswith("gpuctl ")

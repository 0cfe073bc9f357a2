"""The web dashboard (web/) in a real browser: Debian's chromium, driven by
python3-selenium, against the real gpuaasd (local executor, real commands)
and the real gpuaas-web serving web/ on a temporary socket and port.

A user's browser and an admin's browser work side by side: login errors,
submit with the cost preview, jobs and state changes arriving live over the
event stream (no reload), job detail with its timeline, followed logs and
cancel, the quota gauge and chart, the GPU grid hiding other users' jobs,
the approval inbox (live arrivals, bulk approve and reject), users, rules,
audit and usage, paging through 10,000 jobs, and an expired session going
back to the login page and then back to where it was; a page of another
origin, in a logged-in browser, can neither read nor change anything with
the session cookie. Every page is
screenshotted into the test's tmp dir (and $GPUAAS_SCREENSHOTS when set),
and the browser console must hold no errors: no exception, no CSP
violation (only the HTTP errors a step provoked on purpose).

When chromium or selenium cannot start, the tests are skipped, saying why."""
import http.client
import json
import os
import re
import shutil
import time

import pytest

from conftest import ADMIN_PW, ROOT, Daemon, Gateway, Raw, wait_for

WEB_ROOT = os.path.join(ROOT, "web")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# HTTP errors a step provokes on purpose show in the console as
# "Failed to load resource: the server responded with a status of 401 ...".
NOT_A_VALUE = re.compile(r"\b(null|undefined|NaN)\b|\[object Object\]")
EXPECTED_HTTP = re.compile(r"Failed to load resource: the server responded with a status of (400|401|403|404|409)")

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
except ImportError as e:  # pragma: no cover - depends on the machine
    pytest.skip("python3-selenium is not installed (%s)" % e, allow_module_level=True)


# ---- the daemon, the gateway, the API --------------------------------------------------------

def start_gateway(tmp, sock):
    """gpuaas-web serving web/, with a short heartbeat so a lost stream shows soon."""
    g = Gateway(tmp, sock, args=["--web-root", WEB_ROOT, "--sse-heartbeat", "2s"], debug=False).start()
    g.base = g.url("/")
    return g


def api(site, method, path, body=None, token=None):
    h = {"Authorization": "Bearer " + token} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    c = http.client.HTTPConnection("127.0.0.1", site.web.port, timeout=10)
    try:
        c.request(method, "/api/v1" + path, body=data, headers=h)
        r = c.getresponse()
        out = r.read()
        assert r.status < 300, (method, path, r.status, out)
        return json.loads(out) if out else None
    finally:
        c.close()


class Site:
    def token(self, user, password):
        return api(self, "POST", "/login", {"username": user, "password": password})["token"]

    def submit(self, token, command, gpu="T4", count=1, time_limit=600, name=None):
        body = {"gpu_type": gpu, "gpu_count": count, "time_limit": time_limit, "command": command}
        if name:
            body["name"] = name
        return api(self, "POST", "/jobs", body, token)["id"]

    def job(self, jid):
        return api(self, "GET", "/jobs/%d" % jid, token=self.admin)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not os.path.isfile(os.path.join(WEB_ROOT, "index.html")):
        pytest.skip("web/index.html is missing")
    tmp = tmp_path_factory.mktemp("dash")
    d = Daemon(tmp, args=["--executor", "local", "--gpus", "A100:2,T4:2", "--kill-grace", "1s"], name="dd")
    d.start()
    d.login()
    d.ok("admin", "quota", "admin", "--set", "100h")
    d.add_user("alice", quota="10h", password="alice-password")
    d.add_user("bob", quota="10h", password="bob-password")
    d.add_user("carol", quota="1000h", password="carol-password")
    s = Site()
    s.tmp, s.d = tmp, d
    s.web = start_gateway(tmp, d.sock)
    s.admin = s.token("admin", ADMIN_PW)
    s.alice = s.token("alice", "alice-password")
    s.bob = s.token("bob", "bob-password")
    s.shots = tmp / "screenshots"
    s.shots.mkdir()
    s.jobs = {}
    yield s
    s.web.stop()
    d.stop()


# ---- the browsers ----------------------------------------------------------------------------

def start_chromium():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.skip("%s is not installed (apt-get install chromium chromium-driver)" % path)
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
              "--disable-extensions", "--no-first-run", "--lang=en-US"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    except WebDriverException as e:
        pytest.skip("chromium cannot start here: %s" % str(e).strip().splitlines()[0])


class Browser:
    """One chromium (its own cookies) on the dashboard."""

    def __init__(self, site, name):
        self.site, self.name = site, name
        self.d = start_chromium()
        self.d.implicitly_wait(0)

    def go(self, hash_path):
        self.d.get(self.site.web.base + "#/" + hash_path)

    def find(self, css, timeout=5, visible=True):
        def found():
            try:
                for el in self.d.find_elements(By.CSS_SELECTOR, css):
                    if not visible or el.is_displayed():
                        return el
            except StaleElementReferenceException:  # replaced by a live update meanwhile
                pass
            return None

        return wait_for(found, timeout, "%s: %s" % (self.name, css))

    def click(self, css, timeout=5):
        """Clicks the element, finding it again when a live update replaced it."""
        def clicked():
            try:
                self.find(css, timeout).click()
                return True
            except StaleElementReferenceException:
                return False

        wait_for(clicked, timeout, "%s: to click %s" % (self.name, css))

    def all(self, css):
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def text(self, css="main"):
        try:
            els = self.all(css)
            return els[0].text if els else ""
        except StaleElementReferenceException:  # replaced by a live update meanwhile
            return ""

    def wait_text(self, css, want, timeout=5):
        wait_for(lambda: want in self.text(css), timeout,
                 lambda: "%s: %r in %s; it reads %r" % (self.name, want, css, self.text(css)[:600]))

    def field(self, label):
        """The form control whose <label> reads label."""
        for _ in range(50):
            for lab in self.all("label"):
                if lab.text.strip() == label and lab.get_attribute("for"):
                    return self.d.find_element(By.ID, lab.get_attribute("for"))
            time.sleep(0.1)
        raise AssertionError("no field labelled %r" % label)

    def fill(self, label, value):
        def filled():
            try:
                el = self.field(label)
                el.clear()
                el.send_keys(value)
                return el
            except StaleElementReferenceException:  # replaced by a live update meanwhile
                return None

        return wait_for(filled, 5, "%s: to fill %r" % (self.name, label))

    def login(self, user, password):
        self.find("form.login")
        self.fill("Username", user)
        self.fill("Password", password)
        self.click("form.login button[type=submit]")

    def shot(self, name):
        """Saves a screenshot, and checks the page shows no "null" or "undefined"."""
        shown = stable(lambda: self.text("body"))
        assert not NOT_A_VALUE.search(shown), (name, shown[:2000])
        path = str(self.site.shots / (name + ".png"))
        self.d.save_screenshot(path)
        extra = os.environ.get("GPUAAS_SCREENSHOTS")
        if extra:
            os.makedirs(extra, exist_ok=True)
            shutil.copy(path, os.path.join(extra, "dashboard-" + name + ".png"))

    def console_errors(self):
        """SEVERE console entries since the last call, less expected HTTP errors."""
        return [e["message"] for e in self.d.get_log("browser")
                if e["level"] == "SEVERE" and not EXPECTED_HTTP.search(e["message"])]

    def quit(self):
        self.d.quit()


@pytest.fixture(scope="module")
def user(site):
    b = Browser(site, "alice")
    yield b
    b.quit()


@pytest.fixture(scope="module")
def admin(site):
    b = Browser(site, "admin")
    b.go("")
    b.login("admin", ADMIN_PW)
    b.find("h1")
    yield b
    b.quit()


@pytest.fixture(autouse=True)
def clean_console(request):
    """After each test: no JavaScript error or CSP violation in either
    browser, and no value shown as "null" or "undefined"."""
    yield
    for name in ("user", "admin"):
        if name in request.fixturenames:
            b = request.getfixturevalue(name)
            assert b.console_errors() == [], "console errors in %s's browser" % b.name
            shown = stable(lambda: b.text("body"))
            assert not NOT_A_VALUE.search(shown), shown[:2000]


def stable(check, tries=20):
    """Runs check() again when a live update replaced an element it was reading."""
    for _ in range(tries - 1):
        try:
            return check()
        except StaleElementReferenceException:
            time.sleep(0.1)
    return check()


def gpu_hours(secs):
    """GPU-seconds as the dashboard writes GPU-hours."""
    h = secs / 3600
    return "%.0f" % h if h >= 100 else "%.1f" % h if h >= 1 or h == 0 else "%.2f" % h


def row(b, jid):
    els = b.all("tr[data-job-id='%d']" % jid)
    return els[0] if els else None


def row_status(b, jid):
    try:
        r = row(b, jid)
        return r.get_attribute("data-status") if r else None
    except StaleElementReferenceException:
        return None


# ---- the pages ------------------------------------------------------------------------------

def test_login_errors_then_my_jobs(site, user):
    user.go("")
    user.find("form.login")
    assert user.d.title.startswith("Log in")
    user.click("form.login button[type=submit]")
    user.wait_text("#login-error", "Enter your username and password")
    user.login("alice", "wrong-password")
    user.wait_text("#login-error", "Wrong username or password")
    assert user.field("Password").get_attribute("value") == ""
    user.shot("login-error")
    user.login("alice", "alice-password")
    user.wait_text("h1", "My jobs")
    assert user.d.current_url.endswith("#/jobs")
    user.wait_text("main", "You have no jobs yet")
    user.wait_text("#live", "live")
    assert user.text("#who") == "alice"
    assert not user.find("#nav-admin", visible=False).is_displayed()


XSS_NAME = "<img src=x onerror=alert(1)>"


def test_submit_with_preview_appears_live_in_my_jobs(site, user):
    user.go("jobs")
    user.wait_text("main", "You have no jobs yet")
    jobs_tab = user.d.current_window_handle
    user.d.execute_script("window.__still_here = 1")
    user.d.switch_to.new_window("tab")
    user.go("submit")
    user.wait_text("h1", "Submit a job")
    wait_for(lambda: "T4 — 2 of 2 free" in user.text("form"), 5, "GPU types with free counts")
    Select(user.field("GPU type")).select_by_value("T4")
    user.wait_text("#preview", "would not be accepted")   # the local executor needs a command
    user.wait_text("#preview", "give the command to run")
    user.fill("Command", "sh -c 'echo \"<script>window.__xss=1</script>\"; echo done' ")
    user.fill("Time limit", "8h")
    user.fill("GPUs", "2")
    user.wait_text("#preview", "quota exceeded")
    assert not user.find("form.submit-form button[type=submit]", visible=False).is_enabled()
    user.fill("Time limit", "1h30")
    user.wait_text("form.submit-form", "Add a unit")
    user.wait_text("#preview", "Fix the fields marked above")
    user.fill("Time limit", "10m")
    user.fill("GPUs", "1")
    user.fill("Name (optional)", XSS_NAME)
    user.wait_text("#preview", "10m (0.17 GPU-h) = 1 × T4 × 10m")
    user.wait_text("#preview", "Needs an admin's approval")
    user.wait_text("#preview", "9h50m")
    argv = stable(lambda: [el.text for el in user.all("#argv-box .argv code")])
    assert argv == ["sh", "-c", 'echo "<script>window.__xss=1</script>"; echo done']
    user.shot("submit")
    user.click("form.submit-form button[type=submit]")
    user.wait_text("#submit-result", "Submitted job")
    jid = int(re.search(r"Submitted job (\d+)", user.text("#submit-result")).group(1))
    site.jobs["first"] = jid
    user.d.close()
    user.d.switch_to.window(jobs_tab)
    # The tab left on My jobs shows it without a reload.
    wait_for(lambda: row_status(user, jid) == "PENDING", 5, "job %d to appear in My jobs" % jid)
    assert user.d.execute_script("return window.__still_here") == 1
    text = user.text("tr[data-job-id='%d']" % jid)
    assert XSS_NAME in text and "waiting for approval" in text, text
    assert not user.all("main img")
    assert site.job(jid)["command"] == argv
    # A job submitted elsewhere (the API) arrives too.
    second = site.submit(site.alice, ["sh", "-c", "echo second; sleep 1"], name="second")
    site.jobs["second"] = second
    wait_for(lambda: row_status(user, second) == "PENDING", 5, "job %d to appear in My jobs" % second)
    assert user.d.execute_script("return window.__still_here") == 1
    user.shot("jobs")


def test_inbox_bulk_approve_arrives_live_on_both_sides(site, user, admin):
    first, second = site.jobs["first"], site.jobs["second"]
    user.go("jobs")
    wait_for(lambda: row(user, second), 5, "My jobs")
    user.d.execute_script("window.__still_here = 2")
    admin.go("admin/inbox")
    wait_for(lambda: row(admin, first) and row(admin, second), 5, "the inbox to list jobs %d and %d" % (first, second))
    cell = lambda field: admin.text("tr[data-job-id='%d'] [data-field=%s]" % (first, field))
    assert "alice" in admin.text("tr[data-job-id='%d']" % first)
    assert cell("owner_available").startswith("9h40m"), cell("owner_available")   # 10h less 2 × 10m reserved
    assert cell("owner_charged_30d") == "0s"
    assert re.match(r"\d\d:\d\d \((now|in \d+s)\)$", cell("estimated_start")), cell("estimated_start")
    # A new request appears without a reload.
    third = site.submit(site.alice, ["sleep", "30"], name="to-reject")
    wait_for(lambda: row(admin, third), 5, "the new request to appear in the inbox")
    admin.shot("admin-inbox")
    # Bulk reject with a reason, then bulk approve.
    admin.click("tr[data-job-id='%d'] input[type=checkbox]" % third)
    admin.fill("Reason for rejecting (optional, shown to the owner)", "use a T4 for tests")
    admin.click("#bulk-reject")
    admin.wait_text(".bulk-status", "Rejected 1 job: %d" % third)
    wait_for(lambda: row(admin, third) is None, 5, "the rejected job to leave the inbox")
    wait_for(lambda: row_status(user, third) == "REJECTED", 5, "alice to see the rejection")
    assert "rejected: use a T4 for tests" in user.text("tr[data-job-id='%d']" % third)
    admin.click("#select-all")   # the two left
    assert admin.find("#bulk-approve").text == "Approve selected (2)"
    admin.click("#bulk-approve")
    admin.wait_text(".bulk-status", "Approved 2 jobs")
    admin.wait_text("main", "No jobs are waiting for approval")
    # Alice's page follows: RUNNING, then COMPLETED, without a reload.
    seen = set()

    def status_seen(want):
        s = row_status(user, second)
        seen.add(s)
        return s == want

    wait_for(lambda: status_seen("RUNNING") or "COMPLETED" in seen, 3, "job %d RUNNING in alice's page" % second,
             interval=0.02)
    wait_for(lambda: status_seen("COMPLETED"), 5, "job %d COMPLETED in alice's page" % second, interval=0.02)
    assert "RUNNING" in seen, seen
    wait_for(lambda: row_status(user, first) == "COMPLETED", 5, "job %d COMPLETED" % first)
    assert "completed" in user.text("tr[data-job-id='%d']" % second)
    assert user.d.execute_script("return window.__still_here") == 2
    admin.shot("admin-inbox-empty")


def test_job_detail_timeline_logs_follow_and_cancel(site, user):
    first = site.jobs["first"]
    user.go("jobs/%d" % first)
    user.wait_text("h1", "Job %d: %s" % (first, XSS_NAME))
    for title in ("Submitted by alice", "Approved by admin", "Started", "Completed"):
        user.wait_text(".timeline", title)
    user.wait_text(".log-status", "End of output")
    log = user.text("pre.log")
    assert "<script>window.__xss=1</script>" in log and "done" in log
    assert user.d.execute_script("return window.__xss === undefined")
    assert "charged" in user.text(".timeline")
    fields = stable(lambda: {el.get_attribute("data-field"): el.text for el in user.all("dd[data-field]")})
    for k in ("id", "name", "owner", "status", "reason", "gpu_type", "gpu_count", "time_limit", "command",
              "created_at", "approved_at", "approved_by", "started_at", "finished_at", "charged_seconds", "exit_code"):
        assert k in fields, k
    assert fields["owner"] == "alice" and fields["exit_code"] == "0" and fields["approved_by"] == "admin"
    user.shot("job-detail")

    # Output followed while it is written.
    jid = site.submit(site.alice, ["sh", "-c", "for i in 1 2 3 4 5; do echo tick $i; sleep 0.6; done"], name="ticks")
    user.go("jobs/%d" % jid)
    user.wait_text(".log-status", "once the job runs")
    assert user.find("#log-follow").is_selected()
    api(site, "POST", "/jobs/%d/approve" % jid, token=site.admin)
    user.wait_text("pre.log", "tick 1", timeout=5)
    assert "tick 5" not in user.text("pre.log")   # it arrived while the job ran
    user.wait_text("pre.log", "tick 5", timeout=6)
    user.wait_text(".log-status", "End of output", timeout=5)
    user.wait_text(".head-badge", "COMPLETED")
    user.shot("job-logs")

    # The job starts while the page's first read of its output is still under
    # way (held back 2 s by a wrapper around fetch): the page goes on to
    # follow once that read answers, without waiting for another event.
    jid = site.submit(site.alice, ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo step $i; sleep 0.5; done"],
                      name="late")
    user.d.execute_script("""
      const real = window.fetch;
      let held = false;
      window.fetch = (url, opts) => {
        const p = real(url, opts);
        if (held || !String(url).includes('/logs')) return p;
        held = true;
        return p.then((r) => new Promise((ok) => setTimeout(() => ok(r), 2000)));
      };
      location.hash = '#/jobs/' + arguments[0];""", jid)
    user.wait_text("h1", "late")
    api(site, "POST", "/jobs/%d/approve" % jid, token=site.admin)
    user.wait_text("pre.log", "step 2", timeout=8)
    assert "step 8" not in user.text("pre.log")   # followed while the job ran
    user.wait_text(".log-status", "End of output", timeout=8)

    # Cancel a running job from its page: the state follows live.
    jid = site.submit(site.alice, ["sleep", "60"], name="to-cancel")
    api(site, "POST", "/jobs/%d/approve" % jid, token=site.admin)
    wait_for(lambda: site.job(jid)["status"] == "RUNNING", 5, "job %d to run" % jid)
    user.go("jobs/%d" % jid)
    user.wait_text(".head-badge", "RUNNING")
    user.click("#cancel-job")
    user.wait_text(".confirm", "charged for the time it ran")
    user.click("#cancel-confirm")
    user.wait_text(".head-badge", "CANCELLED", timeout=8)
    user.wait_text(".timeline", "Cancelled by alice")
    assert not user.all("#cancel-job")
    assert site.job(jid)["status"] == "CANCELLED"


def test_quota_gauge_chart_and_phone_width(site, user):
    q = api(site, "GET", "/quota", token=site.alice)
    user.go("quota")
    user.find("svg.gauge")
    from_format = stable(lambda: {el.get_attribute("data-field"): el.text for el in user.all("dd[data-field]")})
    for k in ("remaining", "reserved", "available"):
        assert from_format[k].endswith("(%s GPU-h)" % gpu_hours(q[k])), (k, from_format[k], q[k])
    label = user.find("svg.gauge").get_attribute("aria-label")
    assert label.startswith("Available") and "remaining" in label
    user.find(".chart svg rect.bar")   # alice was charged today
    user.click(".chart summary")
    today = time.strftime("%Y-%m-%d")
    cells = stable(lambda: [el.text for el in user.all(".chart-data td")])
    charged = 36000 - q["remaining"]
    assert cells[cells.index(today) + 1] == gpu_hours(charged), (cells[-4:], charged)
    user.shot("quota")
    # Reserving changes the gauge live.
    jid = site.submit(site.alice, ["true"], time_limit=3600, name="reserve")
    user.wait_text("dd[data-field=reserved]", "1h (1.0 GPU-h)")
    api(site, "POST", "/jobs/%d/cancel" % jid, token=site.alice)
    user.wait_text("dd[data-field=reserved]", "0s")
    # A 390 px phone: nothing wider than the screen but the tables' own scroll boxes.
    user.d.set_window_size(390, 844)
    try:
        for page in ("jobs", "submit", "quota"):
            user.go(page)
            user.find("h1")
            time.sleep(0.2)
            width = user.d.execute_script("return document.documentElement.scrollWidth")
            inner = user.d.execute_script("return window.innerWidth")
            assert width <= inner, (page, width, inner)
            user.shot("phone-" + page)
    finally:
        user.d.set_window_size(1280, 900)


def test_gpu_grid_shows_own_jobs_and_hides_others(site, user, admin):
    mine = site.submit(site.alice, ["sleep", "60"], gpu="T4", time_limit=120, name="mine")
    theirs = site.submit(site.bob, ["sleep", "60"], gpu="A100", count=2, time_limit=120, name="bobs")
    api(site, "POST", "/jobs/approve", {"ids": [mine, theirs]}, token=site.admin)
    wait_for(lambda: site.job(mine)["status"] == site.job(theirs)["status"] == "RUNNING", 5, "both jobs to run")
    try:
        user.go("gpus")
        user.find("li.device.d-mine")
        def grid():
            summary = {r.get_attribute("data-type"): r.text.split() for r in user.all("tr[data-type]")}
            assert summary["A100"] == ["A100", "2", "2", "0"] and summary["T4"] == ["T4", "2", "1", "1"], summary
            own = user.all("li.device.d-mine")
            assert len(own) == 1 and own[0].get_attribute("data-job") == str(mine)
            assert ("your job %d" % mine) in own[0].text
            others = user.all("li.device.d-other")
            assert len(others) == 2
            for el in others:
                assert el.get_attribute("data-job") == "" and "in use by another user" in el.text
                assert not el.find_elements(By.TAG_NAME, "a")
            assert str(theirs) not in " ".join(el.text for el in others)

        stable(grid)
        user.shot("gpus")
        # The admin sees whose job holds what.
        admin.go("gpus")
        wait_for(lambda: len(admin.all("li.device[data-job='%d']" % theirs)) == 2, 5, "admin's grid")
        # The grid follows the user's own job ending.
        api(site, "POST", "/jobs/%d/cancel" % mine, token=site.alice)
        wait_for(lambda: not user.all("li.device.d-mine"), 8, "alice's device to be released in the grid")
    finally:
        for jid in (mine, theirs):
            if site.job(jid)["status"] in ("PENDING", "APPROVED", "RUNNING"):
                api(site, "POST", "/jobs/%d/cancel" % jid, token=site.admin)


def test_admin_users_create_quota_role_delete(site, admin):
    admin.go("admin/users")
    admin.find("tr[data-user=alice]")
    admin.fill("Username", "dave")
    admin.fill("Password", "dave-password")
    admin.fill("Quota (GPU-time)", "2h")
    admin.click("form.create-user button[type=submit]")
    admin.wait_text(".users-status", "Created user dave with 2h")
    admin.find("tr[data-user=dave]")
    admin.wait_text("#user-panel", "Manage dave")
    Select(admin.find("#quota-mode")).select_by_value("add")
    admin.fill("GPU-time", "90m")
    admin.click("#user-panel form button[type=submit]")
    admin.wait_text(".users-status", "Quota of dave is now 3h30m")
    admin.wait_text("tr[data-user=dave] [data-field=remaining]", "3h30m")
    Select(admin.find("#quota-mode")).select_by_value("set")
    admin.fill("GPU-time", "1h")
    admin.click("#user-panel form button[type=submit]")
    admin.wait_text("tr[data-user=dave] [data-field=remaining]", "1h (1.0 GPU-h)")
    admin.click("#toggle-role")
    admin.wait_text("tr[data-user=dave]", "admin")
    users = {u["username"]: u for u in api(site, "GET", "/users", token=site.admin)["users"]}
    assert users["dave"]["is_admin"] and users["dave"]["quota"]["remaining"] == 3600
    admin.shot("admin-users")
    admin.click("#delete-user")
    admin.click("#delete-confirm")
    admin.wait_text(".users-status", "Deleted dave")
    wait_for(lambda: not admin.all("tr[data-user=dave]"), 5, "dave's row to go")
    assert "dave" not in {u["username"] for u in api(site, "GET", "/users", token=site.admin)["users"]}
    # A refused action says why.
    admin.fill("Username", "alice")
    admin.fill("Password", "another-password")
    admin.click("form.create-user button[type=submit]")
    admin.wait_text(".users-status", "alice")
    assert admin.find(".users-status .error")


def test_rules_add_show_in_preview_and_delete(site, user, admin):
    admin.go("admin/rules")
    admin.wait_text("main", "No auto-approval rules")
    admin.click("fieldset.types input[value=T4]")
    admin.fill("At most GPUs", "1")
    admin.fill("At most time", "30m")
    admin.fill("Note", "small T4 jobs")
    admin.click("form button.primary")
    admin.wait_text("main", "Added rule")
    rid = int(re.search(r"Added rule (\d+)", admin.text("main")).group(1))
    admin.wait_text("tr[data-rule-id='%d']" % rid, "small T4 jobs")
    r = admin.text("tr[data-rule-id='%d']" % rid)
    assert "T4" in r and "30m" in r and "any non-admin" in r, r
    admin.shot("admin-rules")
    # The user's cost preview names the rule.
    user.go("submit")
    wait_for(lambda: "T4 — " in user.text("form"), 5, "GPU types")
    Select(user.field("GPU type")).select_by_value("T4")
    user.fill("Time limit", "20m")
    user.fill("Command", "true")
    user.wait_text("#preview", "Approved at once by rule %d" % rid)
    user.fill("Time limit", "2h")
    user.wait_text("#preview", "Needs an admin's approval")
    admin.click("tr[data-rule-id='%d'] button" % rid)
    admin.wait_text("main", "Deleted rule %d" % rid)
    admin.wait_text("main", "No auto-approval rules")
    assert api(site, "GET", "/rules", token=site.admin)["rules"] == []


def test_audit_and_usage(site, admin):
    admin.go("admin/audit")
    admin.find("table.audit")
    text = admin.text("table.audit")
    for want in ("admin created user alice", "admin created user dave", "admin deleted user dave",
                 "Rejected by admin", "admin added an auto-approval rule", "admin set the quota of dave"):
        assert want in text, want
    # New entries arrive live.
    api(site, "POST", "/users/bob/quota", {"add": 3600}, token=site.admin)
    admin.wait_text("table.audit", "admin granted quota to bob")
    admin.shot("admin-audit")
    admin.go("admin/usage")
    admin.find(".usage-charts figure svg rect.bar")
    users = [el.text for el in admin.all(".usage-charts section")[0].find_elements(By.CSS_SELECTOR, "svg text")]
    assert "alice" in users and "bob" in users, users
    types = admin.all(".usage-charts section")[1].text
    assert "T4" in types and "A100" in types
    csv = admin.find(".usage-charts a[download]").get_attribute("data-csv")
    assert csv.startswith("user,gpu_seconds,gpu_hours\r\n") and "\r\nalice," in csv, csv
    admin.wait_text("main", "Ledger totals")
    admin.shot("admin-usage")


def pipeline(sock, requests, batch=100):
    """Sends requests to gpuaasd 100 at a time; returns the replies' data."""
    r = Raw(sock, timeout=30)
    out = []
    try:
        for i in range(0, len(requests), batch):
            chunk = requests[i:i + batch]
            for n, req in enumerate(chunk):
                r.send(dict(req, v=1, id=n))
            for _ in chunk:
                rep = r.recv()
                assert rep["ok"], rep
                out.append(rep["data"])
    finally:
        r.close()
    return out


def test_paging_through_10000_jobs(site, user, admin):
    admin.go("admin/rules")   # away from the inbox while 10,050 requests come and go
    carol = site.token("carol", "carol-password")
    ids = []
    for start in range(0, 10050, 1000):
        n = min(1000, 10050 - start)
        sub = pipeline(site.d.sock, [{"op": "job.submit", "token": carol, "args": {
            "gpu_type": "T4", "time_limit": 60, "name": "bulk-%d" % (start + i), "command": ["true"]}} for i in range(n)])
        ids += [j["id"] for j in sub]
        pipeline(site.d.sock, [{"op": "job.cancel", "token": carol, "args": {"id": j["id"]}} for j in sub])
    user.click("#logout")
    user.find("form.login")
    user.login("carol", "carol-password")
    user.wait_text("h1", "My jobs")
    wait_for(lambda: row(user, ids[-1]), 5, "the newest of carol's jobs")
    # A fresh load of the page: how long until the table is there (a benchmark, loosely bounded).
    user.d.refresh()
    wait_for(lambda: row(user, ids[-1]), 5, "the newest of carol's jobs after a reload")
    nav = user.d.execute_script("const m = performance.getEntriesByName('gpuaas-jobs-ready')[0];"
                                "return m ? m.startTime : null")
    assert nav is not None and nav < 5000, nav
    assert len(user.all("table.jobs tbody tr")) == 50
    # Older pages go by before_id; a state filter keeps paging.
    for page in range(2, 5):
        user.click("nav.pager button:nth-of-type(3)")
        want = ids[-1 - 50 * (page - 1)]
        wait_for(lambda: row(user, want), 5, "page %d to start with job %d" % (page, want))
        user.wait_text(".page-no", "Page %d" % page)
        assert len(user.all("table.jobs tbody tr")) == 50
    user.click("nav.pager button:nth-of-type(2)")
    wait_for(lambda: row(user, ids[-1 - 100]), 5, "page 3 again")
    user.click("nav.pager button:nth-of-type(1)")
    wait_for(lambda: row(user, ids[-1]), 5, "the first page again")
    Select(user.find("#jobs-state")).select_by_value("PENDING")
    user.wait_text("main", "You have no jobs in this state")
    Select(user.find("#jobs-state")).select_by_value("CANCELLED")
    wait_for(lambda: row(user, ids[-1]), 5, "cancelled jobs")
    assert stable(lambda: all(r.get_attribute("data-status") == "CANCELLED" for r in user.all("table.jobs tbody tr")))
    user.shot("jobs-10000")
    # The deepest page: before_id near the oldest job.
    user.go("jobs?before=%d" % ids[30])
    wait_for(lambda: row(user, ids[29]) and row(user, ids[0]), 5, "the oldest page")
    assert len(user.all("table.jobs tbody tr")) == 30
    assert not user.find("nav.pager button:nth-of-type(3)").is_enabled()
    print("jobs page ready %.0f ms after navigation start (10,050 jobs)" % nav)


def test_expired_session_returns_to_login_then_back(site, user):
    # The session's token stops working (the password changes elsewhere):
    # the event stream or the next request notices, whichever comes first.
    user.go("quota")
    user.find("svg.gauge")
    token = site.token("carol", "carol-password")
    api(site, "POST", "/me/password", {"old_password": "carol-password", "new_password": "carol-password-2"},
        token=token)
    if user.all("a[data-nav=jobs]") and user.find("a[data-nav=jobs]", visible=False).is_displayed():
        try:
            user.find("a[data-nav=jobs]", timeout=0.2).click()
        except (AssertionError, StaleElementReferenceException, WebDriverException):
            pass  # the login page came first
    user.wait_text(".notice", "Your session has expired")
    where = user.d.current_url.split("#", 1)[1]
    assert where in ("/quota", "/jobs"), where
    user.shot("session-expired")
    user.login("carol", "carol-password")
    user.wait_text("#login-error", "Wrong username or password")
    user.login("carol", "carol-password-2")
    user.wait_text("h1", "Quota" if where == "/quota" else "My jobs")
    assert user.d.current_url.endswith("#" + where)
    user.wait_text("#live", "live")
    # The session cookie is lost: the next request gets 401, the login page,
    # then back to the page that asked.
    user.go("jobs")   # a page whose requests are done (the quota chart may still be reading)
    user.find("table.jobs")
    user.d.delete_cookie("gpuaas_session")
    user.click("a[data-nav=gpus]")
    user.wait_text(".notice", "Your session has expired")
    assert user.d.current_url.endswith("#/gpus")
    user.login("carol", "carol-password-2")
    user.wait_text("h1", "GPUs")
    user.find("table.gpu-summary")
    # A reload keeps the session (the cookie) and the page.
    user.d.refresh()
    user.wait_text("h1", "GPUs")
    user.wait_text("#live", "live")
    # Logging out ends it: the next visit asks to log in.
    user.click("#logout")
    user.wait_text("main", "You are logged out")
    user.go("jobs")
    user.find("form.login")


# A page another origin serves, in the browser of a logged-in user. The other
# origin is another port on the same host: same site, so the SameSite=Strict
# session cookie still travels with its requests, and only CORS and the CSRF
# header stand between that page and the user's account.
CROSS_ORIGIN_PROBE = """
const [base, done] = [arguments[0], arguments[arguments.length - 1]];
const body = JSON.stringify({gpu_type: "T4", gpu_count: 1, time_limit: 60, name: "from-elsewhere",
                             command: ["true"]});
const out = {};
const tries = [
  ["read", () => fetch(base + "api/v1/jobs", {credentials: "include"}).then(r => r.status)],
  ["simple_post", () => fetch(base + "api/v1/jobs", {method: "POST", mode: "no-cors", credentials: "include",
                                                     headers: {"Content-Type": "text/plain"}, body})
                          .then(r => r.type)],
  ["csrf_post", () => fetch(base + "api/v1/jobs", {method: "POST", credentials: "include",
                                                   headers: {"Content-Type": "application/json",
                                                             "X-CSRF-Token": "guess"}, body})
                        .then(r => r.status)],
];
(async () => {
  for (const [name, attempt] of tries) {
    try { out[name] = await attempt(); } catch (e) { out[name] = "refused: " + e.name; }
  }
  done(out);
})();
"""


def test_cross_origin_requests_with_the_cookie_are_refused(site, tmp_path):
    import http.server
    import threading

    site.d.add_user("dave", quota="10h", password="dave-password")
    dave = site.token("dave", "dave-password")
    (tmp_path / "elsewhere.html").write_text("<!doctype html><title>elsewhere</title><p>another site</p>")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    b = Browser(site, "dave")
    try:
        b.go("jobs")
        b.login("dave", "dave-password")
        b.wait_text("h1", "My jobs")
        b.wait_text("#live", "live")
        b.d.set_script_timeout(15)
        # From the dashboard's own origin the cookie works (the control).
        same = b.d.execute_async_script(CROSS_ORIGIN_PROBE, site.web.base)
        assert same["read"] == 200, same
        assert same["csrf_post"] == 403, same   # the cookie alone, even with a wrong token, changes nothing
        b.d.get("http://127.0.0.1:%d/elsewhere.html" % other.server_address[1])
        b.wait_text("body", "another site")
        got = b.d.execute_async_script(CROSS_ORIGIN_PROBE, site.web.base)
        # The response is not readable there (no Access-Control-Allow-Origin),
        # the preflighted POST is refused before it is sent, and the simple
        # POST, sent blind, is refused by the gateway: no CSRF header (and a
        # text/plain body, which it would refuse as well).
        assert got["read"].startswith("refused"), got
        assert got["csrf_post"].startswith("refused"), got
        assert got["simple_post"] == "opaque", got
        jobs = api(site, "GET", "/jobs", token=dave)
        jobs = jobs["jobs"] if isinstance(jobs, dict) else jobs
        assert not any(j.get("name") == "from-elsewhere" for j in jobs), jobs
        b.shot("cross-origin-refused")
    finally:
        b.quit()
        other.shutdown()
        other.server_close()

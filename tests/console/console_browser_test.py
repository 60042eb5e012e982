"""The web console (docs/console.md) in a real browser: Debian's chromium, headless, driven by
chromedriver through python3-selenium, against the real `dataforge` binary.

A bounded run of a pipeline file whose mapping requires a field that 4 of the 30 records of a
captured randomuser response lack (id.value is null there): 26 stored, 4 dead-lettered
(missing_field). The file is then fixed (the field no longer required), users are made with the
CLI (an admin with an API key, a reader with a password), and `dataforge run --role scheduler`
runs the DAG beside `dataforge serve`. The browser logs in, checks the overview against
`dataforge status --json`, browses a topic to an offset (the record `topic consume` prints),
triggers the DAG and sees the run turn green, logs in as the reader (no replay or trigger
button; a forced POST is 403), and, once the scheduler is stopped (so serve may write the
store), replays a dead letter and sees it stored (`dataforge table get` finds the row).

Usage: console_browser_test.py DATAFORGE_BIN FIXTURES_DIR [ConsoleBrowserTest.test_… …]
With DATAFORGE_SCREENSHOTS=DIR set, a PNG of each screen is written to DIR (docs/console/).
"""
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException,
                                        TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BINARY = None
FIXTURES = None
BOUND_S = 30  # for a condition that never comes: a failure, never a timing check
SHOTS = os.environ.get("DATAFORGE_SCREENSHOTS", "")
READY = re.compile(r"^serve: listening on (http://[^ ]+) \((.*)\)$")
ADMIN_KEY_RE = re.compile(r"^dfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$")
READER_PASSWORD = "r3ader pw ünïcode"

PIPELINE = """\
source:
  url: file://{fixture}
process:
  columns:
    - {{name: id, type: uuid, path: $key, required: true}}
    - {{name: first_name, path: name.first}}
    - {{name: last_name, path: name.last}}
    - {{name: national_id, path: id.value{required}}}
dags:
  nightly:
    schedule: "@daily"
    start_date: 2099-01-01
    tasks:
      - {{id: extract, type: shell, command: 'echo extracted {{{{ conf.table }}}}'}}
      - {{id: load, type: shell, command: 'echo loaded', depends_on: [extract]}}
"""


def df(*args, stdin=None):
    """`dataforge ARGS` to completion: (exit code, stdout, stderr)."""
    p = subprocess.run([BINARY] + list(args), input=stdin, capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


class ConsoleBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="df-console-")
        cls.data = os.path.join(cls.tmp.name, "data")
        cls.config = os.path.join(cls.tmp.name, "pipeline.yaml")
        cls.where = ["--config", cls.config, "--data-dir", cls.data]
        fixture = os.path.join(FIXTURES, "v1.4-persona-gen.json")
        cls.write_pipeline(fixture, required=True)
        code, out, err = df("run", "--max-records", "30", "--no-progress", *cls.where)
        assert code == 0, out + err
        status = cls.status()
        assert (status["stored"], status["dead_lettered"]) == (26, 4), status
        # The fix: national_id is no longer required, so the 4 letters map now.
        cls.write_pipeline(fixture, required=False)

        code, out, err = df("users", "add", "admin", "--role", "admin", *cls.where)
        assert code == 0, err
        code, out, err = df("keys", "create", "admin", *cls.where)
        assert code == 0, err
        cls.admin_key = out.strip()
        assert ADMIN_KEY_RE.match(cls.admin_key), out
        code, out, err = df("users", "add", "rita", "--role", "reader", "--password-stdin",
                            *cls.where, stdin=READER_PASSWORD + "\n")
        assert code == 0, err

        cls.procs = []
        cls.scheduler = cls.start(["run", "--role", "scheduler", "--no-progress"] + cls.where,
                                  re.compile(r"scheduler running 1 DAG"))
        cls.serve = cls.start(["serve", "--http-port", "0"] + cls.where, READY)
        match = READY.match(cls.serve.ready_line)
        cls.base = match.group(1)
        assert "auth on" in match.group(2), match.group(2)

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        cls.profile = tempfile.TemporaryDirectory(prefix="df-chromium-")
        for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                     "--user-data-dir=" + cls.profile.name]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        cls.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        cls.driver.set_script_timeout(BOUND_S)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "driver", None):
            cls.driver.quit()
        for p in getattr(cls, "procs", []):
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
        cls.tmp.cleanup()
        if getattr(cls, "profile", None):
            cls.profile.cleanup()

    @classmethod
    def write_pipeline(cls, fixture, required):
        with open(cls.config, "w") as f:
            f.write(PIPELINE.format(fixture=fixture, required=", required: true" if required else ""))

    @classmethod
    def status(cls):
        code, out, err = df("status", "--json", *cls.where)
        assert code == 0, err
        return json.loads(out)

    @classmethod
    def start(cls, args, ready):
        """`dataforge ARGS`, stdout and stderr merged; waits for a line matching `ready`."""
        p = subprocess.Popen([BINARY] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             bufsize=0)
        cls.procs.append(p)
        deadline = time.monotonic() + BOUND_S
        lines = []
        # Unbuffered reads, split here: select() on a buffered reader misses lines that an
        # earlier readline() already pulled into its buffer (the ready line after a log line).
        pending = b""
        fd = p.stdout.fileno()
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    lines.append(raw.decode("utf-8", "replace"))
                    if ready.search(lines[-1]):
                        p.ready_line = lines[-1]
                        return p
            elif p.poll() is not None:
                break
        raise AssertionError("dataforge %s did not start: %r" % (" ".join(args), lines))

    # ---- browser helpers ----------------------------------------------------------------------

    def wait(self, condition, what):
        try:
            # The screens re-render every few seconds: an element found a moment ago may be gone.
            return WebDriverWait(self.driver, BOUND_S, poll_frequency=0.1, ignored_exceptions=(
                NoSuchElementException, StaleElementReferenceException)).until(
                lambda d: condition(d))
        except TimeoutException:
            self.fail("waited %d s for %s; page error: %r" % (BOUND_S, what, self.text("app-error")))

    def click(self, css, what):
        """Clicks the element `css` names, found again if a refresh replaced it meanwhile."""
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True, what)

    def by_id(self, id_):
        return self.driver.find_element(By.ID, id_)

    def text(self, id_):
        """The element's text now; "" when there is none. A refresh that replaces the element
        between finding it and reading it (a stale element) finds it again: the overview's
        second refresh renders its stage rows anew (the rate column goes from "–" to "0.0"),
        and under load that fell between two reads of one screen (ov-fetched read as "" right
        after ov-stored read 26; ci-local, ASan suite)."""
        for _ in range(100):
            try:
                return self.by_id(id_).text
            except StaleElementReferenceException:
                continue
            except Exception:  # noqa: BLE001 - no such element: also for failure messages
                return ""
        return ""

    def shot(self, name):
        if SHOTS:
            os.makedirs(SHOTS, exist_ok=True)
            self.driver.save_screenshot(os.path.join(SHOTS, name + ".png"))

    def goto(self, screen):
        self.driver.execute_script("location.hash = arguments[0]", "#/" + screen)
        self.wait(lambda d: d.find_element(By.ID, "screen-" + screen).is_displayed(),
                  "the %s screen" % screen)

    def fresh_page(self):
        """The console with no credential kept (a tab of its own would start so)."""
        self.driver.get(self.base + "/")
        self.driver.execute_script("sessionStorage.clear()")
        self.driver.get(self.base + "/")

    def login_with_key(self, key):
        self.fresh_page()
        self.wait(lambda d: d.find_element(By.ID, "login-form").is_displayed(), "the login form")
        self.by_id("login-method-key").click()
        self.by_id("login-key").send_keys(key)
        self.by_id("login-submit").click()

    def login_with_password(self, user, password):
        self.fresh_page()
        self.wait(lambda d: d.find_element(By.ID, "login-form").is_displayed(), "the login form")
        self.by_id("login-method-basic").click()
        self.by_id("login-user").send_keys(user)
        self.by_id("login-password").send_keys(password)
        self.by_id("login-submit").click()

    def logout(self):
        self.by_id("logout").click()
        self.wait(lambda d: d.find_element(By.ID, "login-form").is_displayed(), "the login form")

    def fetch(self, method, path, body=None):
        """A request from the page with the session's credential: (status, parsed body)."""
        return self.driver.execute_async_script("""
            const [method, path, body, done] = arguments;
            const auth = sessionStorage.getItem("dataforge.console.auth");
            fetch(path, {method, headers: {"Authorization": auth, "Content-Type": "application/json"},
                         body: body === null ? undefined : JSON.stringify(body)})
              .then(async (r) => done([r.status, JSON.parse(await r.text())]))
              .catch((e) => done([0, String(e)]));""", method, path, body)

    def assertNoPolicyViolations(self):
        """The page broke no rule of its Content-Security-Policy and threw no error."""
        logs = self.driver.get_log("browser")
        bad = [e["message"] for e in logs if "Content Security Policy" in e["message"]
               or "Uncaught" in e["message"]]
        self.assertEqual(bad, [])

    # ---- the tests, in order -----------------------------------------------------------------

    def test_1_login_and_overview(self):
        # Static assets need no credentials; the API does.
        self.driver.get(self.base + "/")
        self.wait(lambda d: d.find_element(By.ID, "login-form").is_displayed(), "the login form")
        self.assertFalse(self.by_id("app").is_displayed())
        self.shot("login")
        # A wrong key: the server's message on the form.
        self.by_id("login-key").send_keys("dfk_000000000000_" + "A" * 43)
        self.by_id("login-submit").click()
        self.wait(lambda d: "unknown API key '000000000000'" in self.text("login-error"),
                  "the server's 401 message")
        self.assertFalse(self.by_id("app").is_displayed())

        self.login_with_key(self.admin_key)
        self.wait(lambda d: d.find_element(By.ID, "screen-overview").is_displayed(), "the overview")
        self.assertEqual(self.text("who"), "admin (admin)")
        stored = self.status()["stored"]
        self.assertEqual(stored, 26)
        self.wait(lambda d: self.text("ov-stored") == str(stored), "stored == status --json's")
        self.assertEqual(self.text("ov-dead-lettered"), "4")
        self.assertEqual(self.text("ov-fetched"), "30")
        self.assertIn("stored + dead-lettered + lost == fetched: yes", self.text("ov-balance"))
        # The recent errors: the 4 letters, newest first, with their reason.
        self.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ov-errors tbody tr")) == 4,
                  "4 recent errors")
        self.assertIn("national_id", self.text("ov-errors"))
        # The backends answered.
        backends = self.text("ov-backends")
        self.assertIn("rocksdb://store", backends)
        self.assertNotIn("not allowed", backends)
        self.shot("overview")
        self.assertNoPolicyViolations()
        # A hidden tab pauses the refresh; visible again, it refreshes at once. (Headless chromium
        # never hides its tab: the page is told so as a browser would tell it.)
        self.driver.execute_script("""
            Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
            document.dispatchEvent(new Event("visibilitychange"));""")
        self.wait(lambda d: self.text("refresh-state") == "refresh paused (tab hidden)",
                  "the refresh paused")
        self.driver.execute_script("""
            Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "visible"});
            document.dispatchEvent(new Event("visibilitychange"));""")
        self.wait(lambda d: self.text("refresh-state").startswith("updated "), "the refresh resumed")

    def test_2_topic_browser_seeks_to_an_offset(self):
        self.login_with_key(self.admin_key)
        # The record at partition 3, offset 5, as `dataforge topic consume` reads it.
        code, out, err = df("topic", "consume", "users_created", "--from-beginning", "--max", "30",
                            "--timeout-ms", "2000", *self.where)
        self.assertEqual(code, 0, err)
        records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        self.assertEqual(len(records), 30)
        want = [r for r in records if r["partition"] == 3 and r["offset"] == 5]
        self.assertEqual(len(want), 1, "partition 3 has no offset 5: %r" %
                         sorted((r["partition"], r["offset"]) for r in records))
        want = want[0]

        self.goto("topics")
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR,
                                            "#tp-topics table[data-topic=users_created] tbody tr"),
                  "the partitions of users_created")
        rows = self.driver.find_elements(By.CSS_SELECTOR,
                                         "#tp-topics table[data-topic=users_created] tbody tr")
        self.assertEqual(len(rows), 4)
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#rb-partition option[value='3']"),
                  "partition 3 in the browser")
        self.driver.find_element(By.CSS_SELECTOR, "#rb-partition option[value='3']").click()
        self.by_id("rb-at").clear()
        self.by_id("rb-at").send_keys("5")
        self.by_id("rb-limit").clear()
        self.by_id("rb-limit").send_keys("1")
        self.by_id("rb-go").click()
        shown = self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#rb-records .record"),
                          "a record")
        self.assertEqual(len(shown), 1)
        self.assertEqual(shown[0].get_attribute("data-offset"), "5")
        self.assertEqual(shown[0].find_element(By.CLASS_NAME, "record-key").text, want["key"])
        value = shown[0].find_element(By.CLASS_NAME, "record-value").text
        self.assertEqual(json.loads(value), want["value"])
        self.assertIn("\n  \"gender\"", value)  # pretty-printed
        self.assertEqual(json.loads(shown[0].find_element(By.CLASS_NAME, "record-headers").text),
                         want["headers"])
        # Older / newer step by the limit.
        self.by_id("rb-next").click()
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#rb-records .record")
                  .get_attribute("data-offset") == "6", "offset 6 after 'Newer'")
        self.by_id("rb-prev").click()
        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#rb-records .record")
                  .get_attribute("data-offset") == "5", "offset 5 after 'Older'")
        self.by_id("rb-limit").clear()
        self.by_id("rb-limit").send_keys("3")
        self.by_id("rb-go").click()
        self.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#rb-records .record")) == 3,
                  "3 records")
        self.shot("topics")

    def test_2b_topic_browser_seeks_by_time(self):
        self.login_with_key(self.admin_key)
        code, out, err = df("topic", "consume", "users_created", "--from-beginning", "--max", "30",
                            "--timeout-ms", "2000", *self.where)
        self.assertEqual(code, 0, err)
        part = sorted((r for r in (json.loads(line) for line in out.splitlines()
                                   if line.startswith("{")) if r["partition"] == 3),
                      key=lambda r: r["offset"])
        self.assertEqual(len(part), 12)
        # A time in unix ms just after offset 5's timestamp: the first record at or after it.
        at_ms = part[5]["timestamp_us"] // 1000 + 1
        want = next((r["offset"] for r in part if r["timestamp_us"] >= at_ms * 1000), 12)
        self.goto("topics")
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#rb-partition option[value='3']"),
                  "partition 3 in the browser")
        self.driver.find_element(By.CSS_SELECTOR, "#rb-partition option[value='3']").click()
        self.driver.find_element(By.CSS_SELECTOR, "#rb-mode option[value=time]").click()
        self.by_id("rb-at").clear()
        self.by_id("rb-at").send_keys(str(at_ms))
        self.by_id("rb-limit").clear()
        self.by_id("rb-limit").send_keys("2")
        self.by_id("rb-go").click()
        self.wait(lambda d: "the time seeks to offset %d" % want in self.text("rb-summary")
                  or (want == 12 and "no records from there" in self.text("rb-summary")),
                  "the seek to offset %d" % want)
        shown = [e.get_attribute("data-offset")
                 for e in self.driver.find_elements(By.CSS_SELECTOR, "#rb-records .record")]
        self.assertEqual(shown, [str(o) for o in range(want, min(want + 2, 12))])
        # An ISO-8601 time before every record seeks to the start.
        self.by_id("rb-at").clear()
        self.by_id("rb-at").send_keys("2020-01-01T00:00:00Z")
        self.by_id("rb-go").click()
        self.wait(lambda d: "the time seeks to offset 0" in self.text("rb-summary"), "offset 0")

    def test_3_trigger_a_dag_and_see_it_green(self):
        self.login_with_key(self.admin_key)
        self.goto("dags")
        self.wait(lambda d: d.find_element(By.ID, "dag-detail").is_displayed(), "the DAG nightly")
        self.assertEqual(self.text("dag-name"), "nightly")
        conf = self.by_id("dag-conf")
        conf.clear()
        conf.send_keys('{"table": "users"')  # not JSON yet
        self.by_id("dag-trigger").click()
        self.wait(lambda d: self.text("dag-error").startswith("conf is not JSON"), "a conf error")
        conf.send_keys("}")
        self.by_id("dag-trigger").click()
        self.wait(lambda d: re.match(r"run \d+ queued", self.text("dag-trigger-result")),
                  "the run queued")
        run_id = re.match(r"run (\d+)", self.text("dag-trigger-result")).group(1)
        self.wait(lambda d: d.find_elements(
            By.CSS_SELECTOR, "#dag-grid td.run-state[data-run='%s'][data-state=success]" % run_id),
            "run %s green in the grid" % run_id)
        for task in ("extract", "load"):
            cell = self.driver.find_element(
                By.CSS_SELECTOR, "#dag-grid td.cell[data-run='%s'][data-task=%s]" % (run_id, task))
            self.assertEqual(cell.get_attribute("data-state"), "success")
            self.assertIn("state-success", cell.get_attribute("class"))
        self.click("#dag-grid td.cell[data-run='%s'][data-task=extract]" % run_id,
                   "the cell of extract in run %s" % run_id)
        self.wait(lambda d: self.text("task-output").strip() == "extracted users",
                  "the task's output (conf.table rendered)")
        self.assertEqual(self.text("task-state"), "success")
        self.shot("dags")

    def test_3b_clear_a_task_and_pause(self):
        self.login_with_key(self.admin_key)
        self.goto("dags")
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR,
                                            "#dag-grid td.run-state[data-state=success]"),
                  "a green run")
        run_id = self.driver.find_elements(
            By.CSS_SELECTOR, "#dag-grid td.run-state[data-state=success]")[-1].get_attribute("data-run")
        self.click("#dag-grid td.cell[data-run='%s'][data-task=extract]" % run_id,
                   "the cell of extract in run %s" % run_id)
        self.wait(lambda d: self.by_id("task-clear").is_displayed(), "the Clear button")
        self.assertTrue(self.by_id("task-downstream").is_selected())
        self.by_id("task-clear").click()
        self.wait(lambda d: self.text("task-clear-result") == "cleared extract, load",
                  "extract and its downstream load cleared")
        # The scheduler runs them again: the second try succeeds.
        self.wait(lambda d: d.find_elements(
            By.CSS_SELECTOR, "#dag-grid td.run-state[data-run='%s'][data-state=success]" % run_id)
            and self.text("task-fields").startswith("try 2"), "run %s green again" % run_id)
        # Paused: a trigger is refused with the server's message; unpaused again.
        self.by_id("dag-pause").click()
        self.wait(lambda d: "paused" in d.find_element(By.CSS_SELECTOR, "#dag-list tr[data-dag=nightly]").text,
                  "nightly paused")
        self.by_id("dag-trigger").click()
        self.wait(lambda d: "paused" in self.text("dag-error"), "the 409 for a paused DAG")
        self.by_id("dag-pause").click()
        self.wait(lambda d: "active" in d.find_element(By.CSS_SELECTOR, "#dag-list tr[data-dag=nightly]").text,
                  "nightly active again")

    def test_4_reader_cannot_replay_or_trigger(self):
        self.login_with_password("rita", READER_PASSWORD)
        self.wait(lambda d: d.find_element(By.ID, "screen-overview").is_displayed(), "the overview")
        self.assertEqual(self.text("who"), "rita (reader)")
        self.goto("deadletters")
        self.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#dl-table tbody tr[data-id]")) == 4,
                  "the 4 dead letters")
        self.assertFalse(self.by_id("dl-replay").is_displayed())
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "#dl-table input.dl-select"), [])
        # The reader role has no grant on DAGs: the list is empty, so no trigger or pause.
        self.goto("dags")
        self.wait(lambda d: "no DAGs you may read" in self.text("dag-list"), "an empty DAG list")
        self.assertFalse(self.by_id("dag-detail").is_displayed())
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "#dag-list button"), [])
        # The server refuses them anyway.
        status, body = self.fetch("POST", "/v1/deadletters/replay", {"ids": ["process:1"]})
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["code"], "forbidden")
        self.assertIn("role 'reader' may not replay deadletters", body["error"]["message"])
        status, body = self.fetch("POST", "/v1/dags/nightly/runs", {"conf": {}})
        self.assertEqual(status, 403, body)
        self.assertIn("role 'reader' may not trigger dags 'nightly'", body["error"]["message"])
        self.logout()
        self.assertEqual(self.text("login-error"), "Logged out.")
        self.assertIsNone(self.driver.execute_script(
            "return sessionStorage.getItem('dataforge.console.auth')"))

    def test_5_replay_a_dead_letter_and_see_it_stored(self):
        # serve writes the store once no other process holds the data dir.
        self.scheduler.send_signal(signal.SIGINT)
        self.assertEqual(self.scheduler.wait(timeout=BOUND_S), 0)
        self.login_with_key(self.admin_key)
        self.goto("deadletters")
        self.driver.find_element(By.CSS_SELECTOR, "#dl-reason option[value=missing_field]").click()
        self.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#dl-table tbody tr[data-id]")) == 4,
                  "the 4 missing_field letters")
        letter = self.wait(lambda d: d.find_elements(
            By.CSS_SELECTOR, "#dl-table tbody tr[data-id]")[0].get_attribute("data-id"), "a letter")
        row = "#dl-table tbody tr[data-id='%s']" % letter
        self.click(row + " td.reason", "the letter (its payload)")
        payload = self.wait(lambda d: d.find_element(By.ID, "dl-payload-text").text, "the payload")
        key = json.loads(payload)["login"]["uuid"]
        self.click(row + " input.dl-select", "the letter's checkbox")
        self.wait(lambda d: d.find_element(By.ID, "dl-replay").is_enabled(), "Replay enabled")
        self.by_id("dl-replay").click()
        result = self.wait(lambda d: d.find_elements(
            By.CSS_SELECTOR, "#dl-results tr[data-id='%s'] .outcome" % letter), "the replay result")
        self.assertEqual(result[0].text, "stored", self.text("dl-results"))
        self.assertIn(key, self.text("dl-results"))
        self.shot("deadletters")
        # Stored: the row is in the table, and the overview counts it.
        code, out, err = df("table", "get", "dataforge.created_users", key, *self.where)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["id"], key)
        self.assertIsNone(json.loads(out).get("national_id"))
        stored = self.status()["stored"]
        self.assertEqual(stored, 27)
        self.goto("overview")
        self.wait(lambda d: self.text("ov-stored") == str(stored), "stored 27 on the overview")

    def test_6_tables_browse_with_a_filter(self):
        self.login_with_key(self.admin_key)
        self.goto("tables")
        self.wait(lambda d: re.match(r"\d+ rows match", self.text("tb-count")), "the row count")
        rows = int(re.match(r"(\d+) rows", self.text("tb-count")).group(1))
        self.assertEqual(rows, self.status()["store_rows"])
        # A filter: the first row's first_name.
        first = self.driver.find_elements(By.CSS_SELECTOR, "#tb-rows tbody tr")[0]
        header = [th.text for th in self.driver.find_elements(By.CSS_SELECTOR, "#tb-rows thead th")]
        name = first.find_elements(By.TAG_NAME, "td")[header.index("first_name")].text
        self.by_id("tb-add-filter").click()
        f = self.driver.find_element(By.CSS_SELECTOR, "#tb-filters .filter")
        f.find_element(By.CSS_SELECTOR, ".f-col option[value=first_name]").click()
        f.find_element(By.CSS_SELECTOR, ".f-val").send_keys(name)
        self.by_id("tb-go").click()
        code, out, err = df("table", "scan", "dataforge.created_users", *self.where)
        self.assertEqual(code, 0, err)
        want = sum(1 for line in out.splitlines()
                   if line.startswith("{") and json.loads(line).get("first_name") == name)
        self.assertGreaterEqual(want, 1)
        self.wait(lambda d: self.text("tb-count").startswith("%d rows match" % want),
                  "%d rows named %s" % (want, name))
        shown = self.driver.find_elements(By.CSS_SELECTOR, "#tb-rows tbody tr")
        self.assertEqual(len(shown), want)
        self.shot("tables")
        self.assertNoPolicyViolations()


if __name__ == "__main__":
    BINARY = sys.argv[1]
    FIXTURES = sys.argv[2]
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)  # then test names, if any

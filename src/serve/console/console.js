// The DataForge web console (docs/console.md). Plain JS, no framework, nothing fetched but this
// server's own REST API (/v1/...). The credential the user typed is kept in sessionStorage
// (this tab only) and sent with every call as the Authorization header; a 401 brings the login
// form back with the server's message. Each screen refreshes itself every few seconds while the
// tab is visible. Text from the server is always set with textContent (never parsed as HTML).
"use strict";

(function () {
  const REFRESH_MS = 3000;
  const STORAGE_KEY = "dataforge.console.auth";
  const STATES = ["success", "failed", "running", "queued", "up_for_retry", "upstream_failed",
                  "skipped", "none"];

  // ---- small helpers -------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  // el("td", {class: "num", dataset: {id: 3}}, "text", childNode, ...)
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "dataset") Object.assign(e.dataset, v);
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else if (k in e && typeof v !== "string") e[k] = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  // Replaces `parent`'s children with `nodes`, unless they would render the same: a refresh that
  // changed nothing leaves the page alone (no flicker, and a click in progress is not lost).
  function fill(parent, nodes) {
    const html = nodes.map((n) => n.outerHTML).join("");
    if (parent.innerHTML === html) return;
    parent.replaceChildren(...nodes);
  }

  function fmtNum(n) {
    return typeof n === "number" ? n.toLocaleString("en-US") : (n === undefined ? "–" : String(n));
  }

  function fmtTimeUs(us) {
    if (!us) return "–";
    return new Date(us / 1000).toISOString().replace("T", " ").replace("Z", "");
  }

  function pretty(v) {
    if (typeof v === "string") {
      try { return JSON.stringify(JSON.parse(v), null, 2); } catch (_) { return v; }
    }
    return JSON.stringify(v, null, 2);
  }

  function setText(id, text) { $(id).textContent = text === undefined ? "" : text; }

  function utf8Base64(text) {
    const bytes = new TextEncoder().encode(text);
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
  }

  // ---- the session and the API ---------------------------------------------------------------

  const session = {
    auth: sessionStorage.getItem(STORAGE_KEY) || "",  // the Authorization header's value
    who: null,                                        // GET /v1/whoami
  };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // Calls the REST API; resolves to the parsed JSON body, rejects with ApiError. A 401 logs out
  // with the server's message.
  async function api(method, path, body) {
    const headers = {};
    if (session.auth) headers["Authorization"] = session.auth;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(path, {method, headers, cache: "no-store", credentials: "omit",
                               body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (e) {
      throw new ApiError(0, "network", "the server cannot be reached (" + e.message + ")");
    }
    let data = null;
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) {
      const err = data && data.error ? data.error : {code: "http_" + res.status, message: text};
      // Without a credential sent (a fresh tab) the form needs no error, just the prompt.
      if (res.status === 401) showLogin(headers["Authorization"] ? err.message : "");
      throw new ApiError(res.status, err.code, err.message || ("HTTP " + res.status));
    }
    return data;
  }

  function can(action) {
    return !!(session.who && session.who.can && session.who.can[action]);
  }

  function canOnDag(dag, action) {
    const d = session.who && session.who.dags ? session.who.dags[dag] : null;
    return d ? !!d[action] : can(action);
  }

  // ---- login ---------------------------------------------------------------------------------

  function showLogin(message) {
    stopRefresh();
    session.auth = "";
    session.who = null;
    sessionStorage.removeItem(STORAGE_KEY);
    $("app").hidden = true;
    $("login").hidden = false;
    setText("login-error", message || "");
    ($("login-method-key").checked ? $("login-key") : $("login-user")).focus();
  }

  async function enter() {
    session.who = await api("GET", "/v1/whoami");
    const w = session.who;
    setText("who", w.auth ? w.user + " (" + w.role + ")" : "authentication off (anonymous admin)");
    $("logout").hidden = !w.auth;
    $("login").hidden = true;
    $("app").hidden = false;
    route();
  }

  function onLoginMethod() {
    const key = $("login-method-key").checked;
    $("login-key-fields").hidden = !key;
    $("login-basic-fields").hidden = key;
  }

  async function onLogin(ev) {
    ev.preventDefault();
    let auth;
    if ($("login-method-key").checked) {
      const key = $("login-key").value.trim();
      if (!key) { setText("login-error", "type an API key"); return; }
      auth = "Bearer " + key;
    } else {
      const user = $("login-user").value;
      if (!user) { setText("login-error", "type a user name"); return; }
      auth = "Basic " + utf8Base64(user + ":" + $("login-password").value);
    }
    session.auth = auth;
    sessionStorage.setItem(STORAGE_KEY, auth);
    $("login-password").value = "";
    $("login-key").value = "";
    setText("login-error", "");
    try {
      await enter();
    } catch (e) {
      if (e.status !== 401) showLogin(e.message);
    }
  }

  function logout() {
    showLogin("Logged out.");
  }

  // ---- screens and refresh -------------------------------------------------------------------

  const screens = {};  // name -> {show(), refresh()}
  let current = null;
  let timer = null;
  let refreshing = false;

  function route() {
    const name = (location.hash.replace(/^#\/?/, "") || "overview").split("?")[0];
    const next = screens[name] ? name : "overview";
    for (const a of document.querySelectorAll("#nav a")) {
      a.classList.toggle("active", a.dataset.screen === next);
    }
    for (const s of document.querySelectorAll(".screen")) s.hidden = s.id !== "screen-" + next;
    $("app-error").hidden = true;
    if (current !== next) {
      current = next;
      if (screens[next].show) screens[next].show();
    }
    startRefresh();
  }

  async function tick() {
    if (refreshing || !current || $("app").hidden) return;
    if (document.visibilityState !== "visible") {
      setText("refresh-state", "refresh paused (tab hidden)");
      return;
    }
    refreshing = true;
    try {
      await screens[current].refresh();
      $("app-error").hidden = true;
      setText("refresh-state", "updated " + new Date().toLocaleTimeString());
    } catch (e) {
      if (e.status !== 401) {
        $("app-error").hidden = false;
        setText("app-error", e.message);
      }
    } finally {
      refreshing = false;
    }
  }

  function startRefresh() {
    stopRefresh();
    tick();
    timer = setInterval(tick, REFRESH_MS);
  }

  function stopRefresh() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") tick();
    else setText("refresh-state", "refresh paused (tab hidden)");
  });

  // ---- Overview ------------------------------------------------------------------------------

  const overview = {
    last: null,  // {at, status} of the previous refresh, for rates
    letters: {count: -1, list: []},
  };

  // The latest dead letters: the API pages oldest first, so the list is read again (up to 10
  // pages of 1,000) only when the count changed.
  async function latestDeadLetters(total) {
    if (total === overview.letters.count) return overview.letters.list;
    let cursor = null, all = [];
    for (let page = 0; page < 10; page++) {
      const q = "/v1/deadletters?limit=1000" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      const r = await api("GET", q);
      all = all.concat(r.dead_letters);
      if (all.length > 50) all = all.slice(-50);
      cursor = r.next_cursor;
      if (!cursor) break;
    }
    all.sort((a, b) => a.at_us - b.at_us);
    overview.letters = {count: total, list: all.slice(-8).reverse()};
    return overview.letters.list;
  }

  screens.overview = {
    show() { overview.last = null; },
    async refresh() {
      const s = await api("GET", "/v1/status");
      const now = performance.now();
      const prev = overview.last;
      const rate = (k) => {
        if (!prev || typeof s[k] !== "number") return "–";
        const dt = (now - prev.at) / 1000;
        return dt > 0 ? Math.max(0, (s[k] - prev.status[k]) / dt).toFixed(1) : "–";
      };
      overview.last = {at: now, status: s};
      const stages = [
        ["fetched", "fetched", null],
        ["staged", "staged", null],
        ["streamed", "streamed", "staging_lag"],
        ["stored", "stored", "log_lag"],
        ["dead-lettered", "dead_lettered", null],
        ["lost", "lost", null],
      ];
      fill($("ov-stages").tBodies[0], stages.map(([label, key, lag]) =>
        el("tr", {dataset: {stage: key}},
           el("td", {}, label),
           el("td", {class: "num", id: "ov-" + key.replace("_", "-")}, fmtNum(s[key])),
           el("td", {class: "num"}, rate(key)),
           el("td", {class: "num"}, lag ? fmtNum(s[lag]) : ""))));
      const balance = $("ov-balance");
      balance.className = "balance " + (s.balanced ? "ok" : "bad");
      balance.textContent = "stored + dead-lettered + lost == fetched: " + (s.balanced ? "yes" : "NO") +
        " (" + fmtNum(s.stored) + " + " + fmtNum(s.dead_lettered) + " + " + fmtNum(s.lost) +
        (s.balanced ? " = " : " ≠ ") + fmtNum(s.fetched) + "; in flight " + fmtNum(s.in_flight) + ")";
      fill($("ov-source").tBodies[0], Object.entries(s.source_positions || {}).map(([k, v]) =>
        el("tr", {}, el("th", {}, k), el("td", {class: "mono"}, v))));
      if (!Object.keys(s.source_positions || {}).length) {
        fill($("ov-source").tBodies[0], [el("tr", {}, el("td", {class: "muted"}, "no position yet"))]);
      }
      fill($("ov-partitions").tBodies[0], (s.partitions || []).map((p) =>
        el("tr", {}, el("td", {}, p.partition), el("td", {class: "num"}, fmtNum(p.start_offset)),
           el("td", {class: "num"}, fmtNum(p.end_offset)), el("td", {class: "num"}, fmtNum(p.processed_offset)),
           el("td", {class: "num"}, fmtNum(p.lag)), el("td", {class: "num"}, fmtNum(p.lost)))));
      // Backends: what this server answered for each (the status read staging, log and store).
      const health = await backendHealth();
      const b = (session.who && session.who.backends) || {};
      fill($("ov-backends").tBodies[0], ["source", "staging", "log", "store"].map((k) =>
        el("tr", {}, el("td", {}, k), el("td", {class: "mono"}, b[k] || "–"),
           el("td", {class: health[k].ok ? "health-ok" : "health-bad"}, health[k].text))));
      const letters = await latestDeadLetters(s.dead_lettered);
      fill($("ov-errors").tBodies[0], letters.length ? letters.map((d) =>
        el("tr", {}, el("td", {}, d.stage + ":" + d.id), el("td", {}, d.stage), el("td", {}, fmtTimeUs(d.at_us)),
           el("td", {}, d.reason_class || ""), el("td", {class: "reason"}, d.reason), el("td", {class: "mono"}, d.location)))
        : [el("tr", {}, el("td", {class: "muted", colspan: 6}, "no dead letters"))]);
    },
  };

  async function backendHealth() {
    const out = {};
    const ok = (text) => ({ok: true, text});
    const bad = (text) => ({ok: false, text});
    const probe = async (path) => {
      try { await api("GET", path); return ok("ok"); } catch (e) {
        if (e.status === 401) throw e;
        return bad(e.status === 403 ? "not allowed" : e.message);
      }
    };
    out.log = await probe("/v1/topics");
    out.store = await probe("/v1/tables");
    out.staging = await probe("/v1/deadletters?stage=source&limit=1");
    const s = overview.last ? overview.last.status : null;
    out.source = s && Object.keys(s.source_positions || {}).length ? ok("position recorded") : ok("–");
    return out;
  }

  // ---- Topics --------------------------------------------------------------------------------

  const topics = {list: [], status: null, from: null, next: null};

  screens.topics = {
    show() {},
    async refresh() {
      const [t, s] = await Promise.all([api("GET", "/v1/topics"), api("GET", "/v1/status")]);
      topics.list = t.topics;
      topics.status = s;
      const pipelineTopic = session.who && session.who.backends ? session.who.backends.topic : null;
      const group = session.who && session.who.backends ? session.who.backends.group : "the processor";
      const lagOf = {};
      for (const p of s.partitions || []) lagOf[p.partition] = p;
      fill($("tp-topics"), t.topics.map((topic) => {
        const mine = topic.topic === pipelineTopic || (!pipelineTopic && t.topics.length === 1);
        return el("div", {class: "card"},
          el("h3", {}, topic.topic, " ", el("span", {class: "muted"}, mine ? "(group " + group + ")" : "")),
          el("table", {class: "grid-table", dataset: {topic: topic.topic}},
            el("thead", {}, el("tr", {}, el("th", {}, "partition"), el("th", {class: "num"}, "start offset"),
              el("th", {class: "num"}, "end offset"), el("th", {class: "num"}, "records"),
              el("th", {class: "num"}, "group offset"), el("th", {class: "num"}, "group lag"))),
            el("tbody", {}, topic.partitions.map((p) => {
              const g = mine ? lagOf[p.partition] : null;
              return el("tr", {class: "clickable", dataset: {partition: p.partition},
                               on: {click: () => browseFrom(topic.topic, p.partition, p.start_offset)}},
                el("td", {}, p.partition), el("td", {class: "num"}, fmtNum(p.start_offset)),
                el("td", {class: "num"}, fmtNum(p.end_offset)), el("td", {class: "num"}, fmtNum(p.end_offset - p.start_offset)),
                el("td", {class: "num"}, g ? fmtNum(g.processed_offset) : "–"),
                el("td", {class: "num"}, g ? fmtNum(g.lag) : "–"));
            }))));
      }));
      syncBrowserChoices();
    },
  };

  function syncBrowserChoices() {
    const sel = $("rb-topic");
    const chosen = sel.value;
    const names = topics.list.map((t) => t.topic);
    if ([...sel.options].map((o) => o.value).join() !== names.join()) {
      sel.replaceChildren(...names.map((n) => el("option", {value: n}, n)));
      if (names.includes(chosen)) sel.value = chosen;
    }
    const topic = topics.list.find((t) => t.topic === sel.value);
    const psel = $("rb-partition");
    const parts = topic ? topic.partitions.map((p) => String(p.partition)) : [];
    if ([...psel.options].map((o) => o.value).join() !== parts.join()) {
      const keep = psel.value;
      psel.replaceChildren(...parts.map((p) => el("option", {value: p}, p)));
      if (parts.includes(keep)) psel.value = keep;
    }
  }

  function browseFrom(topic, partition, offset) {
    $("rb-topic").value = topic;
    syncBrowserChoices();
    $("rb-partition").value = String(partition);
    $("rb-mode").value = "offset";
    onSeekMode();
    $("rb-at").value = String(offset);
    browse();
  }

  function onSeekMode() {
    const time = $("rb-mode").value === "time";
    setText("rb-at-label", time ? "Time (ISO-8601 or unix ms)" : "Offset");
    $("rb-at").placeholder = time ? "2026-12-03T12:00:00Z" : "0";
  }

  async function browse(offsetOverride) {
    setText("rb-error", "");
    const topic = $("rb-topic").value, partition = $("rb-partition").value;
    if (!topic || partition === "") { setText("rb-error", "pick a topic and a partition"); return; }
    const limit = Math.max(1, Math.min(1000, parseInt($("rb-limit").value, 10) || 10));
    let q;
    if (offsetOverride !== undefined) {
      q = "offset=" + offsetOverride;
    } else if ($("rb-mode").value === "time") {
      const at = $("rb-at").value.trim();
      if (!at) { setText("rb-error", "type a time: ISO-8601 (2026-12-03T12:00:00Z) or unix milliseconds"); return; }
      q = "time=" + encodeURIComponent(at);
    } else {
      const at = $("rb-at").value.trim();
      q = at === "" ? "" : "offset=" + encodeURIComponent(at);
    }
    const path = "/v1/topics/" + encodeURIComponent(topic) + "/partitions/" + encodeURIComponent(partition) +
      "/records?" + (q ? q + "&" : "") + "limit=" + limit;
    let r;
    try {
      r = await api("GET", path);
    } catch (e) {
      if (e.status !== 401) setText("rb-error", e.message);
      return;
    }
    const first = r.records.length ? r.records[0].offset : (r.seek_offset !== undefined ? r.seek_offset : null);
    topics.from = first;
    topics.next = r.next_offset;
    topics.limit = limit;
    if (offsetOverride !== undefined) $("rb-at").value = String(offsetOverride);
    setText("rb-summary", r.records.length
      ? "offsets " + r.records[0].offset + "–" + r.records[r.records.length - 1].offset + " of " +
        topic + "/" + partition + " (end offset " + r.end_offset + ")" +
        (r.seek_offset !== undefined ? "; the time seeks to offset " + r.seek_offset : "")
      : "no records from there (end offset " + r.end_offset + ")");
    $("rb-records").replaceChildren(...r.records.map((rec) =>
      el("article", {class: "record", dataset: {offset: rec.offset}},
        el("header", {}, el("b", {}, "offset " + rec.offset), "  ·  ", fmtTimeUs(rec.timestamp_us),
           "  ·  key ", el("code", {class: "record-key"}, rec.key === null ? "null" : rec.key)),
        el("div", {class: "cols"},
          el("pre", {class: "record-headers"}, pretty(rec.headers || {})),
          el("pre", {class: "record-value json"}, pretty(rec.value))))));
  }

  // ---- Dead letters --------------------------------------------------------------------------

  const letters = {rows: [], cursor: null, selected: new Set(), shown: null, pages: 1};

  function letterId(d) { return d.stage + ":" + d.id; }

  async function loadLetters(pages) {
    const stage = $("dl-stage").value, reason = $("dl-reason").value;
    let cursor = null, rows = [];
    for (let i = 0; i < pages; i++) {
      const q = "/v1/deadletters?limit=100" + (stage ? "&stage=" + stage : "") +
        (reason ? "&reason=" + reason : "") + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      const r = await api("GET", q);
      rows = rows.concat(r.dead_letters);
      cursor = r.next_cursor;
      if (!cursor) break;
    }
    letters.rows = rows;
    letters.cursor = cursor;
    renderLetters();
  }

  function renderLetters() {
    const replayable = can("replay");
    $("dl-replay").hidden = !replayable;
    $("dl-all").hidden = !replayable;
    const ids = new Set(letters.rows.map(letterId));
    for (const id of [...letters.selected]) if (!ids.has(id)) letters.selected.delete(id);
    $("dl-replay").disabled = letters.selected.size === 0;
    setText("dl-count", letters.rows.length + " shown" + (letters.cursor ? ", more to load" : "") +
      (letters.selected.size ? "; " + letters.selected.size + " selected" : ""));
    $("dl-more").disabled = !letters.cursor;
    fill($("dl-table").tBodies[0], letters.rows.length ? letters.rows.map((d) => {
      const id = letterId(d);
      const replay = d.replay
        ? el("span", {class: "pill " + d.replay.outcome}, d.replay.outcome + (d.replay.key ? " " + d.replay.key : ""))
        : "";
      return el("tr", {class: "clickable" + (letters.shown === id ? " selected" : ""), dataset: {id},
                       on: {click: (ev) => { if (ev.target.tagName !== "INPUT") showPayload(d); }}},
        el("td", {}, replayable ? el("input", {type: "checkbox", class: "dl-select",
                                                checked: letters.selected.has(id) ? "checked" : null,
          on: {change: (ev) => { ev.target.checked ? letters.selected.add(id) : letters.selected.delete(id); renderLetters(); }}}) : ""),
        el("td", {}, id), el("td", {}, d.stage), el("td", {}, fmtTimeUs(d.at_us)),
        el("td", {}, d.reason_class || ""), el("td", {class: "reason"}, d.reason),
        el("td", {class: "mono"}, d.location), el("td", {class: "replay"}, replay));
    }) : [el("tr", {}, el("td", {colspan: 8, class: "muted"}, "no dead letters match"))]);
  }

  function showPayload(d) {
    letters.shown = letterId(d);
    $("dl-payload").hidden = false;
    setText("dl-payload-id", letterId(d) + " (" + d.location + ")");
    setText("dl-payload-text", pretty(d.raw));
    renderLetters();
  }

  async function replaySelected() {
    const ids = [...letters.selected];
    if (!ids.length) return;
    $("dl-replay").disabled = true;
    setText("dl-error", "");
    try {
      const r = await api("POST", "/v1/deadletters/replay", {ids});
      $("dl-results").hidden = false;
      fill($("dl-results").querySelector("tbody"), r.results.map((x) =>
        el("tr", {dataset: {id: x.id}}, el("td", {}, x.id),
           el("td", {}, el("span", {class: "pill outcome " + x.outcome}, x.outcome)),
           el("td", {class: "reason"}, x.key || x.reason || ""))));
      letters.selected.clear();
      await loadLetters(letters.pages);
    } catch (e) {
      if (e.status !== 401) setText("dl-error", e.message);
      renderLetters();
    }
  }

  screens.deadletters = {
    show() {},
    async refresh() { await loadLetters(letters.pages); },
  };

  // ---- DAGs ----------------------------------------------------------------------------------

  const dags = {list: [], chosen: null, task: null};  // task: {run_id, task_id}

  screens.dags = {
    show() {},
    async refresh() {
      const r = await api("GET", "/v1/dags");
      dags.list = r.dags;
      if (!dags.chosen && r.dags.length) dags.chosen = r.dags[0].dag_id;
      fill($("dag-list").tBodies[0], r.dags.length ? r.dags.map((d) =>
        el("tr", {class: "clickable" + (d.dag_id === dags.chosen ? " selected" : ""), dataset: {dag: d.dag_id},
                  on: {click: () => { dags.chosen = d.dag_id; dags.task = null; tick(); }}},
          el("td", {}, el("b", {}, d.dag_id)), el("td", {class: "mono"}, d.schedule),
          el("td", {}, d.paused ? "paused" : "active"),
          el("td", {}, d.last_run_state ? el("span", {class: "swatch state-" + d.last_run_state}) : "", d.last_run_state || "–"),
          el("td", {}, d.next_run_due || "–"), el("td", {class: "num"}, d.tasks),
          el("td", {}, canOnDag(d.dag_id, "pause")
            ? el("button", {type: "button", class: "secondary dag-toggle",
                            on: {click: (ev) => { ev.stopPropagation(); setPaused(d.dag_id, !d.paused); }}},
                 d.paused ? "Unpause" : "Pause")
            : ""))) : [el("tr", {}, el("td", {colspan: 7, class: "muted"}, "no DAGs you may read (the pipeline file declares none, or your role grants none)"))]);
      if (dags.chosen && !r.dags.some((d) => d.dag_id === dags.chosen)) dags.chosen = null;
      $("dag-detail").hidden = !dags.chosen;
      if (!dags.chosen) return;
      const dag = dags.list.find((d) => d.dag_id === dags.chosen);
      setText("dag-name", dags.chosen + (dag && dag.paused ? " (paused)" : ""));
      $("dag-trigger-box").hidden = !canOnDag(dags.chosen, "trigger") && !canOnDag(dags.chosen, "pause");
      $("dag-trigger").hidden = !canOnDag(dags.chosen, "trigger");
      $("dag-conf").hidden = !canOnDag(dags.chosen, "trigger");
      $("dag-pause").hidden = !canOnDag(dags.chosen, "pause");
      $("dag-pause").textContent = dag && dag.paused ? "Unpause" : "Pause";
      await renderGrid(await loadGrid(dags.chosen));
      if (dags.task) await showTask(dags.task.run_id, dags.task.task_id, false);
    },
  };

  // GET /v1/dags/{dag}/grid; a server without it: the same from /v1/runs and /v1/runs/{id}.
  async function loadGrid(dag) {
    try {
      return await api("GET", "/v1/dags/" + encodeURIComponent(dag) + "/grid?limit=25");
    } catch (e) {
      if (e.status !== 404 || !/no such endpoint/.test(e.message)) throw e;
    }
    const runs = await api("GET", "/v1/runs?dag=" + encodeURIComponent(dag) + "&limit=25");
    const grid = {dag, tasks: [], runs: []};
    for (const run of runs.runs) {
      const full = await api("GET", "/v1/runs/" + run.run_id);
      const tasks = {};
      for (const t of full.tasks) {
        if (!grid.tasks.includes(t.task_id)) grid.tasks.push(t.task_id);
        tasks[t.task_id] = {state: t.state, try_number: t.try_number};
      }
      grid.runs.push({run_id: run.run_id, logical_date: run.logical_date, state: run.state,
                      run_type: run.type, tasks});
    }
    return grid;
  }

  function renderGrid(grid) {
    $("dag-legend").replaceChildren(...STATES.map((s) => el("span", {}, el("i", {class: "swatch state-" + s}), s)));
    const runs = [...grid.runs].reverse();  // oldest on the left, newest on the right
    const head = el("tr", {}, el("th", {}, ""), runs.map((r) =>
      el("th", {class: "run", dataset: {run: r.run_id},
                title: "run " + r.run_id + " · " + r.run_type + " · " + r.logical_date + " · " + r.state},
         "#" + r.run_id + " · " + (r.logical_date || "").slice(5, 16).replace("T", " "))));
    const bars = el("tr", {class: "runbars"}, el("th", {class: "task"}, "run"), runs.map((r) =>
      el("td", {class: "run-state", dataset: {run: r.run_id, state: r.state}, title: r.state},
         el("span", {class: "runbar state-" + r.state}))));
    fill($("dag-grid").tHead, [head, bars]);
    fill($("dag-grid").tBodies[0], grid.tasks.map((task) => el("tr", {},
      el("th", {class: "task"}, task),
      runs.map((r) => {
        const ti = r.tasks[task] || {state: "none", try_number: 0};
        const picked = dags.task && dags.task.run_id === r.run_id && dags.task.task_id === task;
        return el("td", {class: "cell state-" + ti.state + (picked ? " picked" : ""),
                         dataset: {run: r.run_id, task, state: ti.state},
                         title: task + " · run " + r.run_id + " · " + ti.state + " · try " + ti.try_number,
                         on: {click: () => showTask(r.run_id, task, true)}});
      }))));
    if (!grid.runs.length) {
      fill($("dag-grid").tBodies[0], [el("tr", {}, el("td", {class: "muted"}, "no runs yet"))]);
    }
  }

  async function showTask(runId, taskId, fresh) {
    dags.task = {run_id: runId, task_id: taskId};
    if (fresh) setText("task-clear-result", "");
    let t;
    try {
      t = await api("GET", "/v1/runs/" + runId + "/tasks/" + encodeURIComponent(taskId));
    } catch (e) {
      if (e.status !== 404 || !/no such endpoint/.test(e.message)) throw e;
      const run = await api("GET", "/v1/runs/" + runId);  // a server without the task route
      t = run.tasks.find((x) => x.task_id === taskId) || {task_id: taskId, state: "none"};
    }
    $("task-detail").hidden = false;
    setText("task-name", taskId);
    setText("task-run", String(runId));
    setText("task-state", t.state);
    $("task-state").className = "pill " + t.state;
    $("task-clear-box").hidden = !canOnDag(dags.chosen, "clear");
    const fields = [["try", (t.try_number || 0) + " of " + (t.max_tries || "?")],
                    ["started", fmtTimeUs(t.started_us)], ["ended", fmtTimeUs(t.ended_us)],
                    ["last error", t.last_error || "–"]];
    fill($("task-fields").tBodies[0], fields.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {class: "reason"}, v))));
    setText("task-output", t.output || "(no output)");
    for (const c of document.querySelectorAll("#dag-grid td.cell")) {
      c.classList.toggle("picked", c.dataset.run === String(runId) && c.dataset.task === taskId);
    }
  }

  async function trigger() {
    setText("dag-trigger-result", "");
    setText("dag-error", "");
    let conf;
    try {
      conf = JSON.parse($("dag-conf").value || "{}");
    } catch (e) {
      setText("dag-error", "conf is not JSON: " + e.message);
      return;
    }
    if (conf === null || typeof conf !== "object" || Array.isArray(conf)) {
      setText("dag-error", "conf must be a JSON object, like {\"table\": \"users\"}");
      return;
    }
    try {
      const run = await api("POST", "/v1/dags/" + encodeURIComponent(dags.chosen) + "/runs", {conf});
      setText("dag-trigger-result", "run " + run.run_id + " queued");
      await tick();
    } catch (e) {
      if (e.status !== 401) setText("dag-error", e.message);
    }
  }

  async function setPaused(dag, paused) {
    setText("dag-error", "");
    try {
      await api("POST", "/v1/dags/" + encodeURIComponent(dag) + (paused ? "/pause" : "/unpause"));
      await tick();
    } catch (e) {
      if (e.status !== 401) setText("dag-error", e.message);
    }
  }

  async function clearTask() {
    if (!dags.task) return;
    setText("dag-error", "");
    const down = $("task-downstream").checked;
    try {
      const r = await api("POST", "/v1/runs/" + dags.task.run_id + "/tasks/" +
                          encodeURIComponent(dags.task.task_id) + "/clear?downstream=" + down);
      setText("task-clear-result", "cleared " + r.cleared.join(", "));
      await tick();
    } catch (e) {
      if (e.status !== 401) setText("dag-error", e.message);
    }
  }

  // ---- Tables --------------------------------------------------------------------------------

  const tables = {list: [], cursors: [null], page: 0, next: null, filters: []};

  screens.tables = {
    show() {},
    async refresh() {
      const r = await api("GET", "/v1/tables");
      tables.list = r.tables;
      const sel = $("tb-table");
      const names = r.tables.map((t) => t.name);
      if ([...sel.options].map((o) => o.value).join() !== names.join()) {
        const keep = sel.value;
        sel.replaceChildren(...names.map((n) => el("option", {value: n}, n)));
        if (names.includes(keep)) sel.value = keep;
      }
      await loadRows();
    },
  };

  function tableColumns() {
    const t = tables.list.find((x) => x.name === $("tb-table").value);
    return t ? t.columns : [];
  }

  function addFilter() {
    const cols = tableColumns();
    const row = el("div", {class: "filter"},
      el("select", {class: "f-col"}, cols.map((c) => el("option", {value: c.name}, c.name + " (" + c.type + ")"))),
      el("select", {class: "f-op"}, ["eq", "neq", "gt", "gte", "lt", "lte", "like", "in", "is"].map((o) =>
        el("option", {value: o}, o))),
      el("input", {type: "text", class: "f-val", placeholder: "value", spellcheck: "false"}),
      el("button", {type: "button", class: "secondary", on: {click: () => { row.remove(); resetPaging(); loadRows(); }}}, "✕"));
    $("tb-filters").append(row);
  }

  function filterQuery() {
    const parts = [];
    for (const f of document.querySelectorAll("#tb-filters .filter")) {
      const col = f.querySelector(".f-col").value, op = f.querySelector(".f-op").value;
      const val = f.querySelector(".f-val").value;
      if (!col) continue;
      parts.push(encodeURIComponent(col) + "=" + encodeURIComponent(op + "." + val));
    }
    return parts.join("&");
  }

  function resetPaging() {
    tables.cursors = [null];
    tables.page = 0;
  }

  async function loadRows() {
    const table = $("tb-table").value;
    if (!table) return;
    setText("tb-error", "");
    const limit = Math.max(1, Math.min(10000, parseInt($("tb-limit").value, 10) || 25));
    const filters = filterQuery();
    const cursor = tables.cursors[tables.page];
    const base = "/v1/tables/" + encodeURIComponent(table);
    let r, count;
    try {
      [r, count] = await Promise.all([
        api("GET", base + "/rows?limit=" + limit + (filters ? "&" + filters : "") +
                   (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")),
        api("GET", base + "/count" + (filters ? "?" + filters : "")),
      ]);
    } catch (e) {
      if (e.status === 401) return;
      setText("tb-error", e.message);
      return;
    }
    tables.next = r.next_cursor;
    $("tb-prev").disabled = tables.page === 0;
    $("tb-next").disabled = !r.next_cursor;
    setText("tb-count", fmtNum(count.count) + " rows match; page " + (tables.page + 1));
    const cols = tableColumns().map((c) => c.name);
    for (const row of r.rows) for (const k of Object.keys(row)) if (!cols.includes(k)) cols.push(k);
    fill($("tb-rows").tHead, [el("tr", {}, cols.map((c) => el("th", {}, c)))]);
    fill($("tb-rows").tBodies[0], r.rows.map((row) => el("tr", {},
      cols.map((c) => el("td", {class: typeof row[c] === "number" ? "num" : ""},
        row[c] === undefined ? "" : row[c] === null ? "null" :
          typeof row[c] === "object" ? JSON.stringify(row[c]) : String(row[c]))))));
  }

  // ---- wiring --------------------------------------------------------------------------------

  function wire() {
    $("login-form").addEventListener("submit", onLogin);
    $("login-method-key").addEventListener("change", onLoginMethod);
    $("login-method-basic").addEventListener("change", onLoginMethod);
    $("logout").addEventListener("click", logout);
    window.addEventListener("hashchange", route);

    $("rb-form").addEventListener("submit", (ev) => { ev.preventDefault(); browse(); });
    $("rb-topic").addEventListener("change", syncBrowserChoices);
    $("rb-mode").addEventListener("change", onSeekMode);
    $("rb-prev").addEventListener("click", () => {
      if (topics.from === null || topics.from === undefined) return;
      browse(Math.max(0, topics.from - (topics.limit || 10)));
    });
    $("rb-next").addEventListener("click", () => {
      if (topics.next !== null && topics.next !== undefined) browse(topics.next);
    });

    const reload = () => { letters.pages = 1; letters.selected.clear(); loadLetters(1).catch(showError("dl-error")); };
    $("dl-stage").addEventListener("change", reload);
    $("dl-reason").addEventListener("change", reload);
    $("dl-more").addEventListener("click", () => { letters.pages += 1; loadLetters(letters.pages).catch(showError("dl-error")); });
    $("dl-replay").addEventListener("click", replaySelected);
    $("dl-all").addEventListener("change", (ev) => {
      for (const d of letters.rows) ev.target.checked ? letters.selected.add(letterId(d)) : letters.selected.delete(letterId(d));
      renderLetters();
    });

    $("dag-trigger").addEventListener("click", trigger);
    $("dag-pause").addEventListener("click", () => {
      const d = dags.list.find((x) => x.dag_id === dags.chosen);
      if (d) setPaused(d.dag_id, !d.paused);
    });
    $("task-clear").addEventListener("click", clearTask);

    $("tb-form").addEventListener("submit", (ev) => { ev.preventDefault(); resetPaging(); loadRows(); });
    $("tb-table").addEventListener("change", () => { $("tb-filters").replaceChildren(); resetPaging(); loadRows(); });
    $("tb-add-filter").addEventListener("click", addFilter);
    $("tb-prev").addEventListener("click", () => { if (tables.page > 0) { tables.page -= 1; loadRows(); } });
    $("tb-next").addEventListener("click", () => {
      if (!tables.next) return;
      tables.cursors[tables.page + 1] = tables.next;
      tables.page += 1;
      loadRows();
    });
  }

  function showError(id) {
    return (e) => { if (e.status !== 401) setText(id, e.message); };
  }

  // Start: with a stored credential, or with none while the server has authentication off.
  async function start() {
    wire();
    onSeekMode();
    try {
      await enter();
    } catch (e) {
      if (e.status !== 401) showLogin(e.message);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

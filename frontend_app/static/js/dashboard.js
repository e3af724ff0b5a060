// The dashboard: ticker check, model picker, generate, live progress and text, history.
// Everything the server sends is shown with textContent: model output never becomes HTML here.
(function () {
  "use strict";
  var SECTIONS = [
    ["executive_summary", "Executive Summary"], ["business_overview", "Business Overview"],
    ["financial_analysis", "Financial Analysis"], ["valuation", "Valuation"],
    ["risks", "Risks"], ["investment_thesis", "Investment Thesis"]
  ];
  var STORAGE_KEY = "ert.activeJob";
  var DEFAULT_HINT = "Type a ticker (AAPL, OCDO.L) or a company name (apple).";
  var $ = function (id) { return document.getElementById(id); };

  var form = $("generate-form"), input = $("ticker"), hint = $("ticker-hint"),
      suggestions = $("suggestions"), modelSelect = $("model"), generateBtn = $("generate"),
      jobCard = $("job"), cancelBtn = $("cancel");

  // WebSocket alone when several instances serve the dashboard (REDIS_URL): no sticky sessions.
  var socket = io({ transports: form.dataset.transports.split(",") });
  var job = null;  // {id, lastSeq, elapsed, elapsedAt, percent, stage, finished}

  // ---- what was typed: hints, and companies to pick in one click ----
  var checkTimer = null;
  function setHint(message, isError) {
    hint.textContent = message;
    hint.classList.toggle("error", !!isError);
    input.setAttribute("aria-invalid", isError ? "true" : "false");
  }
  function label(m) { return m.ticker + " · " + m.name; }
  // A row of companies, each a button that starts its report: "Did you mean: [AAPL · Apple Inc.]".
  function choiceRow(title, list) {
    var row = document.createElement("p");
    row.className = "choices";
    var strong = document.createElement("strong"); strong.textContent = title + " ";
    row.append(strong);
    list.forEach(function (m) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "secondary choice"; b.dataset.ticker = m.ticker;
      b.textContent = label(m);
      b.title = "Write a report on " + m.name + " (" + m.ticker + ")";
      b.addEventListener("click", function () { input.value = m.ticker; generate(); });
      row.append(b);
    });
    return row;
  }
  // `offered`: what the person may have meant; `alternatives`: the companies that work offline.
  function showChoices(offered, alternatives, offeredTitle) {
    suggestions.textContent = "";
    offered = (offered || []).filter(function (m) { return m.quote_type === "EQUITY"; });
    var shown = offered.map(function (m) { return m.ticker; });
    var others = (alternatives || []).filter(function (m) { return shown.indexOf(m.ticker) < 0; });
    if (offered.length) suggestions.append(choiceRow(offeredTitle || "Did you mean:", offered));
    if (others.length) suggestions.append(choiceRow(offered.length ? "Or, offline:" : "Works offline:", others));
    suggestions.hidden = !offered.length && !others.length;
  }
  function describe(body) {
    var exact = body.suggestions.filter(function (m) { return m.ticker === body.ticker; })[0];
    var others = body.suggestions.filter(function (m) { return m !== exact; });
    if (body.refused) { setHint(body.refused + "; pick a company.", true); showChoices(others); return; }
    if (exact) {
      setHint(label(exact) + (exact.exchange ? " (" + exact.exchange + ")" : "") +
        (exact.bundled ? ", bundled: works offline." : "."), false);
      showChoices(others, [], "Also:");
      return;
    }
    if (others.some(function (m) { return m.quote_type === "EQUITY"; })) {
      setHint("One click on the company you mean writes its report.", false);
    } else if (!body.valid) {
      setHint(body.message, true);
    } else if (body.offline) {
      setHint("Yahoo Finance cannot be reached now, so " + body.ticker +
        " cannot be looked up; the companies bundled with ERT work offline.", false);
    } else {
      setHint(body.ticker + " looks like a ticker; Generate looks it up.", false);
    }
    showChoices(others);
  }
  function checkTicker() {
    var value = input.value.trim();
    clearTimeout(checkTimer);
    if (!value) { setHint(DEFAULT_HINT, false); showChoices([]); return; }
    checkTimer = setTimeout(function () {
      fetch("/api/tickers/check?q=" + encodeURIComponent(value))
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (input.value.trim() !== value) return;
          var options = $("ticker-options");
          options.textContent = "";
          body.suggestions.forEach(function (m) {
            var o = document.createElement("option"); o.value = m.ticker; o.label = m.name; options.append(o);
          });
          describe(body);
        }).catch(function () {});
    }, 250);
    setHint(value + " …", false);
  }
  input.addEventListener("input", checkTicker);

  // ---- model picker ----
  fetch("/api/models").then(function (r) { return r.json(); }).then(function (body) {
    if (!body.models || !body.models.length) return;
    modelSelect.textContent = "";
    body.models.forEach(function (m) {
      var o = document.createElement("option");
      o.value = m.name;
      o.textContent = m.name + (m.pulled === false ? " (not pulled)" : "");
      if (m.default) o.selected = true;
      modelSelect.append(o);
    });
  }).catch(function () {});

  // ---- history ----
  function loadHistory() {
    fetch("/api/reports").then(function (r) { return r.json(); }).then(function (body) {
      var tbody = $("history");
      tbody.textContent = "";
      if (!body.reports.length) {
        var tr = tbody.insertRow(); var td = tr.insertCell();
        td.colSpan = 6; td.textContent = "No reports yet.";
        return;
      }
      body.reports.forEach(function (r) {
        var tr = tbody.insertRow();
        tr.insertCell().textContent = new Date(r.created_at).toLocaleString();
        var a = document.createElement("a");
        a.href = r.url; a.textContent = r.ticker;
        tr.insertCell().append(a);
        tr.insertCell().textContent = r.company_name;
        tr.insertCell().textContent = r.recommendation.replace("_", " ").toUpperCase();
        tr.insertCell().textContent = r.model;
        tr.insertCell().textContent = r.integration.replace("_", "-");
      });
    }).catch(function () {});
  }
  loadHistory();

  // ---- the job being watched ----
  function sectionBox(id) {
    return document.querySelector('.live-section[data-section="' + id + '"]');
  }
  function resetSections() {
    var box = $("live-sections");
    box.textContent = "";
    SECTIONS.forEach(function (s) {
      var div = document.createElement("div");
      div.className = "live-section"; div.dataset.section = s[0];
      var h = document.createElement("h3"); h.textContent = s[1];
      var pre = document.createElement("pre");
      div.append(h, pre);
      box.append(div);
    });
  }
  function watch(jobId) {
    held = {}; clearTimeout(holeTimer); holeTimer = null;
    job = { id: jobId, lastSeq: 0, elapsed: 0, elapsedAt: Date.now(), percent: 0, stage: "queued", finished: false };
    localStorage.setItem(STORAGE_KEY, jobId);
    var url = new URL(window.location.href);
    url.searchParams.set("job", jobId);
    history.replaceState(null, "", url);
    jobCard.hidden = false;
    $("notices").textContent = "";
    $("result").hidden = true;
    $("message").textContent = "";
    $("message").classList.remove("error");
    cancelBtn.disabled = false;
    resetSections();
    $("live-sections").hidden = false;
    socket.emit("subscribe", { job_id: jobId }, function (ack) {
      if (ack && ack.error) { forget(); setHint(ack.error.message, true); jobCard.hidden = true; }
    });
  }
  function forget() {
    localStorage.removeItem(STORAGE_KEY);
    var url = new URL(window.location.href);
    url.searchParams.delete("job");
    history.replaceState(null, "", url);
  }
  // A job's events apply in `seq` order; those of another job, or seen already, are dropped.
  // Replayed ones (`replay`: the log, each section's text merged) follow any earlier seq; a
  // live one must follow the last seq exactly. A job written by another process (a report
  // worker, another instance) is replayed as the database last had it, so a live event can
  // come before the replay, or after a hole (sent between that write and this socket's
  // joining): it is held, and a hole still open a second later is filled by watching the
  // job again from the start (a replay, like the text, is not cut at an arbitrary seq).
  var handlers = {}, held = {}, holeTimer = null;
  function on(name, handle) {
    handlers[name] = handle;
    socket.on(name, function (d) { deliver(name, d); });
  }
  function deliver(name, d) {
    if (!job || d.job_id !== job.id || d.seq <= job.lastSeq) return;
    if (!d.replay && d.seq > job.lastSeq + 1) {
      held[d.seq] = [name, d];
      if (!holeTimer) holeTimer = setTimeout(refill, 1000);
      return;
    }
    job.lastSeq = d.seq; handlers[name](d);
    var next;
    while (job && (next = held[job.lastSeq + 1])) {
      delete held[job.lastSeq + 1];
      job.lastSeq = next[1].seq; handlers[next[0]](next[1]);
    }
    Object.keys(held).forEach(function (seq) { if (!job || +seq <= job.lastSeq) delete held[seq]; });
  }
  function refill() {
    holeTimer = null;
    if (job && !job.finished && Object.keys(held).length) watch(job.id);
  }
  function fmtSeconds(s) {
    s = Math.max(0, Math.round(s));
    return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s";
  }
  function tick() {
    if (!job || job.finished) return;
    var elapsed = job.elapsed + (Date.now() - job.elapsedAt) / 1000;
    $("elapsed").textContent = fmtSeconds(elapsed);
    var eta = $("eta");
    if (job.stage === "queued") eta.textContent = "waiting in the queue";
    else if (job.percent >= 5) eta.textContent = "about " + fmtSeconds(elapsed * (100 - job.percent) / job.percent) + " left";
    else eta.textContent = "estimating time left…";
  }
  setInterval(tick, 1000);

  on("progress", function (d) {
    job.stage = d.stage; job.percent = d.percent;
    job.elapsed = d.elapsed; job.elapsedAt = Date.now();
    $("stage").textContent = d.stage.replace("_", " ");
    $("percent").textContent = Math.round(d.percent) + "%";
    $("progress-bar").style.width = d.percent + "%";
    document.querySelector(".progress").setAttribute("aria-valuenow", String(Math.round(d.percent)));
    $("message").textContent = d.message;
    if (d.reset) resetSections();
    if (d.section) {
      var box = sectionBox(d.section);
      if (box) {
        if (d.attempt > 1) box.querySelector("pre").textContent = "";
        box.classList.add("writing");
      }
    }
    if (/Falling back|trying again/.test(d.message)) {
      var li = document.createElement("li"); li.textContent = d.message; $("notices").append(li);
    }
    tick();
  });
  on("token", function (d) {
    var box = sectionBox(d.section);
    if (box) box.querySelector("pre").append(d.text);
  });
  on("section", function (d) {
    var s = d.section, box = sectionBox(s.id);
    if (!box) return;
    box.classList.remove("writing"); box.classList.add("done");
    var pre = box.querySelector("pre");
    if (s.status === "ok") pre.textContent = s.markdown;
    else {
      // The report page words it the same way (ReportView.notice) and adds the failed draft.
      var lead = s.status === "failed_check" ? "This section failed the figure check"
                                             : "This section could not be written";
      var why = s.error ? ": " + s.error.message.replace(/[. ]+$/, "") : "";
      var data = s.replacement ? "\n\nIn its place, the data-only writer's text:\n" + s.replacement.markdown : "";
      pre.textContent = lead + why + "." + data;
    }
  });
  on("completed", function (d) {
    job.finished = true;
    forget();
    cancelBtn.disabled = true;
    var result = $("result");
    result.textContent = "Report ready: ";
    var a = document.createElement("a"); a.href = d.url; a.textContent = "open the report";
    result.append(a); result.hidden = false;
    loadHistory();
    setTimeout(function () { window.location.assign(d.url); }, 800);
  });
  on("failed", function (d) {
    job.finished = true;
    forget();
    cancelBtn.disabled = true;
    var msg = $("message");
    msg.textContent = d.message; msg.classList.add("error");
    $("eta").textContent = d.code === "cancelled" ? "cancelled" : "stopped";
    var written = [].some.call(document.querySelectorAll(".live-section pre"), function (p) { return p.textContent; });
    $("live-sections").hidden = !written;
    // Refused before any text: the message and the choices belong by the input, alone.
    if (!written && d.code !== "cancelled" && d.code !== "interrupted") jobCard.hidden = true;
    showChoices(d.suggestions, d.alternatives);
    setHint(d.message, d.code !== "cancelled");
    if (d.code === "interrupted") retryBtn(job.id);
  });
  // One click writes the report of an interrupted job again, as it was asked for.
  function retryBtn(jobId) {
    var btn = document.createElement("button");
    btn.type = "button"; btn.id = "retry"; btn.textContent = "Retry";
    btn.addEventListener("click", function () {
      btn.disabled = true;
      socket.emit("retry", { job_id: jobId }, function (ack) {
        if (!ack || ack.error) { btn.disabled = false; setHint(ack ? ack.error.message : "No answer from the server", true); return; }
        btn.remove();
        watch(ack.job_id);
      });
    });
    $("message").append(" ", btn);
  }
  // A session that ended (signed out elsewhere, account removed): sign in again, then come back.
  socket.on("connect_error", function (err) {
    if (err && err.data && err.data.code === "sign_in_required") {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    }
  });
  socket.on("connect", function () {
    // After a reconnect, watching again from the start replays what was missed (a replay
    // merges each section's text, so it is not laid over text shown already).
    if (job && !job.finished) watch(job.id);
  });

  function generate() {
    var ticker = input.value.trim().toUpperCase();
    if (!ticker) { setHint(DEFAULT_HINT, true); input.focus(); return; }
    clearTimeout(checkTimer);
    generateBtn.disabled = true;
    var peers = $("peers").value.trim();
    var payload = { ticker: ticker, model: modelSelect.value || null, peers: peers || null };
    socket.emit("generate", payload, function (ack) {
      generateBtn.disabled = false;
      if (!ack || ack.error) { setHint(ack ? ack.error.message : "No answer from the server", true); return; }
      showChoices([]);
      setHint("Writing a report on " + ticker + ".", false);
      $("job-title").textContent = ticker;
      watch(ack.job_id);
    });
  }
  form.addEventListener("submit", function (ev) { ev.preventDefault(); generate(); });
  cancelBtn.addEventListener("click", function () {
    if (!job) return;
    cancelBtn.disabled = true;
    socket.emit("cancel", { job_id: job.id });
  });

  // Rejoin the job of a reloaded page (URL first, then this browser's last job).
  var params = new URLSearchParams(window.location.search);
  var resume = params.get("job") || localStorage.getItem(STORAGE_KEY);
  if (resume) {
    fetch("/api/jobs/" + encodeURIComponent(resume)).then(function (r) {
      if (!r.ok) { forget(); return null; }
      return r.json();
    }).then(function (body) {
      if (!body) return;
      $("job-title").textContent = body.ticker;
      watch(body.job_id);
    }).catch(function () {});
  }
})();

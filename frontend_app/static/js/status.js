// The GPU tier status light: the dashboard's /health, every 15 seconds.
(function () {
  "use strict";
  var el = document.getElementById("backend-status");
  if (!el) return;
  var text = el.querySelector(".status-text");

  function show(state, label, detail) {
    el.dataset.state = state;
    text.textContent = label;
    el.title = detail || "GPU tier status";
  }

  // Several GPU tiers (ERT_LLM_BACKEND_URL lists them): each one's state, in the listed order.
  function showTiers(tiers) {
    var up = tiers.filter(function (t) { return t.status === "healthy"; }).length;
    var state = up === tiers.length ? "healthy" : (up ? "degraded" : "unreachable");
    var label = tiers.map(function (t, i) {
      return "GPU tier " + (i + 1) + " " + String(t.status).replace("_", " ");
    }).join(" · ");
    var detail = tiers.map(function (t, i) {
      return "GPU tier " + (i + 1) + " (" + t.url + "): " + (t.message || t.status);
    }).join("\n");
    show(state, label, detail);
  }

  function poll() {
    fetch("/health", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var remote = (body.backend && body.backend.remote) || {};
        var state = remote.status || "unknown";
        if (remote.tiers) {
          showTiers(remote.tiers);
        } else if (state === "disabled") {
          var chain = (body.backend.integrations || []).join(" → ");
          show("degraded", "GPU tier off; writing with " + chain);
        } else if (state === "unreachable") {
          show("unreachable", "GPU tier unreachable (falls back)");
        } else if (state === "key_refused") {
          show(state, remote.message, remote.message);  // names the setting to fix
        } else if (state === "certificate_refused") {
          // The whole message (both fingerprints) is the tooltip.
          show(state, "GPU tier refused: not the certificate ERT_LLM_TLS_FINGERPRINT pins",
               remote.message);
        } else {
          var model = remote.model ? " · " + remote.model : "";
          show(state, "GPU tier " + state + model);
        }
      })
      .catch(function () { show("unreachable", "Dashboard unreachable"); });
  }
  poll();
  setInterval(poll, 15000);
})();

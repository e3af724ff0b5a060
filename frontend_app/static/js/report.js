// The report page's Regenerate button (the charts are drawn on the server).
(function () {
  "use strict";
  var regen = document.getElementById("regenerate");
  if (regen) {
    regen.addEventListener("click", function () {
      regen.disabled = true;
      var id = document.querySelector("[data-report-id]").dataset.reportId;
      var csrf = document.querySelector('meta[name="csrf-token"]').content;
      fetch("/api/reports/" + encodeURIComponent(id) + "/regenerate",
        { method: "POST", headers: { "X-CSRFToken": csrf } })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (body.url) window.location.assign(body.url);
          else {
            regen.disabled = false;
            regen.textContent = body.error ? body.error.message : "Could not regenerate";
          }
        })
        .catch(function () { regen.disabled = false; });
    });
  }
})();

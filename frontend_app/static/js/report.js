// The report page: its three charts (vendored Chart.js) and the Regenerate button.
(function () {
  "use strict";
  var dataEl = document.getElementById("chart-data");
  var charts = dataEl ? JSON.parse(dataEl.textContent) : null;

  var compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    config.options.scales = Object.assign({ y: { ticks: { callback: function (v) { return compact.format(v); } } } },
      config.options.scales || {});
    new window.Chart(canvas, config);
  }
  function series(label, data, color, extra) {
    return Object.assign({ label: label, data: data, borderColor: color, backgroundColor: color,
      pointRadius: 0, borderWidth: 2, spanGaps: true }, extra || {});
  }

  if (charts) {
    var price = charts.prices || {};
    if (price.dates && price.dates.length) {
      // A history that ends long before the data's date says so in its title (the note).
      var stale = price.window && !price.window.current && price.window.note;
      var title = "Price (" + (price.currency || "") + ")";
      draw("chart-price", { type: "line", data: { labels: price.dates, datasets: [
        series("Close", price.close, "#1f5fbf"),
        series("50-day average", price.sma50, "#e67e22"),
        series("200-day average", price.sma200, "#8e44ad")
      ] }, options: { plugins: { title: { display: true, text: stale ? [title, stale.charAt(0).toUpperCase() + stale.slice(1)] : title,
        color: stale ? "#b42318" : undefined } },
        scales: { x: { ticks: { maxTicksLimit: 8 } } } } });
    }
    var annual = charts.annual || {};
    if (annual.periods && annual.periods.length) {
      draw("chart-income", { type: "bar", data: { labels: annual.periods, datasets: [
        series("Revenue", annual.revenue, "#1f5fbf"),
        series("Net income", annual.net_income, "#1a7f37")
      ] }, options: { plugins: { title: { display: true, text: "Revenue and net income (" + (annual.currency || "") + ")" } } } });
    }
    var margins = charts.margins || {};
    if (margins.periods && margins.periods.length) {
      var pct = function (xs) { return (xs || []).map(function (v) { return v == null ? null : v * 100; }); };
      draw("chart-margins", { type: "line", data: { labels: margins.periods, datasets: [
        series("Gross margin", pct(margins.gross), "#16a085", { pointRadius: 3 }),
        series("Operating margin", pct(margins.operating), "#e67e22", { pointRadius: 3 }),
        series("Net margin", pct(margins.net), "#c0392b", { pointRadius: 3 })
      ] }, options: { plugins: { title: { display: true, text: "Margins by year (%)" } } } });
    }
  }

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

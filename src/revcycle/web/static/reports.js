// The reports' charts and the aging report's "tick all" box.
// A chart is a <canvas data-report-chart="radar|bar|line" data-source="id">, its data the JSON
// of the <script type="application/json" id="id"> block: {labels: [...], datasets: [...]}.
(function () {
  "use strict";
  var palette = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#4b5563"];

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent || "{}");
    var type = canvas.getAttribute("data-report-chart");
    (data.datasets || []).forEach(function (set, index) {
      var colour = palette[index % palette.length];
      set.borderColor = set.borderColor || colour;
      set.backgroundColor = set.backgroundColor || (type === "radar" ? colour + "22" : colour);
    });
    var scales = type === "radar"
      ? { r: { min: 0, max: 1, ticks: { stepSize: 0.25 } } }
      : { y: { beginAtZero: true } };
    new window.Chart(canvas, {
      type: type,
      data: data,
      options: { responsive: true, animation: false, maintainAspectRatio: false, scales: scales }
    });
  }

  function start() {
    document.querySelectorAll("canvas[data-report-chart]").forEach(draw);
    var all = document.querySelector("[data-tick-all]");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("input[name=claim_ids]").forEach(function (box) {
          box.checked = all.checked;
        });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// Operations reports' charts: a <canvas data-chart-source="ID"> draws the chart described by
// the JSON block <script type="application/json" id="ID"> ({type, title, labels, values, colours}).
(function () {
  "use strict";
  function draw() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    document.querySelectorAll("canvas[data-chart-source]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart-source"));
      if (!source) {
        return;
      }
      var spec = JSON.parse(source.textContent || "{}");
      var round = spec.type === "doughnut" || spec.type === "pie";
      var wide = window.innerWidth >= 768;
      var counts = (spec.values || []).every(function (value) { return Number.isInteger(value); });
      if (round && canvas.parentElement) {
        // A doughnut and its legend of payers or agents need more room than a bar chart.
        canvas.parentElement.style.height = wide ? "320px" : "420px";
      }
      canvas.setAttribute("aria-label", spec.title || "Chart");
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: [{ label: spec.title, data: spec.values, backgroundColor: spec.colours }] },
        options: {
          responsive: true,
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: round, position: wide ? "right" : "bottom" }, title: { display: !!spec.title, text: spec.title } },
          scales: round ? {} : { y: { beginAtZero: true, ticks: { precision: counts ? 0 : undefined } } }
        }
      });
      canvas.setAttribute("data-drawn", "true");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

// Dashboard and analytics charts: a <canvas data-dashboard-chart="ID"> draws the chart described
// by the JSON block <script type="application/json" id="ID">
// ({type, title, labels, values_cents | values, colour}); money is given in cents.
(function () {
  "use strict";
  function dollars(cents) {
    return "$" + (cents / 100).toLocaleString(undefined, { minimumFractionDigits: 0, maximumFractionDigits: 0 });
  }
  function draw() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    document.querySelectorAll("canvas[data-dashboard-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-dashboard-chart"));
      if (!source) {
        return;
      }
      var spec = JSON.parse(source.textContent || "{}");
      var money = Array.isArray(spec.values_cents);
      var values = money ? spec.values_cents.map(function (c) { return c / 100; }) : spec.values;
      var round = spec.type === "doughnut" || spec.type === "pie";
      new window.Chart(canvas, {
        type: spec.type || "bar",
        data: {
          labels: spec.labels,
          datasets: [{ label: spec.title, data: values, backgroundColor: spec.colours || spec.colour || "#0d6efd", borderColor: spec.colour || "#0d6efd" }]
        },
        options: {
          responsive: true,
          animation: false,
          maintainAspectRatio: false,
          plugins: {
            legend: { display: round, position: "bottom" },
            tooltip: money ? { callbacks: { label: function (ctx) { return dollars(Math.round(ctx.parsed.y * 100)); } } } : {}
          },
          scales: round ? {} : { y: { beginAtZero: true, ticks: money ? { callback: function (v) { return dollars(v * 100); } } : {} } }
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

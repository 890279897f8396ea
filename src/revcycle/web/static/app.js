/* Revcycle page behaviour. Loaded as a file: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  function meta(name, fallback) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : fallback;
  }

  // Every htmx request carries the page's CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = meta("csrf-token", "");
    if (token) {
      event.detail.headers[meta("csrf-header", "X-CSRF-Token")] = token;
    }
  });

  // Idle timer: the server ends a session after the idle timeout; the page follows it to the
  // login page instead of leaving client data on screen. Any request to the server restarts it.
  var idleMinutes = parseInt(meta("idle-minutes", "0"), 10);
  var idleTimer = null;
  function restartIdleTimer() {
    if (!idleMinutes) {
      return;
    }
    if (idleTimer) {
      window.clearTimeout(idleTimer);
    }
    idleTimer = window.setTimeout(function () {
      window.location.assign("/login?expired=1");
    }, idleMinutes * 60 * 1000 + 2000);
  }
  document.addEventListener("htmx:afterRequest", restartIdleTimer);
  restartIdleTimer();

  // Charts: a <canvas data-chart="bar" data-labels='[...]' data-values='[...]' data-colours='[...]'>.
  function drawCharts() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var labels = JSON.parse(canvas.getAttribute("data-labels") || "[]");
      var values = JSON.parse(canvas.getAttribute("data-values") || "[]");
      var colours = JSON.parse(canvas.getAttribute("data-colours") || "[]");
      new window.Chart(canvas, {
        type: canvas.getAttribute("data-chart"),
        data: { labels: labels, datasets: [{ data: values, backgroundColor: colours }] },
        options: {
          responsive: true,
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    });
  }

  // Selects marked data-autosubmit submit their form when changed (filters).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-autosubmit]") && target.form) {
      target.form.requestSubmit();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCharts);
  } else {
    drawCharts();
  }
})();

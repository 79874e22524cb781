// Charts of the dashboard (DSH-1) and the campaign report, drawn from the tables beside them: the picture and
// the numbers never disagree, and screen readers read the table.
(function () {
  "use strict";
  const STATUS_COLOURS = {
    "status-delivered": "#16a34a",
    "status-seen": "#0d9488",
    "status-sent": "#2563eb",
    "status-billed": "#94a3b8",
    "status-prepared": "#cbd5e1",
    "status-undelivered": "#f59e0b",
    "status-failed": "#dc2626",
  };
  const PALETTE = ["#2563eb", "#7c3aed", "#0d9488", "#f59e0b", "#db2777", "#64748b"];

  function cssVar(name) {
    return getComputedStyle(document.body).getPropertyValue(name).trim();
  }

  function colourOf(row, index) {
    const status = Array.from(row.classList).find((c) => c.startsWith("status-"));
    return STATUS_COLOURS[status] || PALETTE[index % PALETTE.length];
  }

  function draw(table) {
    const rows = Array.from(table.tBodies[0].rows);
    const type = table.dataset.chart;
    const box = document.createElement("div");
    box.className = "chart-box";
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", table.closest("section").querySelector("h2").textContent);
    box.appendChild(canvas);
    table.before(box);
    const text = cssVar("--text");
    const muted = cssVar("--muted");
    new window.Chart(canvas, {
      type: type,
      data: {
        labels: rows.map((r) => r.cells[0].textContent.trim()),
        datasets: [{
          data: rows.map((r) => Number(r.querySelector("[data-value]").dataset.value)),
          backgroundColor: rows.map(colourOf),
          borderWidth: 0,
          maxBarThickness: 56,
        }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        cutout: type === "doughnut" ? "62%" : undefined,
        plugins: { legend: { display: type === "doughnut", position: "right", labels: { color: text } } },
        scales: type === "bar" ? {
          x: { ticks: { color: muted }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { color: muted, precision: 0 } },
        } : undefined,
      },
    });
  }

  // A table whose rows are times and whose columns are statuses: one stacked bar per row.
  function drawStacked(table) {
    const rows = Array.from(table.tBodies[0].rows);
    const heads = Array.from(table.tHead.rows[0].cells).slice(1);
    const box = document.createElement("div");
    box.className = "chart-box";
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", table.closest("section").querySelector("h3, h2").textContent);
    box.appendChild(canvas);
    table.before(box);
    const muted = cssVar("--muted");
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map((r) => r.cells[0].textContent.trim()),
        datasets: heads.map((th, column) => ({
          label: th.textContent.trim(),
          data: rows.map((r) => Number(r.cells[column + 1].dataset.value)),
          backgroundColor: colourOf(th, column),
          maxBarThickness: 40,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom", labels: { color: cssVar("--text") } } },
        scales: {
          x: { stacked: true, ticks: { color: muted }, grid: { display: false } },
          y: { stacked: true, beginAtZero: true, ticks: { color: muted, precision: 0 } },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.Chart) {
      window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      document.querySelectorAll("table[data-chart]").forEach(function (table) {
        (table.dataset.chart === "stacked" ? drawStacked : draw)(table);
      });
    }
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
  });
})();

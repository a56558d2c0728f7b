// The console's one script: the grid by keyboard (arrow keys move, Enter opens) and
// live cells (the page polls grid.json every few seconds); rubric items by digit keys.
"use strict";
(function () {
  // a learner's page: a digit marks (or unmarks) the rubric item with that key
  document.addEventListener("keydown", function (event) {
    if (!/^[1-9]$/.test(event.key) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.target.closest("input, textarea, select")) { return; }
    const button = document.querySelector(`button[data-key="${event.key}"]`);
    if (button) { event.preventDefault(); button.click(); }
  });
})();
(function () {
  const grid = document.getElementById("grid");
  if (!grid) { return; }
  const cells = () => Array.from(grid.querySelectorAll("td.cell"));
  const rows = () => Array.from(grid.tBodies[0].rows);
  function focus(td) {
    for (const a of grid.querySelectorAll("td.cell a")) { a.tabIndex = -1; }
    const link = td.querySelector("a");
    link.tabIndex = 0;
    link.focus();
  }
  const first = cells()[0];
  if (first) { first.querySelector("a").tabIndex = 0; }
  grid.addEventListener("keydown", function (event) {
    const td = event.target.closest("td.cell");
    if (!td) { return; }
    const row = td.parentElement;
    const index = Array.from(row.querySelectorAll("td.cell")).indexOf(td);
    const all = rows();
    const at = all.indexOf(row);
    let next = null;
    if (event.key === "ArrowRight") { next = td.nextElementSibling; }
    else if (event.key === "ArrowLeft") { next = td.previousElementSibling; }
    else if (event.key === "ArrowDown" && at + 1 < all.length) {
      next = all[at + 1].querySelectorAll("td.cell")[index];
    } else if (event.key === "ArrowUp" && at > 0) {
      next = all[at - 1].querySelectorAll("td.cell")[index];
    } else { return; }
    event.preventDefault();
    if (next && next.classList.contains("cell")) { focus(next); }
  });
  function text(cell) {
    if (!cell.attempts) { return "not attempted"; }
    let out = `${+cell.last.toFixed(2)}`;
    if (cell.final !== cell.last) { out += ` → ${+cell.final.toFixed(2)}`; }
    out += ` (best ${+cell.best.toFixed(2)}, ${cell.attempts}×)`;
    if (cell.kind) { out += ` ${cell.kind}`; }
    if (cell.late) { out += " late"; }
    if (cell.adjusted) { out += " adjusted"; }
    return out;
  }
  async function poll() {
    try {
      const response = await fetch(grid.dataset.poll, {credentials: "same-origin"});
      if (!response.ok) { return; }
      const data = await response.json();
      for (const row of data.rows) {
        const tr = grid.querySelector(`tr[data-learner="${row.learner}"]`);
        if (!tr) { continue; }
        for (const [exercise, cell] of Object.entries(row.cells)) {
          const td = tr.querySelector(`td[data-exercise="${CSS.escape(exercise)}"]`);
          const link = td && td.querySelector("a");
          if (link && link.dataset.text !== text(cell)) {
            link.dataset.text = text(cell);
            link.textContent = text(cell);
            td.className = "cell " + cell.state.replace(/ /g, "-");
          }
        }
      }
    } catch (error) {
      // the server is restarting: the next poll catches up
    }
  }
  setInterval(poll, 4000);
})();

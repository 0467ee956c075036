// Draw every chart from the figures embedded in the page, and make the tables sortable.
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("figures").textContent);
  var config = { displaylogo: false, responsive: true, showLink: false, showSendToCloud: false };
  document.querySelectorAll("div.plot[data-figure]").forEach(function (node) {
    var figure = figures[node.dataset.figure];
    if (figure) { Plotly.newPlot(node, figure.data, figure.layout, config); }
  });

  function key(cell) {
    var sort = cell.getAttribute("data-sort");
    if (sort !== null && sort !== "") { return { number: true, value: parseFloat(sort) }; }
    return { number: false, value: cell.textContent.trim().toLowerCase() };
  }
  function compare(a, b) {
    if (a.number && b.number) { return a.value - b.value; }
    if (a.number !== b.number) { return a.number ? -1 : 1; }  // numbers before hidden cells
    return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead tr:last-child th");
    headers.forEach(function (header, column) {
      header.addEventListener("click", function () {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = compare(key(a.cells[column]), key(b.cells[column]));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
}());

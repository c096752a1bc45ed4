// The issue groups come open (so the page reads whole without this script); on screen they are
// collapsed to their headings, and opened again to be printed: a printed page shows them all.
(function () {
  "use strict";
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.group"));
  var collapsed = [];
  groups.forEach(function (group) { group.open = false; });
  window.addEventListener("beforeprint", function () {
    collapsed = groups.filter(function (group) { return !group.open; });
    collapsed.forEach(function (group) { group.open = true; });
  });
  window.addEventListener("afterprint", function () {
    collapsed.forEach(function (group) { group.open = false; });
    collapsed = [];
  });
})();

// Filters the full issue list as you type: every word must appear in a row (any column), and
// the severity must match. Without this script the list is simply shown whole.
(function () {
  "use strict";
  var box = document.getElementById("issue-filter");
  var severity = document.getElementById("issue-severity");
  var shown = document.getElementById("issue-shown");
  var table = document.getElementById("issue-list");
  if (!box || !severity || !shown || !table) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  function apply() {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = severity.value;
    var visible = 0;
    rows.forEach(function (row, i) {
      var match = (!wanted || row.getAttribute("data-severity") === wanted) &&
        words.every(function (word) { return texts[i].indexOf(word) !== -1; });
      row.hidden = !match;
      if (match) { visible += 1; }
    });
    shown.textContent = visible.toLocaleString("en-US");
  }
  box.addEventListener("input", apply);
  severity.addEventListener("change", apply);
  document.getElementById("issue-filters").hidden = false;
  apply();
})();

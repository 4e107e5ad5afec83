/* list.js: a ticked filter or a new sort order applies at once. The list page is fetched
   in the background and its results and facet values replace the current ones, so the
   counts beside every value stay true and the button says how many jobs it will show.
   "Show jobs" then closes the panel and lands on the results (the form leads to #results).
   Without this script the form works the same, one submission at a time. */
(function () {
  "use strict";
  var form = document.querySelector("form.filters");
  if (!form || !window.fetch || !window.DOMParser || !window.URLSearchParams) return;
  var button = document.getElementById("show-jobs");
  var status = document.getElementById("filter-status");
  var asked = 0;

  function listUrl() {
    var url = new URL(form.action);
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value !== "") params.append(name, value);
    });
    url.search = params.toString();
    url.hash = "";
    return url;
  }

  /* Swap in the fetched page's results and facets; keep the panel open and the focus on
     the checkbox that was just ticked (its id may have moved, its name and value have not). */
  function show(doc, url) {
    var results = doc.getElementById("results");
    var panel = doc.querySelector(".filters__panel");
    if (!results) return;
    var focused = document.activeElement;
    var key = focused && focused.form === form ? [focused.name, focused.value] : null;
    document.getElementById("results").replaceWith(document.adoptNode(results));
    var current = form.querySelector(".filters__panel");
    if (current && panel) {
      panel.open = current.open;
      current.replaceWith(document.adoptNode(panel));
    }
    if (key) {
      var again = Array.prototype.filter.call(form.elements, function (el) {
        return el.name === key[0] && el.value === key[1];
      })[0];
      if (again) again.focus({ preventScroll: true });
    }
    var label = results.getAttribute("data-show-label");
    if (button && label) button.textContent = label;
    var heading = document.getElementById("results-heading");
    if (status && heading) status.textContent = heading.textContent.replace(/\s+/g, " ").trim();
    history.replaceState(null, "", url.pathname + url.search);
  }

  function apply() {
    var url = listUrl();
    var mine = ++asked;
    fetch(url.toString(), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        // Only the answer to the latest tick counts; an earlier one arriving late is dropped.
        if (mine === asked) show(new DOMParser().parseFromString(html, "text/html"), url);
      })
      .catch(function () {
        // Offline or a server error: "Show jobs" still works the ordinary way.
      });
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.type === "checkbox" || target.tagName === "SELECT") apply();
  });

  /* After "Show jobs" the list is in view with the panel closed, also when the browser
     only scrolls to #results because the query has not changed. */
  form.addEventListener("submit", function () {
    var panel = form.querySelector(".filters__panel");
    if (panel) panel.open = false;
  });
})();

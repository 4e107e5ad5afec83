/* careers embed.js: turns <div data-careers-embed …></div> placeholders into job widgets.
   Usage (two lines on any page):
     <div data-careers-embed data-lang="de" data-department="Engineering"><a href="https://jobs.example.com/de/jobs">Jobs</a></div>
     <script src="https://jobs.example.com/embed.js" async></script>
   No dependencies, no cookies, no third-party code. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.URLSearchParams) return;
  var origin = new URL(script.src, window.location.href).origin;
  var FILTERS = ["office", "department", "employment_type", "schedule", "seniority", "experience", "subcompany", "category", "account"];
  var ATTRIBUTION = ["_pc", "utm_source", "utm_medium", "utm_campaign"];
  var MIN_HEIGHT = 120, MAX_HEIGHT = 30000;
  var frames = [];

  function jobPath(value) {
    /* "123" opens a job, "123/apply" its form; anything else is ignored. */
    return /^\d{1,12}(\/apply)?$/.test(value || "") ? value : null;
  }

  function build(node, index) {
    var data = node.dataset;
    var lang = /^[a-z]{2}$/.test(data.lang || "") ? data.lang : "";
    var param = data.param || (index === 0 ? "job" : "job" + (index + 1));
    var host = new URLSearchParams(window.location.search);
    var path = jobPath(host.get(param)) || jobPath(data.job);
    var src = new URL(origin + (lang ? "/embed/" + lang + "/jobs" : "/embed/") + (path && lang ? "/" + path : ""));
    FILTERS.forEach(function (name) {
      /* data-employment_type as in the contract, or data-employment-type. */
      var camel = name.replace(/_(\w)/g, function (m, c) { return c.toUpperCase(); });
      (data[name] || data[camel] || "").split(",").forEach(function (value) {
        if (value.trim()) src.searchParams.append(name, value.trim());
      });
    });
    ATTRIBUTION.forEach(function (name) {
      var value = host.get(name);
      if (value) src.searchParams.set(name, value);
    });
    var frame = document.createElement("iframe");
    frame.src = src.toString();
    frame.title = data.title || node.textContent.trim() || "Jobs";
    frame.setAttribute("loading", data.loading || "lazy");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.style.cssText = "display:block;width:100%;border:0;overflow:hidden;height:" + (Number(data.height) || 600) + "px";
    node.textContent = "";
    node.appendChild(frame);
    frames.push({ frame: frame, param: param, loads: 0 });
  }

  function onMessage(event) {
    if (event.origin !== origin) return;
    var entry = null;
    frames.forEach(function (candidate) { if (candidate.frame.contentWindow === event.source) entry = candidate; });
    var data = event.data;
    if (!entry || !data || typeof data !== "object" || data.careers !== 1) return;
    if (data.type === "resize") {
      var height = Number(data.height);
      if (!isFinite(height)) return;
      entry.frame.style.height = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(height))) + "px";
    } else if (data.type === "navigate") {
      var job = data.job === null ? null : Number(data.job);
      if (job !== null && !(job > 0 && job < 1e12 && Math.floor(job) === job)) return;
      var value = job === null ? null : String(job) + (data.view === "apply" ? "/apply" : "");
      var url = new URL(window.location.href);
      if (value) url.searchParams.set(entry.param, value);
      else url.searchParams.delete(entry.param);
      if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url.href);
      /* After moving to another page inside the widget, bring its top into view. */
      if (entry.loads++ > 0 && entry.frame.getBoundingClientRect().top < 0) entry.frame.scrollIntoView();
    }
  }

  window.addEventListener("message", onMessage);
  Array.prototype.forEach.call(document.querySelectorAll("[data-careers-embed]"), function (node, index) {
    if (!node.hasAttribute("data-careers-ready")) {
      node.setAttribute("data-careers-ready", "");
      build(node, index);
    }
  });
})();

// Booking pages: show times in the visitor's own zone. The server renders the workspace's zone
// first; when the browser's zone differs and the visitor has not chosen one, reload in theirs.
// The zone select stays available to change it (it submits through data-autosubmit in jasa.js).
(function () {
  const select = document.querySelector("[data-tz-select]");
  if (!select) return;
  const params = new URLSearchParams(window.location.search);
  if (params.get("tz")) return;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  if (!zone || zone === select.value) return;
  params.set("tz", zone);
  window.location.replace(window.location.pathname + "?" + params.toString());
})();

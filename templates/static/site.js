/* Aftaleflow: scripts run, so the fallback menus for script-less browsers step aside and
   Det Fælles Designsystem's components (mobile menu, accordions) start. The pages work
   without this file (docs/design.md). */
document.documentElement.classList.remove("no-js");
document.documentElement.classList.add("js");
if (window.DKFDS) {
  window.DKFDS.init();
}

// Sandbox checkout: copy buttons and card-number grouping. The page works without it.
document.addEventListener("click", (e) => {
  const button = e.target.closest("[data-copy]");
  if (!button) return;
  const target = document.querySelector(button.dataset.copy);
  if (target && navigator.clipboard) navigator.clipboard.writeText(target.textContent.trim());
});
document.addEventListener("input", (e) => {
  if (!e.target.matches("[data-card-number]")) return;
  const digits = e.target.value.replace(/\D/g, "").slice(0, 19);
  e.target.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
});
